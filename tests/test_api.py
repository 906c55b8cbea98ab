"""The read-only JSON API: its OpenAPI document matches the routes, every response matches the
document, the visibility rules hold, CORS is open and responses revalidate."""

import re

import pytest
from flask import current_app
from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from market.api.openapi import DOCUMENT
from market.models import VendorStatus, utcnow
from tests.factories import category, make_market, make_photo, make_product, make_vendor
from tests.pages import counting_queries

DOCUMENT_URI = "urn:pasar:openapi"
REGISTRY = Registry().with_resource(
    DOCUMENT_URI, Resource.from_contents(DOCUMENT, default_specification=DRAFT202012)
)


def _openapi_path(rule: str) -> str:
    return re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.removeprefix("/api"))


def _checked(client, path: str, status: int = 200):
    """GET an API path and validate the response against the document's schema for it."""
    response = client.get(path)
    assert response.status_code == status, (path, response.get_data(as_text=True))
    adapter = current_app.url_map.bind("localhost")
    endpoint, _args = adapter.match(path.split("?")[0])
    rule = next(r for r in current_app.url_map.iter_rules(endpoint)).rule
    operation = DOCUMENT["paths"][_openapi_path(rule)]["get"]
    schema = operation["responses"][str(status)]["content"]["application/json"]["schema"]
    validator = Draft202012Validator(
        {"$ref": DOCUMENT_URI + schema["$ref"]}, registry=REGISTRY, format_checker=FormatChecker()
    )
    validator.validate(response.get_json())
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    return response.get_json()


def test_the_document_describes_exactly_the_api_routes(app):
    routes = {
        _openapi_path(rule.rule)
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("api.")
    }
    assert routes == set(DOCUMENT["paths"])
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("api."):
            assert rule.methods <= {"GET", "HEAD", "OPTIONS"}, rule
    Draft202012Validator.check_schema({"$defs": DOCUMENT["components"]["schemas"]})
    assert DOCUMENT["openapi"].startswith("3.1")


def test_the_document_is_served(client):
    response = client.get("/api/openapi.json")
    assert response.get_json() == DOCUMENT
    assert response.headers["Access-Control-Allow-Origin"] == "*"


@pytest.fixture
def catalogue(ctx):
    market = make_market(latitude=-1.2389, longitude=116.8297)
    vendor = make_vendor(market, business_name="Batik Borneo", categories=[category("kain")])
    make_photo(vendor)
    product = make_product(vendor, name="Kain batik", categories=[category("kain")])
    make_photo(vendor, product)
    make_product(vendor, name="Harga tanya", price_idr=None)
    make_product(vendor, name="Dihapus", deleted_at=utcnow())
    hidden = make_vendor(market, business_name="Batik Rahasia", status=VendorStatus.HIDDEN)
    make_product(hidden, name="Batik rahasia")
    make_market(published=False, slug="tertutup")
    return market, vendor, product, hidden


def test_every_listing_and_record_matches_the_document(client, catalogue):
    market, vendor, product, _hidden = catalogue
    base = f"/api/v1/markets/{market.slug}"
    markets = _checked(client, "/api/v1/markets")
    assert [m["slug"] for m in markets["items"]] == [market.slug]
    assert markets["items"][0]["vendors"] == 1 and markets["items"][0]["products"] == 2
    detail = _checked(client, base)
    assert [c["slug"] for c in detail["categories"]] == ["kain"]
    vendors = _checked(client, base + "/vendors")
    assert [v["name"] for v in vendors["items"]] == ["Batik Borneo"]
    one = _checked(client, f"{base}/vendors/{vendor.slug}")
    assert one["url"] == f"http://localhost/pasar/{market.slug}/lapak/{vendor.slug}/"
    assert one["photos"][0]["srcset"][0]["width"] == 400
    products = _checked(client, base + "/products")
    assert sorted(p["name"] for p in products["items"]) == ["Harga tanya", "Kain batik"]
    item = _checked(client, f"{base}/vendors/{vendor.slug}/products/{product.slug}")
    assert item["price_idr"] == 25000 and item["categories"][0]["name_en"].startswith("Textiles")
    _checked(client, base + "/products?vendor=" + vendor.slug)
    _checked(client, base + "/products?category=kain")
    _checked(client, base + "/vendors?category=kain")


def test_search_in_the_api(client, catalogue):
    market, _vendor, _product, _hidden = catalogue
    base = f"/api/v1/markets/{market.slug}"
    found = _checked(client, base + "/products?q=BATIK")
    assert [p["name"] for p in found["items"]] == ["Kain batik"]
    vendors = _checked(client, base + "/vendors?q=textiles")
    assert [v["name"] for v in vendors["items"]] == ["Batik Borneo"]
    assert _checked(client, base + "/products?q=zzz")["items"] == []


def test_a_product_search_in_the_api_asks_for_no_stalls(app, client, catalogue):
    market, _vendor, _product, _hidden = catalogue
    app.config["MARKET_PAGE_CACHE"] = False
    try:
        with counting_queries() as statements:
            _checked(client, f"/api/v1/markets/{market.slug}/products?q=batik")
    finally:
        app.config["MARKET_PAGE_CACHE"] = True
    assert any("search_product" in s for s in statements)
    assert not any("search_vendor" in s or "FROM category" in s for s in statements)


def test_paging(client, ctx):
    market = make_market()
    vendors = [make_vendor(market, stall_number=f"{n:02d}") for n in range(5)]
    first = _checked(client, f"/api/v1/markets/{market.slug}/vendors?per_page=2")
    assert (first["total"], first["pages"], first["prev"]) == (5, 3, None)
    assert [v["slug"] for v in first["items"]] == [v.slug for v in vendors[:2]]
    last = _checked(
        client, first["next"].removeprefix("http://localhost").replace("&page=2", "&page=3")
    )
    assert last["next"] is None and len(last["items"]) == 1
    _checked(client, f"/api/v1/markets/{market.slug}/vendors?page=9", 404)
    _checked(client, f"/api/v1/markets/{market.slug}/vendors?per_page=500", 400)
    _checked(client, f"/api/v1/markets/{market.slug}/vendors?page=0", 400)


def test_visibility_rules_hold_in_the_api(client, catalogue):
    market, vendor, _product, hidden = catalogue
    base = f"/api/v1/markets/{market.slug}"
    _checked(client, f"{base}/vendors/{hidden.slug}", 404)
    _checked(client, "/api/v1/markets/tertutup", 404)
    _checked(client, "/api/v1/markets/tertutup/vendors", 404)
    _checked(client, f"{base}/vendors/{vendor.slug}/products/dihapus-tidak-ada", 404)
    everything = str(_checked(client, base + "/products")) + str(
        _checked(client, base + "/vendors")
    )
    assert "Rahasia" not in everything and "rahasia" not in everything
    assert "Dihapus" not in everything
    assert "whatsapp" not in everything.lower()
    assert _checked(client, base + "/products?q=rahasia")["items"] == []


def test_api_responses_revalidate(client, catalogue):
    market, *_rest = catalogue
    path = f"/api/v1/markets/{market.slug}/vendors"
    etag = client.get(path).headers["ETag"]
    again = client.get(path, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.headers["Access-Control-Allow-Origin"] == "*"
