"""The city page and a filtered search, on a phone in a real browser, without JavaScript help:
the filters are plain form fields submitted as a GET."""

import re

import pytest

from tests.e2e.browser import assert_accessible, screenshot

pytestmark = pytest.mark.e2e


def test_city_page_leads_to_amplang_in_both_markets(phone_id):
    page = phone_id
    page.goto("/")
    cards = page.locator(".cards.markets > li")
    assert cards.count() == 2
    assert page.locator(".known-for").first.inner_text().startswith("Terkenal dengan:")
    assert page.get_by_role("link", name="Buka peta").count() == 2
    assert_accessible(page, "city")
    screenshot(page, "discovery-city-phone")
    page.get_by_label("Cari di semua pasar").fill("amplng")
    page.get_by_role("button", name="Cari", exact=True).click()
    page.wait_for_url(re.compile(r"/cari\?q=amplng"))
    assert page.locator(".suggestion").inner_text() == "Mungkin maksud Anda: amplang?"
    labels = set(page.locator(".cards.compact .market-label").all_inner_texts())
    assert labels == {"Pasar Inpres Kebun Sayur", "Pasar Klandasan"}


def test_filtered_search_on_a_phone(phone_id):
    page = phone_id
    page.goto("/cari?q=amplang")
    everything = len(page.locator(".cards.compact > li").all())
    page.locator("summary", has_text="Saring dan urutkan").click()
    page.get_by_label("Pasar", exact=True).select_option(label="Pasar Klandasan")
    page.get_by_label("Harga tertinggi (Rp)").fill("50000")
    page.get_by_label("Urutkan").select_option(label="Harga terendah")
    page.get_by_label("Hanya yang halal").check()
    page.get_by_role("button", name="Terapkan").click()
    page.wait_for_url(re.compile(r"pasar=pasar-klandasan"))
    names = page.locator(".cards.compact .card-title").all_inner_texts()
    prices = [
        int(re.sub(r"\D", "", text))
        for text in page.locator(".cards.compact .price").all_inner_texts()
    ]
    assert names and len(names) < everything
    assert "Amplang udang 250 g" in names and "Amplang tenggiri 500 g" not in names  # 65,000
    assert prices == sorted(prices) and max(prices) <= 50000
    assert set(page.locator(".cards.compact .market-label").all_inner_texts()) == {
        "Pasar Klandasan"
    }
    assert page.locator(".result-count").inner_text() == f"{len(names)} produk"
    # The chosen filters stay chosen on the results page.
    assert page.get_by_label("Hanya yang halal").is_checked()
    assert_accessible(page, "search")
    screenshot(page, "discovery-search-phone")
