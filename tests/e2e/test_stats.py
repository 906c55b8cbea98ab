"""Shoppers open a stall's pages on their phones; the vendor, on a 360 px phone, sees on their
home how often each page was viewed, with the chart and the table telling the same totals. The
page passes axe-core and the Content-Security-Policy, fits the screen, and is saved under
tests/e2e/screenshots/."""

import shutil

import pytest
from playwright.sync_api import expect

from tests.e2e.browser import check_page, log_in, new_page
from tests.e2e.test_people import PHONE_360, fits_the_screen
from tests.live import app_env, serve

pytestmark = pytest.mark.e2e

STALL = "/pasar/pasar-inpres-kebun-sayur/lapak/manik-dayak-bu-sri/"
PRODUCT = STALL + "gelang-manik-motif-burung-enggang"
PRODUCT_NAME = "Gelang manik motif burung enggang"
# Headless Chromium says so in its user agent, and is not counted: shoppers' phones do not.
SHOPPER = {
    **PHONE_360,
    "user_agent": "Mozilla/5.0 (Linux; Android 13; SM-A145F) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/120.0 Mobile Safari/537.36",
}


@pytest.fixture
def counting_server(demo_installation, tmp_path):
    """The demo without Redis, its process adding every view to the database at once."""
    folder = tmp_path / "site"
    shutil.copytree(demo_installation, folder)
    env = app_env(folder, MARKET_LOGIN_LIMIT="100 per minute", MARKET_VIEWS_FLUSH_SECONDS="0")
    with serve(env) as url:
        yield url


def test_the_vendor_sees_their_page_views_on_their_home(browser, counting_server):
    shopper = new_page(browser, counting_server, SHOPPER)
    for path in (STALL, STALL, STALL, PRODUCT, PRODUCT):
        assert shopper.goto(path).status == 200
    # A search engine's visit is not a shopper's.
    crawler = new_page(browser, counting_server, {**PHONE_360, "user_agent": "Googlebot/2.1"})
    crawler.goto(STALL)

    vendor = new_page(browser, counting_server, PHONE_360)
    log_in(vendor, "0812-0000-0001")
    vendor.goto("/manage/?lang=en")
    heading = vendor.get_by_role("heading", name="What shoppers did in the last 30 days")
    expect(heading).to_be_visible()
    table = vendor.get_by_role("table", name="Numbers per product, last 30 days")
    stall_row = table.locator('tr[data-row="stall"]')
    expect(stall_row.locator("[data-views]")).to_have_text("3")
    product_row = table.locator('tr[data-row="product"]', has_text=PRODUCT_NAME)
    expect(product_row.locator("[data-views]")).to_have_text("2")
    expect(table.locator('tr[data-row="total"] [data-views]')).to_have_text("5")
    chart = vendor.get_by_role("img", name="Manik Dayak Bu Sri: totals of the last 30 days")
    expect(chart).to_be_visible()
    expect(chart.locator('[data-total="views"]')).to_have_attribute("data-value", "5")
    heading.scroll_into_view_if_needed()
    fits_the_screen(vendor)
    check_page(vendor, "stats-1-vendor-home")


def test_the_volunteer_sees_the_numbers_tab_in_indonesian(browser, counting_server):
    shopper = new_page(browser, counting_server, SHOPPER)
    assert shopper.goto(PRODUCT).status == 200
    volunteer = new_page(browser, counting_server, PHONE_360)
    log_in(volunteer, "relawan@example.org")
    # The stall's catalogue pages carry the tabs; the demo's first stall is Bu Sri's.
    volunteer.goto("/manage/vendors/1/products?lang=id")
    volunteer.get_by_role("link", name="Angka").click()
    expect(volunteer.get_by_role("heading", name="Angka")).to_be_visible()
    table = volunteer.get_by_role("table", name="Angka per barang, 30 hari terakhir")
    expect(table.locator('tr[data-row="total"] [data-views]')).to_have_text("1")
    fits_the_screen(volunteer)
    check_page(volunteer, "stats-2-numbers-tab")
