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
