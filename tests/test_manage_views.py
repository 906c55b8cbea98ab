"""The volunteers' pages: who may open each route, the home list, registering a vendor,
the checklist, consent, publishing; GET never changes data and every POST needs CSRF."""

import re

import pytest
from sqlalchemy import func, select

from market.extensions import db
from market.models import AuditEvent, Role, Vendor, VendorStatus
from market.services.consent import CONSENT_VERSION, consent_text
from market.services.vendors import delete_vendor
from tests.factories import (
    EVERYONE,
    ROLES,
    assign,
    make_photo,
    make_ready_vendor,
    make_user,
    make_vendor,
    make_world,
)
from tests.pages import OF_THIS_MARKET, STAFF, Route, check_access, csrf_token, login, routes_of

OWNER_AND_STAFF = OF_THIS_MARKET | {"vendor"}


def vendor_path(suffix: str = ""):
    return lambda world: f"/manage/vendors/{world.vendor.id}{suffix}"


ROUTES = [
    Route("manage.home", "GET", lambda w: "/manage/", EVERYONE, EVERYONE),
    Route("manage.vendor_new", "GET", lambda w: "/manage/vendors/new", STAFF, STAFF),
    Route(
        "manage.vendor_new",
        "POST",
        lambda w: "/manage/vendors/new",
        STAFF,
        # Staff of another market get the form back: the market is not among their choices.
        STAFF,
        lambda w: {"market": w.market.id, "business_name": "Toko Baru", "stall_number": "99"},
    ),
    Route("manage.vendor", "GET", vendor_path(), EVERYONE, OWNER_AND_STAFF),
    Route("manage.vendor_edit", "GET", vendor_path("/edit"), EVERYONE, OWNER_AND_STAFF),
    Route(
        "manage.vendor_edit",
        "POST",
        vendor_path("/edit"),
        EVERYONE,
        OWNER_AND_STAFF,
        lambda w: {"business_name": "Nama Baru", "version": w.vendor.version},
    ),
    Route("manage.consent", "GET", vendor_path("/consent"), STAFF, OF_THIS_MARKET),
    Route(
        "manage.consent",
        "POST",
        vendor_path("/consent"),
        STAFF,
        OF_THIS_MARKET,
        lambda w: {"agreed": "y", "language": "id"},
    ),
    Route(
        "manage.withdraw_consent",
        "POST",
        vendor_path("/consent/withdraw"),
        EVERYONE,
        OWNER_AND_STAFF,
    ),
    Route("manage.publish", "POST", vendor_path("/publish"), STAFF, OF_THIS_MARKET),
    Route("manage.unpublish", "POST", vendor_path("/unpublish"), STAFF, OF_THIS_MARKET),
    Route("manage.hide", "POST", vendor_path("/hide"), STAFF, OF_THIS_MARKET),
    Route("manage.delete", "POST", vendor_path("/delete"), STAFF, OF_THIS_MARKET),
    Route("manage.invitation", "GET", vendor_path("/invitation"), STAFF, OF_THIS_MARKET),
    Route("manage.invite", "POST", vendor_path("/invitation"), STAFF, OF_THIS_MARKET),
    Route(
        "manage.close",
        "POST",
        vendor_path("/closed"),
        EVERYONE,
        OWNER_AND_STAFF,
        lambda w: {f"closed-{w.vendor.id}-note": "Libur"},
    ),
    Route("manage.reopen", "POST", vendor_path("/open"), EVERYONE, OWNER_AND_STAFF),
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("route", ROUTES, ids=lambda r: f"{r.method} {r.endpoint}")
def test_who_may_use_each_route(client, route, role):
    world = make_world()
    check_access(client, world, route, role)


def test_every_manage_route_is_in_the_matrix(app):
    covered = {(r.endpoint, r.method) for r in ROUTES}
    assert routes_of(app, "manage") <= covered, sorted(routes_of(app, "manage") - covered)


def test_staff_of_another_market_cannot_register_into_this_one(client):
    world = make_world()
    login(client, world.people["other_volunteer"].email)
    page = "/manage/vendors/new"
    client.post(
        page,
        data={
            "market": world.market.id,
            "business_name": "Penyusup",
            "csrf_token": csrf_token(client, page),
        },
    )
    db.session.rollback()
    assert db.session.scalar(select(Vendor).where(Vendor.business_name == "Penyusup")) is None


# --- home ---------------------------------------------------------------------------------------


def test_home_lists_the_vendors_of_my_markets_with_progress(client):
    world = make_world()
    ready = make_ready_vendor(world.market, business_name="Siap Terbit")
    login(client, world.people["volunteer"].email)
    html = client.get("/manage/?lang=en").get_data(as_text=True)
    assert "Register a vendor" in html
    assert world.vendor.business_name in html and "Siap Terbit" in html
    assert world.other_vendor.business_name not in html
    assert re.search(r'<progress value="4" max="5"', html)
    assert f'href="/manage/vendors/{ready.id}"' in html


@pytest.mark.parametrize(
    ("query", "shown", "hidden"),
    [
        ("status=published", "Terbit", "Draf"),
        ("status=draft", "Draf", "Terbit"),
        ("missing=consent", "Draf", "Terbit"),
        ("missing=photos", "Draf", "Terbit"),
        ("q=terb", "Terbit", "Draf"),
    ],
)
def test_home_filters(client, query, shown, hidden):
    world = make_world()
    make_photo(make_vendor(world.market, business_name="Terbit"))
    make_vendor(world.market, business_name="Draf", published=False)
    login(client, world.people["volunteer"].email)
    html = client.get(f"/manage/?lang=en&{query}").get_data(as_text=True)
    assert f">{shown}<" in html
    assert f">{hidden}<" not in html


def test_home_empty_states_say_what_to_do(client):
    world = make_world()
    login(client, world.people["volunteer"].email)
    html = client.get("/manage/?lang=en&status=hidden").get_data(as_text=True)
    assert "No vendor matches." in html and "Show all vendors" in html
    db.session.rollback()
    delete_vendor(world.vendor, actor=world.people["volunteer"])
    html = client.get("/manage/?lang=en").get_data(as_text=True)
    assert "tap “Register a vendor”" in html


def test_home_of_someone_without_a_market(client):
    world = make_world()
    loner = make_user(Role.VOLUNTEER)
    login(client, loner.email)
    html = client.get("/manage/?lang=en").get_data(as_text=True)
    assert "Ask your coordinator" in html
    assert world.vendor.business_name not in html


# --- registering --------------------------------------------------------------------------------


def register(client, data: dict):
    page = "/manage/vendors/new?lang=en"
    return client.post(page, data={**data, "csrf_token": csrf_token(client, page)})


def test_register_in_one_form_saves_a_draft(client):
    world = make_world()
    login(client, world.people["volunteer"].email)
    form = client.get("/manage/vendors/new?lang=en").get_data(as_text=True)
    for label in ("Business name", "Owner's name", "Block", "Stall number", "WhatsApp number"):
        assert label in form
    assert 'name="market"' in form and 'type="hidden"' in form  # one market: nothing to pick
    response = register(
        client,
        {
            "market": world.market.id,
            "business_name": "Amplang Bu Sri",
            "owner_name": "Sri",
            "stall_block": "b",
            "stall_number": "12",
            "whatsapp": "0812 9999 0001",
            "categories": ["1", "2"],
            "description": "Amplang ikan tenggiri",
        },
    )
    assert response.status_code == 302
    db.session.rollback()
    vendor = db.session.scalar(select(Vendor).where(Vendor.business_name == "Amplang Bu Sri"))
    assert response.headers["Location"] == f"/manage/vendors/{vendor.id}"
    assert (vendor.status, vendor.whatsapp, vendor.stall_block) == (
        VendorStatus.DRAFT,
        "+6281299990001",
        "B",
    )
    assert len(vendor.categories) == 2
    page = client.get(response.headers["Location"] + "?lang=en").get_data(as_text=True)
    assert "Draft saved: Amplang Bu Sri." in page


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"whatsapp": "0812"}, "is not a valid phone number"),
        ({"business_name": ""}, "Give the name of the business or stall."),
        ({"description": "x" * 5000}, "Use at most 1000 characters (this has 5000)."),
    ],
)
def test_bad_input_keeps_what_was_typed_and_saves_nothing(client, fields, message):
    world = make_world()
    login(client, world.people["volunteer"].email)
    typed = {
        "market": world.market.id,
        "business_name": "Toko Ketik",
        "owner_name": "Nama Yang Diketik",
        **fields,
    }
    response = register(client, typed)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert message in html
    assert 'value="Nama Yang Diketik"' in html
    db.session.rollback()
    assert db.session.scalar(select(func.count(Vendor.id))) == 2  # the world's own two


def test_duplicate_warns_links_the_existing_vendor_and_can_be_overridden(client):
    world = make_world()
    login(client, world.people["volunteer"].email)
    typed = {
        "market": world.market.id,
        "business_name": "Toko Kembar",
        "whatsapp": world.vendor.whatsapp,
    }
    html = register(client, typed).get_data(as_text=True)
    assert "already has a vendor with this WhatsApp number or stall" in html
    assert f'href="/manage/vendors/{world.vendor.id}"' in html
    assert "This is a different vendor: save anyway" in html
    assert register(client, {**typed, "allow_duplicate": "y"}).status_code == 302


def test_volunteer_of_two_markets_picks_one(client):
    world = make_world()
    assign(world.people["volunteer"], world.other_market)
    login(client, world.people["volunteer"].email)
    html = client.get(f"/manage/vendors/new?market={world.other_market.id}").get_data(as_text=True)
    assert re.search(rf'<option selected value="{world.other_market.id}"', html)


def test_edit_keeps_the_slug_and_refuses_a_stale_form(client):
    world = make_world()
    login(client, world.people["volunteer"].email)
    page = f"/manage/vendors/{world.vendor.id}/edit?lang=en"
    token = csrf_token(client, page)
    stale = world.vendor.version
    slug = world.vendor.slug
    ok = client.post(page, data={"business_name": "Baru", "version": stale, "csrf_token": token})
    assert ok.status_code == 302
    again = client.post(page, data={"business_name": "Lagi", "version": stale, "csrf_token": token})
    assert again.status_code == 200
    assert "Someone else changed this vendor" in again.get_data(as_text=True)
    db.session.rollback()
    vendor = db.session.get(Vendor, world.vendor.id)
    assert (vendor.business_name, vendor.slug) == ("Baru", slug)


# --- the checklist page -------------------------------------------------------------------------


def test_checklist_links_every_step_and_says_what_publishing_needs(client):
    world = make_world()
    login(client, world.people["volunteer"].email)
    html = client.get(f"/manage/vendors/{world.vendor.id}?lang=en").get_data(as_text=True)
    vendor_id = world.vendor.id
    for path in ("edit", "consent", "photos", "products", "vlogs", "invitation"):
        assert f'href="/manage/vendors/{vendor_id}/{path}"' in html, path
    assert "Publishing needs these steps first:" in html
    assert "Consent recorded, A photo of the stall, At least 3 products" in html
    assert f"/manage/vendors/{vendor_id}/publish" not in html
    assert "poster" not in html


def test_publish_from_the_checklist_then_print_the_poster(client):
    world = make_world()
    vendor = make_ready_vendor(world.market)
    login(client, world.people["volunteer"].email)
    page = f"/manage/vendors/{vendor.id}?lang=en"
    html = client.get(page).get_data(as_text=True)
    assert "Everything required is done" in html
    response = client.post(
        f"/manage/vendors/{vendor.id}/publish", data={"csrf_token": csrf_token(client, page)}
    )
    assert response.status_code == 302
    html = client.get(page).get_data(as_text=True)
    assert "Published: shoppers can see the stall now." in html
    assert f"/lapak/{vendor.slug}/poster" in html
    assert client.get(f"/pasar/{world.market.slug}/lapak/{vendor.slug}/").status_code == 200


def test_publishing_an_unready_vendor_explains_and_changes_nothing(client):
    world = make_world()
    login(client, world.people["volunteer"].email)
    page = f"/manage/vendors/{world.vendor.id}?lang=en"
    client.post(
        f"/manage/vendors/{world.vendor.id}/publish", data={"csrf_token": csrf_token(client, page)}
    )
    html = client.get(page).get_data(as_text=True)
    assert "Not published yet. Still to do: Consent recorded" in html
    db.session.rollback()
    assert db.session.get(Vendor, world.vendor.id).status == VendorStatus.DRAFT


def test_the_owner_sees_their_goods_not_the_checklist_nor_staff_buttons(client):
    world = make_world()
    login(client, world.people["vendor"].phone)
    html = client.get(f"/manage/vendors/{world.vendor.id}?lang=en").get_data(as_text=True)
    assert f'href="/manage/quick/vendors/{world.vendor.id}/products"' in html
    assert "Onboarding" not in html
    assert f'href="/manage/vendors/{world.vendor.id}/consent"' not in html
    assert "/publish" not in html and f"/manage/vendors/{world.vendor.id}/delete" not in html


# --- consent ------------------------------------------------------------------------------------


def test_consent_shows_the_text_in_the_vendors_language_and_records_it(client):
    world = make_world()
    login(client, world.people["volunteer"].email)
    page = f"/manage/vendors/{world.vendor.id}/consent"
    html = client.get(page + "?lang=en").get_data(as_text=True)
    assert consent_text("id") in html
    html = client.get(page + "?lang=en&language=en").get_data(as_text=True)
    assert consent_text("en") in html
    token = csrf_token(client, page)
    refused = client.post(page + "?lang=en", data={"language": "en", "csrf_token": token})
    assert "Tick the box once the vendor has agreed." in refused.get_data(as_text=True)
    done = client.post(page, data={"language": "en", "agreed": "y", "csrf_token": token})
    assert done.status_code == 302
    db.session.rollback()
    vendor = db.session.get(Vendor, world.vendor.id)
    assert vendor.consent_by_id == world.people["volunteer"].id
    assert vendor.consent_version == CONSENT_VERSION


def test_the_vendor_withdraws_consent_and_vanishes_from_the_storefront(client):
    world = make_world()
    vendor = world.vendor
    vendor.status, vendor.consent_at = VendorStatus.PUBLISHED, db.func.now()
    db.session.commit()
    public_page = f"/pasar/{world.market.slug}/lapak/{vendor.slug}/"
    assert client.get(public_page).status_code == 200
    login(client, world.people["vendor"].phone)
    page = f"/manage/vendors/{vendor.id}?lang=en"
    client.post(
        f"/manage/vendors/{vendor.id}/consent/withdraw",
        data={"withdraw-reason": "tidak mau", "csrf_token": csrf_token(client, page)},
    )
    assert client.get(public_page).status_code == 404


def test_delete_then_the_volunteer_no_longer_edits_it(client):
    world = make_world()
    login(client, world.people["volunteer"].email)
    page = f"/manage/vendors/{world.vendor.id}?lang=en"
    response = client.post(
        f"/manage/vendors/{world.vendor.id}/delete",
        data={"delete-reason": "dobel", "csrf_token": csrf_token(client, page)},
    )
    assert response.headers["Location"] == "/manage/"
    html = client.get(page).get_data(as_text=True)
    assert "A coordinator of the market can restore it." in html
    assert client.get(f"/manage/vendors/{world.vendor.id}/edit").status_code == 404
    db.session.rollback()
    assert db.session.get(Vendor, world.vendor.id) is not None


# --- GET is safe, POST needs CSRF ---------------------------------------------------------------


def test_get_never_changes_data(client):
    world = make_world()
    login(client, world.people["admin"].email)
    before = db.session.scalar(select(func.count(AuditEvent.id)))
    for route in ROUTES:
        if route.method == "GET":
            assert client.get(route.path(world)).status_code == 200
    for route in ROUTES:
        if route.method == "POST":
            assert client.get(route.path(world)).status_code in (200, 405)
    db.session.rollback()
    assert db.session.scalar(select(func.count(AuditEvent.id))) == before
    assert db.session.get(Vendor, world.vendor.id).status == VendorStatus.DRAFT


@pytest.mark.parametrize(
    "route", [r for r in ROUTES if r.method == "POST"], ids=lambda r: r.endpoint
)
def test_every_post_needs_the_csrf_token(client, route):
    world = make_world()
    login(client, world.people["admin"].email)
    data = route.data(world) if route.data else {}
    assert client.post(route.path(world), data=data).status_code == 400
    db.session.rollback()
    assert db.session.scalar(select(func.count(AuditEvent.id))) == 0
