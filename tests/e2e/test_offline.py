"""In real Chromium on a 360 x 740 phone: the back office installs as an app, keeps what is typed
when the signal is gone, sends a form made offline exactly once when it returns, and leaves
nothing of a user on the phone after logout, nor shows it to the next user.

Its own server (gunicorn, fresh SQLite database with the demo data), so that the rows the
server wrote can be counted in the database itself."""

import io
import sqlite3
import time
from types import SimpleNamespace

import pytest
from PIL import Image

from tests.e2e.browser import (
    assert_no_csp_violations,
    check_page,
    log_in,
    new_page,
    until,
)
from tests.factories import encode, photo_like
from tests.live import app_env, flask, serve

PHONE_360 = {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True}
VOLUNTEER = "relawan@example.org"
VENDOR_LOGIN = "0812-0000-0001"
# The demo vendor's own stall, which the demo volunteer's market also holds.
STALL = 1
NEW_PRODUCT = f"/manage/vendors/{STALL}/products/new"
# What the phone keeps of the back office: entries in its IndexedDB stores, and its caches.
# Only databases that exist are opened (opening one creates it, without its store).
STORED = """async () => {
  const existing = (await indexedDB.databases()).map((db) => db.name);
  const count = (name, store) => new Promise((resolve, reject) => {
    if (!existing.includes(name)) return resolve(0);
    const open = indexedDB.open(name);
    open.onerror = () => reject(open.error);
    open.onsuccess = () => {
      const db = open.result;
      if (!db.objectStoreNames.contains(store)) { db.close(); return resolve(0); }
      const request = db.transaction(store).objectStore(store).count();
      request.onsuccess = () => { db.close(); resolve(request.result); };
    };
  });
  return {
    drafts: await count("pasar-drafts", "drafts"),
    outbox: await count("pasar-outbox", "items"),
    session: await count("pasar-session", "values"),
    worker: await count("pasar-sw", "state"),
    caches: await caches.keys(),
  };
}"""
DRAFT_SAVED = """async (name) => {
  const drafts = await idbKeyval.values(idbKeyval.createStore("pasar-drafts", "drafts"));
  return drafts.some((draft) => draft.values.name === name && draft.values.photos.length === 1);
}"""

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def stall(tmp_path_factory):
    folder = tmp_path_factory.mktemp("offline")
    env = app_env(folder, MARKET_LOGIN_LIMIT="100 per minute")
    flask(env, "db", "upgrade")
    flask(env, "seed-demo")
    log: list[str] = []
    with serve(env, log=log) as url:
        yield SimpleNamespace(url=url, database=folder / "market.sqlite3")
    assert not any("Traceback" in line for line in log), "\n".join(log[-80:])


@pytest.fixture
def phone(browser, stall):
    page = new_page(browser, stall.url, PHONE_360)
    yield page
    page.context.close()


def _count(stall, sql: str, *args) -> int:
    with sqlite3.connect(stall.database) as connection:
        return connection.execute(sql, args).fetchone()[0]


def _controlled(page) -> None:
    """Wait until the service worker, installed by the first back-office page, controls it:
    from then on the pages this user opens are kept on the phone."""
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")


def _photo(tmp_path, name: str = "IMG_0001.jpg") -> str:
    path = tmp_path / name
    path.write_bytes(encode(photo_like((4000, 3000), seed=5), "JPEG", quality=92))
    return str(path)


def test_the_back_office_installs_as_an_app(phone, stall):
    log_in(phone, VOLUNTEER)
    _controlled(phone)
    href = phone.locator("link[rel=manifest]").get_attribute("href")
    manifest = phone.request.get(href)
    assert manifest.headers["content-type"].startswith("application/manifest+json")
    body = manifest.json()
    assert body["name"] == "Pasar"
    # In the language of the pages the phone is shown.
    assert body["lang"] == phone.locator("html").get_attribute("lang")
    assert body["short_name"] == {"id": "Kelola Pasar", "en": "Manage Pasar"}[body["lang"]]
    assert (body["start_url"], body["scope"], body["display"]) == (
        "/manage/",
        "/manage/",
        "standalone",
    )
    assert body["theme_color"] == phone.locator("meta[name=theme-color]").get_attribute("content")
    sizes = set()
    for icon in body["icons"]:
        image = Image.open(io.BytesIO(phone.request.get(icon["src"]).body()))
        assert image.format == "PNG"
        assert f"{image.width}x{image.height}" == icon["sizes"]
        sizes.add(icon["sizes"])
    assert {"192x192", "512x512"} <= sizes
    worker = phone.evaluate(
        "navigator.serviceWorker.ready.then((r) => [r.scope, r.active.scriptURL])"
    )
    assert worker == [stall.url + "/manage/", stall.url + "/manage/sw.js"]
    check_page(phone, "offline-home")
    # Public pages are not part of the app: no manifest, no worker script, no outbox.
    phone.goto("/pasar/pasar-inpres-kebun-sayur/")
    assert phone.locator("link[rel=manifest], #offline").count() == 0
    assert_no_csp_violations(phone, "storefront")


def test_an_offline_reload_of_a_half_filled_product_form_restores_it(phone, tmp_path):
    log_in(phone, VOLUNTEER)
    _controlled(phone)
    phone.goto(NEW_PRODUCT)
    phone.locator("input[name=name]").fill("Amplang udang")
    phone.locator("input[name=price]").fill("27500")
    phone.locator("input[type=file][name=photos]").set_input_files(_photo(tmp_path))
    until(phone, DRAFT_SAVED, "Amplang udang")

    phone.context.set_offline(True)
    phone.reload()
    # Served by the worker from this user's kept pages, then filled from the draft.
    phone.locator(".keep-note").wait_for()
    assert phone.locator("input[name=name]").input_value() == "Amplang udang"
    assert phone.locator("input[name=price]").input_value() == "27500"
    kept = phone.evaluate(
        "Array.from(document.querySelector('input[type=file]').files, f => [f.type, f.size])"
    )
    assert len(kept) == 1 and kept[0][0] == "image/jpeg" and kept[0][1] < 600 * 1024
    check_page(phone, "offline-draft-restored")

    phone.locator(".keep-note button").click()
    assert phone.locator("input[name=name]").input_value() == ""
    phone.context.set_offline(False)


def test_a_form_sent_offline_is_sent_exactly_once_when_the_signal_returns(phone, stall, tmp_path):
    name = "Bingka kentang offline"
    log_in(phone, VOLUNTEER)
    _controlled(phone)
    phone.goto(NEW_PRODUCT + "?lang=id")
    phone.context.set_offline(True)
    phone.locator("input[name=name]").fill(name)
    phone.locator("input[name=price]").fill("15000")
    phone.locator("input[type=file][name=photos]").set_input_files(_photo(tmp_path))
    phone.locator("form[enctype] button[type=submit]").click()
    count = phone.locator("#offline [data-outbox-count]")
    count.filter(has_text="1 menunggu dikirim").wait_for()
    assert phone.get_by_role("button", name="Kirim sekarang").is_visible()
    # The form is empty again, ready for the next product; nothing reached the server.
    assert phone.locator("input[name=name]").input_value() == ""
    assert _count(stall, "SELECT count(*) FROM product WHERE name = ?", name) == 0

    # Still there after a reload without signal (the page comes from the phone).
    phone.reload()
    count.filter(has_text="1 menunggu dikirim").wait_for()
    check_page(phone, "offline-outbox")

    phone.context.set_offline(False)
    phone.locator("#offline").wait_for(state="hidden")
    assert _count(stall, "SELECT count(*) FROM product WHERE name = ?", name) == 1
    photos = _count(
        stall,
        "SELECT count(*) FROM photo JOIN product ON photo.product_id = product.id "
        "WHERE product.name = ?",
        name,
    )
    assert photos == 1
    # Another page load and the online event again: nothing is sent twice.
    phone.reload()
    phone.evaluate("window.dispatchEvent(new Event('online'))")
    phone.wait_for_timeout(500)
    assert _count(stall, "SELECT count(*) FROM product WHERE name = ?", name) == 1
    assert _count(stall, "SELECT count(*) FROM idempotency_key") >= 1


def test_logout_clears_the_phone_after_offering_to_send(phone, stall):
    name = "Lupis belum terkirim"
    log_in(phone, VOLUNTEER)
    _controlled(phone)
    phone.goto(NEW_PRODUCT)
    phone.context.set_offline(True)
    phone.locator("input[name=name]").fill(name)
    phone.locator("form[enctype] button[type=submit]").click()
    phone.locator("#offline [data-outbox-count]").filter(has_text="1 form waiting").wait_for()
    phone.locator("input[name=price]").fill("9000")  # a new draft
    phone.wait_for_timeout(400)
    stored = phone.evaluate(STORED)
    assert stored["drafts"] == 1 and stored["outbox"] == 1 and stored["session"] == 1
    assert "pasar-pages" in stored["caches"]

    phone.context.set_offline(False)
    phone.get_by_role("button", name="Log out").click()
    dialog = phone.get_by_role("dialog")
    dialog.get_by_text("1 form waiting to be sent").wait_for()
    dialog.get_by_role("button", name="Cancel").click()
    assert phone.url.endswith(NEW_PRODUCT)  # still logged in, nothing deleted
    assert phone.evaluate(STORED)["outbox"] == 1
    phone.get_by_role("button", name="Log out").click()
    dialog.get_by_role("button", name="Log out and delete them").click()
    phone.wait_for_url(stall.url + "/")
    assert phone.evaluate(STORED) == {
        "drafts": 0,
        "outbox": 0,
        "session": 0,
        "worker": 0,
        "caches": [],
    }
    assert _count(stall, "SELECT count(*) FROM product WHERE name = ?", name) == 0


def test_another_user_on_the_same_phone_sees_none_of_it(phone, stall, tmp_path):
    """The volunteer's session ends without logging out (cookies gone): their drafts, outbox and
    kept pages stay on the phone for them, but the vendor who logs in next sees none of it."""
    log_in(phone, VOLUNTEER)
    _controlled(phone)
    phone.goto(f"/manage/vendors/{STALL}")
    phone.goto(NEW_PRODUCT)
    phone.locator("input[name=name]").fill("Rahasia relawan")
    phone.context.set_offline(True)
    phone.locator("form[enctype] button[type=submit]").click()
    phone.locator("#offline [data-outbox-count]").filter(has_text="1 form waiting").wait_for()
    phone.locator("input[name=name]").fill("Draf relawan")
    phone.wait_for_timeout(400)
    phone.context.set_offline(False)
    phone.context.clear_cookies()

    log_in(phone, VENDOR_LOGIN)
    phone.goto(NEW_PRODUCT)
    phone.wait_for_timeout(500)
    assert phone.locator("#offline").is_hidden()
    assert phone.locator(".keep-note").count() == 0
    assert phone.locator("input[name=name]").input_value() == ""
    # Offline, the volunteer's kept stall page is not shown to the vendor.
    phone.context.set_offline(True)
    phone.goto(f"/manage/vendors/{STALL}")
    assert phone.locator("h1").inner_text() == "No signal"
    check_page(phone, "offline-not-kept")
    phone.context.set_offline(False)
    time.sleep(0.2)
    assert _count(stall, "SELECT count(*) FROM product WHERE name = 'Rahasia relawan'") == 0


@pytest.mark.parametrize("status", [413, 503])
@pytest.mark.parametrize("screen", [NEW_PRODUCT, f"/manage/quick/vendors/{STALL}/products"])
def test_a_failed_upload_is_told_next_to_the_button_and_in_view(phone, tmp_path, screen, status):
    """The server refuses the upload (too large for a proxy, or busy) while the volunteer has
    scrolled away from the button: the error comes into view beside the button."""
    log_in(phone, VOLUNTEER)
    phone.goto(screen + "?lang=en")
    held = []
    phone.route(
        "**" + screen,
        lambda route: held.append(route) if route.request.method == "POST" else route.fallback(),
    )
    phone.locator("input[name=name]").fill("Amplang terlalu besar")
    phone.locator("input[name=price]").fill("27500")
    phone.locator("input[type=file][name=photos]").set_input_files(_photo(tmp_path))
    button = phone.locator("form[enctype] button[type=submit]").first
    button.click()
    while not held:
        phone.wait_for_timeout(50)
    phone.evaluate("window.scrollTo(0, 0)")
    held[0].fulfill(status=status, content_type="text/html", body="<h1>Not now</h1>")

    error = phone.get_by_role("alert").filter(has_text="The upload did not get through")
    error.wait_for()
    phone.wait_for_timeout(300)  # the scroll settles
    box, beside = error.bounding_box(), button.bounding_box()
    assert box["y"] >= 0 and box["y"] + box["height"] <= PHONE_360["viewport"]["height"], box
    # Under the buttons, across the form (not squeezed in beside them).
    assert 0 <= box["y"] - (beside["y"] + beside["height"]) < 80, (box, beside)
    assert box["width"] > PHONE_360["viewport"]["width"] / 2, box
    # What was typed is still there, and the button can be tapped again.
    assert phone.locator("input[name=name]").input_value() == "Amplang terlalu besar"
    assert button.is_enabled()
    check_page(phone, f"upload-error-{status}")
