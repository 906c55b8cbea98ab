"""Several gunicorn workers sharing Redis: limits hold across processes."""

import http.cookiejar
import os
import re
import urllib.error
import urllib.parse
import urllib.request

import pytest

from market import create_app
from market.extensions import db
from tests.factories import make_market, make_vendor
from tests.live import app_env, flask, serve

REDIS_URL = os.environ.get("MARKET_TEST_REDIS_URL")
needs_redis = pytest.mark.skipif(
    not REDIS_URL, reason="set MARKET_TEST_REDIS_URL (e.g. redis://127.0.0.1:6379/15)"
)


def _flush(url: str) -> None:
    import redis

    redis.Redis.from_url(url).flushdb()


class Browser:
    """A cookie-keeping HTTP client with a fresh connection per request, so successive
    requests land on whichever worker accepts them."""

    def __init__(self, base: str):
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()),
            NoRedirect(),
        )

    def get(self, path: str) -> tuple[int, str]:
        return self._open(urllib.request.Request(self.base + path))

    def post(self, path: str, data: dict) -> tuple[int, str]:
        body = urllib.parse.urlencode(data).encode()
        return self._open(urllib.request.Request(self.base + path, data=body, method="POST"))

    def _open(self, request) -> tuple[int, str]:
        try:
            with self.opener.open(request, timeout=10) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def failed_login(browser: Browser, login: str) -> int:
    _status, page = browser.get("/auth/login")
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    status, _ = browser.post(
        "/auth/login", {"login": login, "password": "wrong password", "csrf_token": token}
    )
    return status


@pytest.mark.live
@needs_redis
def test_login_limit_holds_across_two_workers_sharing_redis(tmp_path):
    _flush(REDIS_URL)
    env = app_env(tmp_path, MARKET_REDIS_URL=REDIS_URL)
    flask(env, "db", "upgrade")
    flask(
        env,
        "create-user",
        "--role",
        "volunteer",
        "--email",
        "v@example.org",
        "--password",
        "pasar kebun sayur pagi",
    )
    log: list[str] = []
    with serve(env, workers=2, threads=2, log=log) as url:
        statuses = [failed_login(Browser(url), "v@example.org") for _ in range(6)]
    assert statuses == [200] * 5 + [429]
    assert not any("without MARKET_REDIS_URL" in line for line in log)


@pytest.mark.live
def test_two_workers_without_redis_warn_loudly(tmp_path):
    env = app_env(tmp_path)
    env.pop("MARKET_REDIS_URL", None)
    flask(env, "db", "upgrade")
    log: list[str] = []
    with serve(env, workers=2, threads=1, log=log):
        pass
    assert any("2 gunicorn workers without MARKET_REDIS_URL" in line for line in log)


@pytest.mark.live
@needs_redis
def test_an_edit_reaches_every_worker_through_the_shared_cache(tmp_path):
    _flush(REDIS_URL)
    env = app_env(tmp_path, MARKET_REDIS_URL=REDIS_URL)
    flask(env, "db", "upgrade")
    # The edit is made by another process (as another app server would), through the ORM.
    editor = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": env["MARKET_DATABASE_URL"],
            "MARKET_STORAGE_URL": env["MARKET_STORAGE_URL"],
            "MARKET_REDIS_URL": REDIS_URL,
            "CACHE_TYPE": "RedisCache",
            "CACHE_REDIS_URL": REDIS_URL,
            "SECRET_KEY": env["MARKET_SECRET_KEY"],
        }
    )
    with editor.app_context():
        vendor = make_vendor(make_market(), business_name="Amplang Lama")
        path = f"/pasar/{vendor.market.slug}/"
        with serve(env, workers=2, threads=2) as url:
            # Warm the shared cache: several fresh connections reach both workers.
            for _ in range(6):
                assert "Amplang Lama" in Browser(url).get(path)[1]
            vendor.business_name = "Amplang Baru"
            db.session.commit()
            pages = [Browser(url).get(path)[1] for _ in range(6)]
        db.engine.dispose()
    assert all("Amplang Baru" in page and "Amplang Lama" not in page for page in pages)
