"""The first public pages: the list of markets and a market's storefront."""

from market.extensions import db
from market.models import VendorStatus, utcnow
from tests.factories import category, make_market, make_product, make_vendor


def test_index_lists_published_markets_with_counts(client):
    market = make_market(name="Pasar Inpres Kebun Sayur", city="Balikpapan")
    make_market(name="Pasar Rahasia", published=False)
    vendor = make_vendor(market)
    make_product(vendor)
    make_product(vendor)
    make_vendor(market, published=False)
    body = client.get("/").get_data(as_text=True)
    assert "Pasar Inpres Kebun Sayur" in body
    assert "Pasar Rahasia" not in body
    assert "1 lapak" in body
    assert "2 produk" in body


def test_index_empty_state_says_what_to_do(client):
    body = client.get("/").get_data(as_text=True)
    assert "Belum ada pasar" in body


def test_market_page_shows_only_public_vendors(client):
    market = make_market()
    make_vendor(market, business_name="Amplang Pak Udin")
    make_vendor(market, business_name="Draf Rahasia", published=False)
    make_vendor(market, business_name="Tanpa Izin", consent_at=None)
    make_vendor(market, business_name="Sudah Dihapus", deleted_at=utcnow())
    make_vendor(market, business_name="Disembunyikan", status=VendorStatus.HIDDEN)
    response = client.get(f"/pasar/{market.slug}/")
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert "Amplang Pak Udin" in body
    for hidden in ("Draf Rahasia", "Tanpa Izin", "Sudah Dihapus", "Disembunyikan"):
        assert hidden not in body


def test_unpublished_market_is_404(client):
    market = make_market(published=False)
    assert client.get(f"/pasar/{market.slug}/").status_code == 404


def test_vendors_are_listed_in_walking_order(client):
    market = make_market()
    for block, number in [("B", "2"), ("A", "10"), ("A", "2"), ("A", "1")]:
        make_vendor(
            market, stall_block=block, stall_number=number, business_name=f"K{block}{number}"
        )
    body = client.get(f"/pasar/{market.slug}/").get_data(as_text=True)
    positions = [body.index(name) for name in ("KA1<", "KA2<", "KA10<", "KB2<")]
    assert positions == sorted(positions)


def test_category_chips_filter_vendors(client):
    market = make_market()
    make_vendor(market, business_name="Manik Bu Sri", categories=[category("aksesoris")])
    make_vendor(market, business_name="Amplang Pak Udin", categories=[category("makanan")])
    body = client.get(f"/pasar/{market.slug}/?kategori=makanan").get_data(as_text=True)
    assert "Amplang Pak Udin" in body
    assert "Manik Bu Sri" not in body
    assert client.get(f"/pasar/{market.slug}/?kategori=nope").status_code == 404


def test_market_page_is_paged(client):
    market = make_market()
    for n in range(30):
        make_vendor(market, business_name=f"Lapak nomor {n:02d}", stall_number=f"{n:02d}")
    first = client.get(f"/pasar/{market.slug}/").get_data(as_text=True)
    second = client.get(f"/pasar/{market.slug}/?page=2").get_data(as_text=True)
    assert "Lapak nomor 00" in first and "Lapak nomor 29" not in first
    assert "Lapak nomor 29" in second
    assert 'rel="next"' in first


def test_language_switch_is_remembered(client):
    market = make_market()
    assert "Stalls" in client.get(f"/pasar/{market.slug}/?lang=en").get_data(as_text=True)
    assert "Stalls" in client.get(f"/pasar/{market.slug}/").get_data(as_text=True)
    assert "Lapak" in client.get(f"/pasar/{market.slug}/?lang=id").get_data(as_text=True)


def test_accept_language_picks_english(client):
    market = make_market()
    body = client.get(f"/pasar/{market.slug}/", headers={"Accept-Language": "en-US,en;q=0.9"})
    assert "Stalls" in body.get_data(as_text=True)


def test_robots_keeps_back_office_out(client):
    body = client.get("/robots.txt").get_data(as_text=True)
    assert "Disallow: /manage/" in body
    assert "Disallow: /admin/" in body


def test_database_is_clean_between_tests(ctx):
    from market.models import Market

    assert db.session.query(Market).count() == 0
