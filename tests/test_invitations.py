"""Invitations: unguessable single-use tokens stored hashed, expiry, revocation, claiming an
account by WhatsApp number, the pages around them, and rate limits on wrong tokens."""

import re
from datetime import timedelta
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from sqlalchemy import func, select

from market.extensions import db
from market.models import AuditEvent, Invitation, Role, User, Vendor, utcnow
from market.services import accounts, invitations
from market.services.errors import Invalid, NotFound, NotReady
from tests.factories import PASSWORD, ROLES, make_market, make_user, make_vendor, make_world
from tests.pages import csrf_token, login

NEW_PASSWORD = "pasar malam di kebun sayur"


def invite(vendor: Vendor) -> str:
    actor = make_user(Role.VOLUNTEER, market=vendor.market)
    return invitations.create_invitation(vendor, actor=actor).token


# --- the service --------------------------------------------------------------------------------


@pytest.mark.usefixtures("en")
def test_token_is_long_random_and_only_its_hash_is_stored(app):
    vendor = make_vendor(make_market(), published=False)
    token = invite(vendor)
    assert len(token) >= 43  # 32 random bytes, URL-safe base64: 256 bits
    stored = db.session.scalar(select(Invitation))
    assert stored.token_hash == accounts.token_digest(token)
    assert token not in stored.token_hash
    days = app.config["MARKET_INVITATION_DAYS"]
    assert stored.expires_at - stored.created_at == timedelta(days=days)
    assert invitations.find_usable(token) == stored
    assert invitations.find_usable(token[:-1] + ("A" if token[-1] != "A" else "B")) is None


@pytest.mark.usefixtures("en")
def test_a_new_invitation_revokes_the_old_one():
    vendor = make_vendor(make_market(), published=False)
    old, new = invite(vendor), invite(vendor)
    assert invitations.find_usable(old) is None
    assert invitations.find_usable(new) is not None
    with pytest.raises(NotFound):
        invitations.claim(old, NEW_PASSWORD)
    (first, second) = db.session.scalars(select(Invitation).order_by(Invitation.id))
    assert first.revoked_at is not None and second.revoked_at is None


@pytest.mark.usefixtures("en")
def test_claim_creates_the_vendor_account_with_the_whatsapp_login_and_works_once():
    vendor = make_vendor(make_market(), published=False, whatsapp="+6281211112222")
    token = invite(vendor)
    user = invitations.claim(token, NEW_PASSWORD)
    assert (user.role, user.phone) == (Role.VENDOR, "+6281211112222")
    assert vendor.owner_id == user.id
    assert accounts.authenticate("0812-1111-2222", NEW_PASSWORD) == user
    assert db.session.scalar(select(Invitation.used_at)) is not None
    with pytest.raises(NotFound):
        invitations.claim(token, "another long password")
    actions = [e.action for e in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))]
    assert actions == ["vendor.invite", "user.create", "vendor.claim"]


@pytest.mark.usefixtures("en")
def test_an_expired_invitation_does_not_work():
    vendor = make_vendor(make_market(), published=False)
    token = invite(vendor)
    db.session.scalar(select(Invitation)).expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    with pytest.raises(NotFound):
        invitations.claim(token, NEW_PASSWORD)
    assert db.session.scalar(select(User).where(User.role == Role.VENDOR)) is None


@pytest.mark.usefixtures("en")
def test_a_refused_password_keeps_the_link_usable():
    vendor = make_vendor(make_market(), published=False)
    token = invite(vendor)
    with pytest.raises(Invalid):
        invitations.claim(token, "short")
    assert invitations.find_usable(token) is not None


@pytest.mark.usefixtures("en")
def test_a_vendor_who_forgot_the_password_gets_back_in_with_a_new_link():
    world = make_world()
    owner = world.people["vendor"]
    sessions = owner.session_version
    token = invite(world.vendor)
    assert invitations.claim(token, NEW_PASSWORD) == owner
    assert accounts.authenticate(owner.phone, NEW_PASSWORD) == owner
    assert owner.session_version > sessions  # old sessions end
    vendors = select(func.count(User.id)).where(User.role == Role.VENDOR)
    assert db.session.scalar(vendors) == 2  # no second account


@pytest.mark.usefixtures("en")
def test_a_number_that_belongs_to_staff_is_refused():
    market = make_market()
    make_user(Role.VOLUNTEER, market=market, phone="081233334444")
    vendor = make_vendor(market, published=False, whatsapp="+6281233334444")
    token = invite(vendor)
    with pytest.raises(Invalid, match="staff account"):
        invitations.claim(token, NEW_PASSWORD)
    assert vendor.owner_id is None


@pytest.mark.usefixtures("en")
def test_no_invitation_without_a_whatsapp_number():
    vendor = make_vendor(make_market(), published=False, whatsapp=None)
    with pytest.raises(NotReady):
        invite(vendor)


@pytest.mark.usefixtures("en")
def test_whatsapp_share_link_has_an_indonesian_message():
    vendor = make_vendor(
        make_market(), published=False, whatsapp="+6281255556666", owner_name="Bu Sri"
    )
    expires = utcnow()
    url = invitations.whatsapp_share_url(vendor, "https://pasar.example/auth/undangan/T", expires)
    parts = urlsplit(url)
    assert (parts.netloc, parts.path) == ("wa.me", "/6281255556666")
    text = parse_qs(parts.query)["text"][0]
    assert text.startswith("Halo Bu Sri,")
    assert "https://pasar.example/auth/undangan/T" in text
    assert "0812-5555-6666" in text and "berlaku sampai" in text


# --- the pages ----------------------------------------------------------------------------------


def test_volunteer_makes_a_link_then_sees_it_copyable_shareable_and_as_qr(client):
    world = make_world()
    login(client, world.people["volunteer"].email)
    page = f"/manage/vendors/{world.vendor.id}/invitation?lang=en"
    response = client.post(page, data={"csrf_token": csrf_token(client, page)})
    assert response.status_code == 302
    html = client.get(page).get_data(as_text=True)
    link = re.search(r'id="invite-link" type="url" readonly value="([^"]+)"', html).group(1)
    assert "/auth/undangan/" in link
    assert 'src="data:image/svg+xml' in html
    assert "https://wa.me/" in html and "Send on WhatsApp" in html
    token = link.rsplit("/", 1)[1]
    db.session.rollback()  # end the test's read snapshot to see the request's writes
    assert invitations.find_usable(unquote(token)) is not None
    # Reloading the page keeps showing the link to the volunteer who made it.
    assert link in client.get(page).get_data(as_text=True)


def test_the_link_is_not_shown_again_once_a_newer_one_exists(client):
    world = make_world()
    login(client, world.people["volunteer"].email)
    page = f"/manage/vendors/{world.vendor.id}/invitation?lang=en"
    client.post(page, data={"csrf_token": csrf_token(client, page)})
    db.session.rollback()
    invite(world.vendor)
    html = client.get(page).get_data(as_text=True)
    assert 'id="invite-link"' not in html
    assert "make a new one to share it again" in html


def test_claim_page_sets_the_password_logs_in_and_lands_on_the_stall(client):
    vendor = make_vendor(make_market(), published=False, whatsapp="+6281277778888")
    token = invite(vendor)
    url = f"/auth/undangan/{token}?lang=en"
    page = client.get(url)
    assert page.status_code == 200
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert "0812-7777-8888" in page.get_data(as_text=True)
    assert client.get(url).status_code == 200  # opening the link does not use it up
    response = client.post(
        url,
        data={
            "password": NEW_PASSWORD,
            "confirm": NEW_PASSWORD,
            "csrf_token": csrf_token(client, url),
        },
    )
    assert response.status_code == 302
    assert response.headers["Location"] == f"/manage/vendors/{vendor.id}"
    stall = client.get(f"/manage/vendors/{vendor.id}?lang=en")
    assert stall.status_code == 200
    assert vendor.business_name in stall.get_data(as_text=True)
    assert client.get(url).status_code == 404


def test_claim_page_keeps_the_form_on_a_refused_password(client):
    vendor = make_vendor(make_market(), published=False)
    url = f"/auth/undangan/{invite(vendor)}?lang=en"
    response = client.post(
        url, data={"password": "short", "confirm": "short", "csrf_token": csrf_token(client, url)}
    )
    assert response.status_code == 200
    assert "at least 8 characters" in response.get_data(as_text=True)


def test_claim_needs_csrf(client):
    vendor = make_vendor(make_market(), published=False)
    token = invite(vendor)
    response = client.post(
        f"/auth/undangan/{token}", data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    )
    assert response.status_code == 400
    assert invitations.find_usable(token) is not None


def test_wrong_tokens_are_rate_limited(client):
    vendor = make_vendor(make_market(), published=False)
    token = invite(vendor)
    for n in range(10):
        assert client.get(f"/auth/undangan/wrong-token-{n}?lang=en").status_code == 404
    assert client.get("/auth/undangan/wrong-token-x").status_code == 429
    # Even the right link waits: the limit slows guessing whatever the guess.
    assert client.get(f"/auth/undangan/{token}").status_code == 429


def test_a_logged_in_vendor_sees_only_their_own_stall(client):
    world = make_world()
    login(client, world.people["vendor"].phone, PASSWORD)
    assert client.get(f"/manage/vendors/{world.vendor.id}").status_code == 200
    assert client.get(f"/manage/vendors/{world.other_vendor.id}").status_code == 404


@pytest.mark.parametrize("role", ROLES)
def test_the_claim_page_answers_the_link_not_the_person(client, role):
    """Whoever holds a working link may use it (the link is the credential); nobody can use a
    wrong one, logged in or not."""
    world = make_world()
    token = invite(world.vendor)
    if role != "anonymous":
        login(client, world.people[role].login, PASSWORD)
    assert client.get(f"/auth/undangan/{token}").status_code == 200
    assert client.get(f"/auth/undangan/{token[::-1]}").status_code == 404
