"""Fixtures for browser tests: gunicorn on a free loopback port with a copy of a database holding
the demo data, and pages in Debian's Chromium (tests/e2e/browser.py).

Pages run under the app's real Content-Security-Policy (axe is evaluated through the DevTools
protocol, which the policy does not govern), so a blocked inline style or script fails a test.
Requests to other sites are answered with stubs: the tests run offline and stay fast."""

import os
import shutil
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.e2e.browser import AXE, CHROMIUM, CHROMIUM_ARGS, DESKTOP, PHONE, new_page
from tests.live import app_env, flask, serve


def _missing_tools() -> str | None:
    if not Path(CHROMIUM).exists():
        return f"Chromium is not installed ({CHROMIUM}); `apt-get install chromium`"
    if not AXE.exists():
        return "axe-core is not installed; `npm install` in the project folder"
    return None


def pytest_collection_modifyitems(config, items):
    # Playwright's event loop closes its transports after the test ends; not our code.
    late_close = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
    for item in items:
        if "tests/e2e/" in str(item.fspath):
            # Every test here drives Chromium: in the e2e lane whatever its module says.
            item.add_marker(pytest.mark.e2e)
            item.add_marker(late_close)
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
def demo_installation(tmp_path_factory) -> Path:
    """A folder holding a migrated database with the demo data and its photos, set up once; each
    server starts from a copy of it."""
    folder = tmp_path_factory.mktemp("demo")
    env = app_env(folder)
    flask(env, "db", "upgrade")
    flask(env, "seed-demo")
    return folder


@contextmanager
def serve_demo(template: Path, folder: Path):
    """gunicorn exactly as `make run` starts it, on a copy of the demo installation."""
    shutil.copytree(template, folder)
    log: list[str] = []
    with serve(app_env(folder, MARKET_LOGIN_LIMIT="100 per minute"), log=log) as url:
        yield url
    # A traceback in the server log means a page failed somewhere.
    assert not any("Traceback" in line for line in log), "\n".join(log[-80:])


@pytest.fixture(scope="session")
def live_server(demo_installation, tmp_path_factory):
    """One server for the tests that only read the demo."""
    with serve_demo(demo_installation, tmp_path_factory.mktemp("live") / "site") as url:
        yield url


@pytest.fixture
def own_server(demo_installation, tmp_path):
    """A server of the test's own, for a test that changes data: it starts from the demo alone,
    whatever other tests did and in whatever order they ran."""
    with serve_demo(demo_installation, tmp_path / "site") as url:
        yield url


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def base_url(live_server):
    return live_server


@pytest.fixture
def phone(browser, base_url):
    page = new_page(browser, base_url, PHONE)
    yield page
    page.context.close()


@pytest.fixture
def desktop(browser, base_url):
    page = new_page(browser, base_url, DESKTOP)
    yield page
    page.context.close()


@pytest.fixture
def phone_id(browser, base_url):
    """A phone set to Indonesian, as most shoppers' phones are."""
    page = new_page(browser, base_url, PHONE, locale="id-ID")
    yield page
    page.context.close()
