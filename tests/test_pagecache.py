"""The page cache: anonymous pages rendered once, fresh after every catalogue change, and
invalidated only for the market and stall that changed (with and without Redis)."""

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from market.extensions import db
from market.models import Category, Photo, Role, VlogLink, VlogPlatform
from market.pagecache import generations
from market.services import contacts
from tests.factories import make_market, make_product, make_user, make_vendor
from tests.pages import app_on_redis, counting_queries, login


def test_second_anonymous_visit_is_served_without_queries(client):
    market = make_market()
    make_product(make_vendor(market))
    path = f"/pasar/{market.slug}/"
    first = client.get(path)
    with counting_queries() as statements:
        second = client.get(path)
    assert statements == []
    assert second.get_data() == first.get_data()
    assert "public" in second.headers["Cache-Control"]


def test_a_committed_change_shows_at_once(client):
    market = make_market()
    vendor = make_vendor(market, business_name="Amplang Lama")
    path = f"/pasar/{market.slug}/"
    assert "Amplang Lama" in client.get(path).get_data(as_text=True)
    tags = (f"stalls-{market.slug}", f"vendor-{market.slug}/{vendor.slug}", "markets")
    before = generations(tags)
    vendor.business_name = "Amplang Baru"
    db.session.commit()
    assert generations(tags) == [n + 1 for n in before]
    body = client.get(path).get_data(as_text=True)
    assert "Amplang Baru" in body and "Amplang Lama" not in body


def test_changes_that_show_nowhere_do_not_invalidate(ctx):
    market = make_market()
    vendor = make_vendor(market)
    tags = ("pasar", "markets", f"market-{market.slug}", f"stalls-{market.slug}")
    before = generations(tags)
    contacts.record_click(vendor)
    assert generations(tags) == before


def test_logged_in_people_get_fresh_private_pages(client):
    market = make_market()
    make_vendor(market)
    make_user(Role.VOLUNTEER, email="v@example.org")
    login(client, "v@example.org")
    path = f"/pasar/{market.slug}/"
    client.get(path)
    with counting_queries() as statements:
        response = client.get(path)
    assert statements, "a logged-in page must be rendered, not served from the shared cache"
    assert "private" in response.headers["Cache-Control"]
    assert "ETag" not in response.headers


def test_languages_are_cached_apart(client):
    market = make_market()
    path = f"/pasar/{market.slug}/"
    assert "Stalls" in client.get(path + "?lang=en").get_data(as_text=True)
    assert "Lapak" in client.get(path + "?lang=id").get_data(as_text=True)
    assert "Stalls" in client.get(path + "?lang=en").get_data(as_text=True)


def test_the_cache_can_be_turned_off(app, client):
    market = make_market()
    path = f"/pasar/{market.slug}/"
    app.config["MARKET_PAGE_CACHE"] = False
    try:
        client.get(path)
        with counting_queries() as statements:
            response = client.get(path)
    finally:
        app.config["MARKET_PAGE_CACHE"] = True
    assert statements
    assert response.status_code == 200


def test_cached_answers_carry_the_same_headers_and_no_marker(client):
    market = make_market()
    path = f"/pasar/{market.slug}/"
    first = client.get(path)
    second = client.get(path)
    assert "X-Pasar-Page-Cache" not in first.headers and "X-Pasar-Page-Cache" not in second.headers
    for header in ("Content-Security-Policy", "X-Content-Type-Options", "ETag", "Cache-Control"):
        assert second.headers[header] == first.headers[header], header
    again = client.get(path, headers={"If-None-Match": second.headers["ETag"]})
    assert again.status_code == 304 and again.get_data() == b""


def test_responses_that_set_a_cookie_are_not_shared(client):
    market = make_market()
    path = f"/pasar/{market.slug}/?lang=en"
    assert "Set-Cookie" in client.get(path).headers
    # A visitor without the cookie asking the same URL still gets their cookie.
    assert "Set-Cookie" in client.application.test_client().get(path).headers


def test_compressed_and_plain_answers_are_cached_apart(client):
    market = make_market()
    path = f"/pasar/{market.slug}/"
    plain = client.get(path).get_data()
    packed = client.get(path, headers={"Accept-Encoding": "br"})
    assert packed.headers.get("Content-Encoding") == "br"
    assert client.get(path).get_data() == plain


# --- invalidation scoped to the market and stall that changed --------------------------------


@pytest.fixture(params=["in-process", "redis"])
def site(request, app, ctx):
    """Two markets, A and B, each with two stalls, served by an app whose page cache lives in
    the process or in Redis, with the X-Cache header on so that hits are seen, not assumed."""
    served = app_on_redis(app) if request.param == "redis" else app
    served.config["MARKET_CACHE_DEBUG_HEADER"] = True
    with served.app_context():
        markets = {}
        for name in ("a", "b"):
            market = make_market(slug=f"pasar-{name}")
            stalls = [make_vendor(market, slug=f"lapak-{name}{n}") for n in (1, 2)]
            products = [make_product(stall, slug="amplang", name="Amplang") for stall in stalls]
            markets[name] = (market, stalls, products)
        yield served, served.test_client(), markets
    served.config["MARKET_CACHE_DEBUG_HEADER"] = False


def market_pages(slug: str) -> list[str]:
    return [
        f"/pasar/{slug}/",
        f"/pasar/{slug}/cari?q=amplang",
        f"/pasar/{slug}/cetak/direktori",
        f"/sitemap/{slug}/produk-1.xml",
        f"/api/v1/markets/{slug}",
        f"/api/v1/markets/{slug}/vendors",
        f"/api/v1/markets/{slug}/products",
    ]


def stall_pages(slug: str, stall: str) -> list[str]:
    return [
        f"/pasar/{slug}/lapak/{stall}/",
        f"/pasar/{slug}/lapak/{stall}/amplang",
        f"/pasar/{slug}/lapak/{stall}/poster",
        f"/api/v1/markets/{slug}/vendors/{stall}",
        f"/api/v1/markets/{slug}/vendors/{stall}/products/amplang",
    ]


CROSS_MARKET = ["/", "/sitemap.xml", "/api/v1/markets"]


def all_pages() -> list[str]:
    pages = list(CROSS_MARKET)
    for name in ("a", "b"):
        pages += market_pages(f"pasar-{name}")
        for n in (1, 2):
            pages += stall_pages(f"pasar-{name}", f"lapak-{name}{n}")
    return pages


def answered_by(client, paths: list[str]) -> dict[str, str]:
    outcomes = {}
    for path in paths:
        response = client.get(path)
        assert response.status_code == 200, path
        outcomes[path] = response.headers.get("X-Cache")
    return outcomes


def rename_stall(markets):
    markets["b"][1][0].business_name = "Amplang Baru"


def reprice_product(markets):
    markets["b"][2][0].price_idr = 31000


def add_vlog(markets):
    stall = markets["b"][1][0]
    db.session.add(
        VlogLink(
            vendor_id=stall.id, url="https://youtu.be/dQw4w9WgXcQ", platform=VlogPlatform.YOUTUBE
        )
    )


def add_product_photo(markets):
    product = markets["b"][2][0]
    db.session.add(
        Photo(
            product_id=product.id,
            content_hash="0" * 64,
            original_bytes=1000,
            width=400,
            height=300,
            variants=[400],
        )
    )


@pytest.mark.parametrize("change", [rename_stall, reprice_product, add_vlog, add_product_photo])
def test_a_stall_edit_in_market_b_leaves_market_a_served_from_the_cache(site, change):
    _app, client, markets = site
    pages = all_pages()
    answered_by(client, pages)
    assert set(answered_by(client, pages).values()) == {"HIT"}

    change(markets)
    db.session.commit()

    outcomes = answered_by(client, pages)
    edited = market_pages("pasar-b") + stall_pages("pasar-b", "lapak-b1") + CROSS_MARKET
    untouched = [
        *market_pages("pasar-a"),
        *stall_pages("pasar-a", "lapak-a1"),
        *stall_pages("pasar-a", "lapak-a2"),
        # Another stall of the same market shows nothing of the edited one.
        *stall_pages("pasar-b", "lapak-b2"),
    ]
    assert {path: outcomes[path] for path in edited} == dict.fromkeys(edited, "MISS")
    assert {path: outcomes[path] for path in untouched} == dict.fromkeys(untouched, "HIT")


def test_the_edited_market_shows_the_change_at_once(site):
    _app, client, markets = site
    stall_page = "/pasar/pasar-b/lapak/lapak-b1/"
    for path in ("/pasar/pasar-b/", stall_page, "/"):
        client.get(path)
    markets["b"][1][0].business_name = "Amplang Baru"
    db.session.commit()
    for path in ("/pasar/pasar-b/", stall_page, "/api/v1/markets/pasar-b/vendors"):
        assert "Amplang Baru" in client.get(path).get_data(as_text=True), path


def test_a_market_edit_refreshes_all_its_pages_and_no_other_market(site):
    _app, client, markets = site
    pages = all_pages()
    answered_by(client, pages)
    markets["b"][0].name = "Pasar Baru"
    db.session.commit()
    outcomes = answered_by(client, pages)
    b_pages = [p for p in pages if "pasar-b" in p]
    a_pages = [p for p in pages if "pasar-a" in p]
    assert {p: outcomes[p] for p in b_pages + CROSS_MARKET} == dict.fromkeys(
        b_pages + CROSS_MARKET, "MISS"
    )
    assert {p: outcomes[p] for p in a_pages} == dict.fromkeys(a_pages, "HIT")
    assert "Pasar Baru" in client.get("/pasar/pasar-b/lapak/lapak-b2/").get_data(as_text=True)


def test_a_category_rename_refreshes_every_market(site):
    _app, client, _markets = site
    pages = all_pages()
    answered_by(client, pages)
    shown = db.session.query(Category).first()
    shown.name_en += " and more"
    db.session.commit()
    assert set(answered_by(client, pages).values()) == {"MISS"}


def test_the_hit_counts_per_page_kind_are_reported(site):
    _app, client, _markets = site
    zero = {"hit": 0, "miss": 0}
    before = client.get("/_pagecache/stats").get_json()
    for _ in range(3):
        client.get("/pasar/pasar-a/")
    client.get("/pasar/pasar-a/lapak/lapak-a1/")
    after = client.get("/_pagecache/stats").get_json()
    counted = {
        kind: {k: after[kind][k] - before.get(kind, zero)[k] for k in zero}
        for kind in ("storefront.market", "storefront.vendor")
    }
    assert counted == {
        "storefront.market": {"hit": 2, "miss": 1},
        "storefront.vendor": {"hit": 0, "miss": 1},
    }


def test_the_debug_header_and_counts_are_off_unless_asked_for(client):
    market = make_market()
    path = f"/pasar/{market.slug}/"
    client.get(path)
    assert "X-Cache" not in client.get(path).headers
    assert client.get("/_pagecache/stats").status_code == 404


# --- the purge hook --------------------------------------------------------------------------


class PurgeListener(BaseHTTPRequestHandler):
    received: list[str]

    def do_PURGE(self):
        self.server.received.append(self.headers["Surrogate-Key"])
        self.send_response(200)
        self.end_headers()

    def log_message(self, *_args):
        pass


@pytest.fixture
def purge_listener(app):
    server = ThreadingHTTPServer(("127.0.0.1", 0), PurgeListener)
    server.received = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    server.url = f"http://127.0.0.1:{server.server_port}/"
    yield server
    app.config["MARKET_PURGE_URL"] = ""
    server.shutdown()
    server.server_close()


def wait_for(condition, seconds: float = 5) -> None:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.02)


def test_a_save_purges_the_changed_stall_and_market_at_the_cache_in_front(app, ctx, purge_listener):
    a, b = make_market(slug="pasar-a"), make_market(slug="pasar-b")
    make_vendor(a, slug="lapak-a1")
    stall = make_vendor(b, slug="lapak-b1")
    app.config["MARKET_PURGE_URL"] = purge_listener.url
    stall.business_name = "Amplang Baru"
    db.session.commit()
    wait_for(lambda: purge_listener.received)
    assert purge_listener.received == ["markets stalls-pasar-b vendor-pasar-b/lapak-b1"]


def test_an_unreachable_cache_in_front_is_logged_and_the_save_stands(app, ctx, caplog):
    import socket

    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    app.config["MARKET_PURGE_URL"] = f"http://127.0.0.1:{port}/"
    try:
        started = time.monotonic()
        market = make_market()
        assert time.monotonic() - started < 1, "a save must not wait for the purge"
        wait_for(lambda: "purge of" in caplog.text)
    finally:
        app.config["MARKET_PURGE_URL"] = ""
    assert f"market-{market.slug}" in caplog.text and "failed" in caplog.text
    assert db.session.get(type(market), market.id).name == market.name
