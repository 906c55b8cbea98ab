"""The security baseline: CSRF, headers, cookies, error pages."""

import pytest

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
