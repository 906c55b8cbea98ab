"""A city's go-digital drive over two markets, run by its coordinator in the browser from start
to finish, on a phone and on a desktop: invite two volunteers by link (one per market), start a
campaign over both markets with the two of them, watch progress against target, switch one of
them off, print the day's posters (one sheet each, readable codes) and download the city's
report. Every back-office page on the way passes axe-core and the Content-Security-Policy."""

import csv
import io
import re
import sqlite3

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

from tests.e2e.browser import DESKTOP, check_page, log_in, new_page

PHONE_360 = {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True}
MARKETS = ("Pasar Inpres Kebun Sayur", "Pasar Klandasan")
VOLUNTEERS = (
    ("Rina Lestari", "0813-5000-4321"),
    ("Agus Saputra", "0813-5000-8765"),
)
PASSWORD = "sayur segar pagi"

pytestmark = pytest.mark.e2e


@pytest.fixture
def base_url(own_server, tmp_path):
    """A server of the test's own, where the demo coordinator runs both demo markets."""
    with sqlite3.connect(tmp_path / "site" / "market.sqlite3") as connection:
        connection.execute(
            "INSERT INTO market_staff (market_id, user_id, role) SELECT m.id, u.id, 'coordinator' "
            "FROM market m, user u WHERE m.slug = 'pasar-klandasan' "
            "AND u.email = 'koordinator@example.org'"
        )
    return own_server


def invite_and_join(browser, coordinator, device, market: str, name: str, login: str):
    """The coordinator makes a join link on the market's staff page; the volunteer opens it
    on their own phone and makes their account. Returns the volunteer's page."""
    coordinator.goto("/admin/?lang=en")
    coordinator.get_by_role("link", name=market).first.click()
    coordinator.get_by_role("link", name="Staff").first.click()
    coordinator.get_by_role("button", name="Make a link for a new volunteer").click()
    link = coordinator.locator("#join-link-volunteer").input_value()
    volunteer = new_page(browser, coordinator.url.split("/admin")[0], device)
    volunteer.goto(link + "?lang=en")
    volunteer.get_by_label("Your name").fill(name)
    volunteer.get_by_label("Email or WhatsApp number").fill(login)
    volunteer.get_by_label("New password").fill(PASSWORD)
    volunteer.get_by_label("Repeat the password").fill(PASSWORD)
    volunteer.get_by_role("button", name="Make my account").click()
    volunteer.wait_for_url("**/manage/**")
    expect(volunteer.get_by_text(f"Welcome to {market}")).to_be_visible()
    return volunteer


@pytest.mark.parametrize("device", [PHONE_360, DESKTOP], ids=["phone", "desktop"])
def test_a_drive_over_two_markets_end_to_end(browser, base_url, device):
    shot = "phone" if device is PHONE_360 else "desktop"
    coordinator = new_page(browser, base_url, device)
    log_in(coordinator, "koordinator@example.org")
    volunteers = [
        invite_and_join(browser, coordinator, device, market, name, login)
        for market, (name, login) in zip(MARKETS, VOLUNTEERS, strict=True)
    ]

    coordinator.goto("/admin/campaigns/new?lang=en")
    coordinator.get_by_label("Name").fill("Gerebek Pasar Balikpapan")
    today = coordinator.evaluate(
        "new Intl.DateTimeFormat('en-CA', {timeZone: 'Asia/Makassar'}).format(new Date())"
    )
    coordinator.get_by_label("First day").fill(today)
    coordinator.get_by_label("Last day").fill(today)
    coordinator.get_by_label("for each day").check()
    for index, market in enumerate(MARKETS):
        coordinator.get_by_label(market).check()
        coordinator.get_by_label("Stalls published").nth(index).fill("20")
        coordinator.get_by_label("Products with a photo").nth(index).fill("40")
    for name, _login in VOLUNTEERS:
        coordinator.get_by_label(name).check()
    check_page(coordinator, f"drive-1-campaign-form-{shot}")
    coordinator.get_by_role("button", name="Save").click()

    coordinator.get_by_role("heading", name="Gerebek Pasar Balikpapan").wait_for()
    facts = coordinator.locator("dl.facts dd").first.inner_text()
    done, target = (int(n) for n in re.findall(r"\d+", facts)[:2])
    assert target == 40  # 20 stalls a day in each of the two markets
    assert done >= 10  # both demo markets' stalls were published today
    for market in MARKETS:
        expect(coordinator.get_by_role("heading", name=market).first).to_be_visible()
    check_page(coordinator, f"drive-2-progress-{shot}")
    # The volunteers in the team see the day's target on their home.
    for volunteer in volunteers:
        volunteer.goto("/manage/?lang=en")
        expect(volunteer.locator(".campaign-banner")).to_contain_text("Gerebek Pasar Balikpapan")

    # One volunteer leaves the drive: switched off, their next tap ends at the login page.
    gone, (gone_name, _login) = volunteers[1], VOLUNTEERS[1]
    coordinator.goto("/admin/?lang=en")
    coordinator.get_by_role("link", name=MARKETS[1]).first.click()
    coordinator.get_by_role("link", name="Staff").first.click()
    coordinator.get_by_role("link", name=f"Account {gone_name}").click()
    coordinator.get_by_label("Reason").fill("Pindah ke Samarinda")
    coordinator.get_by_role("button", name="Switch off the account").click()
    expect(coordinator.get_by_text("is switched off and logged out")).to_be_visible()
    gone.goto("/manage/")
    gone.wait_for_url("**/auth/login**")

    # The day's posters: one sheet per stall of both markets.
    coordinator.goto("/admin/print?lang=en")
    posters = coordinator.locator(".poster").count()
    assert posters >= 10
    check_page(coordinator, f"drive-3-print-{shot}")
    pages = PdfReader(io.BytesIO(coordinator.pdf(prefer_css_page_size=True))).pages
    assert len(pages) == posters

    # The city's report, as the file a coordinator hands on.
    coordinator.goto("/admin/campaigns/?lang=en")
    coordinator.get_by_role("link", name="Gerebek Pasar Balikpapan").click()
    with coordinator.expect_download() as download:
        coordinator.get_by_role("link", name="Report (CSV)").first.click()
    text = download.value.path().read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert len(rows) > 2
    assert any(MARKETS[0] in cell for row in rows for cell in row)
    assert any(MARKETS[1] in cell for row in rows for cell in row)
    for page in (coordinator, *volunteers):
        page.context.close()
