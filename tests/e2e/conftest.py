"""Fixtures for browser tests: gunicorn on a free loopback port with a fresh database and the
demo data, Debian's Chromium driven by Playwright, axe-core, and screenshots for review."""

import json
import os
import shutil
from pathlib import Path

import pytest

from market.services.demo import DEMO_PASSWORD
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
]
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
DESKTOP = {"viewport": {"width": 1280, "height": 900}}


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


def _new_page(browser, base_url, device: dict):
    # bypass_csp lets the test inject axe-core; the app's own pages never need it.
    context = browser.new_context(base_url=base_url, bypass_csp=True, **device)
    context.set_default_timeout(15_000)
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


def screenshot(page, name: str) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def assert_accessible(page, label: str) -> None:
    """No serious or critical axe-core violations on the current page."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    bad = [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"][:3]]}
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert not bad, f"{label}: " + json.dumps(bad, indent=1)


def log_in(page, login: str, password: str = DEMO_PASSWORD) -> None:
    page.goto("/auth/login?lang=en")
    page.get_by_label("Email or WhatsApp number").fill(login)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/manage/**")
