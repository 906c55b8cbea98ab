"""What comes out of the printer, measured in Chromium's own PDF: an A5 stall poster is one
sheet even when the stall's name takes two lines, the day's print job holds one poster per
stall and its hang tags, and the QR codes read back as the stall's address."""

import io
import sqlite3

import pytest
import zxingcpp
from PIL import Image
from pypdf import PdfReader

from tests.e2e.browser import DESKTOP, log_in, new_page, screenshot

MARKET = "pasar-inpres-kebun-sayur"
# Long enough to wrap onto two lines of the poster, as real stall names do.
LONG_NAME = "Kerajinan Manik dan Anyaman Rotan Khas Dayak Kenyah Ibu Sri Wahyuni"
A5_POINTS = (419.5, 595.3)  # 148 × 210 mm

pytestmark = pytest.mark.e2e


@pytest.fixture
def base_url(own_server):
    return own_server


@pytest.fixture
def long_named_stall(own_server, tmp_path) -> str:
    """The first demo stall renamed (its address stays); returns its slug."""
    with sqlite3.connect(tmp_path / "site" / "market.sqlite3") as connection:
        connection.execute("UPDATE vendor SET business_name = ? WHERE id = 1", (LONG_NAME,))
        return connection.execute("SELECT slug FROM vendor WHERE id = 1").fetchone()[0]


def pdf_pages(page) -> list:
    return PdfReader(io.BytesIO(page.pdf(prefer_css_page_size=True))).pages


def decoded_qr_codes(page, selector: str) -> list[str]:
    """The text of every QR code in the elements matching `selector`, read from the pixels."""
    texts = []
    for element in page.locator(selector).all():
        image = Image.open(io.BytesIO(element.screenshot()))
        texts += [result.text for result in zxingcpp.read_barcodes(image)]
    return texts


def test_an_a5_poster_with_a_two_line_name_is_one_sheet_and_its_qr_reads(
    browser, base_url, long_named_stall
):
    page = new_page(browser, base_url, DESKTOP)
    page.goto(f"/pasar/{MARKET}/lapak/{long_named_stall}/poster")
    name = page.locator(".poster-name")
    line_height = float(name.evaluate("e => parseFloat(getComputedStyle(e).lineHeight)"))
    assert name.bounding_box()["height"] > 1.5 * line_height  # it really wraps
    pages = pdf_pages(page)
    assert len(pages) == 1
    width, height = (float(v) for v in pages[0].mediabox.upper_right)
    assert abs(width - A5_POINTS[0]) < 1 and abs(height - A5_POINTS[1]) < 1
    assert LONG_NAME.split()[0] in pages[0].extract_text()
    page.emulate_media(media="print")
    screenshot(page, "print-poster-a5-long-name")
    # Read from the poster as printed, where the code shrank to leave room for the name.
    assert decoded_qr_codes(page, ".poster-qr") == [
        f"{base_url}/pasar/{MARKET}/lapak/{long_named_stall}/"
    ]
    page.context.close()


def test_the_days_print_job_has_a_poster_a_sheet_per_stall_and_readable_codes(
    browser, base_url, long_named_stall
):
    page = new_page(browser, base_url, DESKTOP)
    log_in(page, "koordinator@example.org")
    page.goto("/admin/print?tags=y&lang=en")
    stalls = page.locator(".poster").count()
    assert stalls >= 8  # the demo market's stalls, all published on the day it was loaded
    sheets = page.locator(".tag-sheet").count()
    assert sheets == stalls
    pages = pdf_pages(page)
    # One A5 poster per stall, then its hang tags (a dozen fit one A4 sheet in the demo).
    assert len(pages) == stalls + sheets
    codes = decoded_qr_codes(page, ".poster-qr")
    assert len(codes) == stalls
    assert all(code.startswith(f"{base_url}/pasar/") for code in codes)
    assert f"{base_url}/pasar/{MARKET}/lapak/{long_named_stall}/" in codes
    page.context.close()
