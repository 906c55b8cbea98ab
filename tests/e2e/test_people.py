"""A coordinator on a 360 px phone invites a new volunteer by link, the volunteer joins from
their own phone, and the coordinator switches the account off: the volunteer's open session
ends and their login is refused with a message. Every page passes axe-core and the
Content-Security-Policy, fits the screen's width, and is saved under tests/e2e/screenshots/."""

import pytest
from playwright.sync_api import expect

from tests.e2e.browser import check_page, log_in, new_page

PHONE_360 = {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True}
MARKET = "Pasar Inpres Kebun Sayur"
VOLUNTEER = {"name": "Rina Lestari", "login": "0813-5000-4321", "password": "sayur segar pagi"}

pytestmark = pytest.mark.e2e


@pytest.fixture
def base_url(own_server):
    return own_server


def fits_the_screen(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE_360["viewport"]["width"], f"{page.url} is {width} px wide"


def test_coordinator_invites_a_volunteer_by_link_then_switches_them_off(browser, base_url):
    coordinator = new_page(browser, base_url, PHONE_360)
    log_in(coordinator, "koordinator@example.org")
    coordinator.goto("/admin/")
    coordinator.get_by_role("link", name=MARKET).first.click()
    coordinator.get_by_role("link", name="Staff").first.click()
    coordinator.get_by_role("button", name="Make a link for a new volunteer").click()
    expect(coordinator.get_by_text("The link is ready")).to_be_visible()
    link = coordinator.locator("#join-link-volunteer").input_value()
    assert "/auth/gabung/" in link
    whatsapp = coordinator.get_by_role("link", name="Send on WhatsApp").get_attribute("href")
    assert whatsapp.startswith("https://wa.me/?text=")
    expect(coordinator.get_by_role("img", name="QR code of the link")).to_be_visible()
    fits_the_screen(coordinator)
    check_page(coordinator, "people-1-invite-link")

    volunteer = new_page(browser, base_url, PHONE_360)
    volunteer.goto(link + "?lang=en")
    expect(volunteer.get_by_role("heading", name=f"Join {MARKET} as a volunteer")).to_be_visible()
    volunteer.get_by_label("Your name").fill(VOLUNTEER["name"])
    volunteer.get_by_label("Email or WhatsApp number").fill(VOLUNTEER["login"])
    volunteer.get_by_label("New password").fill(VOLUNTEER["password"])
    volunteer.get_by_label("Repeat the password").fill(VOLUNTEER["password"])
    fits_the_screen(volunteer)
    check_page(volunteer, "people-2-join")
    volunteer.get_by_role("button", name="Make my account").click()
    volunteer.wait_for_url("**/manage/**")
    expect(volunteer.get_by_text(f"Welcome to {MARKET}")).to_be_visible()

    coordinator.reload()
    coordinator.get_by_role("link", name=f"Account {VOLUNTEER['name']}").click()
    expect(coordinator.get_by_role("heading", name=VOLUNTEER["name"])).to_be_visible()
    coordinator.get_by_label("Reason").fill("Pindah ke Samarinda")
    fits_the_screen(coordinator)
    check_page(coordinator, "people-3-account")
    coordinator.get_by_role("button", name="Switch off the account").click()
    expect(coordinator.get_by_text("is switched off and logged out")).to_be_visible()
    expect(coordinator.get_by_text("Pindah ke Samarinda")).to_be_visible()
    fits_the_screen(coordinator)
    check_page(coordinator, "people-4-switched-off")

    # The volunteer's next tap ends on the login page, and logging in says why.
    volunteer.goto("/manage/")
    volunteer.wait_for_url("**/auth/login**")
    volunteer.get_by_label("Email or WhatsApp number").fill(VOLUNTEER["login"])
    volunteer.get_by_label("Password").fill(VOLUNTEER["password"])
    volunteer.get_by_role("button", name="Log in").click()
    expect(volunteer.get_by_text("This account is switched off.")).to_be_visible()
    check_page(volunteer, "people-5-refused")
    coordinator.context.close()
    volunteer.context.close()
