"""What search engines and link previews see: titles, OpenGraph, JSON-LD, canonical and
hreflang links, the sitemap (exactly the public pages) and robots.txt."""

import json
import re
from xml.etree import ElementTree

from market.models import Availability, utcnow
from tests.factories import category, make_market, make_photo, make_product, make_vendor
from tests.pages import product_url, vendor_url

SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


def _jsonld(body: str) -> dict:
    match = re.search(r'<script type="application/ld\+json">(.*?)</script>', body, re.S)
    assert match, "no JSON-LD"
    return json.loads(match.group(1))


def _meta(body: str, key: str) -> str:
    match = re.search(rf'<meta (?:property|name)="{re.escape(key)}" content="([^"]*)"', body)
    assert match, key
    return match.group(1)


def test_product_page_describes_the_product_for_previews_and_search(client):
    market = make_market(name="Pasar Inpres")
    vendor = make_vendor(market, business_name="Amplang Pak Udin")
    product = make_product(
        vendor,
        name="Amplang kepiting",
        price_idr=45000,
        description="Renyah & gurih.",
        availability=Availability.SOLD_OUT,
        categories=[category("makanan")],
    )
    photo = make_photo(vendor, product)
    body = client.get(product_url(product) + "?lang=en").get_data(as_text=True)
    assert "<title>Amplang kepiting — Amplang Pak Udin</title>" in body
    assert '<meta name="description" content="Renyah &amp; gurih.">' in body
    assert _meta(body, "og:type") == "product"
    assert _meta(body, "og:image").endswith(f"{photo.content_hash}-1200.webp")
    assert _meta(body, "og:image").startswith("http://localhost/")
    assert _meta(body, "twitter:card") == "summary_large_image"
    canonical = f"http://localhost{product_url(product)}"
    assert f'<link rel="canonical" href="{canonical}">' in body
    assert f'hreflang="en" href="{canonical}?lang=en"' in body
    assert f'hreflang="id" href="{canonical}?lang=id"' in body
    assert f'hreflang="x-default" href="{canonical}"' in body
    data = _jsonld(body)
    assert data["@type"] == "Product" and data["name"] == "Amplang kepiting"
    assert data["offers"] == {
        "@type": "Offer",
        "price": 45000,
        "priceCurrency": "IDR",
        "availability": "https://schema.org/SoldOut",
        "url": canonical,
        "seller": {
            "@type": "Store",
            "name": "Amplang Pak Udin",
            "url": f"http://localhost{vendor_url(vendor)}",
        },
    }
    assert data["category"] == "Snacks & food"


def test_product_without_price_has_no_offer(client):
    product = make_product(make_vendor(make_market()), price_idr=None)
    body = client.get(product_url(product) + "?lang=en").get_data(as_text=True)
    assert "offers" not in _jsonld(body)
    assert "Ask the price" in body


def test_vendor_page_is_a_store_in_the_market_place(client):
    market = make_market(address="Jl. Suprapto", latitude=-1.2389, longitude=116.8297)
    vendor = make_vendor(market, business_name="Batik Borneo", stall_block="C", stall_number="7")
    make_photo(vendor)
    body = client.get(vendor_url(vendor)).get_data(as_text=True)
    data = _jsonld(body)
    assert data["@type"] == "Store"
    assert data["containedInPlace"]["@type"] == "Place"
    assert data["containedInPlace"]["geo"] == {
        "@type": "GeoCoordinates",
        "latitude": -1.2389,
        "longitude": 116.8297,
    }
    assert "Blok C No. 7" in data["address"]["streetAddress"]
    assert data["address"]["addressCountry"] == "ID"
    assert _meta(body, "og:title") == f"Batik Borneo — {market.name}"


def test_market_page_is_a_place(client):
    market = make_market(description="Pusat oleh-oleh.")
    body = client.get(f"/pasar/{market.slug}/").get_data(as_text=True)
    data = _jsonld(body)
    assert data["@type"] == "Place" and data["description"] == "Pusat oleh-oleh."
    assert '<meta name="description" content="Pusat oleh-oleh.">' in body


def test_json_ld_cannot_break_out_of_its_script(client):
    vendor = make_vendor(make_market(), description="</script><script>alert(1)</script>")
    body = client.get(vendor_url(vendor)).get_data(as_text=True)
    assert "<script>alert(1)" not in body
    assert _jsonld(body)["description"] == "</script><script>alert(1)</script>"


def _sitemap_urls(client) -> set[str]:
    index = ElementTree.fromstring(client.get("/sitemap.xml").get_data())  # noqa: S314
    assert index.tag == f"{SITEMAP}sitemapindex"
    urls = set()
    for loc in index.iter(f"{SITEMAP}loc"):
        response = client.get(loc.text.removeprefix("http://localhost"))
        assert response.status_code == 200, loc.text
        assert response.mimetype == "text/xml"
        part = ElementTree.fromstring(response.get_data())  # noqa: S314
        urls |= {url.text.removeprefix("http://localhost") for url in part.iter(f"{SITEMAP}loc")}
    return urls


def test_sitemap_lists_exactly_the_public_pages(client):
    market = make_market()
    make_market(published=False)
    public = make_vendor(market)
    product = make_product(public)
    make_product(public, deleted_at=utcnow())
    make_product(public, hidden_at=utcnow())
    draft = make_vendor(market, published=False)
    make_product(draft)
    make_vendor(market, consent_at=None)
    hidden_market_vendor = make_vendor(make_market(published=False))
    make_product(hidden_market_vendor)
    assert _sitemap_urls(client) == {
        "/",
        f"/pasar/{market.slug}/",
        vendor_url(public),
        product_url(product),
    }


def test_sitemap_is_split_into_files_of_bounded_size(client, monkeypatch):
    monkeypatch.setattr("market.storefront.views.SITEMAP_SIZE", 2)
    market = make_market()
    vendors = [make_vendor(market) for _ in range(3)]
    products = [make_product(vendors[0]) for _ in range(5)]
    body = client.get("/sitemap.xml").get_data(as_text=True)
    assert body.count("<sitemap>") == 1 + 2 + 3
    assert _sitemap_urls(client) == {
        "/",
        f"/pasar/{market.slug}/",
        *(vendor_url(v) for v in vendors),
        *(product_url(p) for p in products),
    }
    assert client.get(f"/sitemap/{market.slug}/produk-4.xml").status_code == 404


def test_robots_keeps_back_office_out_and_points_at_the_sitemap(client):
    body = client.get("/robots.txt").get_data(as_text=True)
    for line in ("Disallow: /manage/", "Disallow: /admin/", "Disallow: /pasar/*/cari"):
        assert line in body
    assert "Sitemap: http://localhost/sitemap.xml" in body


def test_public_url_setting_makes_absolute_links(app, client):
    vendor = make_vendor(make_market())
    app.config["MARKET_PUBLIC_URL"] = "https://pasar.example.id"
    try:
        body = client.get(vendor_url(vendor)).get_data(as_text=True)
    finally:
        app.config["MARKET_PUBLIC_URL"] = ""
    assert f'<link rel="canonical" href="https://pasar.example.id{vendor_url(vendor)}">' in body


def test_every_page_declares_its_language(client):
    vendor = make_vendor(make_market())
    assert '<html lang="en">' in client.get(vendor_url(vendor) + "?lang=en").get_data(True)
    assert '<html lang="id">' in client.get(vendor_url(vendor) + "?lang=id").get_data(True)
