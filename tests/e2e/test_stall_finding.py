"""A shopper on a small phone finds a stall inside the market: the stalls of one block, the
stall's place, and a walk to the next stall: plain links, the same without JavaScript."""

import pytest
from playwright.sync_api import expect

from tests.e2e.browser import PHONE, check_page, new_page

pytestmark = pytest.mark.e2e

SMALL_PHONE = {**PHONE, "viewport": {"width": 360, "height": 740}}
MARKET = "/pasar/pasar-inpres-kebun-sayur/"


def test_block_directory_stall_and_walk_on_a_small_phone(browser, base_url):
    page = new_page(browser, base_url, SMALL_PHONE, locale="id-ID")
    try:
        page.goto(MARKET)
        page.get_by_role("navigation", name="Blok").get_by_role("link", name="Blok B").click()
        page.wait_for_url(lambda url: url.endswith("?blok=B"))
        stalls = page.locator(".cards.stalls .card-title").all_inner_texts()
        assert stalls == ["Oleh-oleh Kaltim Mbak Rina", "Amplang Kepiting Pak Udin"]  # 4, 12
        check_page(page, "stall-finding-block-phone")

        page.locator(".cards.stalls a", has_text="Amplang Kepiting Pak Udin").first.click()
        assert page.locator("p.stall").inner_text().startswith("Blok B No. 12")
        assert (
            page.get_by_role("link", name="Buka di aplikasi peta").get_attribute("href")
            == "geo:-1.238900,116.829700"
        )
        assert page.get_by_role("link", name="Buka peta").count() == 1
        check_page(page, "stall-finding-stall-phone")

        page.get_by_role("link", name="Lapak berikutnya →").click()
        # The walk is a redirect: wait for the next page rather than read the one left.
        expect(page.locator("h1")).to_have_text("Batik & Sarung Borneo Indah")  # C 7
        page.get_by_role("link", name="← Lapak sebelumnya").click()
        expect(page.locator("h1")).to_have_text("Amplang Kepiting Pak Udin")
    finally:
        page.context.close()
