"""Eight people editing one product at once, through two gunicorn workers: no error, and no
update lost — a save based on a stale version is refused with the conflict page, never applied.
And eight shoppers at once on the eight threads of one process, as the worker of `make run`
serves them: every page answers and the process lives.

Each save raises the price by one from the value its form showed and writes the editor's token
into the price note. The audit trail, written in the same commit as each change, then gives the
order of the accepted saves: every one must start from the value the previous one left.
On SQLite, or on PostgreSQL when MARKET_TEST_DATABASE_URL is set (CI does both).
MARKET_CONCURRENCY_SECONDS sets the duration (8 in the suite, 30 in `make reliability`).
"""

import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import pytest

from tests.live import ROOT, flask, serve
from tests.pages import form_values
from tests.reliability_helpers import (
    DATABASE_KIND,
    Visitor,
    database_of_its_own,
    installation,
    percentile,
    query,
    sqlite_integrity,
    staffed_product,
)

pytestmark = [pytest.mark.live, pytest.mark.slow]

SECONDS = float(os.environ.get("MARKET_CONCURRENCY_SECONDS", "8"))
CLIENTS = 8
CONFLICT = "Someone else saved this product while you were editing it"


@dataclass
class Tally:
    accepted: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)


def edit_until(base: str, product_id: int, login: str, client: int, deadline: float) -> Tally:
    tally = Tally()
    visitor = Visitor(base)
    visitor.log_in(login)
    path = f"/manage/products/{product_id}/edit"
    while time.monotonic() < deadline:
        token = f"c{client}.{len(tally.accepted) + len(tally.refused) + len(tally.errors)}"
        page = visitor.get(path)
        if page.status_code != 200:
            tally.errors.append(f"GET {page.status_code}")
            continue
        fields = form_values(page.text, path)
        price = int("".join(ch for ch in fields["price"] if ch.isdigit()))
        response = visitor.post(path, {**fields, "price": str(price + 1), "price_note": token})
        if response.status_code == 303:
            tally.accepted.append(token)
        elif response.status_code == 409 and CONFLICT in response.text:
            tally.refused.append(token)
        else:
            tally.errors.append(f"POST {response.status_code}: {response.text[:200]}")
    tally.seconds = visitor.seconds
    return tally


def run_editors(base: str, product_id: int, logins: list[str]) -> Tally:
    deadline = time.monotonic() + SECONDS
    with ThreadPoolExecutor(len(logins)) as pool:
        futures = [
            pool.submit(edit_until, base, product_id, login, n, deadline)
            for n, login in enumerate(logins)
        ]
        tallies = [future.result() for future in futures]
    total = Tally()
    for tally in tallies:
        for name in ("accepted", "refused", "errors", "seconds"):
            getattr(total, name).extend(getattr(tally, name))
    return total


def accepted_in_commit_order(env: dict, product_id: int) -> list[dict]:
    rows = query(
        env,
        "SELECT changes FROM audit_event WHERE action = 'product.update' AND record_id = :id "
        "ORDER BY id",
        id=product_id,
    )
    return [json.loads(changes) if isinstance(changes, str) else changes for (changes,) in rows]


def test_concurrent_editors_lose_no_update(tmp_path):
    with database_of_its_own(tmp_path, "concurrency") as url:
        env = installation(tmp_path, url)
        shop = staffed_product(env, volunteers=CLIENTS)
        product_id = shop.product_id
        ((price_before, version_before),) = query(
            env, "SELECT price_idr, version FROM product WHERE id = :id", id=product_id
        )
        log: list[str] = []
        started = time.monotonic()
        with serve(env, workers=2, threads=4, log=log) as base:
            total = run_editors(base, product_id, shop.logins)
        elapsed = time.monotonic() - started
        ((price, version),) = query(
            env, "SELECT price_idr, version FROM product WHERE id = :id", id=product_id
        )
        history = accepted_in_commit_order(env, product_id)
        integrity = sqlite_integrity(env)

    requests = len(total.seconds)
    print(
        f"\nconcurrency on {DATABASE_KIND}: {CLIENTS} editors, {SECONDS:.0f} s, 2 workers: "
        f"{len(total.accepted)} saves accepted, {len(total.refused)} refused as conflicts, "
        f"{len(total.errors)} errors; {requests} requests ({requests / elapsed:.0f}/s), "
        f"p50 {percentile(total.seconds, 0.5) * 1000:.0f} ms, "
        f"p99 {percentile(total.seconds, 0.99) * 1000:.0f} ms"
    )
    assert total.errors == []
    assert not [line for line in log if "Traceback" in line or "database is locked" in line]
    assert total.accepted and total.refused, "the editors never met: no contention was tested"
    # Every accepted save is in the trail exactly once, in some order; no refused one is.
    assert sorted(change["price_note"][1] for change in history) == sorted(total.accepted)
    # Each accepted save started from the price the previous one left: none was overwritten.
    assert [change["price_idr"] for change in history] == [
        [price_before + n, price_before + n + 1] for n in range(len(history))
    ]
    assert price == price_before + len(total.accepted)
    assert version == version_before + len(total.accepted)
    assert integrity == ["ok"]


SHOPPER_PAGES = [
    "/pasar/pasar-inpres-kebun-sayur/",
    "/pasar/pasar-inpres-kebun-sayur/cari?q=manik",
    "/cari?q=amplang",
    "/pasar/pasar-inpres-kebun-sayur/lapak/manik-dayak-bu-sri/",
]
# Eight threads of one process render the pages at once, as the threads of a gunicorn worker
# do, without the sockets in between: more renders overlap per second than clients on this
# machine could ask for.
SHOPPERS = f"""
import sys, threading, time
from market import create_app

app = create_app()
deadline = time.monotonic() + {SECONDS}
failures = []

def browse():
    client = app.test_client()
    while time.monotonic() < deadline:
        for path in {SHOPPER_PAGES!r}:
            status = client.get(path).status_code
            if status != 200:
                failures.append(f"{{path}}: {{status}}")

threads = [threading.Thread(target=browse) for _ in range({CLIENTS})]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
print(failures)
sys.exit(1 if failures else 0)
"""


def test_shoppers_at_once_never_bring_the_worker_down(tmp_path):
    """Uncached storefront pages for eight shoppers at once in one process. On CPython 3.11 its
    garbage collector crashed such a process within seconds (a segmentation fault: a gunicorn
    worker of `make run` dropped every connection), which is why Pasar needs 3.12."""
    with database_of_its_own(tmp_path, "shoppers") as url:
        env = installation(tmp_path, url, MARKET_PAGE_CACHE="0", PYTHONFAULTHANDLER="1")
        flask(env, "seed-demo")
        shoppers = subprocess.run(
            [sys.executable, "-c", SHOPPERS], env=env, cwd=ROOT, capture_output=True, text=True
        )
    assert shoppers.returncode == 0, shoppers.stdout + shoppers.stderr[:2000]
