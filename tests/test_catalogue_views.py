"""The catalogue pages: who may use them, products through the browser, and two tabs that
edit the same product without losing either person's work."""

import io
import re

import pytest
from sqlalchemy import event, func, select

from market.extensions import db
from market.models import AuditEvent, Availability, Photo, Product
from market.services.photos import Upload, add_photos
from market.services.products import delete_product, list_products, move_product
from market.services.qris import get_qris
from tests.factories import category, jpeg, make_product, make_world
from tests.pages import (
    ALLOWED,
    DENIED,
    another_client,
    csrf_token,
    form_values,
    log_in_english,
    reload,
)

pytestmark = pytest.mark.usefixtures("en")


def routes(w: dict) -> list[tuple[str, str, dict]]:
    """Every catalogue route, with a harmless request for each."""
    vendor, product, vlog = w.vendor, w.product, w.vlog
    stall_photo, product_photo = w.stall_photo, w.product_photos[0]
    qris = get_qris(vendor)
    v, p = vendor.id, product.id
    return [
        ("GET", f"/manage/vendors/{v}/products", {}),
        ("GET", f"/manage/vendors/{v}/products/new", {}),
        ("GET", f"/manage/products/{p}/edit", {}),
        ("GET", f"/manage/vendors/{v}/photos", {}),
        ("GET", f"/manage/vendors/{v}/vlogs", {}),
        ("GET", f"/manage/vendors/{v}/qris", {}),
        ("GET", f"/manage/vendors/{v}/online", {}),
        ("GET", f"/manage/vendors/{v}/online/tokopedia.xlsx", {}),
        ("POST", f"/manage/vendors/{v}/products/new", {"name": "Baru", "price": "1000"}),
        ("POST", f"/manage/products/{p}/edit", {"name": "Ubah", "price": "2000", "version": 1}),
        ("POST", f"/manage/products/{p}/availability", {"availability": "sold_out"}),
        ("POST", f"/manage/products/{p}/move", {"direction": "up"}),
        ("POST", f"/manage/products/{p}/photos", {}),
        ("POST", f"/manage/vendors/{v}/photos", {}),
        ("POST", f"/manage/photos/{product_photo.id}/move", {"direction": "down"}),
        ("POST", f"/manage/photos/{stall_photo.id}/alt", {"alt_text": "Kios dari depan"}),
        ("POST", f"/manage/photos/{stall_photo.id}/delete", {}),
        ("POST", f"/manage/photos/{stall_photo.id}/restore", {}),
        ("POST", f"/manage/vendors/{v}/vlogs", {"url": "https://youtu.be/aaaaaaaaaaa"}),
        ("POST", f"/manage/vlogs/{vlog.id}/delete", {}),
        ("POST", f"/manage/vlogs/{vlog.id}/restore", {}),
        ("POST", f"/manage/vendors/{v}/qris", {"merchant_name": "TOKO SARI"}),
        ("POST", f"/manage/vendors/{v}/qris/unverify", {}),
        ("POST", f"/manage/vendors/{v}/qris/verify", {"photo_id": qris.photo_id}),
        ("POST", f"/manage/products/{p}/delete", {}),
        ("POST", f"/manage/products/{p}/restore", {}),
    ]


def request(client, method: str, url: str, data: dict):
    if method == "GET":
        return client.get(url)
    return client.post(url, data=data | {"csrf_token": csrf_token(client)})


def test_anonymous_visitors_are_sent_to_log_in(stocked_world, client):
    for method, url, data in routes(stocked_world):
        if method == "POST":
            data = data | {"csrf_token": csrf_token(client)}
        response = client.open(url, method=method, data=data)
        assert response.status_code == 302, url
        assert "/auth/login" in response.headers["Location"], url


@pytest.mark.parametrize("who", DENIED)
def test_others_get_404_everywhere_and_change_nothing(stocked_world, client, who):
    log_in_english(client, stocked_world.people[who])
    for method, url, data in routes(stocked_world):
        assert request(client, method, url, data).status_code == 404, f"{who} {method} {url}"
    reload()
    assert db.session.scalar(select(func.count(AuditEvent.id))) == 5  # the stocked world's
    assert stocked_world.product.name == "Amplang kepiting"


QRIS_VERIFY = re.compile(r"/qris/verify$")


@pytest.mark.parametrize("who", ALLOWED)
def test_the_owner_and_the_market_staff_may_use_every_page(stocked_world, client, who):
    log_in_english(client, stocked_world.people[who])
    for method, url, data in routes(stocked_world):
        status = request(client, method, url, data).status_code
        if QRIS_VERIFY.search(url) and who == "vendor":
            # Verifying a QRIS code is the staff's job, never the vendor's own.
            assert status == 404, url
        else:
            assert status in (200, 303, 409, 422), f"{who} {method} {url}: {status}"


# --- products through the browser -----------------------------------------------------------


def test_product_list_shows_products_and_one_tap_availability(stocked_world, client):
    w = stocked_world
    log_in_english(client, w.people["vendor"])
    page = client.get(f"/manage/vendors/{w.vendor.id}/products").get_data(as_text=True)
    assert "Amplang kepiting" in page
    assert "Rp25.000" in page
    assert 'aria-pressed="true">In stock' in page
    response = client.post(
        f"/manage/products/{w.product.id}/availability",
        data={"availability": "sold_out", "csrf_token": csrf_token(client)},
    )
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"#product-{w.product.id}")
    reload()
    assert w.product.availability == Availability.SOLD_OUT


def test_an_empty_list_says_what_to_do(ctx, client):
    w = make_world(stocked=True)
    delete_product(w.product, actor=w.people["volunteer"])
    log_in_english(client, w.people["vendor"])
    page = client.get(f"/manage/vendors/{w.vendor.id}/products").get_data(as_text=True)
    assert "No products yet. Add the first one" in page
    assert "Deleted products (1)" in page


def test_new_product_with_a_photo(stocked_world, client):
    w = stocked_world
    log_in_english(client, w.people["volunteer"])
    url = f"/manage/vendors/{w.vendor.id}/products/new"
    response = client.post(
        url,
        data={
            "csrf_token": csrf_token(client),
            "name": "Kerupuk ikan pipih",
            "price": "Rp 40.000",
            "price_kind": "fixed",
            "availability": "in_stock",
            "categories": [str(category("makanan").id)],
            "halal": "y",
            "photos": [
                (_file(jpeg(size=(900, 700))), "IMG_0001.JPG"),
                (_file(b"%PDF-1.4"), "menu.pdf"),
            ],
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 303
    reload()
    product = db.session.scalar(select(Product).where(Product.name == "Kerupuk ikan pipih"))
    assert product.price_idr == 40000
    assert product.halal is True
    assert [c.slug for c in product.categories] == ["makanan"]
    assert len(product.photos) == 1
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "“Kerupuk ikan pipih” is saved." in page
    assert "Not added: menu.pdf. This file is not a photo we can read" in page


def _file(data: bytes) -> io.BytesIO:
    return io.BytesIO(data)


def test_a_wrong_price_keeps_what_was_typed(stocked_world, client):
    w = stocked_world
    log_in_english(client, w.people["vendor"])
    url = f"/manage/vendors/{w.vendor.id}/products/new"
    response = client.post(
        url,
        data={
            "csrf_token": csrf_token(client),
            "name": "Gelang manik",
            "price": "-25.000",
            "price_note": "per 3 pcs",
            "price_kind": "fixed",
            "availability": "in_stock",
        },
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "A price cannot be negative." in page
    assert 'value="Gelang manik"' in page
    assert 'value="per 3 pcs"' in page
    assert 'value="-25.000"' in page
    reload()
    assert db.session.scalar(select(Product).where(Product.name == "Gelang manik")) is None


def test_negotiable_products_need_no_price(stocked_world, client):
    w = stocked_world
    log_in_english(client, w.people["vendor"])
    response = client.post(
        f"/manage/vendors/{w.vendor.id}/products/new",
        data={
            "csrf_token": csrf_token(client),
            "name": "Lawung",
            "price": "",
            "price_kind": "negotiable",
            "availability": "pre_order",
        },
    )
    assert response.status_code == 303
    reload()
    product = db.session.scalar(select(Product).where(Product.name == "Lawung"))
    assert (product.price_idr, product.price_kind, product.availability) == (
        None,
        "negotiable",
        "pre_order",
    )


def test_move_delete_and_restore_from_the_list(stocked_world, client):
    w = stocked_world
    second = make_product(w.vendor, name="Kedua", position=1)
    log_in_english(client, w.people["vendor"])
    client.post(
        f"/manage/products/{second.id}/move",
        data={"direction": "up", "csrf_token": csrf_token(client)},
    )
    reload()
    assert [p.name for p in list_products(w.vendor)] == ["Kedua", "Amplang kepiting"]
    response = client.post(
        f"/manage/products/{second.id}/delete", data={"csrf_token": csrf_token(client)}
    )
    assert response.headers["Location"].endswith("#deleted")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "“Kedua” is deleted. You can restore it" in page
    client.post(f"/manage/products/{second.id}/restore", data={"csrf_token": csrf_token(client)})
    reload()
    assert [p.name for p in list_products(w.vendor)] == ["Amplang kepiting", "Kedua"]


def test_the_list_needs_the_same_number_of_queries_for_any_number_of_products(
    stocked_world, client
):
    w = stocked_world
    log_in_english(client, w.people["vendor"])
    url = f"/manage/vendors/{w.vendor.id}/products"

    def count_queries() -> int:
        statements = []

        def remember(*_args):
            statements.append(1)

        event.listen(db.engine, "before_cursor_execute", remember)
        try:
            assert client.get(url).status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", remember)
        return len(statements)

    few = count_queries()
    reload()
    for n in range(6):
        product = make_product(w.vendor, name=f"Produk {n}")
        add_photos(
            product, [Upload("p.jpg", jpeg(colour=(40 * n, 9, 9)))], actor=w.people["volunteer"]
        )
    assert count_queries() == few


# --- two tabs, one product ---------------------------------------------------------------


def _open_edit_form(client, product_id: int) -> dict:
    url = f"/manage/products/{product_id}/edit"
    return form_values(client.get(url).get_data(as_text=True), url)


def test_two_tabs_do_not_overwrite_each_other(stocked_world, client, app):
    w = stocked_world
    product = w.product
    url = f"/manage/products/{product.id}/edit"
    # The vendor at home and the volunteer at the stall open the same product.
    home, stall = client, another_client(app)
    log_in_english(home, w.people["vendor"])
    log_in_english(stall, w.people["volunteer"])
    home_form, stall_form = _open_edit_form(home, product.id), _open_edit_form(stall, product.id)
    reload()
    assert home_form["version"] == stall_form["version"] == str(product.version)

    first = home.post(url, data=home_form | {"price": "30000"})
    assert first.status_code == 303

    second = stall.post(
        url, data=stall_form | {"price": "35.000", "name": "Amplang kepiting 250 g"}
    )
    assert second.status_code == 409
    page = second.get_data(as_text=True)
    assert "Someone else saved this product while you were editing it" in page
    assert "Nothing was saved." in page
    row = re.search(r"<tr>\s*<th scope=\"row\">Price \(Rp\)</th>(.*?)</tr>", page, re.S)
    assert row, page
    assert re.findall(r"<td>(.*?)</td>", row.group(1)) == ["Rp30.000", "Rp35.000"]
    # The name was changed in this tab only: not a conflict, so not in the table.
    assert '<th scope="row">Product name</th>' not in page
    # What was typed stays in the form.
    assert 'value="Amplang kepiting 250 g"' in page
    assert 'value="35.000"' in page
    reload()
    assert (product.price_idr, product.name) == (30000, "Amplang kepiting")

    # Having seen the other value, saving again is a deliberate choice.
    again = form_values(page, url)
    assert again["version"] == str(product.version)
    assert stall.post(url, data=again).status_code == 303
    reload()
    assert (product.price_idr, product.name) == (35000, "Amplang kepiting 250 g")


def test_a_stale_form_without_conflicting_fields_saves(stocked_world, client):
    w = stocked_world
    product = w.product
    url = f"/manage/products/{product.id}/edit"
    log_in_english(client, w.people["vendor"])
    form = _open_edit_form(client, product.id)
    reload()
    make_product(w.vendor, position=5)
    move_product(product, "down", actor=w.people["volunteer"])
    assert client.post(url, data=form | {"description": "Renyah"}).status_code == 303
    reload()
    assert product.description == "Renyah"


def test_editing_a_deleted_product_offers_restore(stocked_world, client):
    w = stocked_world
    delete_product(w.product, actor=w.people["volunteer"])
    log_in_english(client, w.people["vendor"])
    page = client.get(f"/manage/products/{w.product.id}/edit").get_data(as_text=True)
    assert "This product was deleted on" in page
    assert f"/manage/products/{w.product.id}/restore" in page


# --- uploads through the browser --------------------------------------------------------------


def test_upload_script_gets_json_and_the_flash_waits_for_the_next_page(stocked_world, client):
    w = stocked_world
    log_in_english(client, w.people["vendor"])
    response = client.post(
        f"/manage/vendors/{w.vendor.id}/photos",
        data={
            "csrf_token": csrf_token(client),
            "photos": [(_file(jpeg(colour=(1, 99, 1))), "a.jpg")],
        },
        content_type="multipart/form-data",
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 200
    assert response.json == {"location": f"/manage/vendors/{w.vendor.id}/photos#photos"}
    page = client.get(response.json["location"]).get_data(as_text=True)
    assert "1 photo added." in page


def test_uploads_over_the_request_limit_get_the_413_page(stocked_world, client, app, monkeypatch):
    w = stocked_world
    log_in_english(client, w.people["vendor"])
    csrf = csrf_token(client)
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 50_000)
    response = client.post(
        f"/manage/vendors/{w.vendor.id}/photos",
        data={"csrf_token": csrf, "photos": [(_file(b"\xff\xd8" + b"\0" * 60_000), "big.jpg")]},
        content_type="multipart/form-data",
    )
    assert response.status_code == 413
    assert "The upload is too large" in response.get_data(as_text=True)
    reload()
    assert len(w.vendor.photos) == 1


def test_choosing_no_photo_says_so(stocked_world, client):
    w = stocked_world
    log_in_english(client, w.people["vendor"])
    response = client.post(
        f"/manage/products/{w.product.id}/photos",
        data={"csrf_token": csrf_token(client)},
        content_type="multipart/form-data",
    )
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Choose one or more photos first." in page


def test_photo_tools_on_the_product_page(stocked_world, client):
    w = stocked_world
    first, second = w.product_photos
    log_in_english(client, w.people["vendor"])
    client.post(
        f"/manage/photos/{second.id}/move",
        data={"direction": "up", "csrf_token": csrf_token(client)},
    )
    client.post(
        f"/manage/photos/{second.id}/alt",
        data={"alt_text": "Amplang dalam toples", "csrf_token": csrf_token(client)},
    )
    response = client.post(
        f"/manage/photos/{first.id}/delete", data={"csrf_token": csrf_token(client)}
    )
    assert response.headers["Location"].endswith(f"/manage/products/{w.product.id}/edit#photos")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Photo deleted. You can restore it below." in page
    assert "Deleted photos (1)" in page
    assert 'value="Amplang dalam toples"' in page
    reload()
    assert [p.id for p in w.product.photos] == [second.id]
    assert db.session.get(Photo, first.id).deleted_at is not None
