"""The security baseline: CSRF, headers, cookies, error pages."""

import pytest
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import TooManyRequests

from market.models import Role
from tests.factories import make_user
from tests.pages import csrf_token, login


def test_post_without_csrf_token_is_refused(client):
    make_user(Role.VOLUNTEER, email="v@example.org")
    response = client.post("/auth/login", data={"login": "v@example.org", "password": "x" * 10})
    assert response.status_code == 400
    assert "Pasar" in response.get_data(as_text=True)


def test_logout_needs_post(client):
    assert client.get("/auth/logout").status_code == 405


def test_security_headers_on_every_page(client):
    response = client.get("/")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert "object-src 'none'" in csp
    assert "base-uri 'none'" in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


def test_session_cookie_is_httponly_and_lax(client):
    make_user(Role.VOLUNTEER, email="v@example.org")
    response = login(client, "v@example.org")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


@pytest.mark.parametrize(
    ("lang", "text"), [("id", "Halaman tidak ditemukan"), ("en", "Page not found")]
)
def test_error_pages_look_like_the_site_in_both_languages(client, lang, text):
    response = client.get(f"/pasar/no-such-market/?lang={lang}")
    assert response.status_code == 404
    body = response.get_data(as_text=True)
    assert text in body
    assert 'class="site-header"' in body
    assert f'lang="{lang}"' in body


def test_405_page(client):
    response = client.post("/", data={"csrf_token": csrf_token(client, "/auth/login")})
    assert response.status_code == 405
    assert 'class="site-header"' in response.get_data(as_text=True)
    # RFC 9110: a 405 names the methods the resource has.
    assert set(response.headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS"}


def _api_error(response, status: int, error: str) -> None:
    assert response.status_code == status
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert body["error"] == error
    assert body["message"]


def test_api_405_is_json_and_keeps_allow(client):
    response = client.delete("/api/v1/markets")
    _api_error(response, 405, "method_not_allowed")
    assert set(response.headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS"}


def test_api_404_and_400_are_json_even_outside_a_known_route(client):
    _api_error(client.get("/api/v2/nothing-here"), 404, "not_found")
    _api_error(client.get("/api/v1/markets/no-such-market"), 404, "not_found")
    _api_error(client.get("/api/v1/markets?page=x"), 400, "bad_request")


@pytest.mark.parametrize(
    ("raised", "status", "error"),
    [
        (TooManyRequests(), 429, "too_many_requests"),
        (RuntimeError("boom"), 500, "internal_server_error"),
        (OperationalError("SELECT 1", {}, Exception("down")), 503, "service_unavailable"),
    ],
)
def test_api_errors_raised_by_a_view_are_json(app, client, monkeypatch, raised, status, error):
    def fail():
        raise raised

    monkeypatch.setattr("market.services.public.published_markets", fail)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    try:
        response = client.get("/api/v1/markets")
        page = client.get("/")
    finally:
        app.config["PROPAGATE_EXCEPTIONS"] = None
    _api_error(response, status, error)
    assert "boom" not in response.get_data(as_text=True)
    # The same failure on a page is still an HTML page.
    assert page.status_code == status
    assert 'class="site-header"' in page.get_data(as_text=True)


def test_413_page(app, client):
    app.config["MAX_CONTENT_LENGTH"] = 100
    try:
        response = client.post("/auth/login", data={"login": "x" * 500})
    finally:
        app.config["MAX_CONTENT_LENGTH"] = 64 * 1024 * 1024
    assert response.status_code == 413
    assert 'class="site-header"' in response.get_data(as_text=True)


def test_500_page_is_clean(app, client, monkeypatch):
    def boom():
        raise RuntimeError("boom")

    monkeypatch.setattr("market.services.public.published_markets", boom)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    try:
        response = client.get("/")
    finally:
        app.config["PROPAGATE_EXCEPTIONS"] = None
    assert response.status_code == 500
    body = response.get_data(as_text=True)
    assert "Traceback" not in body
    assert "boom" not in body
    assert 'class="site-header"' in body
