"""The coordinators' pages: who may open each route, markets, staff, progress reports,
activity, moderation and restore."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from market.extensions import db
from market.models import (
    ContactClick,
    Market,
    MarketStaff,
    Product,
    Role,
    StaffRole,
    Vendor,
    VendorStatus,
    utcnow,
)
from market.services import imports, reports
from market.services.contacts import today
from market.services.moderation import publish_vendor
from market.services.vendors import delete_vendor, register_vendor, update_vendor
from tests.factories import (
    ROLES,
    make_market,
    make_product,
    make_ready_vendor,
    make_user,
    make_vendor,
    make_world,
)
from tests.pages import COORDINATORS, Route, check_access, csrf_token, login, routes_of
from tests.test_privacy_views import ROUTES as PERSONAL_DATA_ROUTES

OF_THIS_MARKET = frozenset({"coordinator", "admin"})
CSV = b"business_name,stall_number\nToko Impor,77\n"


def market_path(suffix: str = ""):
    return lambda world: f"/admin/markets/{world.market.id}{suffix}"


def staff_id(world) -> int:
    volunteer = world.people["volunteer"]
    return db.session.scalar(
        select(MarketStaff.id).where(
            MarketStaff.user_id == volunteer.id, MarketStaff.market_id == world.market.id
        )
    )


def product_id(world) -> int:
    return db.session.scalar(select(Product.id).where(Product.vendor_id == world.vendor.id))


MARKET_FIELDS = {"name": "Pasar Baru", "city": "Samarinda", "province": "Kalimantan Timur"}


ADMIN_ONLY = frozenset({"admin"})


def person_path(suffix: str = ""):
    """The account page of the world's volunteer."""
    return lambda w: f"/admin/people/{w.people['volunteer'].id}{suffix}"


ROUTES = [
    Route("admin.index", "GET", lambda w: "/admin/", COORDINATORS, COORDINATORS),
    Route("admin.market_new", "GET", lambda w: "/admin/markets/new", COORDINATORS, COORDINATORS),
    Route(
        "admin.market_new",
        "POST",
        lambda w: "/admin/markets/new",
        COORDINATORS,
        COORDINATORS,
        lambda w: dict(MARKET_FIELDS),
    ),
    Route("admin.market", "GET", market_path(), COORDINATORS, OF_THIS_MARKET),
    Route("admin.market_edit", "GET", market_path("/edit"), COORDINATORS, OF_THIS_MARKET),
    Route(
        "admin.market_edit",
        "POST",
        market_path("/edit"),
        COORDINATORS,
        OF_THIS_MARKET,
        lambda w: dict(MARKET_FIELDS),
    ),
    Route("admin.staff", "GET", market_path("/staff"), COORDINATORS, OF_THIS_MARKET),
    Route(
        "admin.staff",
        "POST",
        market_path("/staff"),
        COORDINATORS,
        OF_THIS_MARKET,
        lambda w: {"email": w.people["other_volunteer"].email},
    ),
    Route(
        "admin.staff_remove",
        "POST",
        lambda w: f"/admin/markets/{w.market.id}/staff/{staff_id(w)}/remove",
        COORDINATORS,
        OF_THIS_MARKET,
    ),
    Route(
        "admin.volunteer",
        "GET",
        lambda w: f"/admin/markets/{w.market.id}/volunteers/{w.people['volunteer'].id}",
        COORDINATORS,
        OF_THIS_MARKET,
    ),
    Route("admin.moderation", "GET", market_path("/moderation"), COORDINATORS, OF_THIS_MARKET),
    Route("admin.import_vendors", "GET", market_path("/import"), COORDINATORS, OF_THIS_MARKET),
    Route("admin.import_vendors", "POST", market_path("/import"), COORDINATORS, OF_THIS_MARKET),
    Route(
        "admin.import_commit",
        "POST",
        market_path("/import/commit"),
        COORDINATORS,
        OF_THIS_MARKET,
        lambda w: {"payload": imports.pack(CSV)},
    ),
    Route(
        "admin.sheet_import", "GET", market_path("/sheets/products"), COORDINATORS, OF_THIS_MARKET
    ),
    Route(
        "admin.sheet_import", "POST", market_path("/sheets/vendors"), COORDINATORS, OF_THIS_MARKET
    ),
    Route(
        "admin.sheet_apply",
        "POST",
        market_path("/sheets/vendors/apply"),
        COORDINATORS,
        OF_THIS_MARKET,
        lambda w: {"payload": imports.pack(b"id,business_name\n"), "fingerprint": "x"},
    ),
    Route("admin.export_vendors", "GET", market_path("/vendors.csv"), COORDINATORS, OF_THIS_MARKET),
    Route(
        "admin.export_products", "GET", market_path("/products.csv"), COORDINATORS, OF_THIS_MARKET
    ),
    Route("admin.audit", "GET", market_path("/audit"), COORDINATORS, OF_THIS_MARKET),
    Route("admin.print_batch", "GET", lambda w: "/admin/print", COORDINATORS, COORDINATORS),
    Route("admin.audit_all", "GET", lambda w: "/admin/audit", ADMIN_ONLY, ADMIN_ONLY),
    Route("admin.audit_all_csv", "GET", lambda w: "/admin/audit.csv", ADMIN_ONLY, ADMIN_ONLY),
    Route(
        "admin.staff_invite",
        "POST",
        market_path("/staff/invite"),
        COORDINATORS,
        OF_THIS_MARKET,
        lambda w: {"role": "volunteer"},
    ),
    Route("admin.person", "GET", person_path(), COORDINATORS, OF_THIS_MARKET),
    Route(
        "admin.person_deactivate",
        "POST",
        person_path("/deactivate"),
        COORDINATORS,
        OF_THIS_MARKET,
        lambda w: {"reason": "pindah kota"},
    ),
    Route(
        "admin.person_reactivate", "POST", person_path("/reactivate"), COORDINATORS, OF_THIS_MARKET
    ),
    Route("admin.person_reset", "POST", person_path("/reset"), COORDINATORS, OF_THIS_MARKET),
    # Shared by every market: any coordinator (tests/test_synonyms.py for what they do).
    Route("admin.synonym_list", "GET", lambda w: "/admin/synonyms", COORDINATORS, COORDINATORS),
    Route(
        "admin.synonym_list",
        "POST",
        lambda w: "/admin/synonyms",
        COORDINATORS,
        COORDINATORS,
        lambda w: {"phrase": "madoe", "means": "madu"},
    ),
    Route(
        "admin.synonym_remove",
        "POST",
        lambda w: "/admin/synonyms/1/remove",
        COORDINATORS,
        COORDINATORS,
    ),
    Route(
        "admin.vendor_moderate",
        "GET",
        lambda w: f"/admin/vendors/{w.vendor.id}/moderate",
        COORDINATORS,
        OF_THIS_MARKET,
    ),
    Route(
        "admin.vendor_hide",
        "POST",
        lambda w: f"/admin/vendors/{w.vendor.id}/hide",
        COORDINATORS,
        OF_THIS_MARKET,
        lambda w: {"reason": "foto palsu"},
    ),
    Route(
        "admin.vendor_restore",
        "POST",
        lambda w: f"/admin/vendors/{w.vendor.id}/restore",
        COORDINATORS,
        OF_THIS_MARKET,
    ),
    Route(
        "admin.product_hide",
        "POST",
        lambda w: f"/admin/products/{product_id(w)}/hide",
        COORDINATORS,
        OF_THIS_MARKET,
        lambda w: {"reason": "dilarang"},
    ),
    Route(
        "admin.product_unhide",
        "POST",
        lambda w: f"/admin/products/{product_id(w)}/unhide",
        COORDINATORS,
        OF_THIS_MARKET,
    ),
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("route", ROUTES, ids=lambda r: f"{r.method} {r.endpoint}")
def test_who_may_use_each_route(client, route, role):
    world = make_world()
    make_product(world.vendor)
    check_access(client, world, route, role)


def test_every_admin_route_is_in_the_matrix(app):
    # Admins' routes for a vendor's personal data have their matrix in test_privacy_views.
    covered = {(r.endpoint, r.method) for r in ROUTES + PERSONAL_DATA_ROUTES}
    assert routes_of(app, "admin") <= covered, sorted(routes_of(app, "admin") - covered)


# --- markets and staff --------------------------------------------------------------------------


def test_index_lists_only_my_markets_with_their_progress(client):
    world = make_world()
    make_ready_vendor(world.market)
    login(client, world.people["coordinator"].email)
    html = client.get("/admin/?lang=en").get_data(as_text=True)
    assert world.market.name in html and world.other_market.name not in html
    assert "2 vendors" in html


def test_a_coordinator_creates_a_market_then_assigns_a_new_volunteer(client):
    coordinator = make_user(Role.COORDINATOR)
    login(client, coordinator.email)
    page = "/admin/markets/new?lang=en"
    response = client.post(page, data={**MARKET_FIELDS, "csrf_token": csrf_token(client, page)})
    assert response.status_code == 302
    db.session.rollback()
    market = db.session.scalar(select(Market).where(Market.slug == "pasar-baru"))
    assert response.headers["Location"] == f"/admin/markets/{market.id}/staff"
    staff_page = f"/admin/markets/{market.id}/staff?lang=en"
    missing = client.post(
        staff_page,
        data={
            "email": "rina@example.org",
            "role": "volunteer",
            "csrf_token": csrf_token(client, staff_page),
        },
    )
    assert "give the name too" in missing.get_data(as_text=True)
    client.post(
        staff_page,
        data={
            "email": "rina@example.org",
            "name": "Rina",
            "role": "volunteer",
            "password": "pasar pagi yang ramai",
            "csrf_token": csrf_token(client, staff_page),
        },
    )
    html = client.get(staff_page).get_data(as_text=True)
    assert "Rina" in html and "rina@example.org" in html
    client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/auth/login")})
    assert login(client, "rina@example.org", "pasar pagi yang ramai").status_code == 302
    assert market.name in client.get("/manage/?lang=en").get_data(as_text=True)


def test_market_form_errors_keep_the_input(client):
    world = make_world()
    login(client, world.people["coordinator"].email)
    page = f"/admin/markets/{world.market.id}/edit?lang=en"
    response = client.post(
        page,
        data={
            "name": "",
            "city": "Balikpapan",
            "province": "Kaltim",
            "latitude": "north",
            "csrf_token": csrf_token(client, page),
        },
    )
    html = response.get_data(as_text=True)
    assert "This field is required." in html and "Give a number between -90 and 90." in html
    assert 'value="north"' in html


# --- progress -----------------------------------------------------------------------------------


@pytest.mark.usefixtures("en")
def test_market_summary_counts_statuses_products_photos_and_taps():
    world = make_world()
    ready = make_ready_vendor(world.market)
    publish_vendor(ready, actor=world.people["volunteer"])
    make_vendor(world.market, status=VendorStatus.HIDDEN)
    make_vendor(world.market, deleted_at=utcnow())
    make_product(world.vendor)
    db.session.add(ContactClick(vendor_id=ready.id, day=today(), count=4))
    db.session.commit()
    summary = reports.market_summary(world.market)
    assert (summary.vendors, summary.published, summary.draft, summary.hidden) == (3, 1, 1, 1)
    assert summary.deleted == 1
    assert (summary.products, summary.products_with_photo) == (4, 3)
    assert summary.with_stall_photo == 1
    assert summary.taps == 4
    assert summary.percent_published == 33


@pytest.mark.usefixtures("en")
def test_still_active_means_edited_by_the_owner_or_reached_by_shoppers_in_30_days():
    world = make_world()
    tapped = make_vendor(world.market)
    edited = make_vendor(world.market, owner=world.people["vendor"])
    quiet = make_vendor(world.market)
    old = make_vendor(world.market)
    db.session.add(ContactClick(vendor_id=tapped.id, day=today(), count=1))
    db.session.add(ContactClick(vendor_id=old.id, day=today() - timedelta(days=45), count=9))
    update_vendor(
        edited, {"business_name": "Diubah Pemilik"}, actor=world.people["vendor"], version=None
    )
    pairs = [(v.id, v.owner_id) for v in (tapped, edited, quiet, old)]
    assert reports.active_vendor_ids(world.market, pairs) == {tapped.id, edited.id}


@pytest.mark.usefixtures("en")
def test_volunteer_progress_per_day_week_drafts_and_follow_ups():
    world = make_world()
    volunteer = world.people["volunteer"]
    fresh = register_vendor(world.market, {"business_name": "Baru"}, actor=volunteer)
    stale = register_vendor(world.market, {"business_name": "Lama"}, actor=volunteer)
    stale.created_at = utcnow() - timedelta(days=5)
    ready = make_ready_vendor(world.market, onboarded_by_id=volunteer.id)
    publish_vendor(ready, actor=volunteer)
    rows = {p.user.id: p for p in reports.volunteer_progress(world.market)}
    mine = rows[volunteer.id]
    assert (mine.today, mine.week, mine.total) == (2, 3, 3)
    assert (mine.drafts, mine.follow_up, mine.published) == (2, 1, 1)
    assert rows[world.people["coordinator"].id].total == 0
    assert [v.id for v in reports.follow_ups(world.market)] == [stale.id]
    per_day = reports.onboarded_per_day(world.market, user_id=volunteer.id)
    assert len(per_day) == 14 and per_day[-1] == (reports.local_today(), 2)
    assert sum(count for _day, count in per_day) == 3
    per_week = reports.onboarded_per_week(world.market, user_id=volunteer.id)
    assert len(per_week) == 8 and sum(count for _week, count in per_week) == 3
    assert fresh.id in {v.id for v in reports.open_drafts(world.market, volunteer.id)}


def test_market_report_page_shows_tables_and_bars(client):
    world = make_world()
    ready = make_ready_vendor(world.market, onboarded_by_id=world.people["volunteer"].id)
    ready.status = VendorStatus.PUBLISHED
    db.session.add(ContactClick(vendor_id=ready.id, day=today(), count=3))
    db.session.commit()
    login(client, world.people["coordinator"].email)
    html = client.get(f"/admin/markets/{world.market.id}?lang=en").get_data(as_text=True)
    assert "50% published" in html
    assert "<meter" in html and "<progress" in html
    assert world.people["volunteer"].name in html
    assert f"/pasar/{world.market.slug}/cetak" in html
    assert "Most contacted by shoppers" in html and ready.business_name in html
    person = client.get(
        f"/admin/markets/{world.market.id}/volunteers/{world.people['volunteer'].id}?lang=en"
    )
    assert person.status_code == 200 and "Per week" in person.get_data(as_text=True)
    db.session.rollback()
    nobody = make_user(Role.VOLUNTEER)
    assert client.get(f"/admin/markets/{world.market.id}/volunteers/{nobody.id}").status_code == 404


# --- moderation ---------------------------------------------------------------------------------


def test_coordinator_hides_a_vendor_and_a_product_with_a_reason(client):
    world = make_world()
    vendor = make_ready_vendor(world.market)
    vendor.status = VendorStatus.PUBLISHED
    db.session.commit()
    product = make_product(vendor, name="Barang Terlarang")
    login(client, world.people["coordinator"].email)
    page = f"/admin/vendors/{vendor.id}/moderate?lang=en"
    token = csrf_token(client, page)
    refused = client.post(f"/admin/vendors/{vendor.id}/hide", data={"csrf_token": token})
    assert refused.status_code == 302
    assert "Say why" in client.get(page).get_data(as_text=True)
    client.post(
        f"/admin/products/{product.id}/hide", data={"reason": "ilegal", "csrf_token": token}
    )
    client.post(
        f"/admin/vendors/{vendor.id}/hide", data={"reason": "penipuan", "csrf_token": token}
    )
    db.session.rollback()
    assert db.session.get(Vendor, vendor.id).status == VendorStatus.HIDDEN
    assert db.session.get(Product, product.id).hidden_reason == "ilegal"
    html = client.get(f"/admin/markets/{world.market.id}/moderation?lang=en").get_data(as_text=True)
    assert "penipuan" in html and "Barang Terlarang" in html
    assert client.get(f"/pasar/{world.market.slug}/lapak/{vendor.slug}/").status_code == 404


def test_coordinator_restores_a_deleted_vendor(client):
    world = make_world()
    delete_vendor(world.vendor, actor=world.people["volunteer"])
    login(client, world.people["coordinator"].email)
    page = f"/admin/markets/{world.market.id}/moderation?lang=en"
    html = client.get(page).get_data(as_text=True)
    assert world.vendor.business_name in html
    client.post(
        f"/admin/vendors/{world.vendor.id}/restore", data={"csrf_token": csrf_token(client, page)}
    )
    db.session.rollback()
    assert db.session.get(Vendor, world.vendor.id).deleted_at is None
    assert world.vendor.business_name in client.get("/manage/").get_data(as_text=True)


def test_removing_staff_takes_their_access_away(client):
    world = make_world()
    login(client, world.people["coordinator"].email)
    page = f"/admin/markets/{world.market.id}/staff?lang=en"
    client.post(
        f"/admin/markets/{world.market.id}/staff/{staff_id(world)}/remove",
        data={"csrf_token": csrf_token(client, page)},
    )
    db.session.rollback()
    assert db.session.get(MarketStaff, staff_id(world) or 0) is None
    client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/auth/login")})
    login(client, world.people["volunteer"].email)
    assert client.get(f"/manage/vendors/{world.vendor.id}").status_code == 404


def test_coordinator_of_two_markets_sees_both(client):
    world = make_world()
    extra = make_market()
    db.session.add(
        MarketStaff(market=extra, user=world.people["coordinator"], role=StaffRole.COORDINATOR)
    )
    db.session.commit()
    login(client, world.people["coordinator"].email)
    html = client.get("/admin/?lang=en").get_data(as_text=True)
    assert world.market.name in html and extra.name in html
