"""Helpers for the reliability tests that run real servers: visitors with their own sessions,
gunicorn's processes, a database of the test's own (SQLite or PostgreSQL), a Redis of its own,
and the checks that nothing was lost or left behind."""

import atexit
import functools
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from sqlalchemy import create_engine, make_url, text

from market import create_app
from market.extensions import db
from market.models import Role
from market.services import accounts
from market.services.imaging import master_key, variant_key
from market.storage import LocalStorage
from tests.factories import make_market, make_product, make_vendor
from tests.live import app_env, flask, free_port
from tests.pages import form_values

PASSWORD = "pasar kebun sayur pagi"
POSTGRES_URL = os.environ.get("MARKET_TEST_DATABASE_URL")
REDIS_URL = os.environ.get("MARKET_TEST_REDIS_URL")
# Like the rest of the suite, these tests run on PostgreSQL when MARKET_TEST_DATABASE_URL is set
# (CI runs the suite once on each), else on SQLite.
DATABASE_KIND = "postgresql" if POSTGRES_URL else "sqlite"
# Cheap hashes keep logging in many visitors fast; the production cost is tested elsewhere.
CHEAP_HASHING = "scrypt:1024:8:1"


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile (share between 0 and 1) of ``values``."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


class Visitor:
    """A browser: its own cookies, English pages, no automatic redirects, timings kept.

    Each request opens a connection of its own, so successive requests reach whichever worker
    accepts them, and no idle connection holds a stopping server up; ``keep_alive`` keeps one
    connection (and so one worker) instead — close() it before the server stops."""

    def __init__(self, base: str, timeout: float = 30, keep_alive: bool = False):
        self.base = base
        self.timeout = timeout
        self.http = requests.Session()
        self.http.headers["Accept-Language"] = "en"
        if not keep_alive:
            self.http.headers["Connection"] = "close"
        self.http.cookies.set("lang", "en")
        self.seconds: list[float] = []

    def request(self, method: str, path: str, **kwargs) -> requests.Response:
        started = time.perf_counter()
        response = self.http.request(
            method, self.base + path, allow_redirects=False, timeout=self.timeout, **kwargs
        )
        self.seconds.append(time.perf_counter() - started)
        return response

    def close(self) -> None:
        self.http.close()

    def get(self, path: str, **kwargs) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, data: dict, **kwargs) -> requests.Response:
        return self.request("POST", path, data=data, **kwargs)

    def form(self, path: str, action: str | None = None) -> dict:
        """The fields of the form on ``path`` that posts to ``action`` (default: ``path``)."""
        page = self.get(path)
        assert page.status_code == 200, (path, page.status_code)
        return form_values(page.text, action or path)

    def log_in(self, login: str, password: str = PASSWORD) -> None:
        fields = self.form("/auth/login")
        response = self.post("/auth/login", {**fields, "login": login, "password": password})
        assert response.status_code == 302, (login, response.status_code)


# --- servers and their processes -----------------------------------------------------------


def master_pid(url: str) -> int:
    """The gunicorn master that tests.live.serve started for ``url``: a child of this process."""
    bind = url.removeprefix("http://")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().split(b"\0")
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        if parent == os.getpid() and bind.encode() in command:
            return int(entry.name)
    raise LookupError(f"no gunicorn master serving {url}")


def worker_pids(master: int) -> list[int]:
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return sorted(int(pid) for pid in children)


def kill_worker(master: int) -> int:
    """kill -9 one worker; gunicorn's master starts another. Returns the killed pid."""
    victim = worker_pids(master)[0]
    os.kill(victim, signal.SIGKILL)
    return victim


def wait_for_workers(url: str, master: int, count: int, gone: int, timeout: float = 30) -> None:
    """Until the master runs ``count`` workers (none of them ``gone``) and the app answers."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pids = worker_pids(master)
        if len(pids) == count and gone not in pids:
            try:
                if requests.get(url + "/robots.txt", timeout=5).status_code == 200:
                    return
            except requests.RequestException:
                pass
        time.sleep(0.1)
    raise TimeoutError(f"gunicorn did not replace worker {gone}")


# --- databases ------------------------------------------------------------------------------


@contextmanager
def postgres_database(suffix: str):
    """An empty PostgreSQL database beside MARKET_TEST_DATABASE_URL's (the suite's own belongs
    to the session's app). It is kept afterwards and emptied on the next use: dropping a
    database forces a checkpoint, which takes seconds on a busy server."""
    base = make_url(POSTGRES_URL)
    name = f"{base.database}_{suffix}"
    admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        known = "SELECT 1 FROM pg_database WHERE datname = :name"
        if not connection.execute(text(known), {"name": name}).scalar():
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = base.set(database=name)
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    yield url.render_as_string(hide_password=False)


@contextmanager
def database_of_its_own(folder: Path, suffix: str):
    """The URL of an empty database of the kind the suite runs on (DATABASE_KIND): a SQLite
    file in ``folder``, or a PostgreSQL database named after ``suffix``."""
    if DATABASE_KIND == "sqlite":
        yield f"sqlite:///{folder / 'market.sqlite3'}"
        return
    with postgres_database(suffix) as url:
        yield url


def installation(folder: Path, database_url: str, **settings: str) -> dict[str, str]:
    """Environment of a fresh installation: its own database (migrated), uploads and secret;
    Redis only when ``settings`` name one."""
    folder.mkdir(parents=True, exist_ok=True)
    env = app_env(folder, MARKET_DATABASE_URL=database_url)
    env.pop("MARKET_REDIS_URL", None)
    env.update(settings)
    if database_url.startswith("sqlite:///"):
        # A copy of a database migrated once costs nothing; `db upgrade` costs seconds.
        shutil.copyfile(_migrated_sqlite(), database_url.removeprefix("sqlite:///"))
    else:
        flask(env, "db", "upgrade")
    return env


@functools.cache
def _migrated_sqlite() -> Path:
    folder = Path(tempfile.mkdtemp(prefix="pasar-migrated-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    database = folder / "market.sqlite3"
    flask(app_env(folder), "db", "upgrade")
    # One file, no WAL beside it, so that a plain copy is the whole database.
    connection = sqlite3.connect(database)
    connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connection.execute("PRAGMA journal_mode=DELETE")
    connection.close()
    return database


@contextmanager
def app_for(env: dict[str, str]):
    """An app context on the installation of ``env``, to build data as another process would."""
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": env["MARKET_DATABASE_URL"],
            "MARKET_STORAGE_URL": env["MARKET_STORAGE_URL"],
            "SECRET_KEY": env["MARKET_SECRET_KEY"],
            "MARKET_PASSWORD_METHOD": CHEAP_HASHING,
            "MARKET_PAGE_CACHE": False,
        }
    )
    with app.app_context():
        try:
            yield app
        finally:
            db.session.remove()
            db.engine.dispose()


@dataclass
class Shop:
    """A published stall with one product, and volunteers of its market who may edit it."""

    product_id: int
    vendor_id: int
    logins: list[str]  # password PASSWORD
    market_path: str  # public pages
    product_path: str


def staffed_product(env: dict[str, str], volunteers: int = 1) -> Shop:
    with app_for(env):
        market = make_market()
        vendor = make_vendor(market)
        product = make_product(vendor, description="")
        logins = [
            accounts.create_user(
                role=Role.VOLUNTEER,
                name=f"Relawan {n}",
                email=f"relawan{n}@example.org",
                password=PASSWORD,
                market=market,
            ).email
            for n in range(volunteers)
        ]
        market_path = f"/pasar/{market.slug}/"
        return Shop(
            product_id=product.id,
            vendor_id=vendor.id,
            logins=logins,
            market_path=market_path,
            product_path=f"{market_path}lapak/{vendor.slug}/{product.slug}",
        )


def query(env: dict[str, str], sql: str, **params) -> list:
    engine = create_engine(env["MARKET_DATABASE_URL"])
    try:
        with engine.connect() as connection:
            return list(connection.execute(text(sql), params))
    finally:
        engine.dispose()


def sqlite_integrity(env: dict[str, str]) -> list[str]:
    """PRAGMA integrity_check and foreign_key_check: ['ok'] when the file is sound."""
    url = env["MARKET_DATABASE_URL"]
    if not url.startswith("sqlite"):
        return ["ok"]  # PostgreSQL checks its constraints at every commit
    rows = [row[0] for row in query(env, "PRAGMA integrity_check")]
    return rows + [repr(row) for row in query(env, "PRAGMA foreign_key_check")]


def referenced_files(env: dict[str, str]) -> set[str]:
    keys = set()
    rows = query(env, "SELECT content_hash, variants, master_width FROM photo")
    for content_hash, variants, master_width in rows:
        widths = json.loads(variants) if isinstance(variants, str) else variants
        keys.update(variant_key(content_hash, width) for width in widths)
        if master_width:
            keys.add(master_key(content_hash, master_width))
    return keys


def stored_files(env: dict[str, str]) -> set[str]:
    root = Path(env["MARKET_STORAGE_URL"].removeprefix("file://"))
    return set(LocalStorage(root).keys("photos/"))


def leftovers(env: dict[str, str]) -> list[Path]:
    """Half-written temporary files under the uploads folder."""
    root = Path(env["MARKET_STORAGE_URL"].removeprefix("file://"))
    return sorted(root.rglob(".tmp-*")) if root.is_dir() else []


# --- Redis of the test's own ------------------------------------------------------------------


@contextmanager
def redis_server(port: int | None = None):
    """A throwaway redis-server on a free port; yields (url, process)."""
    if not shutil.which("redis-server"):
        pytest.skip("redis-server is not installed")
    port = port or free_port()
    command = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
    process = subprocess.Popen(
        [*command, "--appendonly", "no", "--daemonize", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0", process
    finally:
        process.kill()
        process.wait()
