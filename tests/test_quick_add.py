"""Quick add at the stall (register with consent and stall photo in one POST, goods one phone
screen at a time, videos, publish and invite from one place) and the vendor's own home."""

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select

from market.extensions import db
from market.models import AuditEvent, Availability, Photo, Product, Vendor, VendorStatus, VlogLink
from market.seed.demo import demo_image
from market.services.consent import CONSENT_VERSION, consent_text
from market.services.readiness import vendor_checklist
from tests.factories import (
    EVERYONE,
    ROLES,
    category,
    make_photo,
    make_product,
    make_ready_vendor,
    make_world,
)
from tests.pages import OF_THIS_MARKET, STAFF, Route, check_access, csrf_token, login, routes_of

OWNER_AND_STAFF = OF_THIS_MARKET | {"vendor"}
REGISTER = "/manage/quick/register"


def quick(suffix: str):
    return lambda world: f"/manage/quick/vendors/{world.vendor.id}{suffix}"


ROUTES = [
    Route("quick.register", "GET", lambda w: REGISTER, STAFF, STAFF),
    Route(
        "quick.register",
        "POST",
        lambda w: REGISTER,
        STAFF,
        # Staff of another market get the form back: the market is not among their choices.
        STAFF,
        lambda w: {"market": w.market.id, "business_name": "Toko Baru", "consent": "y"},
    ),
    Route("quick.products", "GET", quick("/products"), EVERYONE, OWNER_AND_STAFF),
    Route(
        "quick.products",
        "POST",
        quick("/products"),
        EVERYONE,
        OWNER_AND_STAFF,
        lambda w: {"name": "Amplang", "price": "25rb"},
    ),
    Route("quick.finish", "GET", quick("/finish"), STAFF, OF_THIS_MARKET),
    Route(
        "quick.add_vlog",
        "POST",
        quick("/videos"),
        STAFF,
        OF_THIS_MARKET,
        lambda w: {"url": "https://youtu.be/dQw4w9WgXcQ"},
    ),
    Route("quick.publish", "POST", quick("/publish"), STAFF, OF_THIS_MARKET),
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("route", ROUTES, ids=lambda r: f"{r.method} {r.endpoint}")
def test_who_may_use_each_route(client, route, role):
    world = make_world()
    check_access(client, world, route, role)


def test_every_quick_route_is_in_the_matrix(app):
    covered = {(r.endpoint, r.method) for r in ROUTES}
    assert routes_of(app, "quick") <= covered, sorted(routes_of(app, "quick") - covered)


@pytest.mark.parametrize(
    "route", [r for r in ROUTES if r.method == "POST"], ids=lambda r: r.endpoint
)
def test_every_post_needs_the_csrf_token(client, route):
    world = make_world()
    login(client, world.people["admin"].email)
    data = route.data(world) if route.data else {}
    assert client.post(route.path(world), data=data).status_code == 400
    db.session.rollback()
    assert db.session.scalar(select(func.count(AuditEvent.id))) == 0


def jpeg(seed: str = "kios", size=(640, 480)) -> bytes:
    return demo_image(seed, (150, 60, 30), size)


def photo_file(data: bytes, name: str = "kios.jpg"):
    import io

    return (io.BytesIO(data), name)


def post(client, path: str, data: dict, lang: str = "en"):
    token = csrf_token(client, path.split("?")[0] + f"?lang={lang}")
    return client.post(path, data={**data, "csrf_token": token}, content_type="multipart/form-data")


STALL = {
    "business_name": "Ukiran Kayu Pak Darto",
    "owner_name": "Darto",
    "stall_block": "f",
    "stall_number": "21",
    "whatsapp": "0813-4777-2121",
}


def count(model) -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count(model.id)))


# --- 1. register on one screen ------------------------------------------------------------------


def test_the_register_screen_reads_the_consent_aloud_and_opens_the_camera(client):
    world = make_world()
    login(client, world.people["volunteer"].email)
    html = client.get(REGISTER + "?lang=en").get_data(as_text=True)
    assert consent_text("id") in html
    assert consent_text("en") in html
    assert re.search(
        r'<input[^>]*type="checkbox"[^>]*name="consent"|name="consent"[^>]*type="checkbox"', html
    )
    stall_photo = re.search(r'<input[^>]*name="stall_photo"[^>]*>', html).group(0)
    assert 'accept="image/*"' in stall_photo and 'capture="environment"' in stall_photo
    assert 'enctype="multipart/form-data"' in html


def test_one_post_registers_the_vendor_with_consent_and_stall_photo(client):
    world = make_world()
    login(client, world.people["volunteer"].email)
    crafts = category("kerajinan").id
    response = post(
        client,
        REGISTER,
        {
            **STALL,
            "market": world.market.id,
            "categories": [str(crafts)],
            "consent": "y",
            "consent_language": "id",
            "stall_photo": photo_file(jpeg()),
        },
    )
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    db.session.rollback()
    vendor = db.session.scalar(select(Vendor).where(Vendor.business_name == STALL["business_name"]))
    assert response.headers["Location"] == f"/manage/quick/vendors/{vendor.id}/products"
    assert (vendor.status, vendor.whatsapp, vendor.stall_block) == (
        VendorStatus.DRAFT,
        "+6281347772121",
        "F",
    )
    assert vendor.consent_version == CONSENT_VERSION
    assert vendor.consent_by_id == world.people["volunteer"].id
    assert [c.id for c in vendor.categories] == [crafts]
    photos = db.session.scalars(select(Photo).where(Photo.vendor_id == vendor.id)).all()
    assert [(p.product_id, p.alt_text) for p in photos] == [(None, STALL["business_name"])]
    actions = db.session.scalars(
        select(AuditEvent.action).where(AuditEvent.record_id == vendor.id).order_by(AuditEvent.id)
    ).all()
    assert actions == ["vendor.create", "vendor.consent", "photo.add"]


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"consent": ""}, "consent", "Tick the box once the vendor has agreed."),
        ({"stall_photo": photo_file(b"not a photo at all", "x.jpg")}, "stall_photo", "x.jpg"),
        ({"business_name": ""}, "business_name", "Give the name of the business or stall."),
        ({"whatsapp": "0812"}, "whatsapp", "is not a valid phone number"),
    ],
)
def test_a_problem_anywhere_saves_nothing_and_keeps_the_typing(client, fields, field, message):
    world = make_world()
    login(client, world.people["volunteer"].email)
    before = count(Vendor), count(Photo), count(AuditEvent)
    typed = {**STALL, "market": world.market.id, "consent": "y", "stall_photo": photo_file(jpeg())}
    response = post(client, REGISTER + "?lang=en", {**typed, **fields})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert re.search(rf'id="{field}-error">[^<]*', html), field
    if field != "stall_photo":
        assert message in html
    assert 'value="Darto"' in html
    assert (count(Vendor), count(Photo), count(AuditEvent)) == before


def test_a_refused_photo_says_why_in_indonesian(client):
    world = make_world()
    login(client, world.people["volunteer"].email)
    response = post(
        client,
        REGISTER + "?lang=id",
        {**STALL, "market": world.market.id, "consent": "y", "stall_photo": photo_file(b"xx")},
        lang="id",
    )
    error = re.search(r'id="stall_photo-error">([^<]*)<', response.get_data(as_text=True))
    assert error and "Choose" not in error.group(1) and error.group(1).strip()


def test_a_duplicate_stall_warns_and_can_be_saved_anyway(client):
    world = make_world()
    login(client, world.people["volunteer"].email)
    typed = {
        **STALL,
        "stall_block": world.vendor.stall_block,
        "stall_number": world.vendor.stall_number,
        "market": world.market.id,
        "consent": "y",
    }
    response = post(client, REGISTER + "?lang=en", typed)
    assert response.status_code == 409
    assert f'href="/manage/vendors/{world.vendor.id}"' in response.get_data(as_text=True)
    assert count(Vendor) == 2
    response = post(client, REGISTER, {**typed, "allow_duplicate": "y"})
    assert response.status_code == 303
    assert count(Vendor) == 3


# --- 2. goods, one phone screen each ------------------------------------------------------------


def product_page(client, world, **query):
    path = f"/manage/quick/vendors/{world.vendor.id}/products"
    return client.get(path, query_string={"lang": "en", **query}).get_data(as_text=True)


def test_the_goods_screen_preselects_the_vendors_category_and_folds_the_rest(client):
    world = make_world()
    world.vendor.categories = [category("makanan")]
    db.session.commit()
    login(client, world.people["volunteer"].email)
    html = product_page(client, world)
    checked = re.findall(r'<input[^>]*name="categories"[^>]*>', html)
    chosen = [tag for tag in checked if "checked" in tag]
    assert len(chosen) == 1 and f'value="{category("makanan").id}"' in chosen[0]
    folded = html.split('<details class="more-fields"', 1)[1].split("</details>", 1)[0]
    for name in ("description", "halal", "permit_number", "material", "availability"):
        assert f'name="{name}"' in folded, name
    above = html.split('<details class="more-fields"', 1)[0]
    for name in ("camera", "photos", "name", "price"):
        assert f'name="{name}"' in above, name
    price = re.search(r'<input[^>]*name="price"[^>]*>', html).group(0)
    assert 'inputmode="text"' in price
    assert 'capture="environment"' in re.search(r'<input[^>]*name="camera"[^>]*>', html).group(0)
    assert ">Save & add another<" in above and ">Done<" in above


@pytest.mark.parametrize(
    ("typed", "price"),
    [("25rb", 25_000), ("25 ribu", 25_000), ("Rp 25.000", 25_000), ("25k", 25_000)],
)
def test_save_and_add_another_with_photos_and_a_typed_price(client, typed, price):
    world = make_world()
    world.vendor.categories = [category("kerajinan")]
    db.session.commit()
    login(client, world.people["volunteer"].email)
    path = f"/manage/quick/vendors/{world.vendor.id}/products"
    response = post(
        client,
        path,
        {
            "name": "Topeng hudoq",
            "price": typed,
            "categories": [str(category("kerajinan").id)],
            "camera": photo_file(jpeg("a"), "a.jpg"),
            "photos": [photo_file(jpeg("b"), "b.jpg")],
            "then": "more",
        },
    )
    assert response.status_code == 303
    assert response.headers["Location"] == path
    db.session.rollback()
    product = db.session.scalar(select(Product).where(Product.vendor_id == world.vendor.id))
    assert (product.name, product.price_idr, len(product.photos)) == ("Topeng hudoq", price, 2)
    assert [c.slug for c in product.categories] == ["kerajinan"]
    html = product_page(client, world)
    assert "“Topeng hudoq” is saved with 2 photos." in html
    assert "Product 2" in html


def test_nonsense_price_is_refused_in_the_vendors_language(client):
    world = make_world()
    login(client, world.people["volunteer"].email)
    path = f"/manage/quick/vendors/{world.vendor.id}/products"
    response = post(client, path + "?lang=id", {"name": "Amplang", "price": "murah"}, lang="id")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    error = re.search(r'id="price-error">([^<]*)<', html).group(1)
    assert error == "Tulis harga dalam rupiah, misalnya 25.000."
    assert 'value="murah"' in html
    assert count(Product) == 0


def test_done_saves_what_was_typed_then_moves_on_and_an_empty_done_only_moves_on(client):
    world = make_world()
    login(client, world.people["volunteer"].email)
    path = f"/manage/quick/vendors/{world.vendor.id}/products"
    finish = f"/manage/quick/vendors/{world.vendor.id}/finish"
    response = post(client, path, {"name": "Amplang", "price": "15.000", "then": "finish"})
    assert (response.status_code, response.headers["Location"]) == (303, finish)
    assert count(Product) == 1
    response = post(client, path, {"name": "", "price": "", "then": "finish"})
    assert (response.status_code, response.headers["Location"]) == (303, finish)
    assert count(Product) == 1


def test_the_vendor_adds_goods_with_the_same_screen_and_returns_home(client):
    world = make_world()
    login(client, world.people["vendor"].phone)
    html = product_page(client, world)
    assert 'class="quick-steps"' not in html  # registering and publishing are the staff's
    path = f"/manage/quick/vendors/{world.vendor.id}/products"
    response = post(client, path, {"name": "Kue", "price": "5rb", "then": "finish"})
    assert response.headers["Location"] == f"/manage/#goods-{world.vendor.id}"


# --- 3. videos, publish and the invitation --------------------------------------------------------


def test_publish_and_invite_in_one_place(client):
    world = make_world()
    vendor = make_ready_vendor(world.market, products=3, whatsapp="+6281347772121")
    login(client, world.people["volunteer"].email)
    base = f"/manage/quick/vendors/{vendor.id}"
    for link in (
        "https://youtu.be/dQw4w9WgXcQ",
        "https://www.tiktok.com/@pakdarto/video/7312345678901234567",
    ):
        response = post(client, base + "/videos", {"url": link})
        assert response.headers["Location"] == base + "/finish#video"
    assert count(VlogLink) == 2
    html = client.get(base + "/finish?lang=en").get_data(as_text=True)
    assert "Publish and make the invitation" in html
    response = post(client, base + "/publish", {})
    assert response.headers["Location"] == base + "/finish#publish"
    db.session.rollback()
    assert db.session.get(Vendor, vendor.id).status == VendorStatus.PUBLISHED
    html = client.get(base + "/finish?lang=en").get_data(as_text=True)
    link = re.search(r'id="invite-link" type="url" readonly value="([^"]+)"', html).group(1)
    assert "/auth/undangan/" in link
    share = re.search(r'href="(https://wa\.me/[^"]+)"', html).group(1).replace("&amp;", "&")
    assert urlsplit(share).path == "/6281347772121"
    assert link in parse_qs(urlsplit(share).query)["text"][0]


def test_publishing_an_unready_stall_says_what_is_missing_and_changes_nothing(client):
    world = make_world()
    login(client, world.people["volunteer"].email)
    base = f"/manage/quick/vendors/{world.vendor.id}"
    html = client.get(base + "/finish?lang=en").get_data(as_text=True)
    assert "Publishing needs these steps first:" in html
    before = count(AuditEvent)
    response = post(client, base + "/publish", {})
    assert response.status_code == 303
    assert count(AuditEvent) == before
    assert db.session.get(Vendor, world.vendor.id).status == VendorStatus.DRAFT
    assert "Not yet:" in client.get(base + "/finish?lang=en").get_data(as_text=True)


def test_a_bad_video_link_is_explained(client):
    world = make_world()
    login(client, world.people["volunteer"].email)
    base = f"/manage/quick/vendors/{world.vendor.id}"
    client.get("/?lang=en")
    answer = post(client, base + "/videos", {"url": "https://evil.example/x"})
    assert count(VlogLink) == 0
    # Shown beside the field with the link as typed, so that nothing is lost; an outbox that
    # sent it keeps the item (not a redirect taken for "saved").
    assert answer.status_code == 422
    page = answer.get_data(as_text=True)
    assert 'value="https://evil.example/x"' in page
    assert "Only links to YouTube, TikTok, Instagram or Facebook videos can be added." in page


# --- the vendor's home ----------------------------------------------------------------------------


def test_the_vendor_home_lists_my_goods_in_plain_words(client):
    world = make_world()
    with_photo = make_product(world.vendor, name="Amplang ikan")
    make_photo(world.vendor, with_photo)
    make_product(world.vendor, name="Kue bingka", availability=Availability.PRE_ORDER)
    login(client, world.people["vendor"].phone)
    for path in ("/manage/?lang=en", f"/manage/vendors/{world.vendor.id}?lang=en"):
        html = client.get(path).get_data(as_text=True)
        assert f'<h1 id="stall-{world.vendor.id}">{world.vendor.business_name}</h1>' in html
        assert "My goods" in html and "(2)" in html
        assert "Onboarding" not in html and "required" not in html  # the volunteers' checklist
        assert "Shoppers cannot see your stall yet." in html
        for product_id in (with_photo.id,):
            form = html.split(f'id="product-{product_id}"', 1)[1].split("</li>", 1)[0]
            assert f'action="/manage/products/{product_id}/availability"' in form
            assert f'action="/manage/products/{product_id}/photos"' in form
            assert 'capture="environment"' in form
            assert "<details" in form and f'action="/manage/products/{product_id}/delete"' in form
        row = html.split('aria-label="Availability of Kue bingka"', 1)[1].split("</div>", 1)[0]
        assert re.search(r'value="pre_order" aria-pressed="true"', row)


def test_the_vendor_changes_availability_and_deletes_from_home_without_javascript(client):
    world = make_world()
    product = make_product(world.vendor, name="Amplang ikan")
    login(client, world.people["vendor"].phone)
    response = post(
        client,
        f"/manage/products/{product.id}/availability",
        {"availability": "sold_out", "back": "home"},
    )
    assert response.headers["Location"] == f"/manage/#product-{product.id}"
    db.session.rollback()
    assert db.session.get(Product, product.id).availability == Availability.SOLD_OUT
    response = post(client, f"/manage/products/{product.id}/delete", {"back": "home"})
    assert response.headers["Location"] == f"/manage/#deleted-{world.vendor.id}"
    html = client.get("/manage/?lang=en").get_data(as_text=True)
    assert "Deleted goods (1)" in html and f"/manage/products/{product.id}/restore" in html


def test_a_photo_from_the_vendor_home_lands_back_home(client):
    world = make_world()
    product = make_product(world.vendor)
    login(client, world.people["vendor"].phone)
    response = post(
        client,
        f"/manage/products/{product.id}/photos",
        {"photos": [photo_file(jpeg("p"))], "back": "home"},
    )
    assert response.headers["Location"] == f"/manage/#product-{product.id}"
    assert count(Photo) == 1


@pytest.mark.usefixtures("en")
def test_the_checklist_shows_the_real_number_of_products():
    world = make_world()
    for _ in range(7):
        make_product(world.vendor)
    step = next(s for s in vendor_checklist(world.vendor) if s.key == "products")
    assert step.done and "7" in step.detail and "3 of 3" not in step.detail
    few = make_ready_vendor(world.market, products=2)
    step = next(s for s in vendor_checklist(few) if s.key == "products")
    assert not step.done and step.detail == "2 of 3"
