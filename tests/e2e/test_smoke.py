"""The public pages open in a real browser, look finished and pass axe-core."""

import pytest

from tests.e2e.browser import assert_accessible, screenshot

pytestmark = pytest.mark.e2e

MARKET = "/pasar/pasar-inpres-kebun-sayur/"


def test_market_list_and_storefront_on_a_phone(phone):
    phone.goto("/")
    assert phone.get_by_role("link", name="Pasar Inpres Kebun Sayur").count() >= 1
    assert_accessible(phone, "markets")
    screenshot(phone, "smoke-markets-phone")
    phone.goto(MARKET)
    assert phone.locator(".card").count() >= 8
    assert_accessible(phone, "market")
    screenshot(phone, "smoke-market-phone")


def test_login_page_is_accessible(phone):
    phone.goto("/auth/login")
    assert_accessible(phone, "login")
    screenshot(phone, "smoke-login-phone")
