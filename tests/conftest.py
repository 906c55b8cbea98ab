"""Fixtures: an app on a migrated test database (SQLite, or PostgreSQL when
MARKET_TEST_DATABASE_URL is set), emptied between tests, plus small builders."""

import logging
import os
import re
import tempfile
from itertools import count
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import text

from market import create_app
from market.extensions import cache, db, limiter
from market.models import (
    Category,
    Market,
    MarketStaff,
    Product,
    Role,
    StaffRole,
    User,
    Vendor,
    VendorStatus,
    utcnow,
)
from market.services import accounts

PASSWORD = "correct horse battery"
KEEP_TABLES = {"category", "alembic_version"}
_serial = count(1)

# --- what the app logs during the whole run must not hold personal data or secrets ----------

# Passwords that tests type (the demo accounts' too); none may ever reach a log line.
PASSWORDS_IN_TESTS = (
    PASSWORD,
    "pasar-demo-2026",
    "ukiran enggang dari Balikpapan",
    "pasar malam di kebun sayur",
    "pasar pagi yang ramai",
    "a long first password",
    "not the password",
    "wrong password",
)
LEAKS = {
    "phone number": re.compile(
        r"(?<![\w.])(?:\+?62|0)8\d{2}[- ]?\d{3,4}[- ]?\d{3,5}(?!\d)|\+\d{10,15}(?!\d)"
    ),
    # Invitation, CSRF and session tokens: long URL-safe strings mixing cases and digits
    # (content hashes are lower-case hex, identifiers have no such mix).
    "token": re.compile(r"(?<![\w-])(?=[\w-]*[A-Z])(?=[\w-]*[a-z])(?=[\w-]*\d)[\w-]{32,}(?![\w-])"),
}
_log_file = Path(tempfile.gettempdir()) / f"pasar-test-log-{os.getpid()}.txt"
_LOG_HANDLER = pytest.StashKey[logging.Handler]()


def pytest_configure(config):
    """Everything the app logs (the `market` logger is Flask's app.logger too), at every level,
    also goes to a file scanned at the end. Not on the root logger: Alembic's logging setup
    replaces the root's handlers whenever a test migrates a database; and it closes every
    handler, which a file handler in append mode survives by opening the file again."""
    _log_file.write_text("")
    handler = logging.FileHandler(_log_file, mode="a", encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    app_log = logging.getLogger("market")
    app_log.addHandler(handler)
    app_log.setLevel(logging.DEBUG)
    config.stash[_LOG_HANDLER] = handler


def log_leaks(text: str) -> list[str]:
    """Lines of a log that carry a phone number, a password used in the tests, or a token."""
    found = []
    for line in text.splitlines():
        kinds = [kind for kind, pattern in LEAKS.items() if pattern.search(line)]
        kinds += ["password"] * any(password in line for password in PASSWORDS_IN_TESTS)
        if kinds:
            found.append(f"{', '.join(kinds)}: {line[:200]}")
    return found


def pytest_sessionfinish(session, exitstatus):
    handler = session.config.stash.get(_LOG_HANDLER, None)
    if handler is None:
        return
    logging.getLogger("market").removeHandler(handler)
    handler.close()
    leaks = log_leaks(_log_file.read_text(encoding="utf-8", errors="replace"))
    _log_file.unlink(missing_ok=True)
    if leaks:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        message = "the app logged personal data or secrets:\n  " + "\n  ".join(leaks[:20])
        if reporter is not None:
            reporter.write_line(message, red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def _reset_postgres(url: str) -> None:
    from sqlalchemy import create_engine

    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    url = os.environ.get("MARKET_TEST_DATABASE_URL")
    if url:
        _reset_postgres(url)
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"


@pytest.fixture(scope="session")
def app(database_url, tmp_path_factory):
    instance = tmp_path_factory.mktemp("instance")
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789",
            "SQLALCHEMY_DATABASE_URI": database_url,
            "MARKET_STORAGE_URL": f"file://{instance / 'uploads'}",
            # Cheap hashing keeps the suite fast; test_accounts checks the production setting.
            "MARKET_PASSWORD_METHOD": "scrypt:1024:8:1",
        }
    )
    with app.app_context():
        upgrade()
        db.session.remove()
    # Storage is created per app; tests share it (files named by hash never collide).
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(autouse=True)
def _clean_database(app):
    """Each test starts with empty tables (categories are reference data and stay)."""
    yield
    with app.app_context():
        db.session.remove()
        tables = [t for t in reversed(db.metadata.sorted_tables) if t.name not in KEEP_TABLES]
        with db.engine.begin() as connection:
            # Markets point at their cover photo: break that cycle before deleting in order.
            connection.execute(text("UPDATE market SET cover_photo_id = NULL"))
            if connection.dialect.name == "postgresql":
                names = ", ".join(f'"{t.name}"' for t in tables)
                connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
            else:
                for table in tables:
                    connection.execute(table.delete())
        # Rows vanished behind the ORM's back, so cached pages would not know.
        cache.clear()
    limiter.reset()


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield
        db.session.remove()


class IsolatedClient(FlaskClient):
    """Each request gets its own app context (own `g`, own database session), as in production,
    even while the test itself holds one for its builders."""

    def open(self, *args, **kwargs):
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture
def client(app, ctx):
    app.test_client_class = IsolatedClient
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


# --- builders ---------------------------------------------------------------------------


def make_market(**overrides) -> Market:
    n = next(_serial)
    values = {
        "slug": f"pasar-{n}",
        "name": f"Pasar Uji {n}",
        "city": "Balikpapan",
        "province": "Kalimantan Timur",
        "published": True,
    }
    market = Market(**(values | overrides))
    db.session.add(market)
    db.session.commit()
    return market


def make_user(role: Role = Role.VOLUNTEER, market: Market | None = None, **overrides) -> User:
    n = next(_serial)
    if role == Role.VENDOR and "email" not in overrides:
        overrides.setdefault("phone", f"+62812{n:08d}")
    else:
        overrides.setdefault("email", f"user{n}@example.org")
    user = accounts.create_user(
        role=role,
        name=overrides.pop("name", f"User {n}"),
        password=overrides.pop("password", PASSWORD),
        market=market,
        **overrides,
    )
    return user


# Everyone an authorisation test asks about; "other_*" belong to another market or stall.
ROLES = (
    "anonymous",
    "vendor",
    "other_vendor",
    "volunteer",
    "other_volunteer",
    "coordinator",
    "other_coordinator",
    "admin",
)
EVERYONE = frozenset(ROLES) - {"anonymous"}


def make_people(market: Market, other_market: Market) -> dict[str, User]:
    """One account per role of ROLES but anonymous: staff of `market` and of `other_market`,
    and two vendor accounts for the caller to make owners of stalls."""
    people = {
        "admin": make_user(Role.ADMIN),
        "coordinator": make_user(Role.COORDINATOR),
        "other_coordinator": make_user(Role.COORDINATOR),
        "volunteer": make_user(Role.VOLUNTEER),
        "other_volunteer": make_user(Role.VOLUNTEER),
        "vendor": make_user(Role.VENDOR),
        "other_vendor": make_user(Role.VENDOR),
    }
    assign(people["coordinator"], market, StaffRole.COORDINATOR)
    assign(people["other_coordinator"], other_market, StaffRole.COORDINATOR)
    assign(people["volunteer"], market, StaffRole.VOLUNTEER)
    assign(people["other_volunteer"], other_market, StaffRole.VOLUNTEER)
    return people


def assign(user: User, market: Market, role: StaffRole = StaffRole.VOLUNTEER) -> None:
    db.session.add(MarketStaff(user=user, market=market, role=role))
    db.session.commit()


def make_vendor(market: Market, **overrides) -> Vendor:
    n = next(_serial)
    published = overrides.pop("published", True)
    values = {
        "market": market,
        "slug": f"lapak-{n}",
        "business_name": f"Lapak {n}",
        "owner_name": f"Pemilik {n}",
        "stall_block": "A",
        "stall_number": str(n),
        "whatsapp": f"+62813{n:08d}",
        "status": VendorStatus.PUBLISHED if published else VendorStatus.DRAFT,
        "consent_at": utcnow() if published else None,
        "consent_version": "2026-01" if published else None,
    }
    vendor = Vendor(**(values | overrides))
    db.session.add(vendor)
    db.session.commit()
    return vendor


def make_product(vendor: Vendor, **overrides) -> Product:
    n = next(_serial)
    values = {"vendor": vendor, "slug": f"produk-{n}", "name": f"Produk {n}", "price_idr": 25000}
    product = Product(**(values | overrides))
    db.session.add(product)
    db.session.commit()
    return product


def category(slug: str) -> Category:
    return db.session.query(Category).filter_by(slug=slug).one()


def csrf_token(client, path: str) -> str:
    page = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def login(client, login_name: str, password: str = PASSWORD):
    token = csrf_token(client, "/auth/login")
    return client.post(
        "/auth/login", data={"login": login_name, "password": password, "csrf_token": token}
    )
