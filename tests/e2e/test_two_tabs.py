"""In real Chromium: two tabs editing one product lose nothing, and the back office shrinks a
large photo on the phone before sending it while showing its progress.

Self-contained: gunicorn on a free port against a fresh SQLite database with the demo data.
Skipped when Chromium is missing, unless MARKET_REQUIRE_BROWSER=1 (then it fails)."""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.factories import encode, photo_like

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
# The photo's own row under the file field: what it showed last before the page moved on.
WATCH_PROGRESS = """() => {
  const form = document.querySelector('input[type=file]').form;
  new MutationObserver(() => {
    const row = form.querySelector('.photo-progress li');
    if (row) sessionStorage.setItem('progress', JSON.stringify({
      text: row.querySelector('[data-state]').textContent,
      value: row.querySelector('progress').value,
    }));
  }).observe(form, {attributes: true, subtree: true, childList: true, characterData: true});
}"""
# The body bytes of every request as the server received them (its Content-Length).
ACCESS_LOG_FORMAT = "%(m)s %(U)s %({content-length}i)s"

if not Path(CHROMIUM).exists():
    if os.environ.get("MARKET_REQUIRE_BROWSER") == "1":
        raise RuntimeError(f"browser tests are required but {CHROMIUM} is missing")
    pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)", allow_module_level=True)

pytestmark = pytest.mark.e2e


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def access_log(tmp_path_factory):
    return tmp_path_factory.mktemp("two-tabs-log") / "access.log"


@pytest.fixture(scope="module")
def server(tmp_path_factory, access_log):
    folder = tmp_path_factory.mktemp("two-tabs")
    env = {
        **os.environ,
        "MARKET_DATABASE_URL": f"sqlite:///{folder / 'market.sqlite3'}",
        "MARKET_STORAGE_URL": f"file://{folder / 'uploads'}",
        "MARKET_SECRET_KEY": "two-tabs-" + "k" * 60,
        "MARKET_LOGIN_LIMIT": "100 per minute",
    }
    env.pop("MARKET_TEST_DATABASE_URL", None)
    flask = [sys.executable, "-m", "flask", "--app", "market"]
    for command in (["db", "upgrade"], ["seed-demo"]):
        subprocess.run(flask + command, env=env, cwd=ROOT, check=True, capture_output=True)
    port = _free_port()
    gunicorn = [sys.executable, "-m", "gunicorn", "--workers", "1", "--threads", "4"]
    process = subprocess.Popen(
        [
            *gunicorn,
            "--no-control-socket",
            "--access-logfile",
            str(access_log),
            "--access-logformat",
            ACCESS_LOG_FORMAT,
            "--bind",
            f"127.0.0.1:{port}",
            "market:create_app()",
        ],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with urllib.request.urlopen(url + "/", timeout=1):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the server did not start") from None
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        _out, errors = process.communicate(timeout=10)
        assert b"Traceback" not in errors, errors.decode(errors="replace")[-4000:]


@pytest.fixture
def phone(playwright, server):
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    context = browser.new_context(base_url=server, **PHONE)
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.goto("/auth/login?lang=en")
    page.get_by_label("Email or WhatsApp number").fill("relawan@example.org")
    page.get_by_label("Password").fill("pasar-demo-2026")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/manage/**")
    yield page
    context.close()
    browser.close()


def test_two_tabs_editing_one_product(phone, tmp_path):
    first = phone
    first.goto("/manage/vendors/1/products")
    first.locator(".item-title").first.click()
    first.wait_for_url("**/edit")
    edit_url = first.url
    second = first.context.new_page()
    second.goto(edit_url)

    first.get_by_label("Price (Rp)").fill("30000")
    first.get_by_role("button", name="Save", exact=True).click()
    first.wait_for_url("**/products#product-*")
    assert first.get_by_text("Saved.").is_visible()

    second.get_by_label("Price (Rp)").fill("35.000")
    second.get_by_role("button", name="Save", exact=True).click()
    alert = second.get_by_role("alert").filter(has_text="Someone else saved this product")
    alert.wait_for()
    row = alert.get_by_role("row", name="Price (Rp)")
    assert row.get_by_role("cell").all_inner_texts() == ["Rp30.000", "Rp35.000"]
    assert second.get_by_label("Price (Rp)").input_value() == "35.000"
    second.screenshot(path=str(tmp_path / "conflict.png"), full_page=True)

    first.goto(edit_url)
    assert first.get_by_label("Price (Rp)").input_value() == "30000"

    # Having seen the other tab's price, saving again is a deliberate choice.
    second.get_by_role("button", name="Save", exact=True).click()
    second.wait_for_url("**/products#product-*")
    assert second.get_by_text("Rp35.000").first.is_visible()


def _received(access_log, path: str) -> list[int]:
    """Body sizes of the POSTs to `path` that reached the server."""
    sizes = []
    for line in access_log.read_text().splitlines():
        method, url, length = line.split(" ")
        if method == "POST" and url == path:
            sizes.append(int(length))
    return sizes


def test_upload_script_shrinks_a_large_photo_and_shows_progress(phone, tmp_path, access_log):
    # A 12 MP camera photo (4000 x 3000).
    big = tmp_path / "IMG_1234.jpg"
    big.write_bytes(encode(photo_like((4000, 3000), seed=3), "JPEG", quality=95))
    assert big.stat().st_size > 2 * 1024 * 1024
    path = "/manage/vendors/2/photos"
    phone.goto(path)
    # Remember what the progress row showed last: the page reloads when it is done.
    phone.evaluate(WATCH_PROGRESS)
    phone.locator("input[type=file][name=photos]").set_input_files(str(big))
    phone.get_by_role("button", name="Upload").click()
    phone.get_by_text("1 photo added.").wait_for()
    shown = json.loads(phone.evaluate("sessionStorage.getItem('progress')"))
    assert shown == {"text": "Uploading… 100%", "value": 100}
    assert phone.locator(".items img").count() == 2
    # What reached the server: the 1600 px JPEG made on the phone, not the 12 MP original.
    sent = _received(access_log, path)
    assert len(sent) == 1
    assert sent[0] <= 600 * 1024, f"{sent[0]} bytes sent for one photo"
