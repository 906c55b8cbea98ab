"""Issue 13, measured: the whole journey at a stall on a 360x740 phone in real Chromium, in at
most 40 taps, leaving exactly one vendor with 5 products and 8 product photos behind."""

import sqlite3
from pathlib import Path

import pytest

from tests.e2e.browser import check_page, log_in, new_page
from tests.e2e.stall_journey import (
    PHONE_360,
    PRODUCT_PHOTOS,
    PRODUCTS,
    STALL,
    make_photos,
    run_journey,
)
from tests.live import app_env, flask, serve

pytestmark = pytest.mark.e2e
MAX_TAPS = 40


@pytest.fixture(scope="module")
def stall_server(tmp_path_factory):
    """A server of its own: the journey publishes a stall, which the other journeys' counts
    of the demo market must not see. Yields its URL and its database file."""
    folder = tmp_path_factory.mktemp("stall")
    env = app_env(folder, MARKET_LOGIN_LIMIT="100 per minute")
    flask(env, "db", "upgrade")
    flask(env, "seed-demo")
    with serve(env) as url:
        yield url, folder / "market.sqlite3"


@pytest.fixture(scope="session")
def camera_photos(tmp_path_factory) -> list[Path]:
    return make_photos(tmp_path_factory.mktemp("camera"))


def _screen(page, name: str) -> None:
    check_page(page, name)
    if name == "quick-02-product":
        # The whole product form, Save included, fits the phone's screen without scrolling.
        save = page.get_by_role("button", name="Simpan & tambah lagi").bounding_box()
        assert save["y"] + save["height"] <= PHONE_360["viewport"]["height"], save


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
    with sqlite3.connect(database) as db:
        vendors = db.execute(
            "SELECT id, status, consent_at IS NOT NULL FROM vendor WHERE business_name = ?",
            (STALL["name"],),
        ).fetchall()
        assert len(vendors) == 1
        vendor_id, status, consented = vendors[0]
        assert (status, consented) == ("published", 1)
        products = db.execute(
            "SELECT id FROM product WHERE vendor_id = ? AND deleted_at IS NULL", (vendor_id,)
        ).fetchall()
        product_photos = db.execute(
            "SELECT count(*) FROM photo WHERE vendor_id = ? AND product_id IS NOT NULL",
            (vendor_id,),
        ).fetchone()[0]
        stall_photos = db.execute(
            "SELECT count(*) FROM photo WHERE vendor_id = ? AND product_id IS NULL", (vendor_id,)
        ).fetchone()[0]
        vlogs = db.execute(
            "SELECT count(*) FROM vlog_link WHERE vendor_id = ?", (vendor_id,)
        ).fetchone()[0]
        invitations = db.execute(
            "SELECT count(*) FROM invitation WHERE vendor_id = ?", (vendor_id,)
        ).fetchone()[0]
    assert (len(products), product_photos, stall_photos) == (len(PRODUCTS), PRODUCT_PHOTOS, 1)
    assert (vlogs, invitations) == (2, 1)
    print(f"\nstall journey: {taps.taps} taps, {taps.typed} typed fields")
