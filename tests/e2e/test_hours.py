"""The city page says which market is open now, from the phone's clock in the market's time
zone (Balikpapan, WITA), whatever time zone the phone itself is set to; without JavaScript it
shows the week's hours."""

from datetime import UTC, datetime

import pytest

from tests.e2e.browser import PHONE, assert_no_csp_violations, new_page, screenshot

pytestmark = pytest.mark.e2e

SMALL_PHONE = {**PHONE, "viewport": {"width": 360, "height": 740}}
KEBUN_SAYUR = ".cards.markets > li:has-text('Pasar Inpres Kebun Sayur')"
KLANDASAN = ".cards.markets > li:has-text('Pasar Klandasan')"


def labels_at(browser, base_url, moment: datetime, **options) -> dict[str, str]:
    # A phone set to Jakarta time (WIB, an hour behind): the label must follow the market's zone.
    page = new_page(
        browser, base_url, SMALL_PHONE, locale="id-ID", timezone_id="Asia/Jakarta", **options
    )
    try:
        page.clock.install(time=moment)
        page.goto("/")
        assert_no_csp_violations(page, "city")
        return {
            "kebun sayur": page.locator(f"{KEBUN_SAYUR} .open-now").inner_text(),
            "klandasan": page.locator(f"{KLANDASAN} .open-now").inner_text(),
        }
    finally:
        page.context.close()


@pytest.mark.parametrize(
    ("moment", "kebun_sayur", "klandasan"),
    [
        # Monday 10.00 WITA (02.00 UTC): Klandasan is closed on Mondays.
        (
            datetime(2027, 1, 11, 2, 0, tzinfo=UTC),
            "Buka sekarang — tutup pukul 21.00",
            "Tutup — buka lagi Selasa 06.00",
        ),
        # Tuesday 05.30 WITA: both open later that morning.
        (
            datetime(2027, 1, 11, 21, 30, tzinfo=UTC),
            "Tutup — buka lagi pukul 08.00",
            "Tutup — buka lagi pukul 06.00",
        ),
        # Sunday 20.59 WITA, then Kebun Sayur closes at 21.00 and Klandasan skips Monday.
        (
            datetime(2027, 1, 17, 12, 59, tzinfo=UTC),
            "Buka sekarang — tutup pukul 21.00",
            "Tutup — buka lagi Selasa 06.00",
        ),
        (
            datetime(2027, 1, 17, 13, 0, tzinfo=UTC),
            "Tutup — buka lagi Senin 08.00",
            "Tutup — buka lagi Selasa 06.00",
        ),
    ],
)
def test_open_now_follows_the_markets_clock(browser, base_url, moment, kebun_sayur, klandasan):
    assert labels_at(browser, base_url, moment) == {
        "kebun sayur": kebun_sayur,
        "klandasan": klandasan,
    }


def test_the_label_changes_on_an_open_page_when_the_market_closes(browser, base_url):
    page = new_page(browser, base_url, SMALL_PHONE, locale="id-ID")
    try:
        page.clock.install(time=datetime(2027, 1, 17, 12, 58, tzinfo=UTC))  # Sunday 20.58
        page.goto("/")
        label = page.locator(f"{KEBUN_SAYUR} .open-now")
        assert label.inner_text() == "Buka sekarang — tutup pukul 21.00"
        page.clock.run_for("03:00")
        assert label.inner_text() == "Tutup — buka lagi Senin 08.00"
        screenshot(page, "hours-city-phone")
    finally:
        page.context.close()


def test_without_javascript_the_week_shows(browser, base_url):
    page = new_page(browser, base_url, SMALL_PHONE, locale="id-ID", java_script_enabled=False)
    try:
        page.goto("/")
        card = page.locator(KLANDASAN)
        assert card.locator(".open-now").is_hidden()
        assert card.locator(".week-hours").inner_text() == "Sen tutup · Sel–Min 06.00–18.00"
        assert "Jumat tutup 11.30–13.30" in card.locator(".hours-note").inner_text()
    finally:
        page.context.close()
