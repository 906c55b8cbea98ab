"""Faults on a real server: a worker killed mid-upload or mid-save, a full upload disk, a
read-only database, Redis going away. Each must leave the database sound, no photo file that no
row uses (once the collector has run), no row without its files, and a clean page — never a
traceback — for the requests that fail.

On SQLite, or on PostgreSQL when MARKET_TEST_DATABASE_URL is set (CI does both).
MARKET_FAULT_KILLS sets how many times a worker is killed (2 in the suite, 10 in
`make reliability`).
"""

import hashlib
import json
import os
import sqlite3
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests
from sqlalchemy import create_engine, make_url, text

from market import create_app
from market.extensions import db
from tests.factories import encode, photo_like
from tests.live import flask, serve
from tests.reliability_helpers import (
    DATABASE_KIND,
    Visitor,
    database_of_its_own,
    installation,
    kill_worker,
    leftovers,
    master_pid,
    query,
    redis_server,
    referenced_files,
    sqlite_integrity,
    staffed_product,
    stored_files,
    wait_for_workers,
)

KILLS = int(os.environ.get("MARKET_FAULT_KILLS", "2"))
NOT_STORED = "The server could not store the photo right now, so nothing was saved. Try later."
UNAVAILABLE = "The database cannot take changes right now."
# A request cut off by a killed worker: the connection drops before or while the answer comes.
# Anything else (a page that is not the form, an unexpected status) is a failure.
CUT_OFF = (requests.ConnectionError, requests.exceptions.ChunkedEncodingError)


def assert_clean(response) -> None:
    """A failure the visitor sees is one of our pages, never a traceback or a bare error."""
    assert "Traceback" not in response.text
    if response.status_code >= 500:
        assert response.status_code == 503, response.text[:300]
        assert '<html lang="en">' in response.text and UNAVAILABLE in response.text


def assert_nothing_lost_or_left(env: dict) -> int:
    """After the collector: the database is sound, every row's files exist, and no file is
    unused. Returns how many unused files the collector removed."""
    report = flask(env, "collect-garbage", "--grace-minutes", "0").stdout.decode()
    assert sqlite_integrity(env) == ["ok"]
    referenced, stored = referenced_files(env), stored_files(env)
    assert referenced <= stored, f"rows without files: {referenced - stored}"
    assert stored == referenced, f"unused files: {stored - referenced}"
    assert leftovers(env) == []
    return int(report.rsplit(" unused photo files", 1)[0].split()[-1])


def big_photos(count: int) -> list[bytes]:
    """Distinct 7 MP JPEGs: decoding and resizing one takes a worker a few hundred ms."""
    image = photo_like((3000, 2250), seed=3)
    return [encode(image, "JPEG", quality=70 + n) for n in range(count)]


def wait_for_first_file(env: dict, data: bytes, timeout: float = 10) -> None:
    """Until the first variant of the photo ``data`` is in the uploads folder."""
    content_hash = hashlib.sha256(data).hexdigest()
    root = Path(env["MARKET_STORAGE_URL"].removeprefix("file://"))
    folder = root / "photos" / content_hash[:2]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if folder.is_dir() and any(name.startswith(content_hash) for name in os.listdir(folder)):
            return
        time.sleep(0.0005)


def price_history(env: dict, product_id: int) -> list[tuple[int, int]]:
    rows = query(
        env,
        "SELECT changes FROM audit_event WHERE action = 'product.update' AND record_id = :id "
        "ORDER BY id",
        id=product_id,
    )
    changes = [json.loads(c) if isinstance(c, str) else c for (c,) in rows]
    return [tuple(change["price_idr"]) for change in changes]


# --- kill -9 a worker mid-upload and mid-save -----------------------------------------------


@pytest.mark.live
@pytest.mark.slow
def test_killing_workers_mid_upload_and_mid_save_loses_and_leaves_nothing(tmp_path):
    with database_of_its_own(tmp_path, "kills") as url:
        env = installation(tmp_path, url)
        shop = staffed_product(env)
        ((price_before,),) = query(
            env, "SELECT price_idr FROM product WHERE id = :id", id=shop.product_id
        )
        photos = big_photos(KILLS + 1)
        log: list[str] = []
        outcomes = {"answered": 0, "cut off": 0}
        with serve(env, workers=1, threads=4, log=log) as base:
            master = master_pid(base)
            editor = Visitor(base)
            editor.log_in(shop.logins[0])
            upload_path = f"/manage/products/{shop.product_id}/photos"
            edit_path = f"/manage/products/{shop.product_id}/edit"

            def upload(data: bytes) -> requests.Response:
                fields = editor.form(edit_path, upload_path)
                return editor.post(upload_path, fields, files={"photos": ("big.jpg", data)})

            def save_repeatedly(stop: threading.Event) -> tuple[int, int]:
                """Saves until stopped; (answered, cut off). Any other failure is raised."""
                answered = cut_off = 0
                while not stop.is_set():
                    try:
                        fields = editor.form(edit_path)
                        price = int(fields["price"]) + 1
                        response = editor.post(edit_path, {**fields, "price": str(price)})
                    except CUT_OFF:
                        cut_off += 1
                        continue
                    assert_clean(response)
                    answered += 1
                return answered, cut_off

            # One upload undisturbed, to know how long the worker takes over one.
            started = time.monotonic()
            assert upload(photos[0]).status_code == 303
            upload_seconds = time.monotonic() - started
            for n in range(KILLS):
                # Every other kill lands as the photo's first file appears, between the files
                # and the row; the others at points spread over the whole upload: receiving,
                # decoding, writing, committing.
                with ThreadPoolExecutor(1) as pool:
                    pending = pool.submit(upload, photos[n + 1])
                    if n % 2:
                        wait_for_first_file(env, photos[n + 1])
                    else:
                        time.sleep(upload_seconds * (n + 0.5) / KILLS)
                    victim = kill_worker(master)
                    try:
                        assert_clean(pending.result())
                        outcomes["answered"] += 1
                    except CUT_OFF:
                        outcomes["cut off"] += 1
                wait_for_workers(base, master, 1, victim)
                # Saves from four threads at once, then the kill lands among them.
                stop = threading.Event()
                with ThreadPoolExecutor(4) as pool:
                    savers = [pool.submit(save_repeatedly, stop) for _ in range(4)]
                    time.sleep(0.3 + 0.2 * n)
                    victim = kill_worker(master)
                    wait_for_workers(base, master, 1, victim)
                    stop.set()
                    # result() raises what failed in a thread (an assertion included).
                    for answered, cut_off in (saver.result() for saver in savers):
                        outcomes["answered"] += answered
                        outcomes["cut off"] += cut_off
            # The app is whole again: the product page and the editor's session still work.
            assert editor.get(edit_path).status_code == 200
        history = price_history(env, shop.product_id)
        ((price, photo_rows),) = query(
            env,
            "SELECT price_idr, (SELECT count(*) FROM photo WHERE product_id = :id) "
            "FROM product WHERE id = :id",
            id=shop.product_id,
        )
        removed = assert_nothing_lost_or_left(env)
    print(
        f"\nkills on {DATABASE_KIND}: {KILLS} mid-upload and {KILLS} mid-save; "
        f"{outcomes['cut off']} requests cut off, {outcomes['answered']} answered cleanly; "
        f"{photo_rows} photos stored, {len(history)} saves committed; "
        f"the collector removed {removed} unused files"
    )
    # Every committed save has its audit event (same transaction), and each built on the last.
    assert [step[0] for step in history] == [price_before + n for n in range(len(history))]
    assert price == price_before + len(history)
    assert outcomes["cut off"] >= KILLS
    assert not [line for line in log if "Traceback" in line]


# --- a full upload disk --------------------------------------------------------------------


@contextmanager
def small_disk(folder: Path, size: str = "256k"):
    folder.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=True)


@pytest.mark.live
@pytest.mark.slow
def test_a_full_upload_disk_refuses_photos_clearly_and_keeps_the_rest(tmp_path):
    with database_of_its_own(tmp_path, "fulldisk") as url:
        env = installation(tmp_path, url)
        shop = staffed_product(env)
        with small_disk(tmp_path / "uploads"), serve(env, workers=1, threads=2) as base:
            editor = Visitor(base)
            editor.log_in(shop.logins[0])
            upload_path = f"/manage/products/{shop.product_id}/photos"
            edit_path = f"/manage/products/{shop.product_id}/edit"
            image = photo_like((1800, 1200), seed=5)
            refused = None
            for n in range(40):
                fields = editor.form(edit_path, upload_path)
                data = encode(image.rotate(n * 7), "JPEG", quality=90)
                response = editor.post(upload_path, fields, files={"photos": (f"{n}.jpg", data)})
                if response.status_code == 503:
                    # The form comes back with the reason, to be sent again later.
                    assert NOT_STORED in response.text and "Traceback" not in response.text
                    assert response.headers["Retry-After"]
                    refused = n
                    break
                assert response.status_code == 303
                assert_clean(editor.get(response.headers["Location"]))
            assert refused is not None, "the disk never filled up"
            # What was saved before still shows; nothing half-saved has a row.
            assert editor.get(shop.product_path).status_code == 200
            assert_nothing_lost_or_left(env)
            ((photos,),) = query(env, "SELECT count(*) FROM photo")
    assert photos == refused


# --- a read-only database ----------------------------------------------------------------------


def mount(*args: str) -> None:
    done = subprocess.run(["mount", *args], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount here: {done.stderr.decode().strip()}")


@contextmanager
def read_only(env: dict):
    """Make the database refuse writes, as a disk remounted read-only or a standby would; yields
    a function that makes it writable again (and is also called on the way out)."""
    url = env["MARKET_DATABASE_URL"]
    if DATABASE_KIND == "sqlite":
        # The app reaches the file through a read-only view of its folder (root ignores file
        # modes). A connection held open here keeps the WAL index that read-only readers need.
        database = Path(url.removeprefix("sqlite:///"))
        view = database.parent.with_name("db-view")
        view.mkdir()
        mount("--bind", str(database.parent), str(view))
        keeper = sqlite3.connect(database)
        keeper.execute("SELECT count(*) FROM product").fetchall()
        try:
            mount("-o", "remount,bind,ro", str(view))
            env["MARKET_DATABASE_URL"] = f"sqlite:///{view / database.name}"
            yield lambda: mount("-o", "remount,bind,rw", str(view))
        finally:
            env["MARKET_DATABASE_URL"] = url
            keeper.close()
            subprocess.run(["umount", str(view)], check=True)
        return
    name = make_url(url).database
    admin = create_engine(url, isolation_level="AUTOCOMMIT")

    def setting(value: str) -> None:
        with admin.connect() as connection:
            connection.execute(
                text(f'ALTER DATABASE "{name}" SET default_transaction_read_only = {value}')
            )

    setting("on")
    try:
        yield lambda: setting("off")
    finally:
        setting("off")
        admin.dispose()


@pytest.mark.live
def test_a_read_only_database_keeps_pages_and_refuses_changes_cleanly(tmp_path):
    (tmp_path / "db").mkdir()
    with database_of_its_own(tmp_path / "db", "readonly") as url:
        env = installation(tmp_path, url)
        shop = staffed_product(env)
        with serve(env, workers=1, threads=2) as base:
            editor = Visitor(base)
            editor.log_in(shop.logins[0])
        ((price_before, version_before),) = query(
            env, "SELECT price_idr, version FROM product WHERE id = :id", id=shop.product_id
        )
        log: list[str] = []
        edit_path = f"/manage/products/{shop.product_id}/edit"
        with read_only(env) as writable, serve(env, workers=1, threads=2, log=log) as base:
            editor.base = base  # the same browser, after the database broke
            anonymous = Visitor(base)
            pages = [anonymous.get(path) for path in ("/", shop.market_path, shop.product_path)]
            fields = editor.form(edit_path)
            refused = editor.post(edit_path, {**fields, "price": "99000"})
            login_fields = anonymous.form("/auth/login")
            login = anonymous.post(
                "/auth/login", {**login_fields, "login": shop.logins[0], "password": "x" * 9}
            )
            ((price, version),) = query(
                env, "SELECT price_idr, version FROM product WHERE id = :id", id=shop.product_id
            )
            # Writable again: the same server takes saves without a restart, once a 503 has
            # dropped the connections opened while it was not (one more 503 at most).
            writable()
            retries = [editor.post(edit_path, {**fields, "price": "99000"}) for _ in range(2)]
        integrity = sqlite_integrity(env)
    assert [page.status_code for page in pages] == [200, 200, 200]
    assert refused.status_code == 503 and refused.headers["Retry-After"]
    assert_clean(refused)
    # A failed login writes nothing either way; a page, never a traceback.
    assert login.status_code in (200, 503)
    assert_clean(login)
    assert (price, version) == (price_before, version_before)
    assert [retry.status_code for retry in retries] in ([303, 303], [503, 303])
    assert integrity == ["ok"]
    assert any("database unavailable" in line for line in log)
    assert not [line for line in log if "Traceback" in line]


def test_a_database_out_of_reach_is_a_clean_503_even_for_someone_logged_in(tmp_path):
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'missing' / 'market.sqlite3'}",
            "MARKET_STORAGE_URL": f"file://{tmp_path / 'uploads'}",
            "SECRET_KEY": "x" * 40,
            "MARKET_PAGE_CACHE": False,
        }
    )
    anonymous, logged_in = app.test_client(), app.test_client()
    with logged_in.session_transaction() as session:
        session["_user_id"] = "1:1"  # the user cannot be loaded: the page must not need them
    for client, path in ((anonymous, "/?lang=en"), (logged_in, "/manage/?lang=en")):
        response = client.get(path)
        assert response.status_code == 503
        assert response.headers["Retry-After"] == "60"
        assert_clean(response)
    with app.app_context():
        db.engine.dispose()


# --- Redis going away --------------------------------------------------------------------------


@pytest.mark.live
def test_redis_going_away_degrades_to_per_process_limits_and_uncached_pages(tmp_path):
    with redis_server() as (redis_url, redis), database_of_its_own(tmp_path, "redis") as url:
        env = installation(tmp_path, url, MARKET_REDIS_URL=redis_url)
        shop = staffed_product(env)
        log: list[str] = []
        with serve(env, workers=2, threads=2, log=log) as base:
            editor = Visitor(base)
            editor.log_in(shop.logins[0])
            anonymous = Visitor(base)
            for _ in range(3):  # cached in Redis
                assert anonymous.get(shop.product_path).status_code == 200
            redis.kill()
            redis.wait()

            started = time.monotonic()
            pages = [anonymous.get(path) for path in ("/", shop.market_path) * 5]
            page_seconds = (time.monotonic() - started) / len(pages)
            edit_path = f"/manage/products/{shop.product_id}/edit"
            fields = editor.form(edit_path)
            saved = editor.post(edit_path, {**fields, "price": "31000"})
            shown = anonymous.get(shop.product_path)
            # One keep-alive connection stays with one worker, which counts in its memory now.
            prober = Visitor(base, keep_alive=True)
            form = prober.form("/auth/login")
            attempts = [
                prober.post("/auth/login", {**form, "login": "x@example.org", "password": "y" * 9})
                for _ in range(6)
            ]
            prober.close()
    print(
        f"\nredis away: {len(pages)} pages at {page_seconds * 1000:.0f} ms each, save "
        f"{saved.status_code}, failed logins {[attempt.status_code for attempt in attempts]}"
    )
    assert [page.status_code for page in pages] == [200] * len(pages)
    assert page_seconds < 1.0
    assert saved.status_code == 303
    assert shown.status_code == 200 and "31.000" in shown.text
    assert [attempt.status_code for attempt in attempts] == [200] * 5 + [429]
    for response in (*pages, saved, shown, *attempts):
        assert_clean(response)
    text = "\n".join(log)
    assert "page cache unreachable" in text
