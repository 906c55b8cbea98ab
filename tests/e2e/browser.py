"""Driving Debian's Chromium in the browser tests: offline pages with the app's real
Content-Security-Policy watched from the first moment, axe-core, screenshots for review, and
logging in."""

import io
import json
import shutil
import time
from functools import cache
from pathlib import Path

from PIL import Image

from market.seed.demo import DEMO_PASSWORD
from tests.live import ROOT

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


def new_page(browser, base_url, device: dict, **options):
    """A page in a browser context of its own (own cookies), offline but for ``base_url``."""
    context = browser.new_context(base_url=base_url, **device, **options)
    context.set_default_timeout(15_000)
    context.add_init_script(WATCH_CSP)
    context.route(lambda url: not url.startswith(base_url), _answer_offline)
    page = context.new_page()
    page.opened_with = (base_url, device, options)
    return page


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
    # Pages opened by new_page know how; any other runs scripts (Playwright's default).
    base_url, device, options = getattr(page, "opened_with", (None, None, {}))
    if options.get("java_script_enabled", True):
        assert_no_csp_violations(page, name)
        assert_accessible(page, name)
    else:
        # axe.run waits on timers, which never fire where JavaScript is off, and
        # page.evaluate has no timeout: it would wait forever. The same address with the same
        # cookies is checked in a twin page that runs scripts.
        twin = new_page(
            page.context.browser, base_url, device, **{**options, "java_script_enabled": True}
        )
        try:
            twin.context.add_cookies(page.context.cookies())
            twin.goto(page.url)
            assert_no_csp_violations(twin, name)
            assert_accessible(twin, name)
        finally:
            twin.context.close()
    screenshot(page, name)


def log_in(page, login: str, password: str = DEMO_PASSWORD) -> None:
    page.goto("/auth/login?lang=en")
    page.get_by_label("Email or WhatsApp number").fill(login)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/manage/**")


def until(page, script: str, arg=None, timeout: float = 15) -> None:
    """Poll an async check in the page (wait_for_function takes a promise for a yes)."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(script, arg):
        assert time.monotonic() < deadline, f"still false after {timeout} s: {script}"
        page.wait_for_timeout(100)
