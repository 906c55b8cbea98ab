"""Finding a stall inside a market: the directory by block, the stall's place and a walk to
its neighbours in walking order, map links for phones."""

import itertools
import re
from decimal import Decimal

import pytest

from market.extensions import db
from market.models import VendorStatus
from tests.factories import category, make_market, make_product, make_vendor
from tests.pages import counting_queries, vendor_url

MAX_QUERIES = 6


@pytest.fixture
def rows(ctx):
    """A market walked as A 2, A 10, B 1 (Madu), B 12, C 3, plus a draft in block D."""
    market = make_market(latitude=Decimal("-1.2389"), longitude=Decimal("116.8519"))
    stalls = {
        key: make_vendor(market, stall_block=block, stall_number=number, business_name=name)
        for key, block, number, name in [
            ("b12", "B", "12", "Kerajinan Manik Bu Ani"),
            ("a10", "A", "10", "Amplang Pak Udin"),
            ("c3", "C", "3", "Ikan Asin Haji Ali"),
            ("a2", "A", "2", "Kue Banjar Acil"),
            ("b1", "B", "1", "Madu Hutan Pak Jali"),
        ]
    }
    stalls["b1"].categories.append(category("makanan"))
    make_product(stalls["b12"])
    make_vendor(market, stall_block="D", stall_number="1", published=False)
    db.session.commit()
    return market, stalls


def names(html: str) -> list[str]:
    """The stalls listed, in order (not the products shown above them)."""
    stalls = html[html.index('<ul class="cards stalls">') :]
    return re.findall(r'class="card-title">([^<]+)<', stalls[: stalls.index("</ul>")])


def test_the_directory_filters_by_block_in_walking_order(client, rows):
    market, _stalls = rows
    html = client.get(f"/pasar/{market.slug}/?lang=id").get_data(as_text=True)
    blocks = re.findall(r'href="/pasar/[^"/]+/\?blok=(\w+)"', html)
    assert blocks == ["A", "B", "C"]  # the draft's block D is not offered
    assert names(html) == [
        "Kue Banjar Acil",
        "Amplang Pak Udin",
        "Madu Hutan Pak Jali",
        "Kerajinan Manik Bu Ani",
        "Ikan Asin Haji Ali",
    ]
    block_b = client.get(f"/pasar/{market.slug}/?blok=B&lang=id").get_data(as_text=True)
    assert names(block_b) == ["Madu Hutan Pak Jali", "Kerajinan Manik Bu Ani"]
    assert f'<a href="/pasar/{market.slug}/?blok=B" aria-current="page">Blok B</a>' in block_b
    assert "Lapak · Blok B" in block_b


def test_block_and_category_combine_and_a_lower_case_block_is_understood(client, rows):
    market, _stalls = rows
    html = client.get(f"/pasar/{market.slug}/?blok=b&kategori=makanan").get_data(as_text=True)
    assert names(html) == ["Madu Hutan Pak Jali"]
    # Each filter's links keep the other one.
    assert f'href="/pasar/{market.slug}/?kategori=makanan&amp;blok=B"' in html
    assert f'href="/pasar/{market.slug}/?kategori=makanan&amp;blok=C"' in html


@pytest.mark.parametrize("block", ["D", "Z", "A'--"])
def test_an_unknown_block_is_not_found(client, rows, block):
    market, _stalls = rows
    assert client.get(f"/pasar/{market.slug}/", query_string={"blok": block}).status_code == 404


def test_the_block_filter_costs_no_query_of_its_own(client, rows):
    market, _stalls = rows
    page = f"/pasar/{market.slug}/"  # read before counting: the test's own session reloads it
    counts = {}
    for query in ("", "?blok=B", "?blok=B&kategori=makanan"):
        with counting_queries() as statements:
            assert client.get(page + query).status_code == 200
        counts[query] = len(statements)
    assert set(counts.values()) == {counts[""]} and counts[""] <= MAX_QUERIES, counts


def test_a_stall_page_shows_its_place_and_the_ways_to_get_there(client, rows):
    market, stalls = rows
    page = vendor_url(stalls["b12"]) + "?lang=id"
    with counting_queries() as statements:
        html = client.get(page).get_data(as_text=True)
    assert len(statements) <= MAX_QUERIES
    assert '<p class="stall">Blok B No. 12 · ' in html
    assert f'href="/pasar/{market.slug}/?blok=B">Semua lapak di Blok B</a>' in html
    assert 'href="geo:-1.238900,116.851900">Buka di aplikasi peta</a>' in html
    assert "https://www.openstreetmap.org/?mlat=-1.238900&amp;mlon=116.851900" in html
    walk = f"/pasar/{market.slug}/sebelah/{stalls['b12'].slug}"
    assert f'href="{walk}/sebelumnya">← Lapak sebelumnya</a>' in html
    assert f'href="{walk}/berikutnya">Lapak berikutnya →</a>' in html
    # The cached stall page names no other stall: their changes never make it stale.
    assert not {"Madu Hutan Pak Jali", "Ikan Asin Haji Ali"} & set(re.findall(r">([^<>]+)<", html))


def test_a_market_without_coordinates_has_no_map_links(client, ctx):
    market = make_market()
    html = client.get(vendor_url(make_vendor(market))).get_data(as_text=True)
    assert "geo:" not in html and "openstreetmap" not in html


def walk(client, market, stall, direction: str) -> str:
    response = client.get(f"/pasar/{market.slug}/sebelah/{stall.slug}/{direction}")
    assert response.status_code == 302
    assert response.headers["Cache-Control"] == "no-store"
    return response.headers["Location"]


def test_walking_goes_stall_by_stall_across_blocks(client, rows):
    market, stalls = rows
    order = ["a2", "a10", "b1", "b12", "c3"]  # A 2 before A 10
    for here, there in itertools.pairwise(order):
        assert walk(client, market, stalls[here], "berikutnya") == vendor_url(stalls[there])
        assert walk(client, market, stalls[there], "sebelumnya") == vendor_url(stalls[here])


def test_walking_past_either_end_leads_to_the_blocks_directory(client, rows):
    market, stalls = rows
    assert walk(client, market, stalls["c3"], "berikutnya") == f"/pasar/{market.slug}/?blok=C"
    assert walk(client, market, stalls["a2"], "sebelumnya") == f"/pasar/{market.slug}/?blok=A"


def test_walking_skips_a_hidden_stall_and_finds_one_opened_since(client, rows):
    market, stalls = rows
    stalls["b1"].status = VendorStatus.HIDDEN
    db.session.commit()
    assert walk(client, market, stalls["a10"], "berikutnya") == vendor_url(stalls["b12"])
    newcomer = make_vendor(market, stall_block="A", stall_number="11")
    assert walk(client, market, stalls["a10"], "berikutnya") == vendor_url(newcomer)


def test_walking_from_a_stall_that_is_not_public_is_not_found(client, rows):
    market, stalls = rows
    stalls["b1"].status = VendorStatus.HIDDEN
    db.session.commit()
    for path in (
        f"/pasar/{market.slug}/sebelah/{stalls['b1'].slug}/berikutnya",
        f"/pasar/{market.slug}/sebelah/tidak-ada/berikutnya",
        f"/pasar/{market.slug}/sebelah/{stalls['a2'].slug}/ke-mana-saja",
    ):
        assert client.get(path).status_code == 404, path
