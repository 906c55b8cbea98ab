"""The volunteer's whole journey at a stall, as a phone does it: register the vendor (with consent
and the stall photo), 5 products with 8 photos of 12 MP, 2 vlog links, publish and the
invitation on WhatsApp. Shared by tests/e2e/test_stall_journey.py (which asserts the tap budget)
and bench/stall_journey.py (which measures it on a throttled connection).

Every tap goes through Taps, so the count is of what a person does, not of what a test does."""

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from playwright.sync_api import Locator, Page, expect

from tests.factories import encode, photo_like

# A phone as in issue 13: small, touch, Indonesian.
PHONE_360 = {
    "viewport": {"width": 360, "height": 740},
    "is_mobile": True,
    "has_touch": True,
    "locale": "id-ID",
}
TWELVE_MP = (4000, 3000)
STALL = {
    "name": "Sasirangan Bu Aminah",
    "owner": "Aminah",
    "block": "G",
    "number": "7",
    "whatsapp": "0813-5555-0707",
    "e164_digits": "6281355550707",
    "category": "Kain, batik & sarung",
}
# (name, price as typed on a phone keyboard, how many photos)
PRODUCTS = [
    ("Kain sasirangan motif gigi haruan", "250rb", 2),
    ("Selendang sasirangan", "Rp 125.000", 2),
    ("Masker kain sasirangan", "25k", 2),
    ("Taplak meja sasirangan", "175.000", 1),
    ("Dompet kecil sasirangan", "35 ribu", 1),
]
VLOGS = [
    "https://youtu.be/aqz-KE-bpKQ?si=dibagikan",
    "https://www.tiktok.com/@bu.aminah/video/7312345678901234567",
]
PRODUCT_PHOTOS = sum(n for _name, _price, n in PRODUCTS)
PRODUCT_SCREEN = re.compile(r"/manage/quick/vendors/\d+/products$")
FINISH_SCREEN = re.compile(r"/manage/quick/vendors/\d+/finish$")


def make_photos(folder: Path) -> list[Path]:
    """One 12 MP camera JPEG for the stall and one per product photo, each different."""
    paths = []
    for n in range(1 + PRODUCT_PHOTOS):
        path = folder / f"IMG_2026041{n}_0915{n:02d}.jpg"
        path.write_bytes(encode(photo_like(TWELVE_MP, seed=100 + n), "JPEG", quality=88))
        paths.append(path)
    return paths


@dataclass
class Taps:
    """Counts what the person does: taps (clicks, ticks, file choices) and fields typed."""

    page: Page
    taps: int = 0
    typed: int = 0
    log: list[str] = field(default_factory=list)

    def click(self, target: Locator) -> None:
        self.taps += 1
        self.log.append("tap")
        target.click()

    def check(self, target: Locator) -> None:
        self.taps += 1
        self.log.append("check")
        target.check()

    def choose_files(self, target: Locator, files: list[Path]) -> None:
        self.taps += 1
        self.log.append(f"choose {len(files)}")
        target.set_input_files(files)

    def type(self, target: Locator, text: str) -> None:
        self.typed += 1
        target.fill(text)


def register(taps: Taps, stall_photo: Path, screen: Callable[[str], None]) -> None:
    """From the volunteer's "My work" page to the vendor's first product screen."""
    page = taps.page
    page.goto("/manage/?lang=id")
    taps.click(page.get_by_role("link", name="Daftarkan pedagang"))
    screen("quick-01-register")
    taps.type(page.get_by_label("Nama usaha"), STALL["name"])
    taps.type(page.get_by_label("Nama pemilik"), STALL["owner"])
    taps.type(page.get_by_label("Blok", exact=True), STALL["block"])
    taps.type(page.get_by_label("Nomor lapak", exact=True), STALL["number"])
    taps.type(page.get_by_label("Nomor WhatsApp", exact=True), STALL["whatsapp"])
    taps.check(page.get_by_label(STALL["category"], exact=True))
    taps.check(page.get_by_label("Pedagang sudah mendengar teks ini dan setuju"))
    taps.choose_files(page.get_by_label("Foto lapak"), [stall_photo])
    taps.click(page.get_by_role("button", name="Simpan, lanjut ke barang"))
    page.wait_for_url(PRODUCT_SCREEN)


def fill_product(taps: Taps, product: tuple[str, str, int], photos: list[Path]) -> None:
    """Photos first (camera for one, the gallery for several), then name and price."""
    page = taps.page
    name, price, _count = product
    if len(photos) == 1:
        taps.choose_files(page.get_by_label("Ambil foto"), photos)
    else:
        taps.choose_files(page.get_by_label("Atau pilih foto"), photos)
    taps.type(page.get_by_label("Nama produk"), name)
    taps.type(page.get_by_label("Harga (Rp)"), price)


def save_and_add_another(taps: Taps) -> None:
    taps.click(taps.page.get_by_role("button", name="Simpan & tambah lagi"))


def done(taps: Taps) -> None:
    """ "Selesai" saves what is filled in (the last product) and moves on to the last screen."""
    taps.click(taps.page.get_by_role("button", name="Selesai", exact=True))


def photos_for(products: list[tuple[str, str, int]], photos: list[Path]) -> list[list[Path]]:
    """The camera photos split among the products, in order."""
    split = []
    for _name, _price, count in products:
        split.append(photos[:count])
        photos = photos[count:]
    return split


def publish_and_invite(taps: Taps, screen: Callable[[str], None]) -> None:
    """The last screen: 2 vlog links, publish, and the invitation handed over on WhatsApp."""
    page = taps.page
    page.wait_for_url(FINISH_SCREEN)
    screen("quick-03-finish")
    for added, link in enumerate(VLOGS, start=1):
        taps.type(page.get_by_label("Tautan video lapak"), link)
        taps.click(page.get_by_role("button", name="Tambah video"))
        # The page with the link listed (the message of the first link is still on screen
        # while the second is on its way).
        expect(page.locator("#video .saved-list li")).to_have_count(added)
    taps.click(page.get_by_role("button", name="Tayangkan & buat undangan"))
    share = page.get_by_role("link", name="Kirim undangan lewat WhatsApp")
    expect(share).to_be_visible()
    # The tap that hands over the invitation: WhatsApp opens in a new tab, with the message.
    with page.context.expect_page() as whatsapp:
        taps.click(share)
    whatsapp.value.close()


def run_journey(
    page: Page, photos: list[Path], screen: Callable[[str], None] = lambda _name: None
) -> Taps:
    """From the volunteer's "My work" page (already logged in) to the invitation on WhatsApp;
    returns the counts. The page is in Indonesian, as the volunteer's phone is. ``screen`` is
    called with a name on each new kind of screen (checks and screenshots)."""
    taps = Taps(page)
    register(taps, photos[0], screen)
    screen("quick-02-product")
    *first, last = PRODUCTS
    *first_photos, last_photos = photos_for(PRODUCTS, photos[1:])
    for product, chosen in zip(first, first_photos, strict=True):
        fill_product(taps, product, chosen)
        save_and_add_another(taps)
        expect(page.locator(".flashes .flash-success")).to_contain_text(product[0])
    # The last product needs no "Simpan & tambah lagi": "Selesai" saves it and moves on.
    fill_product(taps, last, last_photos)
    done(taps)
    publish_and_invite(taps, screen)
    return taps
