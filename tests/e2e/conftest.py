"""Fixtures for browser tests: gunicorn on a free loopback port with a fresh database and the
demo data, Debian's Chromium driven by Playwright, axe-core, and screenshots for review.

Pages run under the app's real Content-Security-Policy (axe is evaluated through the DevTools
protocol, which the policy does not govern), so a blocked inline style or script fails a test.
Requests to other sites are answered with stubs: the tests run offline and stay fast."""

import io
import json
import os
import shutil
from functools import cache
from pathlib import Path

import pytest
from PIL import Image

from market.seed.demo import DEMO_PASSWORD
from tests.live import ROOT, app_env, flask, serve

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    # Offline whatever the machine's network: a page can reach only the test server, and
    # a stray request fails at once instead of waiting for DNS.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
]
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
DESKTOP = {"viewport": {"width": 1280, "height": 900}}
# Recorded from the first moment of every document, before any of the page's own code runs.
WATCH_CSP = """document.addEventListener("securitypolicyviolation", (event) => {
  (window.__cspViolations = window.__cspViolations || []).push(
    `${event.effectiveDirective} blocked ${event.blockedURI || "inline"}`
    + ` at ${event.sourceFile}:${event.lineNumber}`);
});"""


def _missing_tools() -> str | None:
    if not Path(CHROMIUM).exists():
        return f"Chromium is not installed ({CHROMIUM}); `apt-get install chromium`"
    if not AXE.exists():
        return "axe-core is not installed; `npm install` in the project folder"
    return None


def pytest_collection_modifyitems(config, items):
    missing = _missing_tools()
    if missing is None:
        return
    if os.environ.get("MARKET_REQUIRE_BROWSER") == "1":
        raise pytest.UsageError(f"browser tests are required but cannot run: {missing}")
    skip = pytest.mark.skip(reason=f"browser tests skipped: {missing}")
    for item in items:
        if "tests/e2e/" in str(item.fspath):
            item.add_marker(skip)


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    """The app served by gunicorn exactly as `make run` does, with a fresh demo database."""
    env = app_env(tmp_path_factory.mktemp("live"), MARKET_LOGIN_LIMIT="100 per minute")
    flask(env, "db", "upgrade")
    flask(env, "seed-demo")
    log: list[str] = []
    with serve(env, log=log) as url:
        yield url
    # A traceback in the server log means a page failed somewhere in a journey.
    assert not any("Traceback" in line for line in log), "\n".join(log[-80:])


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def base_url(live_server):
    return live_server


@cache
def _stub_image() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (480, 360), (90, 90, 90)).save(buffer, "JPEG")
    return buffer.getvalue()


def _answer_offline(route) -> None:
    """Stand in for other sites (YouTube thumbnails and player): nothing leaves the machine."""
    if route.request.resource_type == "image":
        route.fulfill(content_type="image/jpeg", body=_stub_image())
    else:
        route.fulfill(
            content_type="text/html",
            body=f"<!doctype html><title>Offline</title><p>Stand-in for {route.request.url}",
        )


def _new_page(browser, base_url, device: dict, **options):
    context = browser.new_context(base_url=base_url, **device, **options)
    context.set_default_timeout(15_000)
    context.add_init_script(WATCH_CSP)
    context.route(lambda url: not url.startswith(base_url), _answer_offline)
    return context.new_page()


@pytest.fixture
def phone(browser, base_url):
    page = _new_page(browser, base_url, PHONE)
    yield page
    page.context.close()


@pytest.fixture
def desktop(browser, base_url):
    page = _new_page(browser, base_url, DESKTOP)
    yield page
    page.context.close()


@pytest.fixture
def phone_id(browser, base_url):
    """A phone set to Indonesian, as most shoppers' phones are."""
    page = _new_page(browser, base_url, PHONE, locale="id-ID")
    yield page
    page.context.close()


def screenshot(page, name: str) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


@cache
def _axe_source() -> str:
    return AXE.read_text()


def assert_accessible(page, label: str) -> None:
    """No serious or critical axe-core violations on the current page."""
    page.evaluate(_axe_source())
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    bad = [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"][:3]]}
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert not bad, f"{label}: " + json.dumps(bad, indent=1)


def assert_no_csp_violations(page, label: str) -> None:
    """The Content-Security-Policy blocked nothing on the current page (an inline style or
    script, a resource from a site the policy does not name)."""
    blocked = page.evaluate("window.__cspViolations || []")
    assert not blocked, f"{label}: " + "; ".join(blocked)


def check_page(page, name: str) -> None:
    """What every page of a journey must pass, and its screenshot for the reviewer."""
    assert_no_csp_violations(page, name)
    assert_accessible(page, name)
    screenshot(page, name)


def log_in(page, login: str, password: str = DEMO_PASSWORD) -> None:
    page.goto("/auth/login?lang=en")
    page.get_by_label("Email or WhatsApp number").fill(login)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/manage/**")
