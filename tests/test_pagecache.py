"""The page cache: anonymous pages rendered once, fresh after every catalogue change."""

from market.extensions import db
from market.models import Role
from market.pagecache import generation
from market.services import contacts
from tests.factories import make_market, make_product, make_user, make_vendor
from tests.pages import counting_queries, login


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
    before = generation()
    vendor.business_name = "Amplang Baru"
    db.session.commit()
    assert generation() == before + 1
    body = client.get(path).get_data(as_text=True)
    assert "Amplang Baru" in body and "Amplang Lama" not in body


def test_changes_that_show_nowhere_do_not_invalidate(ctx):
    vendor = make_vendor(make_market())
    before = generation()
    contacts.record_click(vendor)
    assert generation() == before


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
