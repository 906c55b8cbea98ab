"""Security headers on every kind of response (page, JSON, redirect, error, static file served
by WhiteNoise, photo, XML, QR code, CSV and JSON downloads, a page from the page cache), HSTS
in production, and a forged Host refused when trusted hosts are configured."""

import json
from pathlib import Path

import pytest

from market import create_app
from market.extensions import db
from market.models import Role
from market.seed.demo import demo_image
from market.services.photos import process_upload, store_photo
from tests.factories import make_market, make_user, make_vendor
from tests.pages import IsolatedClient, login

STATIC = Path(__file__).resolve().parents[1] / "market" / "static"
MANIFEST = json.loads((STATIC / "cache_manifest.json").read_text())


@pytest.fixture
def site(ctx):
    market = make_market()
    vendor = make_vendor(market)
    photo = store_photo(
        process_upload(demo_image("headers", (200, 100, 30), (420, 300))), vendor_id=vendor.id
    )
    db.session.commit()
    return {"market": market, "vendor": vendor, "photo": photo}


def public_paths(site) -> dict[str, str]:
    market, vendor, photo = site["market"].slug, site["vendor"].slug, site["photo"]
    return {
        "page": "/",
        "storefront": f"/pasar/{market}/",
        "API JSON": "/api/v1/markets",
        "OpenAPI": "/api/openapi.json",
        "API error": "/api/v1/markets/no-such-market",
        "redirect": "/manage/",
        "not found": "/no/such/page",
        "refused query": "/?_method=POST",
        "method not allowed": "/auth/logout",
        "static": "/static/css/app.css",
        "fingerprinted static": "/static/" + MANIFEST["css/app.css"],
        "static script": "/static/" + MANIFEST["js/offline.js"],
        "favicon": "/favicon.ico",
        "photo": f"/media/{photo.key(photo.variants[0])}",
        "robots": "/robots.txt",
        "sitemap": "/sitemap.xml",
        "QR SVG": f"/pasar/{market}/lapak/{vendor}/qr.svg",
        "invitation": "/auth/undangan/no-such-token",
    }


def assert_baseline(response, label: str) -> None:
    headers = response.headers
    csp = headers.get("Content-Security-Policy", "")
    directives = {d.split()[0]: d.split()[1:] for d in csp.split(";") if d.strip()}
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp, label
    if "sandbox" in directives:
        # Photos: nothing may load or run in them at all.
        assert directives["default-src"] == ["'none'"], label
        assert headers["X-Frame-Options"] == "DENY", label
    else:
        assert directives["script-src"] == ["'self'"], label
        assert directives["object-src"] == ["'none'"], label
        assert directives["base-uri"] == ["'none'"], label
        assert directives["frame-ancestors"] == ["'none'"], label
    assert headers.get("X-Content-Type-Options") == "nosniff", label
    assert headers.get("Referrer-Policy") in ("strict-origin-when-cross-origin", "no-referrer"), (
        label
    )


def test_every_kind_of_response_carries_the_security_headers(client, site):
    for label, path in public_paths(site).items():
        for encoding in ("identity", "gzip, br"):
            response = client.get(path, headers={"Accept-Encoding": encoding})
            assert response.status_code < 500, (label, response.status_code)
            assert_baseline(response, f"{label} ({encoding})")


def test_a_page_from_the_page_cache_keeps_its_headers(client, site):
    path = f"/pasar/{site['market'].slug}/"
    first, second = client.get(path), client.get(path)
    assert first.get_data() == second.get_data()
    assert_baseline(second, "cached page")


def test_back_office_pages_and_downloads_carry_them(client, site):
    market = site["market"]
    make_user(Role.ADMIN, email="a@example.org")
    login(client, "a@example.org")
    for path in (
        "/manage/",
        f"/admin/markets/{market.id}",
        f"/admin/markets/{market.id}/vendors.csv",
        f"/admin/vendors/{site['vendor'].id}/data.json",
        f"/pasar/{market.slug}/cetak",
    ):
        response = client.get(path)
        assert response.status_code == 200, path
        assert_baseline(response, path)
        assert response.headers["Cache-Control"] == "private, no-store", path


def test_photos_are_served_as_exactly_webp_and_cannot_run(client, site):
    photo = site["photo"]
    response = client.get(f"/media/{photo.key(photo.variants[0])}")
    assert response.headers["Content-Type"] == "image/webp"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert response.data[:4] == b"RIFF" and response.data[8:12] == b"WEBP"
    # Only stored WebP variants are served, whatever the path asks for.
    for path in ("/media/photos/../secret_key", "/media/other/x.webp", "/media/photos/x.html"):
        assert client.get(path).status_code == 404, path


@pytest.fixture
def production(monkeypatch, database_url, tmp_path):
    monkeypatch.setenv("MARKET_ENV", "production")
    monkeypatch.setenv("MARKET_SECRET_KEY", "p" * 64)
    monkeypatch.setenv("MARKET_TRUSTED_HOSTS", "pasar.example.org,.pasar.example.org")
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": database_url,
            "MARKET_STORAGE_URL": f"file://{tmp_path / 'uploads'}",
        }
    )
    app.test_client_class = IsolatedClient
    yield app
    with app.app_context():
        db.engine.dispose()


def test_production_adds_hsts_everywhere(production, site):
    client = production.test_client()
    for label, path in public_paths(site).items():
        response = client.get(f"https://pasar.example.org{path}")
        assert "max-age=63072000" in response.headers.get("Strict-Transport-Security", ""), label
        assert_baseline(response, label)


def test_a_forged_host_is_refused_when_trusted_hosts_are_set(production, site):
    client = production.test_client()
    storefront = f"/pasar/{site['market'].slug}/"
    # Prime the page cache with the real host first: a forged one must not be served from it.
    assert client.get(f"https://pasar.example.org{storefront}").status_code == 200
    assert client.get(f"https://www.pasar.example.org{storefront}").status_code == 200
    for path in (storefront, "/", "/api/v1/markets", "/auth/login", "/sitemap.xml"):
        response = client.get(f"https://evil.example{path}")
        assert response.status_code == 400, path
        assert b"evil.example" not in response.data


def test_a_forged_host_never_reaches_other_visitors_through_the_page_cache(client, site):
    """Without MARKET_PUBLIC_URL or trusted hosts, pages link to the host they were asked
    for: each host has its own cached copy, so a forged one stays with whoever forged it."""
    storefront = f"/pasar/{site['market'].slug}/"
    forged = client.get(storefront, headers={"Host": "evil.example"})
    assert b"evil.example" in forged.data
    assert b"evil.example" not in client.get(storefront).data
    assert b"evil.example" not in client.get("/api/v1/markets").data


@pytest.mark.parametrize(
    "query",
    [
        "_external=1&_scheme=javascript&_anchor=%0aalert(1)",
        "_method=POST",
        "endpoint=admin.index",
        "market_slug=another",
        "_anchor=x",
    ],
)
def test_query_parameters_that_would_steer_url_building_are_refused(client, site, query):
    """Pages rebuild their own address from the query string (the language switch, canonical
    and paging links): url_for would take these as its own arguments, or a path variable."""
    for path in (f"/pasar/{site['market'].slug}/", "/api/v1/markets/" + site["market"].slug):
        response = client.get(f"{path}?{query}&lang=en")
        assert response.status_code == 400, path
        body = response.get_data(as_text=True)
        assert "javascript" not in body and "another" not in body
    page = client.get(f"/pasar/{site['market'].slug}/?{query}&lang=en").get_data(as_text=True)
    # The 400 page's own language link keeps only the harmless parameters.
    assert f'href="/pasar/{site["market"].slug}/?lang=id"' in page
