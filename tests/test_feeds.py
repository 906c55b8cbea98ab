"""Product feeds for Meta's commerce catalogue and Google Merchant Center: the published field
lists and formats, only public data, stable ids, and fresh after every edit."""

import csv
import io
import re
import xml.etree.ElementTree as ET

import pytest

from market.extensions import db
from market.models import Availability, PriceKind, Role, VendorStatus, utcnow
from market.services import feeds
from tests.factories import make_market, make_photo, make_product, make_user, make_vendor
from tests.pages import counting_queries, login

BASE = "https://pasar.example.id"
G = "{http://base.google.com/ns/1.0}"
# Meta's data feed: required columns, and the values its availability takes.
META_REQUIRED = {
    "id",
    "title",
    "description",
    "availability",
    "condition",
    "price",
    "link",
    "image_link",
    "brand",
}
META_AVAILABILITY = {"in stock", "out of stock", "preorder", "available for order", "discontinued"}
# Google Merchant Center: required attributes, and the values of the enumerated ones.
GOOGLE_REQUIRED = {"id", "title", "description", "link", "image_link", "availability", "price"}
GOOGLE_AVAILABILITY = {"in_stock", "out_of_stock", "preorder", "backorder"}
PRICE = re.compile(r"^\d+ IDR$")


@pytest.fixture
def public_url(app, monkeypatch):
    monkeypatch.setitem(app.config, "MARKET_PUBLIC_URL", BASE)


def photographed(vendor, **overrides):
    product = make_product(vendor, **overrides)
    make_photo(vendor, product)
    return product


@pytest.fixture
def catalogue(ctx, public_url):
    """A market with two public stalls, and everything that must stay out of its feeds."""
    market = make_market()
    stall = make_vendor(market, business_name="Amplang Bu Sri", owner_name="Sri Rahayu")
    fixed = photographed(stall, name="Amplang kepiting", price_idr=25000)
    make_photo(stall, fixed)  # a second photo
    start = photographed(stall, name="Tas anyam", price_idr=150000, price_kind=PriceKind.FROM)
    haggle = photographed(
        stall,
        name="Batik tulis",
        price_idr=400000,
        price_kind=PriceKind.NEGOTIABLE,
        availability=Availability.PRE_ORDER,
    )
    gone = photographed(stall, name="Kue lapis", availability=Availability.SOLD_OUT)
    neighbour = make_vendor(market, business_name="Manik Dayak")
    beads = photographed(neighbour, name="Kalung manik")
    left_out = {
        "no price": photographed(stall, name="Tanya harga", price_idr=None),
        "no photo": make_product(stall, name="Tanpa foto"),
        "hidden": photographed(stall, name="Disembunyikan", hidden_at=utcnow()),
        "deleted": photographed(stall, name="Dihapus", deleted_at=utcnow()),
        "draft stall": photographed(make_vendor(market, published=False), name="Draf"),
        "hidden stall": photographed(
            make_vendor(market, status=VendorStatus.HIDDEN), name="Lapak tersembunyi"
        ),
        "no consent": photographed(
            make_vendor(market, consent_at=None, consent_version=None), name="Tanpa izin"
        ),
        "deleted stall": photographed(make_vendor(market, deleted_at=utcnow()), name="Tutup"),
        "other market": photographed(make_vendor(make_market()), name="Pasar lain"),
    }
    hidden_market = make_market(published=False)
    left_out["unpublished market"] = photographed(make_vendor(hidden_market), name="Belum buka")
    return {
        "market": market,
        "stall": stall,
        "listed": [fixed, start, haggle, gone, beads],
        "left_out": left_out,
        "hidden_market": hidden_market,
    }


def meta_rows(client, path: str) -> tuple[list[str], list[dict]]:
    response = client.get(path)
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    reader = csv.DictReader(io.StringIO(response.get_data().decode("utf-8")))
    return list(reader.fieldnames), list(reader)


def google_items(client, path: str) -> list[dict]:
    response = client.get(path)
    assert response.status_code == 200
    root = ET.fromstring(response.get_data())  # noqa: S314 - our own feed
    assert root.tag == "rss" and root.get("version") == "2.0"
    channel = root.find("channel")
    assert channel.findtext("title") and channel.findtext("link").startswith(BASE)
    items = []
    for item in channel.findall("item"):
        fields: dict = {}
        for child in item:
            assert child.tag.startswith(G), child.tag
            fields.setdefault(child.tag.removeprefix(G), []).append(child.text)
        items.append({k: v if len(v) > 1 else v[0] for k, v in fields.items()})
    return items


def test_meta_feed_follows_the_published_field_list(client, catalogue):
    market, listed = catalogue["market"], catalogue["listed"]
    header, rows = meta_rows(client, f"/pasar/{market.slug}/feed/meta.csv")
    assert set(header) >= META_REQUIRED
    assert [row["id"] for row in rows] == [f"pasar-{p.id}" for p in listed]
    for row in rows:
        assert all(row[column] for column in META_REQUIRED), row
        assert len(row["title"]) <= 200 and len(row["description"]) <= 9999
        assert row["availability"] in META_AVAILABILITY
        assert row["condition"] == "new"
        assert PRICE.match(row["price"]), row["price"]
        assert row["link"].startswith(f"{BASE}/pasar/{market.slug}/lapak/")
        assert row["image_link"].startswith(BASE)
    by_title = {row["title"]: row for row in rows}
    amplang = by_title["Amplang kepiting"]
    assert amplang["price"] == "25000 IDR"
    assert amplang["brand"] == "Amplang Bu Sri"
    fixed = listed[0]
    assert amplang["link"] == f"{BASE}/pasar/{market.slug}/lapak/{fixed.vendor.slug}/{fixed.slug}"
    assert amplang["additional_image_link"].startswith(BASE)
    assert amplang["additional_image_link"] != amplang["image_link"]
    assert by_title["Kue lapis"]["availability"] == "out of stock"
    assert by_title["Batik tulis"]["availability"] == "preorder"
    assert by_title["Kalung manik"]["additional_image_link"] == ""


def test_google_feed_follows_the_published_field_list(client, catalogue):
    market, listed = catalogue["market"], catalogue["listed"]
    items = google_items(client, f"/pasar/{market.slug}/feed/google.xml")
    assert [item["id"] for item in items] == [f"pasar-{p.id}" for p in listed]
    for item in items:
        assert set(item) >= GOOGLE_REQUIRED, item
        assert len(item["title"]) <= 150 and len(item["description"]) <= 5000
        assert item["availability"] in GOOGLE_AVAILABILITY
        assert PRICE.match(item["price"])
        assert item["condition"] == "new"
        assert item["identifier_exists"] == "no"
        assert item["link"].startswith(f"{BASE}/pasar/{market.slug}/lapak/")
    by_title = {item["title"]: item for item in items}
    amplang = by_title["Amplang kepiting"]
    assert amplang["brand"] == "Amplang Bu Sri"
    assert amplang["additional_image_link"].startswith(BASE)
    assert by_title["Kue lapis"]["availability"] == "out_of_stock"
    assert by_title["Batik tulis"]["availability"] == "preorder"


def test_links_lead_to_the_products_page_and_photos(client, stocked_world, public_url):
    _header, rows = meta_rows(client, f"/pasar/{stocked_world.market.slug}/feed/meta.csv")
    assert len(rows) == 1
    for row in rows:
        page = client.get(row["link"].removeprefix(BASE))
        assert page.status_code == 200, row["link"]
        assert row["title"] in page.get_data(as_text=True)
        for image in (row["image_link"], row["additional_image_link"]):
            assert client.get(image.removeprefix(BASE)).status_code == 200


def test_feeds_carry_only_public_data(client, catalogue):
    market, stall = catalogue["market"], catalogue["stall"]
    for path in (f"/pasar/{market.slug}/feed/meta.csv", f"/pasar/{market.slug}/feed/google.xml"):
        body = client.get(path).get_data(as_text=True)
        for name in catalogue["left_out"]:
            assert catalogue["left_out"][name].name not in body, (path, name)
        assert stall.owner_name not in body
        assert stall.whatsapp not in body and stall.whatsapp[3:] not in body
    hidden = catalogue["hidden_market"].slug
    assert client.get(f"/pasar/{hidden}/feed/meta.csv").status_code == 404
    assert client.get(f"/pasar/{hidden}/feed/google.xml").status_code == 404


def test_a_stalls_feed_holds_only_its_own_goods(client, catalogue):
    market, stall = catalogue["market"], catalogue["stall"]
    own = [f"pasar-{p.id}" for p in catalogue["listed"] if p.vendor_id == stall.id]
    base = f"/pasar/{market.slug}/lapak/{stall.slug}/feed"
    _header, rows = meta_rows(client, f"{base}/meta.csv")
    assert [row["id"] for row in rows] == own
    assert [item["id"] for item in google_items(client, f"{base}/google.xml")] == own
    draft = catalogue["left_out"]["draft stall"].vendor
    assert client.get(f"/pasar/{market.slug}/lapak/{draft.slug}/feed/meta.csv").status_code == 404


def test_starting_and_negotiable_prices_are_said_in_words(client, catalogue):
    _header, rows = meta_rows(client, f"/pasar/{catalogue['market'].slug}/feed/meta.csv")
    by_title = {row["title"]: row for row in rows}
    assert by_title["Tas anyam"]["price"] == "150000 IDR"
    assert "Harga mulai Rp150.000" in by_title["Tas anyam"]["description"]
    assert "bisa nego" in by_title["Batik tulis"]["description"]
    assert "Harga" not in by_title["Amplang kepiting"]["description"]


def test_long_text_is_cut_to_each_channels_limit_and_keeps_the_price_words(ctx, public_url):
    market = make_market()
    stall = make_vendor(market)
    photographed(stall, name="N" * 120, description="kata " * 4000, price_kind=PriceKind.FROM)
    products = feeds.feed_products(market)
    for limit in (feeds.META_DESCRIPTION_MAX, feeds.GOOGLE_DESCRIPTION_MAX):
        (item,) = feeds.feed_items(products, lambda p: BASE, lambda p: BASE, limit)
        assert len(item.description) <= limit
        assert item.description.endswith("tergantung pilihan Anda.")


def test_descriptions_are_plain_text_and_formulas_are_defused(client, ctx, public_url):
    market = make_market()
    stall = make_vendor(market)
    photographed(stall, name='=HYPERLINK("http://x")', description="<b>Renyah</b> &amp; gurih")
    _header, (row,) = meta_rows(client, f"/pasar/{market.slug}/feed/meta.csv")
    assert row["title"] == '\'=HYPERLINK("http://x")'
    assert row["description"] == "Renyah & gurih"
    (item,) = google_items(client, f"/pasar/{market.slug}/feed/google.xml")
    assert item["description"] == "Renyah & gurih"


def test_ids_stay_when_a_product_is_renamed(client, catalogue):
    market, product = catalogue["market"], catalogue["listed"][0]
    path = f"/pasar/{market.slug}/feed/meta.csv"
    _header, before = meta_rows(client, path)
    product.name = "Amplang kepiting super"
    db.session.commit()
    _header, after = meta_rows(client, path)
    assert [row["id"] for row in after] == [row["id"] for row in before]
    assert after[0]["title"] == "Amplang kepiting super"


def test_feeds_are_cached_and_fresh_after_an_edit(client, catalogue):
    market, stall = catalogue["market"], catalogue["stall"]
    product = catalogue["listed"][0]
    for path in (
        f"/pasar/{market.slug}/feed/meta.csv",
        f"/pasar/{market.slug}/lapak/{stall.slug}/feed/google.xml",
    ):
        first = client.get(path)
        assert "public" in first.headers["Cache-Control"]
        assert f"market-{market.slug}" in first.headers["Surrogate-Key"]
        with counting_queries() as statements:
            assert client.get(path).get_data() == first.get_data()
        assert statements == []
    product.price_idr = 27500
    db.session.commit()
    assert "27500 IDR" in client.get(f"/pasar/{market.slug}/feed/meta.csv").get_data(as_text=True)
    fresh = client.get(f"/pasar/{market.slug}/lapak/{stall.slug}/feed/google.xml")
    assert "27500 IDR" in fresh.get_data(as_text=True)


def test_a_feed_costs_a_bounded_number_of_queries(client, ctx, public_url):
    market = make_market()
    for _ in range(3):
        stall = make_vendor(market)
        for _ in range(4):
            photographed(stall)
    make_user(Role.VOLUNTEER, email="feeds@example.org")
    login(client, "feeds@example.org")  # logged in: rendered, not served from the cache
    with counting_queries() as statements:
        assert client.get(f"/pasar/{market.slug}/feed/google.xml").status_code == 200
    assert len(statements) <= 6, statements
