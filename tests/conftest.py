"""Fixtures: an app on a migrated test database (SQLite, or PostgreSQL when
MARKET_TEST_DATABASE_URL is set), emptied between tests; clients; the worlds of
tests.factories. Builders live in tests/factories.py, page helpers in tests/pages.py.

Under pytest-xdist every worker is an installation of its own: its SQLite files in its own
temporary folder, and with MARKET_TEST_DATABASE_URL / MARKET_TEST_REDIS_URL its own PostgreSQL
database (the name with `_gw0`, `_gw1`… appended, created when missing) and its own Redis
database (the number plus the worker's index)."""

import os
from pathlib import Path

import pytest
from flask_babel import force_locale
from flask_migrate import upgrade
from sqlalchemy import create_engine, func, make_url, select, text

from market import create_app
from market.extensions import cache, db, limiter
from market.models import Synonym
from market.services import search
from tests.factories import make_world
from tests.pages import IsolatedClient

pytest_plugins = ["tests.log_scan"]

KEEP_TABLES = {"category", "synonym", "alembic_version"}
INSTANCE = Path(__file__).resolve().parents[1] / "instance"
_INSTANCE_BEFORE = pytest.StashKey[dict]()


def _worker_database_url(url: str, worker: str) -> str:
    if not url.startswith("postgresql"):
        return url
    base = make_url(url)
    return base.set(database=f"{base.database}_{worker}").render_as_string(hide_password=False)


def _worker_redis_url(url: str, worker: str) -> str:
    base = make_url(url)  # redis://host:port/N parses as a URL with N as its database
    number = int(base.database or 0) + int(worker.removeprefix("gw"))
    if number > 15:
        raise pytest.UsageError(
            f"MARKET_TEST_REDIS_URL: worker {worker} would need Redis database {number}; "
            "start from a lower number or run fewer workers"
        )
    return base.set(database=str(number)).render_as_string(hide_password=False)


def _instance_files() -> dict[str, int]:
    return {path.name: path.stat().st_mtime_ns for path in INSTANCE.iterdir()}


def pytest_configure(config):
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker:
        # Every module reads these when it is imported, after this hook has run.
        for name, own in (
            ("MARKET_TEST_DATABASE_URL", _worker_database_url),
            ("MARKET_TEST_REDIS_URL", _worker_redis_url),
        ):
            if os.environ.get(name):
                os.environ[name] = own(os.environ[name], worker)
    if INSTANCE.is_dir():
        config.stash[_INSTANCE_BEFORE] = _instance_files()


def pytest_sessionfinish(session, exitstatus):
    """The tests never write into the installation's instance/ folder."""
    before = session.config.stash.get(_INSTANCE_BEFORE, None)
    if before is not None and _instance_files() != before:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(f"the tests changed {INSTANCE}", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def _empty_postgres(url: str) -> None:
    """Create the database when missing (a worker's own), else drop everything in it."""
    base = make_url(url)
    admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        known = "SELECT 1 FROM pg_database WHERE datname = :name"
        if not connection.execute(text(known), {"name": base.database}).scalar():
            connection.execute(text(f'CREATE DATABASE "{base.database}"'))
    admin.dispose()
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    url = os.environ.get("MARKET_TEST_DATABASE_URL")
    if url:
        _empty_postgres(url)
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
        _SYNONYMS.extend(db.session.execute(select(Synonym.id, Synonym.phrase, Synonym.means)))
        db.session.remove()
    # Storage is created per app; tests share it (files named by hash never collide).
    yield app
    with app.app_context():
        db.engine.dispose()


# The synonym table as migrated: reference data that coordinators may change, so a test that
# changes it (the synonym pages) leaves it as the next test expects.
_SYNONYMS: list = []


def _restore_synonyms(connection) -> None:
    table = Synonym.__table__
    now = connection.execute(select(func.count(), func.max(table.c.id))).one()
    if tuple(now) == (len(_SYNONYMS), max(row.id for row in _SYNONYMS)):
        return
    connection.execute(table.delete())
    connection.execute(table.insert(), [row._asdict() for row in _SYNONYMS])


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
            # The search vocabulary is not a model's table: words of a test stay out of the next.
            connection.execute(text(f"DELETE FROM {search.VOCABULARY}"))  # noqa: S608
            _restore_synonyms(connection)
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


@pytest.fixture
def en(ctx):
    """An app context whose messages are English, as services see them outside a request."""
    with force_locale("en"):
        yield


@pytest.fixture
def client(app, ctx):
    app.test_client_class = IsolatedClient
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def world(ctx):
    """tests.factories.make_world(): people of every role, a draft stall in each market."""
    return make_world()


@pytest.fixture
def stocked_world(ctx):
    """tests.factories.make_world(stocked=True): a published stall with its catalogue."""
    return make_world(stocked=True)
