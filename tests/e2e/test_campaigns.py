"""A coordinator starts a campaign on a phone and on a desktop; the volunteer in its team sees
it on their home; the progress page and the city's report pass axe-core, and the report prints
to A4 PDF pages."""

import re

import pytest
from pypdf import PdfReader

from tests.e2e.browser import DESKTOP, SCREENSHOTS, check_page, log_in, new_page

SMALL_PHONE = {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True}


@pytest.fixture
def base_url(own_server):
    """A server of this test's own: it creates a campaign."""
    return own_server


@pytest.mark.parametrize("device", [SMALL_PHONE, DESKTOP], ids=["phone", "desktop"])
def test_a_campaign_from_creation_to_the_volunteers_home_and_the_report(browser, base_url, device):
    name = "phone" if device is SMALL_PHONE else "desktop"
    coordinator = new_page(browser, base_url, device)
    log_in(coordinator, "koordinator@example.org")
    coordinator.goto("/admin/")
    coordinator.get_by_role("link", name="Campaigns: targets, progress").click()
    coordinator.get_by_role("link", name="New campaign").click()
    coordinator.get_by_label("Name").fill("Gerebek Pasar Balikpapan")
    today = coordinator.evaluate(
        "new Intl.DateTimeFormat('en-CA', {timeZone: 'Asia/Makassar'}).format(new Date())"
    )
    coordinator.get_by_label("First day").fill(today)
    coordinator.get_by_label("Last day").fill(today)
    coordinator.get_by_label("for each day").check()
    coordinator.get_by_label("Pasar Inpres Kebun Sayur").check()
    coordinator.get_by_label("Stalls published").fill("12")
    coordinator.get_by_label("Products with a photo").fill("30")
    coordinator.get_by_label("Bayu Relawan").check()
    check_page(coordinator, f"campaign-form-{name}")
    coordinator.get_by_role("button", name="Save").click()

    coordinator.get_by_role("heading", name="Gerebek Pasar Balikpapan").wait_for()
    assert coordinator.locator("svg[role=img]").count() >= 2
    assert coordinator.get_by_role("img", name="stalls published per day").count() >= 1
    # The demo's stalls were published today: the one-day campaign counts them.
    done, target = re.findall(r"\d+", coordinator.locator("dl.facts dd").first.inner_text())
    assert int(target) == 12 and int(done) >= 8
    check_page(coordinator, f"campaign-progress-{name}")

    coordinator.get_by_role("link", name="Report for the city (print)").click()
    coordinator.get_by_role("heading", name="Totals per market").wait_for()
    check_page(coordinator, f"campaign-report-{name}")
    if device is DESKTOP:
        SCREENSHOTS.mkdir(exist_ok=True)
        pdf = SCREENSHOTS / "campaign-report.pdf"
        coordinator.emulate_media(media="print")
        coordinator.pdf(path=str(pdf), format="A4", print_background=True)
        pages = PdfReader(pdf).pages
        # A4 portrait (595 × 842 points); the report's sections on a couple of pages.
        for page in pages:
            assert float(page.mediabox.width) == pytest.approx(595, abs=1.5)
            assert float(page.mediabox.height) == pytest.approx(842, abs=1.5)
        assert 1 <= len(pages) <= 4
        text = "".join(p.extract_text() for p in pages)
        assert "Totals per market" in text and "Gerebek Pasar Balikpapan" in text
        assert "Log out" not in text  # the site's navigation stays off the paper

    volunteer = new_page(browser, base_url, device)
    log_in(volunteer, "relawan@example.org")
    banner = volunteer.locator(".campaign-banner")
    assert "Campaign: Gerebek Pasar Balikpapan" in banner.inner_text()
    assert f"day 1 of 1, target today 12 stalls, done {done}" in banner.inner_text()
    check_page(volunteer, f"campaign-banner-{name}")
    for page in (coordinator, volunteer):
        page.context.close()
