"""Issue 13, measured: the whole journey at a stall on a 360x740 phone in real Chromium, in at
most 40 taps, leaving exactly one vendor with 5 products and 8 product photos behind; and the
same journey with the signal cut in the middle, which must lose nothing and duplicate nothing."""

import sqlite3
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e.browser import check_page, log_in, new_page, until
from tests.e2e.stall_journey import (
    PHONE_360,
    PRODUCT_PHOTOS,
    PRODUCT_SCREEN,
    PRODUCTS,
    STALL,
    Taps,
    done,
    fill_product,
    make_photos,
    photos_for,
    publish_and_invite,
    register,
    run_journey,
    save_and_add_another,
)
from tests.live import app_env, flask, serve

pytestmark = pytest.mark.e2e
MAX_TAPS = 40
# The draft of the product form holds the product's name and its photos (already shrunk).
DRAFT_WITH_PHOTOS = """async ([name, count]) => {
  const drafts = await idbKeyval.values(idbKeyval.createStore("pasar-drafts", "drafts"));
  return drafts.some((draft) => draft.values.name === name
    && draft.values.camera.length + draft.values.photos.length === count);
}"""


@pytest.fixture
def stall_server(tmp_path):
    """A server of the test's own: the journey publishes a stall, which the other journeys'
    counts of the demo market must not see. Yields its URL and its database file."""
    env = app_env(tmp_path, MARKET_LOGIN_LIMIT="100 per minute")
    flask(env, "db", "upgrade")
    flask(env, "seed-demo")
    log: list[str] = []
    with serve(env, log=log) as url:
        yield url, tmp_path / "market.sqlite3"
    assert not any("Traceback" in line for line in log), "\n".join(log[-80:])


@pytest.fixture(scope="session")
def camera_photos(tmp_path_factory) -> list[Path]:
    return make_photos(tmp_path_factory.mktemp("camera"))


def _screen(page, name: str) -> None:
    check_page(page, name)
    if name == "quick-02-product":
        # The whole product form, Save included, fits the phone's screen without scrolling.
        save = page.get_by_role("button", name="Simpan & tambah lagi").bounding_box()
        assert save["y"] + save["height"] <= PHONE_360["viewport"]["height"], save


def _what_the_server_holds(database: Path) -> dict:
    """Rows in the database itself, whatever the pages say."""
    with sqlite3.connect(database) as db:
        vendors = db.execute(
            "SELECT id, status, consent_at IS NOT NULL FROM vendor WHERE business_name = ?",
            (STALL["name"],),
        ).fetchall()
        ids = [row[0] for row in vendors]
        marks = ",".join("?" * len(ids)) or "NULL"

        def count(sql: str) -> int:
            return db.execute(sql.format(ids=marks), ids).fetchone()[0]

        return {
            "vendors": [row[1:] for row in vendors],
            "products": count(
                "SELECT count(*) FROM product WHERE vendor_id IN ({ids}) AND deleted_at IS NULL"
            ),
            "product names": count(
                "SELECT count(DISTINCT name) FROM product WHERE vendor_id IN ({ids})"
            ),
            "product photos": count(
                "SELECT count(*) FROM photo WHERE vendor_id IN ({ids}) AND product_id IS NOT NULL"
            ),
            "stall photos": count(
                "SELECT count(*) FROM photo WHERE vendor_id IN ({ids}) AND product_id IS NULL"
            ),
            "vlogs": count("SELECT count(*) FROM vlog_link WHERE vendor_id IN ({ids})"),
            "invitations": count("SELECT count(*) FROM invitation WHERE vendor_id IN ({ids})"),
        }


# One published vendor with consent, its 5 products (5 names), 8 product photos and 1 of the
# stall, 2 vlogs and 1 invitation: nothing lost, nothing twice.
EXPECTED = {
    "vendors": [("published", 1)],
    "products": len(PRODUCTS),
    "product names": len(PRODUCTS),
    "product photos": PRODUCT_PHOTOS,
    "stall photos": 1,
    "vlogs": 2,
    "invitations": 1,
}


def test_a_stall_with_five_products_in_at_most_40_taps(browser, stall_server, camera_photos):
    url, database = stall_server
    page = new_page(browser, url, PHONE_360)
    try:
        log_in(page, "relawan@example.org")
        taps = run_journey(page, camera_photos, screen=lambda name: _screen(page, name))
        check_page(page, "quick-04-invited")
    finally:
        page.context.close()
    assert taps.taps <= MAX_TAPS, taps.log
    assert _what_the_server_holds(database) == EXPECTED
    print(f"\nstall journey: {taps.taps} taps, {taps.typed} typed fields")


def test_the_journey_with_the_signal_cut_in_the_middle(browser, stall_server, camera_photos):
    """Register and 2 products online; the signal goes; products 3 and 4 go to the outbox, the
    5th is half done when the page is reloaded without signal (it comes back from the draft) and
    goes to the outbox with "Selesai". The next screen (videos, publishing) is made by the
    server from the goods it holds, so without signal "Selesai" says so and the volunteer stays
    on the goods screen. The signal returns, the outbox goes out by itself, and "Selesai" again
    opens the last screen."""
    url, database = stall_server
    page = new_page(browser, url, PHONE_360)
    outbox = page.locator("#offline [data-outbox-count]")
    note = page.locator("form .form-message")
    try:
        log_in(page, "relawan@example.org")
        taps = Taps(page)
        register(taps, camera_photos[0], lambda _name: None)
        # From here on the worker keeps this user's pages: the goods screen opens offline.
        page.wait_for_function("() => navigator.serviceWorker.controller !== null")
        chosen = photos_for(PRODUCTS, camera_photos[1:])
        for product, photos in zip(PRODUCTS[:2], chosen[:2], strict=True):
            fill_product(taps, product, photos)
            save_and_add_another(taps)
            expect(page.locator(".flashes .flash-success")).to_contain_text(product[0])

        page.context.set_offline(True)
        offline = zip(PRODUCTS[2:4], chosen[2:4], strict=True)
        for waiting, (product, photos) in enumerate(offline, start=1):
            fill_product(taps, product, photos)
            save_and_add_another(taps)
            expect(outbox).to_have_text(f"{waiting} menunggu dikirim")
            expect(note).to_contain_text("disimpan di HP ini")
            # The form is empty again for the next product, its category still chosen.
            expect(page.get_by_label("Nama produk")).to_have_value("")
        check_page(page, "quick-offline-queued")

        fill_product(taps, PRODUCTS[4], chosen[4])
        until(page, DRAFT_WITH_PHOTOS, [PRODUCTS[4][0], 1])
        page.reload()
        # The goods screen came from the phone; the draft and the outbox are still there.
        expect(page).to_have_url(PRODUCT_SCREEN)
        expect(page.locator(".keep-note")).to_be_visible()
        expect(page.get_by_label("Nama produk")).to_have_value(PRODUCTS[4][0])
        expect(page.get_by_label("Harga (Rp)")).to_have_value(PRODUCTS[4][1])
        expect(outbox).to_have_text("2 menunggu dikirim")
        check_page(page, "quick-offline-restored")

        done(taps)
        expect(outbox).to_have_text("3 menunggu dikirim")
        expect(note).to_contain_text("Layar berikutnya perlu sinyal")
        expect(page).to_have_url(PRODUCT_SCREEN)
        # Tapped again without signal, with nothing filled in: nothing more is queued.
        done(taps)
        expect(outbox).to_have_text("3 menunggu dikirim")
        check_page(page, "quick-offline-needs-signal")
        held = _what_the_server_holds(database)
        assert (held["products"], held["product photos"]) == (2, 4)

        page.context.set_offline(False)
        expect(page.locator("#offline")).to_be_hidden()
        done(taps)
        publish_and_invite(taps, lambda _name: None)
    finally:
        page.context.close()
    assert _what_the_server_holds(database) == EXPECTED
    assert taps.taps <= MAX_TAPS, taps.log
    print(f"\noffline stall journey: {taps.taps} taps, {taps.typed} typed fields")
