"""The shopper's list (daftar belanja): built without JavaScript from product and stall pages,
kept in a signed cookie of product ids and quantities, grouped by stall with subtotals, and
sent as one WhatsApp order per stall, each send counted as a contact and a list send."""

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from market.extensions import db
from market.models import ContactClick, ListSend, PriceKind, VendorStatus, utcnow
from market.services import shopping_list
from market.services.errors import Invalid
from tests.factories import make_market, make_product, make_vendor
from tests.pages import counting_queries, form_values, product_url, vendor_url

SECRET = "test-secret-key-that-is-long-enough-0123456789"


def _list_url(market) -> str:
    return f"/pasar/{market.slug}/daftar/"


def _add(client, product, quantity="1"):
    """Send the add form of the product's own page, as a browser without JavaScript would."""
    market = product.vendor.market
    page = client.get(product_url(product)).get_data(as_text=True)
    fields = form_values(page, f"/pasar/{market.slug}/daftar/tambah")
    return client.post(
        f"/pasar/{market.slug}/daftar/tambah", data=fields | {"jumlah": str(quantity)}
    )


def _chat(response):
    assert response.status_code == 303, response.get_data(as_text=True)
    parts = urlsplit(response.headers["Location"])
    assert (parts.scheme, parts.netloc) == ("https", "wa.me")
    (text,) = parse_qs(parts.query, strict_parsing=True)["text"]
    return parts.path.strip("/"), text


def _counts(model):
    db.session.rollback()
    return {(row.vendor_id, row.product_id): row.count for row in db.session.scalars(select(model))}


def _directives(response) -> set[str]:
    return {d.strip() for d in response.headers.get("Cache-Control", "").split(",")}


@pytest.fixture
def stalls(ctx):
    market = make_market(slug="pasar-a", name="Pasar A")
    amplang = make_vendor(market, business_name="Amplang Pak Udin", whatsapp="+6281200000001")
    manik = make_vendor(market, business_name="Manik Bu Sri", whatsapp="+6281200000002")
    sarung = make_vendor(market, business_name="Sarung Samarinda", whatsapp="+6281200000003")
    goods = {
        "amplang": make_product(amplang, name="Amplang 250 g", price_idr=35000),
        "kerupuk": make_product(amplang, name="Kerupuk ikan", price_idr=20000),
        "gelang": make_product(
            manik, name="Gelang manik", price_idr=50000, price_kind=PriceKind.FROM
        ),
        "sarung": make_product(
            sarung, name="Sarung tenun", price_idr=400000, price_kind=PriceKind.NEGOTIABLE
        ),
    }
    return market, goods


def test_a_list_across_three_stalls_becomes_three_whatsapp_orders(client, stalls):
    market, goods = stalls
    assert _add(client, goods["amplang"], 2).status_code == 303
    assert _add(client, goods["gelang"], 1).status_code == 303
    assert _add(client, goods["kerupuk"], 3).status_code == 303
    response = _add(client, goods["sarung"], 1)
    assert response.headers["Location"].startswith(_list_url(market))

    page = client.get(_list_url(market) + "?lang=en").get_data(as_text=True)
    # One section per stall, in the order their goods were first added.
    stalls_shown = re.findall(r'<h2 id="stall-\d+"><a [^>]*>([^<]+)</a>', page)
    assert stalls_shown == ["Amplang Pak Udin", "Manik Bu Sri", "Sarung Samarinda"]
    assert "Subtotal Rp130.000" in page  # 2 × 35.000 + 3 × 20.000
    assert "Subtotal, at least Rp50.000" in page  # a starting price
    assert "Subtotal, at least Rp400.000" in page  # negotiable

    amplang = goods["amplang"].vendor
    number, text = _chat(client.post(f"/pasar/pasar-a/daftar/kirim/{amplang.slug}?lang=en"))
    assert number == "6281200000001"
    assert text.startswith(
        "Hello Amplang Pak Udin, I would like to order from your stall at Pasar A"
    )
    assert "- 2 × Amplang 250 g (Rp35.000)" in text
    assert "- 3 × Kerupuk ikan (Rp20.000)" in text
    assert f"http://localhost{product_url(goods['amplang'])}" in text
    assert f"http://localhost{product_url(goods['kerupuk'])}" in text
    assert "Total Rp130.000." in text
    assert "Gelang" not in text and "Sarung" not in text

    _number, text = _chat(
        client.post(f"/pasar/pasar-a/daftar/kirim/{goods['gelang'].vendor.slug}?lang=en")
    )
    assert "- 1 × Gelang manik (from Rp50.000)" in text
    assert "Total at least Rp50.000; please tell me the final price." in text
    _number, text = _chat(
        client.post(f"/pasar/pasar-a/daftar/kirim/{goods['sarung'].vendor.slug}?lang=en")
    )
    assert "- 1 × Sarung tenun (Rp400.000, negotiable)" in text

    # Each product of a sent order counts as a WhatsApp contact and as a list send.
    expected = {
        (amplang.id, goods["amplang"].id): 1,
        (amplang.id, goods["kerupuk"].id): 1,
        (goods["gelang"].vendor_id, goods["gelang"].id): 1,
        (goods["sarung"].vendor_id, goods["sarung"].id): 1,
    }
    assert _counts(ListSend) == expected
    assert _counts(ContactClick) == expected
    # The list survives the sends and a reload.
    assert "Kerupuk ikan" in client.get(_list_url(market)).get_data(as_text=True)


def test_the_order_message_is_in_indonesian_by_default(client, stalls):
    _market, goods = stalls
    _add(client, goods["amplang"], 2)
    _number, text = _chat(
        client.post(f"/pasar/pasar-a/daftar/kirim/{goods['amplang'].vendor.slug}")
    )
    assert "Amplang 250 g" in text and "Hello" not in text
    assert text.startswith("Halo Amplang Pak Udin")


def test_the_stall_page_adds_any_of_its_goods(client, stalls):
    _market, goods = stalls
    vendor = goods["kerupuk"].vendor
    page = client.get(vendor_url(vendor)).get_data(as_text=True)
    fields = form_values(page, "/pasar/pasar-a/daftar/tambah")
    assert fields["produk"] == str(goods["amplang"].id)  # the first one is chosen by default
    response = client.post(
        "/pasar/pasar-a/daftar/tambah", data=fields | {"produk": str(goods["kerupuk"].id)}
    )
    assert response.status_code == 303
    assert "Kerupuk ikan" in client.get(response.headers["Location"]).get_data(as_text=True)


def test_quantities_change_items_go_and_the_list_clears(client, stalls):
    market, goods = stalls
    _add(client, goods["amplang"], 1)
    _add(client, goods["kerupuk"], 1)
    _add(client, goods["amplang"], 2)  # adding again adds up
    url = _list_url(market)
    page = client.get(url).get_data(as_text=True)
    fields = form_values(page, url + "ubah")
    assert fields[f"jumlah-{goods['amplang'].id}"] == "3"
    client.post(url + "ubah", data=fields | {f"jumlah-{goods['kerupuk'].id}": "5"})
    assert shopping_list.load(market, _cookie_items(client, market)).items == {
        goods["amplang"].id: 3,
        goods["kerupuk"].id: 5,
    }
    client.post(url + "ubah", data=fields | {"hapus": str(goods["amplang"].id)})
    assert _cookie_items(client, market) == {goods["kerupuk"].id: 1}
    client.post(url + "ubah", data={"kosongkan": "1"})
    assert _cookie_items(client, market) == {}
    assert "Daftar Anda kosong" in client.get(url).get_data(as_text=True)


def _cookie_items(client, market):
    cookie = client.get_cookie("daftar", path=_list_url(market))
    return shopping_list.decode(cookie.value if cookie else None, SECRET)


@pytest.mark.parametrize("typed", ["0", "100", "dua", ""])
def test_a_refused_quantity_keeps_what_was_typed_and_changes_nothing(client, stalls, typed):
    market, goods = stalls
    _add(client, goods["amplang"], 2)
    url = _list_url(market)
    field = f"jumlah-{goods['amplang'].id}"
    response = client.post(url + "ubah?lang=en", data={field: typed})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert f'name="{field}" type="text" inputmode="numeric" value="{typed}"' in page
    assert "Some quantities could not be saved" in page
    assert _cookie_items(client, market) == {goods["amplang"].id: 2}
    # Sending with a refused quantity sends nothing and counts nothing.
    vendor = goods["amplang"].vendor
    assert client.post(f"{url}kirim/{vendor.slug}", data={field: typed}).status_code == 422
    assert _counts(ListSend) == {}


def test_a_refused_quantity_on_adding_is_shown_with_the_product(client, stalls):
    market, goods = stalls
    response = _add(client, goods["amplang"], "-1")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Amplang 250 g" in page and 'value="-1"' in page
    assert _cookie_items(client, market) == {}


def test_goods_that_left_the_market_drop_out_with_a_notice(client, stalls):
    market, goods = stalls
    for name in ("amplang", "kerupuk", "gelang", "sarung"):
        _add(client, goods[name])
    goods["amplang"].hidden_at = utcnow()
    goods["kerupuk"].deleted_at = utcnow()
    goods["gelang"].vendor.status = VendorStatus.HIDDEN
    db.session.commit()
    page = client.get(_list_url(market) + "?lang=en").get_data(as_text=True)
    assert "3 items are no longer on offer and were removed from your list." in page
    assert "Sarung tenun" in page and "Amplang" not in page and "Gelang" not in page
    assert _cookie_items(client, market) == {goods["sarung"].id: 1}
    # A hidden stall's order cannot be sent any more; the list page explains.
    response = client.post(f"{_list_url(market)}kirim/{goods['gelang'].vendor.slug}")
    assert response.status_code == 303
    assert response.headers["Location"] == _list_url(market)
    assert _counts(ListSend) == {}


def test_a_product_of_another_market_cannot_join_this_markets_list(client, stalls):
    market, _goods = stalls
    elsewhere = make_product(make_vendor(make_market()))
    response = client.post(
        f"{_list_url(market)}tambah", data={"produk": str(elsewhere.id), "jumlah": "1"}
    )
    assert response.status_code == 404
    assert _cookie_items(client, market) == {}


def test_the_stored_list_is_signed_validated_and_bounded(ctx):
    items = {7: 2, 9: 1}
    stored = shopping_list.encode(items, SECRET)
    assert shopping_list.decode(stored, SECRET) == items
    assert shopping_list.decode(stored, "another-secret-entirely-0123456789") == {}
    assert shopping_list.decode(stored[:-2] + "xx", SECRET) == {}
    assert shopping_list.decode("not a list", SECRET) == {}
    # Signed but malformed entries are dropped one by one.
    weird = shopping_list._signer(SECRET).dumps([[1, 0], [2, 100], ["3", 1], [4, True], [5, 5]])
    assert shopping_list.decode(weird, SECRET) == {5: 5}
    full = dict.fromkeys(range(1, shopping_list.MAX_ITEMS + 1), shopping_list.MAX_QUANTITY)
    stored = shopping_list.encode(full, SECRET)
    assert len(stored) <= shopping_list.MAX_STORED_LENGTH
    assert shopping_list.decode(stored, SECRET) == full
    with pytest.raises(Invalid):
        shopping_list.add(full, 10_000, 1)
    assert shopping_list.add({1: 98}, 1, 5) == {1: shopping_list.MAX_QUANTITY}


def test_a_full_list_refuses_more_with_a_message(client, stalls, monkeypatch):
    market, goods = stalls
    monkeypatch.setattr(shopping_list, "MAX_ITEMS", 2)
    _add(client, goods["amplang"])
    _add(client, goods["kerupuk"])
    response = client.post(
        f"{_list_url(market)}tambah?lang=en", data={"produk": goods["gelang"].id, "jumlah": "1"}
    )
    assert response.status_code == 422
    assert "Your list is full (2 items)" in response.get_data(as_text=True)
    assert set(_cookie_items(client, market)) == {goods["amplang"].id, goods["kerupuk"].id}


@pytest.mark.parametrize(
    "headers",
    [
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},
        {"Origin": "https://elsewhere.example"},
        {"Origin": "null"},
    ],
)
def test_posts_from_other_sites_are_refused(client, stalls, headers):
    market, goods = stalls
    url = _list_url(market)
    add = {"produk": str(goods["amplang"].id), "jumlah": "1"}
    assert client.post(url + "tambah", data=add, headers=headers).status_code == 403
    assert _cookie_items(client, market) == {}
    client.post(url + "tambah", data=add)
    vendor = goods["amplang"].vendor
    assert client.post(f"{url}kirim/{vendor.slug}", headers=headers).status_code == 403
    assert client.post(url + "ubah", data={"kosongkan": "1"}, headers=headers).status_code == 403
    assert _counts(ListSend) == {}
    assert _cookie_items(client, market) == {goods["amplang"].id: 1}


@pytest.mark.parametrize(
    "headers",
    [{"Sec-Fetch-Site": "same-origin"}, {"Origin": "http://localhost"}, {}],
)
def test_posts_from_our_own_pages_pass(client, stalls, headers):
    market, goods = stalls
    add = {"produk": str(goods["amplang"].id), "jumlah": "1"}
    assert client.post(_list_url(market) + "tambah", data=add, headers=headers).status_code == 303


def test_no_shared_cache_may_keep_the_list_or_its_answers(client, stalls):
    market, goods = stalls
    url = _list_url(market)
    answers = [
        _add(client, goods["amplang"], 2),
        client.get(url),
        client.post(url + "ubah", data={f"jumlah-{goods['amplang'].id}": "3"}),
        client.post(f"{url}kirim/{goods['amplang'].vendor.slug}"),
        client.post(url + "ubah", data={f"jumlah-{goods['amplang'].id}": "0"}),
    ]
    for response in answers:
        assert {"private", "no-store"} <= _directives(response), response.status
        assert "Surrogate-Key" not in response.headers
        assert "s-maxage" not in response.headers.get("Cache-Control", "")


def test_cached_pages_never_show_a_visitors_list(client, stalls):
    _market, goods = stalls
    product = goods["amplang"]
    before = client.get(product_url(product))
    stall_before = client.get(vendor_url(product.vendor))
    _add(client, goods["kerupuk"], 4)
    after = client.get(product_url(product))
    assert after.get_data() == before.get_data()
    assert client.get(vendor_url(product.vendor)).get_data() == stall_before.get_data()
    assert "public" in _directives(after)


def test_the_list_page_costs_a_bounded_number_of_queries(client, stalls):
    market, goods = stalls
    for product in goods.values():
        _add(client, product)
    with counting_queries() as statements:
        response = client.get(_list_url(market))
    assert response.status_code == 200
    assert len(statements) <= 3, statements


def test_an_unknown_market_has_no_list(client):
    assert client.get("/pasar/tidak-ada/daftar/").status_code == 404


@pytest.mark.parametrize("lang", ["id", "en"])
def test_a_remove_button_is_named_by_the_word_it_shows(client, stalls, lang):
    """Speech control users say the word they see ("Keluarkan"): the button's name must hold it."""
    market, goods = stalls
    _add(client, goods["amplang"], 2)
    page = client.get(_list_url(market) + f"?lang={lang}").get_data(as_text=True)
    buttons = re.findall(r'name="hapus"[^>]*aria-label="([^"]+)">([^<]+)</button>', page)
    assert buttons
    for name, shown in buttons:
        assert name.startswith(shown.strip()), (name, shown)
