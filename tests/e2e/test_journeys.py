"""The four journeys of the people Pasar is for, in real Chromium: a volunteer onboards a stall
at the market, its vendor takes it over, a shopper finds it, and a coordinator checks, moderates
and exports it. Each test has a server of its own on a copy of the demo, and first walks the
journeys that come before its own (the shopper's stall is onboarded and taken over by the
vendor in the same browser), so that any of them runs alone. Every page passes axe-core and the
Content-Security-Policy, and the key screens are saved under tests/e2e/screenshots/ for a
reviewer."""

import csv
import io
import re
import urllib.request
from contextlib import contextmanager
from urllib.parse import parse_qs, urlsplit

import pytest
from PIL import Image
from playwright.sync_api import expect

from market.seed.demo import VENDORS as DEMO_VENDORS
from tests.e2e.browser import PHONE, check_page, log_in, new_page
from tests.factories import encode, photo_like

MARKET = "Pasar Inpres Kebun Sayur"
# The demo stalls (all registered by the demo volunteer) and the one the volunteer adds.
STALLS = len(DEMO_VENDORS) + 1
STALL = {
    "name": "Ukiran Kayu Pak Darto",
    "owner": "Darto Wibowo",
    "block": "F",
    "number": "21",
    "whatsapp": "0813-4777-2121",
    "e164_digits": "6281347772121",
    "categories": ("Crafts", "Souvenirs"),
    "slug": "ukiran-kayu-pak-darto",
}
# (name, the price as a volunteer types it, as the pages show it)
PRODUCTS = [
    ("Gantungan kunci ukir perisai", "Rp 15.000", "Rp15.000"),
    ("Topeng hudoq mini", "Rp 85.000", "Rp85.000"),
    ("Patung burung enggang", "Rp 250.000", "Rp250.000"),
]
SOLD_OUT = PRODUCTS[0][0]
REPRICED, NEW_PRICE_TYPED, NEW_PRICE = PRODUCTS[1][0], "95.000", "Rp95.000"
HIDDEN, HIDE_REASON = PRODUCTS[2][0], "Foto dari toko lain, bukan barang Pak Darto"
VLOG_LINK = "https://youtu.be/aqz-KE-bpKQ?si=dibagikan-dari-aplikasi"
VLOG_ID = "aqz-KE-bpKQ"
VENDOR_PASSWORD = "ukiran enggang dari Balikpapan"
# A demo stall that belongs to someone else (Manik Dayak Bu Sri, its first product).
OTHER_VENDOR_ID, OTHER_PRODUCT_ID = 1, 1

pytestmark = pytest.mark.e2e


@pytest.fixture
def base_url(own_server):
    """Every journey changes data: each test gets a fresh copy of the demo."""
    return own_server


@contextmanager
def another_phone(browser, base_url):
    """Somebody else's phone, for the journeys that come before the test's own."""
    page = new_page(browser, base_url, PHONE)
    try:
        yield page
    finally:
        page.context.close()


def onboarded_and_claimed(browser, base_url, folder) -> None:
    """The volunteer's and then the vendor's journey, each on a phone of their own."""
    with another_phone(browser, base_url) as volunteer:
        invitation = onboard_a_stall(volunteer, folder)
    with another_phone(browser, base_url) as vendor:
        claim_the_stall_and_keep_it_current(vendor, invitation, folder)


def rotated_phone_photo(path) -> None:
    """A 12 MP photo as a phone stores it: landscape pixels and an EXIF note (orientation 6)
    that says to turn it a quarter to the right, i.e. a portrait photo."""
    exif = Image.Exif()
    exif[0x0112] = 6
    path.write_bytes(encode(photo_like((4000, 3000), seed=11), "JPEG", quality=90, exif=exif))


def small_photo(path, seed: int, size=(800, 600)) -> None:
    path.write_bytes(encode(photo_like(size, seed=seed), path.suffix.lstrip(".").upper()))


def flash(page, text: str) -> None:
    """Wait for the message a page shows after a change (it comes with the next page)."""
    expect(page.locator(".flashes .flash").filter(has_text=text)).to_be_visible()


def photo_sizes(page) -> list[tuple[int, int]]:
    images = page.locator("#photos .items img")
    return [
        (int(img.get_attribute("width")), int(img.get_attribute("height"))) for img in images.all()
    ]


# --- the volunteer ----------------------------------------------------------------------------


def test_volunteer_onboards_a_stall(phone, tmp_path):
    onboard_a_stall(phone, tmp_path)


def onboard_a_stall(page, folder) -> str:
    """The volunteer's journey; returns the invitation link the vendor gets on WhatsApp."""
    log_in(page, "relawan@example.org")
    check_page(page, "volunteer-01-my-work")

    page.get_by_role("link", name="Register a vendor").click()
    # Quick add at the stall is tested in test_stall_journey.py; this is the full form.
    page.get_by_role("link", name="Save a draft with the full form").click()
    page.get_by_label("Business name").fill(STALL["name"])
    page.get_by_label("Owner's name").fill(STALL["owner"])
    page.get_by_label("Block").fill(STALL["block"])
    page.get_by_label("Stall number").fill(STALL["number"])
    page.get_by_label("WhatsApp number").fill(STALL["whatsapp"])
    for category in STALL["categories"]:
        page.get_by_label(category, exact=True).check()
    page.get_by_label("Short description").fill(
        "Ukiran kayu ulin dan topeng hudoq, dipahat sendiri oleh Pak Darto di kios."
    )
    check_page(page, "volunteer-02-register-form")
    page.get_by_role("button", name="Save draft").click()
    page.wait_for_url(re.compile(r"/manage/vendors/\d+$"))
    vendor_page = page.url.split("?")[0]
    assert page.get_by_role("heading", level=1).inner_text() == STALL["name"]
    check_page(page, "volunteer-03-checklist-draft")

    page.get_by_role("link", name="Consent recorded").click()
    page.wait_for_url("**/consent")
    check_page(page, "volunteer-04-consent")
    page.get_by_label("The vendor heard this text and agrees").check()
    page.get_by_role("button", name="Record consent").click()
    flash(page, "Consent recorded.")

    # Two photos of the stall: a 12 MP JPEG the phone stored on its side, and a PNG.
    page.get_by_role("link", name="A photo of the stall").click()
    big, side = folder / "IMG_20260412_091533.jpg", folder / "samping.png"
    rotated_phone_photo(big)
    small_photo(side, seed=12)
    page.get_by_label("Add photos").set_input_files([big, side])
    page.get_by_role("button", name="Upload").click()
    flash(page, "2 photos added.")
    (width, height), (side_width, side_height) = photo_sizes(page)
    assert height > width, "the EXIF orientation was not applied: the stall lies on its side"
    assert side_width > side_height
    page.get_by_label("What the photo shows").first.fill("Kios ukiran Pak Darto dari lorong")
    page.get_by_role("button", name="Save text").first.click()
    flash(page, "Photo description saved.")
    check_page(page, "volunteer-05-stall-photos")

    page.get_by_role("navigation", name=f"Catalogue of {STALL['name']}").get_by_role(
        "link", name="Products"
    ).click()
    page.wait_for_url("**/products")
    check_page(page, "volunteer-06-products-empty")
    for name, typed, _shown in PRODUCTS:
        page.get_by_role("link", name="Add a product", exact=True).first.click()
        page.get_by_label("Product name").fill(name)
        page.get_by_label("Price (Rp)").fill(typed)
        page.get_by_label("Crafts", exact=True).check()
        if name == PRODUCTS[0][0]:
            check_page(page, "volunteer-07-new-product")
        page.get_by_role("button", name="Save the product").click()
        flash(page, f"“{name}” is saved.")
        page.get_by_role("link", name="Back to the list").click()
    expect(page.locator("li.item")).to_have_count(len(PRODUCTS))
    prices = {
        item.locator(".item-title").inner_text(): item.locator(".price").inner_text()
        for item in page.locator("li.item").all()
    }
    assert prices == {name: shown for name, _typed, shown in PRODUCTS}
    check_page(page, "volunteer-08-products")

    page.get_by_role("navigation", name=f"Catalogue of {STALL['name']}").get_by_role(
        "link", name="Vlogs"
    ).click()
    page.get_by_label("Link to the video").fill(VLOG_LINK)
    page.get_by_label("Title (optional)").fill("Pak Darto memahat topeng hudoq")
    page.get_by_role("button", name="Add the link").click()
    flash(page, "Link added.")
    check_page(page, "volunteer-09-vlogs")

    page.goto(vendor_page)
    page.get_by_role("button", name="Publish", exact=True).click()
    flash(page, "Published: shoppers can see the stall now.")
    check_page(page, "volunteer-10-published")

    page.get_by_role("link", name="Print the stall QR poster").click()
    poster = page.locator("article.poster")
    assert poster.locator(".poster-name").inner_text() == STALL["name"]
    assert f"Blok {STALL['block']} No. {STALL['number']}" in poster.inner_text()
    assert poster.locator("svg").count() == 1
    assert poster.locator(".poster-url").inner_text().endswith(f"/lapak/{STALL['slug']}/")
    check_page(page, "volunteer-11-qr-poster")

    page.goto(vendor_page)
    page.get_by_role("link", name="The vendor claimed their account").click()
    page.get_by_role("button", name="Make an invitation link").click()
    link = page.get_by_label("Invitation link").input_value()
    assert "/auth/undangan/" in link
    assert page.get_by_role("img", name="QR code of the invitation link").is_visible()
    share = urlsplit(page.get_by_role("link", name="Send on WhatsApp").get_attribute("href"))
    assert share.path == f"/{STALL['e164_digits']}"
    check_page(page, "volunteer-12-invitation")
    return link


# --- the vendor -------------------------------------------------------------------------------


def _product_row(page, name: str):
    return page.locator("li.item").filter(has=page.get_by_role("link", name=name, exact=True))


def test_vendor_claims_the_stall_and_keeps_it_current(phone, browser, base_url, tmp_path):
    with another_phone(browser, base_url) as volunteer:
        invitation = onboard_a_stall(volunteer, tmp_path)
    claim_the_stall_and_keep_it_current(phone, invitation, tmp_path)


def claim_the_stall_and_keep_it_current(page, invitation: str, folder) -> None:
    page.goto("/?lang=en")
    page.goto(invitation)
    assert page.get_by_label("Your login (WhatsApp number)").input_value()
    check_page(page, "vendor-01-invitation")
    page.get_by_label("New password").fill(VENDOR_PASSWORD)
    page.get_by_label("Repeat the password").fill(VENDOR_PASSWORD)
    page.get_by_role("button", name="Save the password and open my stall").click()
    flash(page, "Your password is set.")
    assert page.get_by_role("heading", level=1).inner_text() == STALL["name"]
    check_page(page, "vendor-02-my-stall")

    # Next time: the login page, with the number spelled another way.
    page.get_by_role("button", name="Log out").click()
    flash(page, "You are logged out.")
    log_in(page, "+62 813 4777 2121", VENDOR_PASSWORD)
    # The vendor's home lists their goods, with availability changeable right there.
    expect(page.get_by_role("heading", level=1)).to_have_text(STALL["name"])

    sold_out = _product_row(page, SOLD_OUT).get_by_role("button", name="Sold out")
    sold_out.click()
    expect(sold_out).to_have_attribute("aria-pressed", "true")

    page.get_by_role("link", name=f"Edit {REPRICED}").click()
    page.get_by_label("Price (Rp)").fill(NEW_PRICE_TYPED)
    check_page(page, "vendor-03-edit-product")
    page.get_by_role("button", name="Save", exact=True).click()
    flash(page, "Saved.")
    expect(_product_row(page, REPRICED).locator(".price")).to_have_text(NEW_PRICE)
    check_page(page, "vendor-04-products")

    page.get_by_role("link", name=f"Edit {REPRICED}").click()
    photo = folder / "topeng.webp"
    small_photo(photo, seed=13)
    page.get_by_label("Add photos").set_input_files(photo)
    page.get_by_role("button", name="Upload").click()
    flash(page, "1 photo added.")
    assert len(photo_sizes(page)) == 1
    check_page(page, "vendor-05-product-photo")

    # Someone else's stall, typed into the address bar: not even its existence shows.
    for path in (
        "/admin/",
        f"/manage/products/{OTHER_PRODUCT_ID}/edit",
        f"/manage/vendors/{OTHER_VENDOR_ID}/photos",
        f"/manage/vendors/{OTHER_VENDOR_ID}/products",
        f"/manage/vendors/{OTHER_VENDOR_ID}",
    ):
        assert page.goto(path).status in (403, 404), path
    check_page(page, "vendor-06-not-yours")


# --- the shopper ------------------------------------------------------------------------------


def test_shopper_finds_the_stall_and_chats(phone_id, browser, base_url, tmp_path):
    onboarded_and_claimed(browser, base_url, tmp_path)
    page = phone_id
    page.goto("/")
    assert page.locator("html").get_attribute("lang") == "id"
    check_page(page, "shopper-01-markets")
    page.get_by_role("link", name=MARKET).first.click()
    page.wait_for_url("**/pasar/*/")
    check_page(page, "shopper-02-market")

    # Category names are data (the Indonesian name of "Crafts"), not interface text.
    page.locator("nav.chips").get_by_role("link", name="Kerajinan", exact=True).click()
    page.wait_for_url("**kategori=kerajinan")
    stalls = page.locator("ul.stalls .card-title").all_inner_texts()
    assert STALL["name"] in stalls
    assert "Amplang Kepiting Pak Udin" not in stalls
    check_page(page, "shopper-03-category")

    page.get_by_role("searchbox").fill("hudo")
    page.get_by_role("searchbox").press("Enter")
    page.wait_for_url("**/cari?q=hudo")
    found = page.locator(".card").filter(has_text=REPRICED)
    assert found.count() == 1
    check_page(page, "shopper-04-search")

    found.get_by_role("link").click()
    page.wait_for_url(f"**/lapak/{STALL['slug']}/*")
    assert page.get_by_role("heading", level=1).inner_text() == REPRICED
    assert page.locator(".price-line .price").inner_text() == NEW_PRICE
    check_page(page, "shopper-05-product")
    product_url = page.url

    page.locator("dl.facts").get_by_role("link", name=STALL["name"]).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(STALL["name"])
    cards = {
        card.locator(".card-title").inner_text(): card
        for card in page.locator("ul.cards li.card").all()
    }
    assert set(cards) == {name for name, _typed, _shown in PRODUCTS}
    assert cards[REPRICED].locator(".price").inner_text() == NEW_PRICE
    assert cards[SOLD_OUT].locator(".badge.bad").count() == 1
    assert cards[REPRICED].locator(".badge").count() == 0
    check_page(page, "shopper-06-stall")
    stall_url = page.url
    cards[SOLD_OUT].get_by_role("link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(SOLD_OUT)
    expect(page.locator(".price-line .badge.bad")).to_have_count(1)
    check_page(page, "shopper-07-sold-out")
    page.goto(stall_url)

    # The video facade: nothing from YouTube loads until the shopper taps it.
    facade = page.locator("a.vlog")
    facade.scroll_into_view_if_needed()
    facade.click()
    player = page.locator("iframe.vlog-frame")
    assert player.get_attribute("src").startswith(
        f"https://www.youtube-nocookie.com/embed/{VLOG_ID}"
    )
    assert player.get_attribute("title") == "Pak Darto memahat topeng hudoq"
    check_page(page, "shopper-08-video")

    # WhatsApp: our counter answers with a redirect, which the browser follows to wa.me (the
    # policy allows it); offline, the chat itself fails to load.
    page.goto(product_url)
    with page.expect_request(lambda request: request.url.startswith("https://wa.me/")) as wa:
        page.locator("form.wa-form button").click()
    page.wait_for_url(re.compile("^chrome-error:"))
    chat = urlsplit(wa.value.url)
    assert chat.path == f"/{STALL['e164_digits']}"
    message = parse_qs(chat.query)["text"][0]
    for part in (STALL["name"], REPRICED, NEW_PRICE, MARKET, product_url):
        assert part in message, (part, message)

    page.goto(product_url)
    page.get_by_role("link", name="English", exact=True).click()
    page.wait_for_url("**lang=en")
    assert page.locator("html").get_attribute("lang") == "en"
    expect(page.get_by_role("button", name="Ask on WhatsApp")).to_be_visible()
    # The choice is remembered on the next page.
    page.locator("nav.crumbs").get_by_role("link", name=STALL["name"]).click()
    expect(page.get_by_role("button", name="Chat on WhatsApp")).to_be_visible()
    assert page.locator("html").get_attribute("lang") == "en"
    check_page(page, "shopper-09-stall-english")
    page.get_by_role("link", name="Bahasa Indonesia", exact=True).click()
    page.wait_for_url("**lang=id")
    assert page.locator("html").get_attribute("lang") == "id"
    page.goto(product_url)
    assert page.locator("html").get_attribute("lang") == "id"


# --- the coordinator --------------------------------------------------------------------------


def _public_html(base_url: str, path: str) -> str:
    """A page as an anonymous visitor gets it, from the shared page cache if it is there."""
    with urllib.request.urlopen(base_url + path) as response:
        return response.read().decode()


def test_coordinator_checks_moderates_and_exports(desktop, browser, base_url, tmp_path):
    onboarded_and_claimed(browser, base_url, tmp_path)
    page = desktop
    log_in(page, "koordinator@example.org")
    page.get_by_role("link", name="Coordination").click()
    page.wait_for_url("**/admin/")
    check_page(page, "coordinator-01-markets")
    page.get_by_role("link", name=MARKET).click()
    published = page.get_by_role("row").filter(
        has=page.get_by_role("rowheader", name="Published", exact=True)
    )
    assert published.locator("td.num").inner_text() == str(STALLS)
    volunteer = page.get_by_role("row").filter(has_text="Bayu Relawan")
    assert volunteer.get_by_role("cell").nth(2).inner_text() == str(STALLS)  # in total
    check_page(page, "coordinator-02-market-progress")
    market_page = page.url

    page.get_by_role("navigation", name="Market pages").get_by_role("link", name="Vendors").click()
    row = page.locator(".vendor-row").filter(has_text=STALL["name"])
    expect(row).to_be_visible()
    assert row.locator(".badge.ok").count() == 1
    assert row.locator("progress").get_attribute("value") == row.locator("progress").get_attribute(
        "max"
    )
    check_page(page, "coordinator-03-vendors")

    row.click()
    page.get_by_role("link", name="Moderate").click()
    item = page.get_by_role("listitem").filter(has_text=HIDDEN)
    item.get_by_label("Reason to hide it").fill(HIDE_REASON)
    item.get_by_role("button", name=f"Hide {HIDDEN}").click()
    flash(page, f"{HIDDEN} is hidden.")
    check_page(page, "coordinator-04-moderation")
    stall_path = f"/pasar/pasar-inpres-kebun-sayur/lapak/{STALL['slug']}/"
    assert HIDDEN not in _public_html(base_url, stall_path)

    page.goto(market_page)
    page.get_by_role("link", name="Audit log").click()
    page.wait_for_url("**/audit")
    events = page.locator("ol.audit > li")
    hide = events.filter(has_text="hid the product").filter(has_text=HIDDEN)
    assert hide.filter(has_text="Dewi Koordinator").filter(has_text=HIDE_REASON).count() == 1
    publish = events.filter(has_text="published").filter(has_text=STALL["name"])
    assert publish.filter(has_text="Bayu Relawan").count() == 1
    price = events.filter(has_text=STALL["owner"]).filter(has_text=REPRICED)
    assert (
        price.filter(has_text="Price (Rp)")
        .filter(has_text="85000")
        .filter(has_text="95000")
        .count()
        == 1
    )
    check_page(page, "coordinator-05-audit-log")

    page.goto(market_page)
    with page.expect_download() as download:
        page.get_by_role("link", name="Vendors (CSV)").click()
    exported = tmp_path / "vendors.csv"
    download.value.save_as(exported)
    rows = list(csv.DictReader(io.StringIO(exported.read_text(encoding="utf-8-sig"))))
    assert len(rows) == STALLS
    assert STALL["name"] in {row["business_name"] for row in rows}

    # The same file again adds nothing; with one new row, only that row is added.
    page.get_by_role("link", name="Import CSV").click()
    page.get_by_label("CSV file").set_input_files(exported)
    page.get_by_role("button", name="Check the file").click()
    page.get_by_text("Everything in this file is already in the market").wait_for()
    assert page.locator("form[action$='/import/commit']").count() == 0
    check_page(page, "coordinator-06-import-nothing-new")

    grown = tmp_path / "vendors-plus-one.csv"
    with grown.open("w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
        writer.writerow(
            {
                **dict.fromkeys(rows[0], ""),
                "business_name": "Kue Lapis Bu Ida",
                "stall_number": "77",
            }
        )
    page.get_by_label("CSV file").set_input_files(grown)
    page.get_by_role("button", name="Check the file").click()
    page.get_by_text("1 new vendor will be added as a draft.").wait_for()
    page.get_by_text(f"{STALLS} rows are already in the market").wait_for()
    check_page(page, "coordinator-07-import-preview")
    page.get_by_role("button", name="Import 1 vendor").click()
    flash(page, f"Imported 1 vendor. {STALLS} were already in the market.")
    total = page.locator("dl.facts dt", has_text="Vendors").locator(
        "xpath=following-sibling::dd[1]"
    )
    assert total.inner_text() == str(STALLS + 1)
