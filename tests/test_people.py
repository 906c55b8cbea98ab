"""People without the command line or email: volunteers (and, by admins, coordinators) invited
by a single-use link, accounts switched off and on with a reason, new-password links, and a
vendor's "closed until" notice on the public pages."""

import re
from datetime import timedelta
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from sqlalchemy import select

from market.extensions import db
from market.models import AccountLink, AuditEvent, Role, StaffRole, User
from market.services import account_links, accounts
from market.services.errors import Forbidden, NotFound
from market.services.reports import local_today
from tests.factories import PASSWORD, assign, make_user, make_vendor, make_world
from tests.pages import another_client, csrf_token, log_in_english, login, reload, vendor_url

NEW_PASSWORD = "pasar malam di kebun sayur"
pytestmark = pytest.mark.usefixtures("ctx")


def _post(client, path: str, data: dict | None = None, page: str = "/manage/"):
    return client.post(path, data={**(data or {}), "csrf_token": csrf_token(client, page)})


def _shown_link(html: str, path: str) -> str:
    """The token of the link a page shows in its copyable field."""
    match = re.search(rf'value="https?://[^"]*{path}/([A-Za-z0-9_-]+)"', html)
    assert match, f"no {path} link on the page"
    return match.group(1)


def _events(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


# --- switching an account off and on ----------------------------------------------------------


def test_a_switched_off_volunteer_is_logged_out_at_the_next_request_and_told_why(client, app):
    world = make_world()
    volunteer = world.people["volunteer"]
    phone = another_client(app)
    assert login(phone, volunteer.login).status_code == 302
    assert phone.get("/manage/").status_code == 200

    assert login(client, world.people["coordinator"].login).status_code == 302
    response = _post(
        client, f"/admin/people/{volunteer.id}/deactivate", {"reason": "pindah ke Samarinda"}
    )
    assert response.status_code == 302

    # The session that was open stops working at once…
    answer = phone.get("/manage/")
    assert answer.status_code == 302 and answer.headers["Location"].startswith("/auth/login")
    # …and the right password is refused with a message saying what to do.
    refused = login(phone, volunteer.login)
    assert refused.status_code == 200
    assert "dinonaktifkan" in refused.get_data(as_text=True)
    reload()
    db.session.refresh(volunteer)
    assert not volunteer.active and volunteer.deactivated_reason == "pindah ke Samarinda"
    assert volunteer.deactivated_by_id == world.people["coordinator"].id
    (event,) = _events("user.deactivate")
    assert event.record_id == volunteer.id and event.reason == "pindah ke Samarinda"
    assert event.actor_id == world.people["coordinator"].id


def test_switching_on_again_lets_the_old_password_in_and_is_audited(client, app):
    world = make_world()
    vendor_owner = world.people["vendor"]
    coordinator = world.people["coordinator"]
    accounts.deactivate(vendor_owner, actor=coordinator, reason="nomor HP dijual")
    assert login(another_client(app), vendor_owner.login).status_code == 200

    assert login(client, coordinator.login).status_code == 302
    page = client.get(f"/admin/people/{vendor_owner.id}").get_data(as_text=True)
    assert "nomor HP dijual" in page
    assert _post(client, f"/admin/people/{vendor_owner.id}/reactivate").status_code == 302
    assert login(another_client(app), vendor_owner.login).status_code == 302
    reload()
    assert [e.record_id for e in _events("user.reactivate")] == [vendor_owner.id]
    db.session.refresh(vendor_owner)
    assert vendor_owner.active and vendor_owner.deactivated_at is None


def test_a_reason_is_required_and_a_refusal_keeps_what_was_typed(client):
    world = make_world()
    volunteer = world.people["volunteer"]
    log_in_english(client, world.people["coordinator"])
    response = _post(client, f"/admin/people/{volunteer.id}/deactivate", {"reason": "   "})
    assert response.status_code == 422
    assert "Say why the account is switched off." in response.get_data(as_text=True)
    reload()
    db.session.refresh(volunteer)
    assert volunteer.active and not _events("user.deactivate")
    control = _post(client, f"/admin/people/{volunteer.id}/deactivate", {"reason": "a\x00b"})
    assert control.status_code == 422 and 'value="a' in control.get_data(as_text=True)


@pytest.mark.parametrize(
    ("target", "allowed"),
    [
        ("volunteer", True),
        ("vendor", True),
        ("other_volunteer", False),  # another market's
        ("other_vendor", False),
        ("other_coordinator", False),  # coordinators are for admins
        ("admin", False),
    ],
)
def test_a_coordinator_manages_only_volunteers_and_vendors_of_their_markets(
    client, target, allowed
):
    world = make_world()
    person = world.people[target]
    assert login(client, world.people["coordinator"].login).status_code == 302
    path = f"/admin/people/{person.id}"
    assert client.get(path).status_code == (200 if allowed else 404)
    response = _post(client, f"{path}/deactivate", {"reason": "uji"})
    assert response.status_code == (302 if allowed else 404)
    reload()
    db.session.refresh(person)
    assert person.active is not allowed


def test_a_coordinator_of_the_same_market_cannot_switch_off_another_coordinator():
    world = make_world()
    colleague = make_user(Role.COORDINATOR)
    assign(colleague, world.market, StaffRole.COORDINATOR)
    with pytest.raises(Forbidden):
        accounts.deactivate(colleague, actor=world.people["coordinator"], reason="uji")
    with pytest.raises(Forbidden):
        accounts.deactivate(
            world.people["coordinator"], actor=world.people["coordinator"], reason="x"
        )
    accounts.deactivate(colleague, actor=world.people["admin"], reason="masa tugas selesai")
    assert not colleague.active


# --- joining by link --------------------------------------------------------------------------


def test_a_coordinator_invites_a_volunteer_by_link_who_joins_once(client, app):
    world = make_world()
    assert login(client, world.people["coordinator"].login).status_code == 302
    staff_page = f"/admin/markets/{world.market.id}/staff"
    # The coordinator has no role to choose: a posted "coordinator" still makes a volunteer link.
    assert (
        'name="role"'
        not in client.get(staff_page)
        .get_data(as_text=True)
        .split("staff/invite")[1]
        .split("</form>")[0]
    )
    response = _post(client, f"{staff_page}/invite", {"role": "coordinator"}, page=staff_page)
    assert response.status_code == 302
    page = client.get(staff_page).get_data(as_text=True)
    token = _shown_link(page, "/auth/gabung")
    whatsapp = re.search(r'href="(https://wa.me/\?text=[^"]+)"', page).group(1)
    message = unquote(parse_qs(urlsplit(whatsapp.replace("&amp;", "&")).query)["text"][0])
    assert f"/auth/gabung/{token}" in message and "relawan" in message
    assert 'src="data:image/svg+xml' in page  # the QR code

    newcomer = another_client(app)
    form = newcomer.get(f"/auth/gabung/{token}")
    assert form.status_code == 200 and world.market.name in form.get_data(as_text=True)
    fields = {
        "name": "Rina Relawan",
        "login": "0812-7777-1234",
        "password": NEW_PASSWORD,
        "confirm": NEW_PASSWORD,
    }
    joined = _post(newcomer, f"/auth/gabung/{token}", fields, page=f"/auth/gabung/{token}")
    assert joined.status_code == 302
    assert newcomer.get("/manage/").status_code == 200  # logged in at once
    reload()
    user = db.session.scalar(select(User).where(User.phone == "+6281277771234"))
    assert user.role == Role.VOLUNTEER and user.name == "Rina Relawan"
    assert [(s.market_id, s.role) for s in user.staff_assignments] == [
        (world.market.id, StaffRole.VOLUNTEER)
    ]
    # Single use: the same link, even in another browser, no longer works.
    assert another_client(app).get(f"/auth/gabung/{token}").status_code == 404
    with pytest.raises(NotFound):
        account_links.join(token, name="Lagi", login="lagi@example.org", password=NEW_PASSWORD)


def test_join_form_refusals_keep_the_link_and_what_was_typed(client, en):
    world = make_world()
    made = account_links.create_join_link(
        world.market, Role.VOLUNTEER, actor=world.people["coordinator"]
    )
    client.get("/?lang=en")
    path = f"/auth/gabung/{made.token}"
    fields = {"name": "Budi", "login": world.people["volunteer"].login}
    fields |= {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    taken = _post(client, path, fields, page=path)
    assert taken.status_code == 200
    html = taken.get_data(as_text=True)
    assert "An account with this email already exists." in html and 'value="Budi"' in html
    weak = _post(
        client,
        path,
        fields | {"login": "budi@example.org", "password": "password", "confirm": "password"},
        page=path,
    )
    assert "too common" in weak.get_data(as_text=True)
    reload()
    assert db.session.get(AccountLink, made.link.id).used_at is None


def test_only_an_admin_invites_coordinators(client):
    world = make_world()
    with pytest.raises(Forbidden):
        account_links.create_join_link(
            world.market, Role.COORDINATOR, actor=world.people["coordinator"]
        )
    with pytest.raises(Forbidden):
        account_links.create_join_link(
            world.other_market, Role.VOLUNTEER, actor=world.people["coordinator"]
        )
    made = account_links.create_join_link(
        world.market, Role.COORDINATOR, actor=world.people["admin"]
    )
    user = account_links.join(
        made.token, name="Koordinator Baru", login="kb@example.org", password=NEW_PASSWORD
    )
    assert user.role == Role.COORDINATOR
    assert [s.role for s in user.staff_assignments] == [StaffRole.COORDINATOR]
    assert [e.record_id for e in _events("staff.invite")] == [world.market.id]


# --- new-password links -----------------------------------------------------------------------


def test_a_reset_link_sets_a_new_password_once_and_ends_old_sessions(client, app):
    world = make_world()
    volunteer = world.people["volunteer"]
    old_phone = another_client(app)
    assert login(old_phone, volunteer.login).status_code == 302

    assert login(client, world.people["coordinator"].login).status_code == 302
    assert _post(client, f"/admin/people/{volunteer.id}/reset").status_code == 302
    page = client.get(f"/admin/people/{volunteer.id}").get_data(as_text=True)
    token = _shown_link(page, "/auth/sandi-baru")

    path = f"/auth/sandi-baru/{token}"
    visitor = another_client(app)
    fields = {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    assert _post(visitor, path, fields, page=path).status_code == 302
    assert visitor.get("/manage/").status_code == 200
    assert old_phone.get("/manage/").status_code == 302  # the old session ended
    assert login(another_client(app), volunteer.login, NEW_PASSWORD).status_code == 302
    assert login(another_client(app), volunteer.login, PASSWORD).status_code == 200
    # Used: refused the second time.
    assert another_client(app).get(path).status_code == 404
    assert _post(another_client(app), path, fields, page="/auth/login").status_code == 404


def test_a_reset_link_expires_and_a_newer_one_cancels_it():
    world = make_world()
    coordinator, volunteer = world.people["coordinator"], world.people["volunteer"]
    first = account_links.create_reset_link(volunteer, actor=coordinator)
    second = account_links.create_reset_link(volunteer, actor=coordinator)
    assert account_links.find_usable(first.token, first.link.purpose) is None
    assert account_links.find_usable(second.token, second.link.purpose) is not None
    assert second.link.expires_at - second.link.created_at == timedelta(hours=24)
    second.link.expires_at = accounts.utcnow() - timedelta(seconds=1)
    db.session.commit()
    with pytest.raises(NotFound):
        account_links.reset(second.token, NEW_PASSWORD)
    # A reset link is not a join link, nor the other way round.
    join = account_links.create_join_link(world.market, Role.VOLUNTEER, actor=coordinator)
    with pytest.raises(NotFound):
        account_links.reset(join.token, NEW_PASSWORD)


def test_a_volunteer_can_make_a_vendors_reset_link_but_not_a_colleagues():
    world = make_world()
    volunteer = world.people["volunteer"]
    made = account_links.create_reset_link(world.people["vendor"], actor=volunteer)
    assert made.link.user_id == world.people["vendor"].id
    with pytest.raises(Forbidden):
        account_links.create_reset_link(world.people["other_vendor"], actor=volunteer)
    colleague = make_user(Role.VOLUNTEER, market=world.market)
    with pytest.raises(Forbidden):
        account_links.create_reset_link(colleague, actor=volunteer)


# --- closed until -----------------------------------------------------------------------------


def test_closed_today_shows_on_the_stall_market_and_product_pages_and_reopens(client):
    world = make_world(stocked=True)
    vendor = world.vendor
    make_vendor(world.market)  # an open neighbour: the market page lists both
    market_page = f"/pasar/{world.market.slug}/"
    product_page = f"{vendor_url(vendor)}{world.product.slug}"
    # Cached first, so the notice must also invalidate the cached pages.
    for path in (vendor_url(vendor), market_page, product_page):
        assert "Tutup" not in client.get(path).get_data(as_text=True)

    owner = another_client(client.application)
    assert login(owner, world.people["vendor"].login).status_code == 302
    until = local_today() + timedelta(days=2)
    response = _post(
        owner,
        f"/manage/vendors/{vendor.id}/closed",
        {f"closed-{vendor.id}-until": until.isoformat(), f"closed-{vendor.id}-note": "Ke Banjar"},
    )
    assert response.status_code == 302
    stall = client.get(vendor_url(vendor)).get_data(as_text=True)
    assert "Tutup sampai" in stall and "Ke Banjar" in stall
    assert client.get(market_page).get_data(as_text=True).count("Tutup sampai") == 1
    assert "Tutup sampai" in client.get(product_page).get_data(as_text=True)
    assert "Ke Banjar" in owner.get("/manage/").get_data(as_text=True)

    assert _post(owner, f"/manage/vendors/{vendor.id}/open").status_code == 302
    assert "Tutup" not in client.get(vendor_url(vendor)).get_data(as_text=True)
    reload()
    assert [
        e.action
        for e in db.session.scalars(
            select(AuditEvent)
            .where(AuditEvent.action.in_(("vendor.close", "vendor.reopen")))
            .order_by(AuditEvent.id)
        )
    ] == ["vendor.close", "vendor.reopen"]


def test_the_notice_ends_after_its_day_even_from_the_cache(client):
    world = make_world(stocked=True)
    vendor = world.vendor
    vendor.closed_until = local_today()
    db.session.commit()
    assert "Tutup hari ini" in client.get(vendor_url(vendor)).get_data(as_text=True)
    # The next day comes without any commit: the cached page must not keep the notice.
    tomorrow = accounts.utcnow() + timedelta(days=1)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("market.services.reports.utcnow", lambda: tomorrow)
        patch.setattr("market.pagecache.utcnow", lambda: tomorrow)
        assert "Tutup" not in client.get(vendor_url(vendor)).get_data(as_text=True)


def test_closing_refuses_a_past_day_and_keeps_the_note(client):
    world = make_world(stocked=True)
    vendor = world.vendor
    log_in_english(client, world.people["vendor"])
    yesterday = local_today() - timedelta(days=1)
    response = _post(
        client,
        f"/manage/vendors/{vendor.id}/closed",
        {f"closed-{vendor.id}-until": yesterday.isoformat(), f"closed-{vendor.id}-note": "Sakit"},
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Choose today or a later day." in html and 'value="Sakit"' in html
    reload()
    db.session.refresh(vendor)
    assert vendor.closed_until is None
