"""The search pages: per market and across the city, filters and sorts without JavaScript,
the count, "did you mean", market labels, and a bounded number of queries."""

import re

import pytest

from market.models import Availability
from tests.factories import category, make_market, make_product, make_vendor
from tests.pages import counting_queries

MAX_QUERIES = 6


@pytest.fixture
def city(ctx):
    first = make_market(name="Pasar Satu")
    second = make_market(name="Pasar Dua")
    food = make_vendor(first, business_name="Warung Amplang", categories=[category("makanan")])
    make_product(food, name="Amplang murah", price_idr=10000, halal=True)
    make_product(food, name="Amplang pesan", price_idr=50000, availability=Availability.PRE_ORDER)
    other = make_vendor(second, business_name="Kios Pantai", categories=[category("kerajinan")])
    make_product(other, name="Amplang pantai", price_idr=30000, categories=[category("kerajinan")])
    return first, second


def _goods(body: str) -> list[str]:
    return re.findall(r'<span class="card-title">(Amplang[^<]*)</span>', body)


def test_city_search_finds_goods_of_every_market_labelled_by_market(client, city):
    body = client.get("/cari?q=amplang").get_data(as_text=True)
    assert sorted(_goods(body)) == ["Amplang murah", "Amplang pantai", "Amplang pesan"]
    assert "Pasar Satu" in body and "Pasar Dua" in body
    assert re.search(r"1 lapak\s*·\s*3 produk", body), body[body.find("result-count") - 20 :][:300]


def test_city_search_narrowed_to_one_market(client, city):
    body = client.get(f"/cari?q=amplang&pasar={city[1].slug}").get_data(as_text=True)
    assert _goods(body) == ["Amplang pantai"]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ("harga_min=20000&harga_max=60.000", ["Amplang pantai", "Amplang pesan"]),
        ("stok=pre-order", ["Amplang pesan"]),
        ("halal=1", ["Amplang murah"]),
        ("kategori=kerajinan", ["Amplang pantai"]),
        ("urut=termahal", ["Amplang pesan", "Amplang pantai", "Amplang murah"]),
        (
            "urut=termurah&harga_min=abc&stok=zzz",
            ["Amplang murah", "Amplang pantai", "Amplang pesan"],
        ),
    ],
)
def test_filters_and_sorts_are_plain_query_string_fields(client, city, params, expected):
    body = client.get(f"/cari?q=amplang&{params}").get_data(as_text=True)
    found = _goods(body)
    assert (found if "urut" in params else sorted(found)) == expected


def test_the_filter_form_works_without_javascript(client, city):
    body = client.get("/cari?q=amplang&halal=1").get_data(as_text=True)
    form = re.search(r'<form class="search search-filters" method="get".*?</form>', body, re.S)[0]
    names = set(re.findall(r'name="([a-z_]+)"', form))
    assert names == {"q", "pasar", "kategori", "harga_min", "harga_max", "stok", "urut", "halal"}
    assert "<script" not in form and " checked" in form and "<details" in form


def test_a_typo_is_searched_as_the_nearest_word_and_said(client, city):
    market = city[0]
    body = client.get(f"/pasar/{market.slug}/cari?q=amplng").get_data(as_text=True)
    assert sorted(_goods(body)) == ["Amplang murah", "Amplang pesan"]
    assert re.search(r'cari\?q=amplang"><strong>amplang</strong></a>\?', body)


@pytest.mark.parametrize("query", ["amplang", "amplng", "oleh2 amplang", "zzzz"])
@pytest.mark.parametrize("where", ["market", "city"])
def test_search_pages_stay_within_the_query_budget(client, city, query, where):
    path = f"/pasar/{city[0].slug}/cari" if where == "market" else "/cari"
    with counting_queries() as statements:
        response = client.get(f"{path}?q={query}&kategori=makanan&halal=1&urut=termurah")
    assert response.status_code == 200
    assert len(statements) <= MAX_QUERIES, statements
    with counting_queries() as statements:
        assert client.get(f"{path}?q={query}").status_code == 200
    assert len(statements) <= MAX_QUERIES, statements


def test_the_city_page_opens_with_the_search_and_says_what_each_market_is_known_for(client, ctx):
    market = make_market(name="Pasar Pantai", latitude=-1.2768, longitude=116.829)
    for n in range(2):
        make_vendor(market, business_name=f"Warung {n}", categories=[category("makanan")])
    make_vendor(market, business_name="Kios Kain", categories=[category("kain")])
    with counting_queries() as statements:
        body = client.get("/").get_data(as_text=True)
    assert len(statements) <= MAX_QUERIES
    assert body.index('action="/cari"') < body.index("Pasar Pantai")
    known = re.search(r'<span class="known-for">([^<]*)</span>', body)[1]
    assert known == "Terkenal dengan: Makanan &amp; camilan, Kain, batik &amp; sarung"
    assert "openstreetmap.org/?mlat=-1.276800" in body
