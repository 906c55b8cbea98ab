"""Security events are logged with their actor and UTC time; input cannot forge a log line;
the log never holds phone numbers, passwords or tokens (conftest scans the whole run's log)."""

import logging
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from market.extensions import db
from market.logs import OneLineFormatter
from market.models import MarketStaff, Role, StaffRole
from market.services import invitations
from market.services.audit import security_event
from tests.factories import PASSWORD, assign, make_market, make_user, make_vendor
from tests.log_scan import log_leaks
from tests.pages import csrf_token, login

LINE = re.compile(r"^(?P<event>\w+) actor=(?P<actor>\d+|None) at=(?P<at>\S+Z)(?: (?P<rest>.*))?$")
NEW_PASSWORD = "pasar malam di kebun sayur"


@pytest.fixture
def events(caplog):
    """The security events logged so far, parsed."""
    caplog.set_level(logging.INFO, logger="market.security")

    def parsed() -> list[dict]:
        found = []
        for record in caplog.records:
            if record.name == "market.security":
                match = LINE.match(record.getMessage())
                assert match, record.getMessage()
                found.append(match.groupdict())
        return found

    return parsed


def _one(events, name: str, actor) -> dict:
    matching = [e for e in events() if e["event"] == name]
    assert len(matching) == 1, (name, events())
    event = matching[0]
    assert event["actor"] == str(actor.id if actor is not None else None)
    at = datetime.strptime(event["at"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert abs(datetime.now(UTC) - at) < timedelta(minutes=1)
    return event


def _post(client, path: str, **data):
    return client.post(path, data={**data, "csrf_token": csrf_token(client, "/auth/login")})


def test_login_failed_login_password_change_and_logout(client, events):
    user = make_user(Role.VOLUNTEER, email="v@example.org")
    login(client, "v@example.org", "not the password")
    failed = _one(events, "login_failed", None)
    assert failed["rest"] == "ip='127.0.0.1'"  # not the login that was tried
    login(client, "v@example.org")
    _one(events, "login", user)
    _post(client, "/auth/password", current=PASSWORD, password=NEW_PASSWORD, confirm=NEW_PASSWORD)
    _one(events, "password_change", user)
    _post(client, "/auth/logout")
    _one(events, "logout", user)


def test_role_changes(client, events):
    market = make_market()
    coordinator = make_user(Role.COORDINATOR, email="k@example.org")
    assign(coordinator, market, StaffRole.COORDINATOR)
    login(client, "k@example.org")
    _post(
        client,
        f"/admin/markets/{market.id}/staff",
        email="baru@example.org",
        name="Relawan Baru",
        role="volunteer",
        password="pasar pagi yang ramai",
    )
    assigned = _one(events, "staff_assigned", coordinator)
    db.session.commit()
    staff = db.session.scalar(select(MarketStaff).where(MarketStaff.user_id != coordinator.id))
    assert assigned["rest"] == (
        f"market={market.id} new=True role='volunteer' user={staff.user_id}"
    )
    _post(client, f"/admin/markets/{market.id}/staff/{staff.id}/remove")
    removed = _one(events, "staff_removed", coordinator)
    assert removed["rest"] == f"market={market.id} role='volunteer' user={staff.user_id}"


def test_exports_consent_and_erasure(client, events):
    market = make_market()
    vendor = make_vendor(market, published=False)
    admin = make_user(Role.ADMIN, email="a@example.org")
    login(client, "a@example.org")
    for path in (
        f"/admin/markets/{market.id}/vendors.csv",
        f"/admin/markets/{market.id}/products.csv",
        f"/admin/vendors/{vendor.id}/data.json",
    ):
        assert client.get(path).status_code == 200
    exports = [e for e in events() if e["event"] == "export"]
    assert [e["rest"] for e in exports] == [
        f"market={market.id} what='vendors.csv'",
        f"market={market.id} what='products.csv'",
        f"vendor={vendor.id} what='vendor.json'",
    ]
    assert {e["actor"] for e in exports} == {str(admin.id)}
    _post(client, f"/manage/vendors/{vendor.id}/consent", language="id", agreed="y")
    assert _one(events, "consent", admin)["rest"] == f"vendor={vendor.id} version='2026-01'"
    _post(client, f"/manage/vendors/{vendor.id}/consent/withdraw")
    assert _one(events, "consent_withdrawn", admin)["rest"] == f"vendor={vendor.id}"
    db.session.commit()
    _post(client, f"/admin/vendors/{vendor.id}/erase", business_name=vendor.business_name)
    assert _one(events, "vendor_erased", admin)["rest"] == f"vendor={vendor.id}"


def test_invitation_claim(client, events):
    market = make_market()
    vendor = make_vendor(market, published=False)
    volunteer = make_user(Role.VOLUNTEER, market=market)
    token = invitations.create_invitation(vendor, actor=volunteer).token
    client.get("/auth/undangan/not-a-real-token")
    _one(events, "invitation_refused", None)
    response = client.post(
        f"/auth/undangan/{token}",
        data={
            "password": NEW_PASSWORD,
            "confirm": NEW_PASSWORD,
            "csrf_token": csrf_token(client, f"/auth/undangan/{token}"),
        },
    )
    assert response.status_code == 302
    db.session.commit()
    db.session.refresh(vendor)
    claimed = _one(events, "invitation_claimed", vendor.owner)
    assert claimed["rest"] == f"vendor={vendor.id}"
    assert _one(events, "login", vendor.owner)["rest"] == "via='invitation'"
    assert not any(token in str(e) for e in events())


FORGED = "1.2.3.4\r\nmarket.security INFO login actor=1 at=2026-01-01T00:00:00Z"


def test_cr_lf_in_input_cannot_forge_a_line(caplog):
    caplog.set_level(logging.INFO, logger="market.security")
    security_event("login_failed", None, ip=FORGED)
    [record] = caplog.records
    assert "\n" not in record.getMessage() and "\r" not in record.getMessage()
    # Any other message of the app, as the default log setup writes it (see log_to_stderr).
    formatter = OneLineFormatter("%(asctime)sZ %(levelname)s %(name)s: %(message)s")
    line = formatter.format(
        logging.LogRecord("market.web", logging.ERROR, __file__, 1, "error on %s", (FORGED,), None)
    )
    assert "\n" not in line and "\r" not in line and line.endswith("at=2026-01-01T00:00:00Z")


@pytest.mark.live
def test_the_default_log_setup_writes_security_events_in_utc(tmp_path):
    """Under gunicorn nothing configures logging: without log_to_stderr, Python would drop
    INFO records, and with them every security event."""
    script = (
        "from market import create_app\n"
        "from market.services.audit import security_event\n"
        f"create_app({{'SECRET_KEY': 'x' * 40, 'SQLALCHEMY_DATABASE_URI': 'sqlite://', "
        f"'MARKET_STORAGE_URL': 'file://{tmp_path}'}})\n"
        f"security_event('login_failed', None, ip={FORGED!r})\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    lines = result.stderr.splitlines()
    assert len(lines) == 1, lines
    assert re.match(
        r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ INFO market.security: login_failed ", lines[0]
    )


def test_the_log_scan_finds_what_must_not_be_logged():
    """conftest scans the log of the whole run with log_leaks at the end; it must see these."""
    app_log_handlers = logging.getLogger("market").handlers
    assert any(isinstance(handler, logging.FileHandler) for handler in app_log_handlers)
    for leak in (
        "login_failed login='+6281234567890'",
        "whatsapp 0812-3456-7890",
        "via 081234567890",
        f"password {PASSWORD}",
        "token HZVVx8tRvNzdVjYh8SclaQN4RlVQjuCGStP2rKSZHGU",
    ):
        assert log_leaks(leak), leak
    for clean in (
        "login actor=12 at=2026-11-29T08:12:33Z ip='127.0.0.1'",
        "photos/ab/" + "ab" * 32 + "-400.webp",
        "export actor=3 at=2026-11-29T08:12:33Z market=1 what='vendors.csv'",
    ):
        assert not log_leaks(clean), clean
