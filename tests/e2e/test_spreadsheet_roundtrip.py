"""A coordinator on a phone, in real Chromium: downloads the market's products for Excel with
Indonesian settings, changes an availability and a price, uploads the file, reads every change
before confirming, confirms, and finds that the same file then changes nothing."""

import csv
import io
import urllib.parse
import urllib.request

import pytest
from playwright.sync_api import expect

from tests.e2e.browser import check_page, log_in, new_page

MARKET = "Pasar Inpres Kebun Sayur"
SMALL_PHONE = {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True}

pytestmark = pytest.mark.e2e


@pytest.fixture
def phone(browser, own_server):
    page = new_page(browser, own_server, SMALL_PHONE)
    yield page
    page.context.close()


def test_coordinator_updates_products_from_a_spreadsheet_on_a_phone(phone, own_server, tmp_path):
    page = phone
    log_in(page, "koordinator@example.org")
    page.goto("/admin/")
    page.get_by_role("link", name=MARKET).click()
    page.get_by_role("link", name="Update from a spreadsheet").click()
    page.get_by_role("heading", name="Update products from a spreadsheet").wait_for()
    check_page(page, "sheet-01-upload")

    with page.expect_download() as download:
        page.get_by_role("link", name="CSV for Excel in Indonesian (semicolons)").click()
    exported = tmp_path / "products.csv"
    download.value.save_as(exported)
    text = exported.read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))
    header = rows[0]
    sold_out, repriced = rows[1], rows[2]
    assert sold_out[header.index("availability")] == "in_stock"
    sold_out[header.index("availability")] = "sold_out"
    old_price = int(repriced[header.index("price_idr")])
    repriced[header.index("price_idr")] = str(old_price + 1000)
    edited = tmp_path / "products-edited.csv"
    with edited.open("w", encoding="utf-8-sig", newline="") as out:
        csv.writer(out, delimiter=";", lineterminator="\r\n").writerows(rows)
    mistyped = tmp_path / "products-mistyped.csv"
    with mistyped.open("w", encoding="utf-8-sig", newline="") as out:
        wrong = [*repriced]
        wrong[header.index("price_idr")] = "mahal"
        csv.writer(out, delimiter=";", lineterminator="\r\n").writerows([header, sold_out, wrong])

    # A mistyped price: the row and column are named, and nothing can be applied.
    page.get_by_label("CSV or Excel file").set_input_files(mistyped)
    page.get_by_role("button", name="Check the file").click()
    problem = page.locator("#preview-title ~ ol > li")
    expect(problem).to_have_count(1)
    expect(problem).to_contain_text("Row 3")
    expect(problem).to_contain_text("Column price_idr · Price (Rp)")
    assert page.get_by_role("button", name="Apply these changes").count() == 0
    check_page(page, "sheet-02-problems")

    page.get_by_label("CSV or Excel file").set_input_files(edited)
    page.get_by_role("button", name="Check the file").click()
    page.get_by_text("2 rows change.").wait_for()
    changes = page.locator("#preview-title ~ ol > li")
    expect(changes).to_have_count(2)
    expect(changes.nth(0)).to_contain_text(sold_out[header.index("name")])
    expect(changes.nth(0)).to_contain_text("Availability: In stock → Sold out")
    expect(changes.nth(1)).to_contain_text(repriced[header.index("name")])
    new_price = f"Rp{old_price + 1000:,}".replace(",", ".")
    expect(changes.nth(1)).to_contain_text(f"→ {new_price}")
    check_page(page, "sheet-03-preview")

    page.get_by_role("button", name="Apply these changes").click()
    expect(page.locator(".flashes .flash")).to_have_text("Changed 2 rows.")
    check_page(page, "sheet-04-applied")

    # The market now matches the file: the same upload has nothing left to change.
    page.get_by_label("CSV or Excel file").set_input_files(edited)
    page.get_by_role("button", name="Check the file").click()
    page.get_by_text("The file is the same as what Pasar has").wait_for()
    assert page.get_by_role("button", name="Apply these changes").count() == 0

    # And shoppers see it: the public search lists the product as sold out.
    query = urllib.parse.quote(sold_out[header.index("name")])
    with urllib.request.urlopen(
        f"{own_server}/pasar/pasar-inpres-kebun-sayur/cari?q={query}&lang=en"
    ) as response:
        assert "Sold out" in response.read().decode()
