"""The WhatsApp buttons: a POST to our counter, then on to wa.me with the vendor's number and
a greeting that names the vendor, the market and (on product pages) the product and price."""

from urllib.parse import parse_qs, urlsplit

import pytest

from market.extensions import db
from market.models import ContactClick, VendorStatus
from market.services import contacts
from tests.factories import make_market, make_product, make_vendor
from tests.pages import product_url, vendor_url


def _chat(response):
    assert response.status_code == 303
    parts = urlsplit(response.headers["Location"])
    assert (parts.scheme, parts.netloc) == ("https", "wa.me")
    (text,) = parse_qs(parts.query, strict_parsing=True)["text"]
    return parts.path.strip("/"), text


def _clicks():
    # End the test's own read transaction: its snapshot predates the requests.
    db.session.rollback()
    return {(c.vendor_id, c.product_id): c.count for c in db.session.query(ContactClick)}


def test_vendor_button_opens_a_chat_naming_vendor_and_market(client):
    market = make_market(name="Pasar Inpres Kebun Sayur")
    vendor = make_vendor(market, business_name="Manik & Co “Bu Sri”", whatsapp="+6281200000001")
    response = client.post(vendor_url(vendor) + "wa?lang=en")
    number, text = _chat(response)
    assert number == "6281200000001"
    assert text.startswith("Hello Manik & Co “Bu Sri”, I found your stall at Pasar Inpres Kebun")
    assert text.endswith(f"http://localhost{vendor_url(vendor)}")
    # Encoded so that "&", quotes and the line break survive: nothing raw in the query.
    location = response.headers["Location"]
    assert " " not in location and "&" not in location.split("?", 1)[1] and "\n" not in location
    # The redirect names the vendor's number: no cache keeps it (the language cookie set here
    # makes it private too).
    assert "no-store" in {d.strip() for d in response.headers["Cache-Control"].split(",")}


def test_product_button_names_the_product_and_its_price(client):
    vendor = make_vendor(make_market(name="Pasar Baru"), business_name="Amplang Pak Udin")
    product = make_product(vendor, name="Amplang 250 g", price_idr=35000)
    number, text = _chat(client.post(product_url(product) + "/wa?lang=en"))
    assert number == vendor.whatsapp.lstrip("+")
    assert "Amplang 250 g (Rp35.000)" in text
    assert "Amplang Pak Udin" in text and "Pasar Baru" in text
    assert text.endswith(product_url(product))


def test_message_follows_the_shoppers_language(client):
    vendor = make_vendor(make_market())
    _number, english = _chat(client.post(vendor_url(vendor) + "wa?lang=en"))
    assert english.startswith("Hello")
    _number, indonesian = _chat(client.post(vendor_url(vendor) + "wa?lang=id"))
    assert vendor.business_name in indonesian


def test_taps_are_counted_per_vendor_and_product(client):
    vendor = make_vendor(make_market())
    product = make_product(vendor)
    client.post(vendor_url(vendor) + "wa")
    client.post(vendor_url(vendor) + "wa")
    client.post(product_url(product) + "/wa")
    assert _clicks() == {(vendor.id, None): 2, (vendor.id, product.id): 1}
    assert contacts.clicks_by_vendor([vendor.id]) == {vendor.id: 3}
    assert contacts.clicks_by_product(vendor.id) == {product.id: 1}


def test_a_burst_from_one_visitor_still_opens_the_chat_but_stops_counting(client):
    vendor = make_vendor(make_market())
    for _ in range(15):
        _chat(client.post(vendor_url(vendor) + "wa"))
    assert _clicks() == {(vendor.id, None): 10}


def test_get_and_prefetch_never_count(client):
    vendor = make_vendor(make_market())
    response = client.get(vendor_url(vendor) + "wa")
    # GET .../wa is the (absent) product "wa", never the counter.
    assert response.status_code == 404
    assert _clicks() == {}


def test_no_csrf_token_is_needed(app, client):
    vendor = make_vendor(make_market())
    assert app.config.get("WTF_CSRF_ENABLED", True)
    assert client.post(vendor_url(vendor) + "wa").status_code == 303


@pytest.mark.parametrize(
    "change", [{"status": VendorStatus.HIDDEN}, {"published": False}, {"whatsapp": None}]
)
def test_non_public_or_unreachable_vendors_get_404_and_no_count(client, change):
    vendor = make_vendor(make_market(), **change)
    assert client.post(vendor_url(vendor) + "wa").status_code == 404
    assert _clicks() == {}


def test_pages_with_the_button_let_the_form_reach_wa_me(client):
    vendor = make_vendor(make_market())
    product = make_product(vendor)
    for path in (vendor_url(vendor), product_url(product)):
        policy = client.get(path).headers["Content-Security-Policy"]
        assert "form-action 'self' https://wa.me https://api.whatsapp.com" in policy
        assert "script-src 'self'" in policy


def test_the_button_is_a_form_that_works_without_javascript(client):
    vendor = make_vendor(make_market())
    body = client.get(vendor_url(vendor)).get_data(as_text=True)
    assert f'<form method="post" action="{vendor_url(vendor)}wa"' in body
    assert vendor.whatsapp.lstrip("+") not in body  # the number is not scraped off the page
