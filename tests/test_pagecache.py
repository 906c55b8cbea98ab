"""The page cache: anonymous pages rendered once, fresh after every catalogue change."""

from market.extensions import db
from market.models import Role
from market.pagecache import generation
from market.services import contacts
from tests.conftest import login, make_market, make_product, make_user, make_vendor
from tests.storefront_helpers import counting_queries


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
