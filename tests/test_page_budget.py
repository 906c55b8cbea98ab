"""Public pages stay small and cheap: HTML + CSS + JS within the weight budget once compressed,
and a number of SQL queries that does not grow with the catalogue."""

import gzip
import re

import pytest

from tests.factories import make_catalogue, make_market, make_vlog
from tests.pages import counting_queries, product_url, vendor_url

BUDGET = {"html": 30_000, "css": 10_000, "js": 10_000, "total": 50_000}
MAX_QUERIES = 6


def _pages(market, vendors) -> dict[str, str]:
    vendor = vendors[0]
    product = vendor.products[0]
    return {
        "market": f"/pasar/{market.slug}/",
        "vendor": vendor_url(vendor),
        "product": product_url(product),
        "search": f"/pasar/{market.slug}/cari?q=produk",
    }


def _compressed_size(client, path: str) -> tuple[int, str]:
    response = client.get(path, headers={"Accept-Encoding": "br, gzip"})
    assert response.status_code == 200, path
    data = response.get_data()
    if not response.headers.get("Content-Encoding"):
        data = gzip.compress(data)  # an uncompressed static file: count what a server would send
    return len(data), response.headers.get("Content-Encoding", "")


def test_storefront_pages_fit_the_weight_budget(client):
    market = make_market()
    vendors = make_catalogue(market, vendors=24, products=6)
    make_vlog(vendors[0])
    for name, path in _pages(market, vendors).items():
        html_size, encoding = _compressed_size(client, path)
        assert encoding in ("br", "gzip"), name
        body = client.get(path).get_data(as_text=True)
        assets = re.findall(r'(?:href|src)="(/static/[^"]+\.(css|js))"', body)
        sizes = {"html": html_size, "css": 0, "js": 0}
        for url, kind in assets:
            sizes[kind] += _compressed_size(client, url)[0]
        for kind in ("html", "css", "js"):
            assert sizes[kind] <= BUDGET[kind], (name, kind, sizes)
        assert sum(sizes.values()) <= BUDGET["total"], (name, sizes)


def _queries_per_page(client, market, vendors) -> dict[str, int]:
    counts = {}
    for name, path in _pages(market, vendors).items():
        with counting_queries() as statements:
            assert client.get(path).status_code == 200
        counts[name] = len(statements)
    return counts


@pytest.mark.parametrize("scale", [5])
def test_query_count_does_not_grow_with_the_catalogue(client, scale):
    small_market = make_market()
    small = _queries_per_page(client, small_market, make_catalogue(small_market, 2, 2))
    large_market = make_market()
    large = _queries_per_page(
        client, large_market, make_catalogue(large_market, 2 * scale, 2 * scale)
    )
    assert small == large
    assert max(small.values()) <= MAX_QUERIES, small


def test_a_revalidated_page_costs_at_most_one_query(client):
    market = make_market()
    vendors = make_catalogue(market, 2, 2)
    for name, path in _pages(market, vendors).items():
        etag = client.get(path).headers["ETag"]
        with counting_queries() as statements:
            assert client.get(path, headers={"If-None-Match": etag}).status_code == 304
        assert len(statements) <= 1, (name, statements)
