"""The printable kit: QR codes, stall posters, hang tags, the market directory, and the
coordinators' page that prints every poster of a market (or of one day) at once."""

from datetime import timedelta

import pytest

from market.extensions import db
from market.models import VendorStatus, utcnow
from market.qr import qr_svg
from tests.factories import (
    PASSWORD,
    ROLES,
    category,
    make_market,
    make_person,
    make_product,
    make_user,
    make_vendor,
)
from tests.pages import login, product_url, vendor_url


def test_qr_svg_scales_and_carries_no_inline_style():
    svg = str(qr_svg("https://pasar.example.id/pasar/x/lapak/y/", "Lapak <Y>"))
    assert svg.startswith('<svg viewBox="0 0 ') and 'class="qr"' in svg
    assert "style=" not in svg and "width=" not in svg
    assert "<title>Lapak &lt;Y&gt;</title>" in svg


def test_qr_files_of_market_vendor_and_product(client):
    vendor = make_vendor(make_market())
    product = make_product(vendor)
    for path in (
        f"/pasar/{vendor.market.slug}/qr.svg",
        vendor_url(vendor) + "qr.svg",
        product_url(product) + "/qr.svg",
    ):
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.mimetype == "image/svg+xml"
        assert response.get_data(as_text=True).startswith('<svg xmlns="http://www.w3.org/2000/svg"')


def test_qr_of_non_public_records_is_404(client):
    hidden = make_vendor(make_market(), status=VendorStatus.HIDDEN)
    product = make_product(make_vendor(make_market()), deleted_at=utcnow())
    assert client.get(vendor_url(hidden) + "qr.svg").status_code == 404
    assert client.get(product_url(product) + "/qr.svg").status_code == 404
    assert client.get(f"/pasar/{make_market(published=False).slug}/qr.svg").status_code == 404


def test_stall_poster(client):
    market = make_market(name="Pasar Inpres Kebun Sayur")
    vendor = make_vendor(market, business_name="Manik Dayak", stall_block="A", stall_number="3")
    body = client.get(vendor_url(vendor) + "poster?lang=en").get_data(as_text=True)
    for text in ("Pasar Inpres Kebun Sayur", "Manik Dayak", "Blok A No. 3", 'class="qr"'):
        assert text in body
    assert "Scan to see the catalogue & chat on WhatsApp" in body
    assert f"localhost{vendor_url(vendor)}" in body
    assert "poster-a5" in body and "css/print" in body and 'content="noindex"' in body
    a4 = client.get(vendor_url(vendor) + "poster?ukuran=a4").get_data(as_text=True)
    assert "poster-a4" in a4


def test_hang_tags_carry_name_price_and_a_qr_per_product(client):
    vendor = make_vendor(make_market())
    products = [make_product(vendor, name=f"Gelang {n}", price_idr=25000) for n in range(3)]
    make_product(vendor, name="Sudah dihapus", deleted_at=utcnow())
    body = client.get(f"/pasar/{vendor.market.slug}/cetak/label/{vendor.slug}").get_data(True)
    assert body.count('class="tag"') == 3
    assert body.count('class="qr"') == 3
    assert body.count("Rp25.000") == 3
    assert "Sudah dihapus" not in body
    for product in products:
        assert f"localhost{product_url(product)}" not in body  # in the QR only
        assert product.name in body


def test_market_directory_lists_stalls_by_block_with_one_qr(client):
    market = make_market()
    make_vendor(market, business_name="Bravo", stall_block="B", stall_number="2")
    make_vendor(market, business_name="Alfa 10", stall_block="A", stall_number="10")
    make_vendor(
        market,
        business_name="Alfa 2",
        stall_block="A",
        stall_number="2",
        categories=[category("kain")],
    )
    make_vendor(market, business_name="Draf", stall_block="A", published=False)
    body = client.get(f"/pasar/{market.slug}/cetak/direktori?lang=en").get_data(as_text=True)
    order = [body.index(text) for text in ("Block A", "Alfa 2", "Alfa 10", "Block B", "Bravo")]
    assert order == sorted(order)
    assert body.count('class="qr"') == 1
    assert "Draf" not in body
    assert "Textiles" in body


@pytest.mark.parametrize("role", ROLES)
def test_only_the_markets_coordinators_and_admins_print_all_posters(client, role):
    market = make_market()
    vendor = make_vendor(market)
    user = make_person(role, market, vendor)
    if user is not None:
        login(client, user.login, PASSWORD)
    response = client.get(f"/pasar/{market.slug}/cetak")
    allowed = role in ("coordinator", "admin")
    assert response.status_code == (200 if allowed else 404)
    if allowed:
        assert response.headers["Cache-Control"] == "private, no-store"
        assert vendor.business_name in response.get_data(as_text=True)


def test_print_all_posters_of_one_day(client):
    from market.models import Role

    market = make_market()
    today = make_vendor(market, business_name="Hari Ini")
    yesterday = make_vendor(market, business_name="Kemarin")
    yesterday.created_at = utcnow() - timedelta(days=1)
    make_vendor(market, business_name="Belum Terbit", published=False)
    db.session.commit()
    login(client, make_user(Role.ADMIN).login)
    local_day = today.created_at.astimezone(__import__("zoneinfo").ZoneInfo("Asia/Makassar"))
    body = client.get(
        f"/pasar/{market.slug}/cetak?tanggal={local_day.date().isoformat()}&lang=en"
    ).get_data(as_text=True)
    assert "Hari Ini" in body and "Kemarin" not in body
    assert body.count('class="poster ') == 1
    assert "1 more stall is not published yet" in body
    everything = client.get(f"/pasar/{market.slug}/cetak").get_data(as_text=True)
    assert everything.count('class="poster ') == 2
    # A date that cannot be read shows every stall instead of failing.
    assert client.get(f"/pasar/{market.slug}/cetak?tanggal=kemarin").status_code == 200


def test_an_unpublished_market_can_be_printed_by_its_coordinator_but_not_seen(client):
    from market.models import Role

    market = make_market(published=False)
    make_vendor(market)
    assert client.get(f"/pasar/{market.slug}/cetak/direktori").status_code == 404
    login(client, make_user(Role.ADMIN).login)
    assert client.get(f"/pasar/{market.slug}/cetak").status_code == 200


def test_posters_of_non_public_vendors_are_404(client):
    vendor = make_vendor(make_market(), published=False)
    assert client.get(vendor_url(vendor) + "poster").status_code == 404
    assert client.get(f"/pasar/{vendor.market.slug}/cetak/label/{vendor.slug}").status_code == 404


# --- printing for the day, across the coordinator's markets -------------------------------------


def _print(client, query: str = ""):
    return client.get(f"/admin/print?lang=en{query}")


def test_the_days_print_job_holds_the_stalls_published_today_in_my_markets(client):
    from market.models import Role, StaffRole
    from tests.factories import assign

    mine, also_mine, not_mine = make_market(name="Pasar A"), make_market(), make_market()
    coordinator = make_user(Role.COORDINATOR)
    assign(coordinator, mine, StaffRole.COORDINATOR)
    assign(coordinator, also_mine, StaffRole.COORDINATOR)
    today = make_vendor(mine, business_name="Terbit Hari Ini", published_at=utcnow())
    make_product(today, name="Amplang kepiting")
    other = make_vendor(also_mine, business_name="Terbit Di Pasar Lain", published_at=utcnow())
    old = make_vendor(mine, business_name="Terbit Minggu Lalu", published_at=utcnow())
    old.published_at = utcnow() - timedelta(days=7)
    make_vendor(mine, business_name="Masih Draf", published=False)
    make_vendor(not_mine, business_name="Bukan Pasar Saya", published_at=utcnow())
    db.session.commit()
    login(client, coordinator.login)

    body = _print(client).get_data(as_text=True)
    assert body.count('class="poster ') == 2
    assert "Terbit Hari Ini" in body and "Terbit Di Pasar Lain" in body
    for absent in ("Terbit Minggu Lalu", "Masih Draf", "Bukan Pasar Saya"):
        assert absent not in body
    assert "tag-sheet" not in body  # hang tags only when asked

    with_tags = _print(client, f"&market={mine.id}&tags=y").get_data(as_text=True)
    assert with_tags.count('class="poster ') == 1 and with_tags.count('class="tag-sheet"') == 1
    assert "Amplang kepiting" in with_tags and other.business_name not in with_tags

    week = (utcnow() - timedelta(days=8)).date().isoformat()
    ranged = _print(client, f"&first={week}").get_data(as_text=True)
    assert ranged.count('class="poster ') == 3 and "Terbit Minggu Lalu" in ranged
    yesterday = (utcnow() - timedelta(days=1)).date().isoformat()
    before_today = _print(client, f"&first={week}&last={yesterday}").get_data(as_text=True)
    assert before_today.count('class="poster ') == 1 and "Terbit Minggu Lalu" in before_today
    # A market one does not coordinate is not a choice: the job is refused, not widened.
    assert _print(client, f"&market={not_mine.id}").status_code == 422


def test_a_campaign_prints_the_stalls_its_markets_published_since_it_began(client):
    from market.models import Role, StaffRole
    from tests.factories import assign, make_campaign

    inside, outside = make_market(name="Pasar Kampanye"), make_market(name="Pasar Lain")
    coordinator = make_user(Role.COORDINATOR)
    for market in (inside, outside):
        assign(coordinator, market, StaffRole.COORDINATOR)
    campaign = make_campaign([inside], days_before=3)
    day_one = make_vendor(inside, business_name="Hari Pertama", published_at=utcnow())
    day_one.published_at = utcnow() - timedelta(days=3)
    make_vendor(inside, business_name="Hari Ini", published_at=utcnow())
    before = make_vendor(inside, business_name="Sebelum Kampanye", published_at=utcnow())
    before.published_at = utcnow() - timedelta(days=5)
    make_vendor(outside, business_name="Di Luar Kampanye", published_at=utcnow())
    elsewhere = make_campaign([make_market()])
    db.session.commit()
    login(client, coordinator.login)

    progress = client.get(f"/admin/campaigns/{campaign.id}?lang=en").get_data(as_text=True)
    assert f"/admin/print?campaign={campaign.id}" in progress
    body = _print(client, f"&campaign={campaign.id}").get_data(as_text=True)
    assert body.count('class="poster ') == 2
    assert "Hari Pertama" in body and "Hari Ini" in body
    assert "Sebelum Kampanye" not in body and "Di Luar Kampanye" not in body
    # Chosen days still narrow it; the campaign keeps to its markets.
    today = utcnow().date().isoformat()
    narrowed = _print(client, f"&campaign={campaign.id}&first={today}").get_data(as_text=True)
    assert narrowed.count('class="poster ') == 1 and "Hari Ini" in narrowed
    # Another coordinator's campaign is not a choice.
    assert _print(client, f"&campaign={elsewhere.id}").status_code == 422


def test_a_print_range_backwards_or_too_long_is_refused_with_a_message(client):
    from market.models import Role

    login(client, make_user(Role.ADMIN).login)
    backwards = _print(client, "&first=2026-03-10&last=2026-03-01")
    assert backwards.status_code == 422
    assert "The last day comes before the first." in backwards.get_data(as_text=True)
    assert 'value="2026-03-10"' in backwards.get_data(as_text=True)  # what was typed stays
    long = _print(client, "&first=2026-01-01&last=2026-03-01")
    assert "At most 31 days at once." in long.get_data(as_text=True)
    up_to_today = _print(client, f"&first={(utcnow() - timedelta(days=40)).date().isoformat()}")
    assert "At most 31 days at once." in up_to_today.get_data(as_text=True)
    unreadable = _print(client, "&first=kemarin")
    assert unreadable.status_code == 422
    assert "Not a valid date value." in unreadable.get_data(as_text=True)


def test_the_days_print_job_stays_within_a_few_queries(client):
    from market.models import Role
    from tests.pages import counting_queries

    market = make_market()
    for n in range(6):
        make_product(make_vendor(market, business_name=f"Lapak {n}", published_at=utcnow()))
    login(client, make_user(Role.ADMIN).login)
    with counting_queries() as statements:
        body = _print(client, "&tags=y").get_data(as_text=True)
    assert body.count('class="tag-sheet"') == 6
    # The stalls' goods and photos come in bulk; one more lists the campaigns to choose from.
    assert len(statements) <= 11, statements
