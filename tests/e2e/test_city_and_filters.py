"""The city page and the filtered searches on a 360 px phone, with JavaScript off and on: the
filters are a plain GET form, so both must give the same results. Results are compared with
the demo data itself (market/seed), not with numbers written down here."""

import re

import pytest

from market.seed import demo_klandasan, demo_market
from tests.e2e.browser import PHONE, check_page, new_page

SMALL_PHONE = {**PHONE, "viewport": {"width": 360, "height": 740}}
BOTH_MARKETS = {demo_market.MARKET["name"], demo_klandasan.MARKET["name"]}


def _demo_goods() -> dict[str, dict]:
    """Each demo product by name: its category (a product is seeded in its stall's first
    category), price and availability."""
    goods = {}
    for seed in (demo_market, demo_klandasan):
        for _name, *_stall, categories, _about, _colour, products in seed.VENDORS:
            for name, price, _kind, _note, availability, facts in products:
                goods[name] = {
                    "category": categories[0],
                    "price": price,
                    "availability": availability,
                    "halal": facts.get("halal", False),
                }
    return goods


GOODS = _demo_goods()


@pytest.fixture(params=[False, True], ids=["no-js", "js"])
def small_phone(request, browser, base_url):
    page = new_page(
        browser, base_url, SMALL_PHONE, locale="id-ID", java_script_enabled=request.param
    )
    page.set_default_timeout(10_000)
    yield page, "js" if request.param else "no-js"
    page.context.close()


def _fits_the_screen(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, f"{page.url} scrolls sideways: {width} px"


def _goods_shown(page) -> list[tuple[str, int | None]]:
    assert page.get_by_text("Menampilkan").count() == 0, "the list was cut short"
    cards = page.locator(".cards.compact > li")
    shown = []
    for card in cards.all():
        price = card.locator(".price")
        digits = re.sub(r"\D", "", price.first.inner_text()) if price.count() else ""
        shown.append((card.locator(".card-title").inner_text(), int(digits) if digits else None))
    return shown


def test_city_page_on_a_small_phone(small_phone):
    page, js = small_phone
    page.goto("/?lang=id")
    cards = page.locator(".cards.markets > li")
    assert set(cards.locator(".card-title").all_inner_texts()) == BOTH_MARKETS
    for card in cards.all():
        assert card.locator("img").count() == 1
        assert card.locator(".hours").inner_text()
        assert card.locator(".known-for").inner_text().startswith("Terkenal dengan:")
        assert card.get_by_role("link", name="Buka peta").count() == 1
        # "Open now" comes from the visitor's clock; without scripts the week's hours stand.
        label = card.locator(".open-now")
        assert label.is_visible() == (js == "js")
        if js == "js":
            assert label.inner_text().strip()
    _fits_the_screen(page)
    check_page(page, f"city-phone-360-{js}")

    page.get_by_label("Cari di semua pasar").fill("amplang")
    page.get_by_role("button", name="Cari", exact=True).click()
    page.wait_for_url(re.compile(r"/cari\?q=amplang"))
    labels = set(page.locator(".cards.compact .market-label").all_inner_texts())
    assert labels == BOTH_MARKETS


def test_city_search_with_category_price_and_sort(small_phone):
    page, js = small_phone
    page.goto("/cari?q=amplang&lang=id")
    everything = _goods_shown(page)
    assert len(everything) > 3

    page.locator("summary", has_text="Saring dan urutkan").click()
    page.get_by_label("Kategori").select_option("makanan")
    page.get_by_label("Harga tertinggi (Rp)").fill("40000")
    page.get_by_label("Urutkan").select_option("termurah")
    page.get_by_role("button", name="Terapkan").click()
    page.wait_for_url(re.compile(r"kategori=makanan"))

    shown = _goods_shown(page)
    expected = {
        name
        for name, _price in everything
        if GOODS[name]["category"] == "makanan"
        and GOODS[name]["price"] is not None
        and GOODS[name]["price"] <= 40000
    }
    assert expected and {name for name, _price in shown} == expected
    assert len(shown) < len(everything)
    prices = [price for _name, price in shown]
    assert prices == sorted(prices)
    assert page.locator(".result-count").inner_text() == f"{len(shown)} produk"
    # The chosen filters stay chosen.
    assert page.get_by_label("Kategori").input_value() == "makanan"
    assert page.get_by_label("Harga tertinggi (Rp)").input_value() == "40000"
    assert page.get_by_label("Urutkan").input_value() == "termurah"
    _fits_the_screen(page)
    check_page(page, f"city-search-filtered-360-{js}")


def test_market_search_with_halal_availability_and_sorts(small_phone):
    page, js = small_phone
    market = demo_klandasan.MARKET
    page.goto(f"/pasar/{market['slug']}/cari?q=pisang&lang=id")
    everything = _goods_shown(page)

    page.locator("summary", has_text="Saring dan urutkan").click()
    page.get_by_label("Ketersediaan").select_option("ada")
    page.get_by_label("Urutkan").select_option("termahal")
    page.get_by_label("Hanya yang halal").check()
    page.get_by_role("button", name="Terapkan").click()
    page.wait_for_url(re.compile(r"urut=termahal"))

    shown = _goods_shown(page)
    expected = {
        name
        for name, _price in everything
        if GOODS[name]["availability"] == "in_stock" and GOODS[name]["halal"]
    }
    assert len(expected) > 1 and {name for name, _price in shown} == expected
    assert len(shown) < len(everything)
    prices = [price for _name, price in shown]
    assert prices == sorted(prices, reverse=True)
    assert page.get_by_label("Ketersediaan").input_value() == "ada"
    assert page.get_by_label("Hanya yang halal").is_checked()
    _fits_the_screen(page)
    check_page(page, f"market-search-filtered-360-{js}")

    # Newest first: the sort is taken and kept, and keeps the same goods.
    page.get_by_label("Urutkan").select_option("terbaru")
    page.get_by_role("button", name="Terapkan").click()
    page.wait_for_url(re.compile(r"urut=terbaru"))
    assert page.get_by_label("Urutkan").input_value() == "terbaru"
    assert {name for name, _price in _goods_shown(page)} == expected
