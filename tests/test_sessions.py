"""Sessions: a captured cookie stops working after a password change or a deactivation, a
removed role takes effect on the next request, idle and absolute timeouts, and the cookie flags
of a production run.

Already proved in test_auth: the session is renewed at login (planted keys are gone) and a
cookie captured before logout no longer works afterwards.
"""

import time

import pytest
from sqlalchemy import select

from market import create_app
from market.extensions import db
from market.models import MarketStaff, Role, StaffRole
from tests.factories import PASSWORD, assign, make_market, make_user, make_vendor
from tests.pages import IsolatedClient, csrf_token, login

NEW_PASSWORD = "pasar malam di kebun sayur"


def _captured(app, client) -> IsolatedClient:
    """Another browser holding a copy of `client`'s session cookie, as a thief would."""
    app.test_client_class = IsolatedClient
    thief = app.test_client()
    thief.set_cookie("session", client.get_cookie("session").value)
    return thief


def _logged_in(response) -> bool:
    return response.status_code == 200


def test_password_change_ends_every_other_session(app, client):
    user = make_user(Role.VOLUNTEER, email="v@example.org")
    login(client, user.login)
    thief = _captured(app, client)
    assert _logged_in(thief.get("/manage/"))
    response = client.post(
        "/auth/password",
        data={
            "current": PASSWORD,
            "password": NEW_PASSWORD,
            "confirm": NEW_PASSWORD,
            "csrf_token": csrf_token(client, "/auth/password"),
        },
    )
    assert response.status_code == 302
    stale = thief.get("/manage/")
    assert stale.status_code == 302 and stale.headers["Location"].startswith("/auth/login")
    # The person who changed it stays logged in.
    assert _logged_in(client.get("/manage/"))


def test_deactivation_ends_the_session_at_the_next_request(app, client):
    user = make_user(Role.VOLUNTEER, email="v@example.org")
    login(client, user.login)
    thief = _captured(app, client)
    db.session.commit()  # end the test's read snapshot, as tests.pages.reload does
    user.active = False
    db.session.commit()
    for browser in (client, thief):
        response = browser.get("/manage/")
        assert response.status_code == 302 and response.headers["Location"].startswith(
            "/auth/login"
        )


def test_removing_a_staff_assignment_takes_effect_at_the_next_request(client):
    market = make_market()
    vendor = make_vendor(market, published=False)
    volunteer = make_user(Role.VOLUNTEER, email="v@example.org", market=market)
    coordinator = make_user(Role.COORDINATOR, market=market)
    login(client, volunteer.login)
    assert client.get(f"/manage/vendors/{vendor.id}").status_code == 200
    db.session.commit()
    staff_id = db.session.scalar(select(MarketStaff.id).where(MarketStaff.user_id == volunteer.id))
    from market.services.staff import unassign_staff

    unassign_staff(db.session.get(MarketStaff, staff_id), actor=coordinator)
    assert client.get(f"/manage/vendors/{vendor.id}").status_code == 404
    assert (
        client.post(
            f"/manage/vendors/{vendor.id}/publish",
            data={"csrf_token": csrf_token(client, "/manage/")},
        ).status_code
        == 404
    )


def test_a_changed_role_takes_effect_at_the_next_request(client):
    market = make_market()
    user = make_user(Role.COORDINATOR, email="k@example.org")
    assign(user, market, StaffRole.COORDINATOR)
    login(client, user.login)
    assert client.get(f"/admin/markets/{market.id}").status_code == 200
    db.session.commit()
    user.role = Role.VOLUNTEER
    db.session.commit()
    assert client.get(f"/admin/markets/{market.id}").status_code == 403
    assert client.get("/admin/").status_code == 403


def _age_session(client, **seconds_ago: int) -> None:
    now = int(time.time())
    with client.session_transaction() as session:
        for key, ago in seconds_ago.items():
            session[key] = now - ago


@pytest.mark.parametrize(
    ("idle_minutes", "logged_in"), [(119, True), (121, False)], ids=["active", "idle"]
)
def test_idle_timeout(app, client, idle_minutes, logged_in):
    assert app.config["MARKET_SESSION_IDLE_MINUTES"] == 120
    make_user(Role.VOLUNTEER, email="v@example.org")
    login(client, "v@example.org")
    _age_session(client, seen=idle_minutes * 60, started=idle_minutes * 60)
    assert _logged_in(client.get("/manage/")) is logged_in


@pytest.mark.parametrize(("hours", "logged_in"), [(11, True), (13, False)], ids=["young", "old"])
def test_absolute_timeout_even_for_a_busy_session(app, client, hours, logged_in):
    assert app.config["PERMANENT_SESSION_LIFETIME"] == 12 * 3600
    make_user(Role.VOLUNTEER, email="v@example.org")
    login(client, "v@example.org")
    _age_session(client, seen=30, started=hours * 3600)
    assert _logged_in(client.get("/manage/")) is logged_in


def test_a_timed_out_session_is_emptied(client):
    make_user(Role.VOLUNTEER, email="v@example.org")
    login(client, "v@example.org")
    _age_session(client, seen=3 * 3600)
    client.get("/manage/")
    with client.session_transaction() as session:
        assert "_user_id" not in session


@pytest.fixture
def production_app(monkeypatch, database_url, tmp_path):
    monkeypatch.setenv("MARKET_ENV", "production")
    monkeypatch.setenv("MARKET_SECRET_KEY", "p" * 64)
    monkeypatch.setenv("MARKET_TRUSTED_HOSTS", "pasar.example.org")
    production = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": database_url,
            "MARKET_STORAGE_URL": f"file://{tmp_path / 'uploads'}",
            "MARKET_PASSWORD_METHOD": "scrypt:1024:8:1",
        }
    )
    production.test_client_class = IsolatedClient
    yield production
    with production.app_context():
        db.engine.dispose()


def test_production_cookies_are_secure_httponly_and_lax(production_app, ctx):
    make_user(Role.VOLUNTEER, email="v@example.org")
    client = production_app.test_client()
    base = "https://pasar.example.org"
    page = client.get(f"{base}/auth/login?lang=en")
    language = page.headers["Set-Cookie"]
    assert "lang=en" in language and "Secure" in language and "HttpOnly" in language
    token = csrf_token(client, f"{base}/auth/login")
    response = client.post(
        f"{base}/auth/login",
        data={"login": "v@example.org", "password": PASSWORD, "csrf_token": token},
        # Over HTTPS, Flask-WTF also wants the form to come from this site.
        headers={"Referer": f"{base}/auth/login"},
    )
    assert response.status_code == 302
    [session_cookie] = [
        c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")
    ]
    for flag in ("Secure", "HttpOnly", "SameSite=Lax"):
        assert flag in session_cookie
    assert "max-age=63072000" in response.headers["Strict-Transport-Security"]
