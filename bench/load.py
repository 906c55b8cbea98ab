"""The long load run of docs/RELIABILITY.md: shoppers and staff at once, with 0 errors and 0 5xx
as the target (`make reliability`, or `python bench/load.py --help`).

Starts the app with `make serve`, as `make run` does, on a copy of the demo market, then for
--seconds runs at the same time:

- wrk against five public pages (home, market, stall, product, search), one wrk per page,
  --public-connections in all;
- --staff logged-in volunteers (requests sessions, keep-alive like a browser), each opening the
  back office home, a stall's product list and a product's edit form, and saving the product
  with a new price, over and over.

Reports requests, p50/p95/p99, errors and 5xx (from the clients, and cross-checked in gunicorn's
access log), and writes bench/results/reliability-<date>.md. With --database-url (PostgreSQL),
--redis-url and --workers it runs the scaled-out shape instead.
"""

import argparse
import re
import shutil
import sqlite3
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402

from bench.run import RESULTS, TMP, Server, machine, sh, wrk  # noqa: E402
from tests.live import app_env  # noqa: E402
from tests.pages import form_values  # noqa: E402
from tests.reliability_helpers import percentile  # noqa: E402

MARKET = "pasar-inpres-kebun-sayur"
STAFF_PASSWORD = "load test relawan pagi"  # noqa: S105 - accounts of a throwaway database
FLASK = [sys.executable, "-m", "flask", "--app", "market"]


def demo_template() -> Path:
    """The demo market migrated and seeded once (seed-demo draws photos: ~15 s)."""
    folder = TMP / "load-template"
    if not (folder / "ready").exists():
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        env = app_env(folder)
        sh(*FLASK, "db", "upgrade", env=env)
        sh(*FLASK, "seed-demo", env=env)
        # One file, no WAL beside it, so that a plain copy is the whole database.
        database = sqlite3.connect(folder / "market.sqlite3")
        database.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        database.execute("PRAGMA journal_mode=DELETE")
        database.close()
        (folder / "ready").write_text("")
    return folder


def installation(args) -> dict:
    """A fresh copy of the demo installation for this run, and its staff accounts."""
    folder = TMP / "load"
    shutil.rmtree(folder, ignore_errors=True)
    template = demo_template()
    shutil.copytree(template / "uploads", folder / "uploads")
    env = app_env(folder)
    if args.database_url:
        env["MARKET_DATABASE_URL"] = args.database_url
        sh(*FLASK, "db", "upgrade", env=env)
        sh(*FLASK, "seed-demo", env=env)
    else:
        shutil.copyfile(template / "market.sqlite3", folder / "market.sqlite3")
    env.pop("MARKET_REDIS_URL", None)
    if args.redis_url:
        env["MARKET_REDIS_URL"] = args.redis_url
    for n in range(args.staff):
        sh(
            *FLASK,
            "create-user",
            "--role",
            "volunteer",
            "--email",
            f"load{n}@example.org",
            "--market",
            MARKET,
            "--password",
            STAFF_PASSWORD,
            env=env,
        )
    return env


def public_paths(env: dict) -> dict[str, str]:
    """One page of each public kind in the demo market."""
    code = f"""
from sqlalchemy import select
from market import create_app
from market.extensions import db
from market.models import Market, Product, Vendor
with create_app().app_context():
    market = db.session.scalar(select(Market).where(Market.slug == "{MARKET}"))
    vendor = db.session.scalar(select(Vendor).where(Vendor.market_id == market.id)
                               .order_by(Vendor.id))
    product = db.session.scalar(select(Product).where(Product.vendor_id == vendor.id)
                                .order_by(Product.id))
    print(vendor.slug, product.slug)
"""
    vendor, product = sh(sys.executable, "-c", code, env=env).split()
    base = f"/pasar/{MARKET}/"
    return {
        "home": "/",
        "market": base,
        "stall": f"{base}lapak/{vendor}/",
        "product": f"{base}lapak/{vendor}/{product}",
        "search": f"{base}cari?q=amplang",
    }


class Staff:
    """One volunteer at work in the back office, keeping every answer's time and status."""

    def __init__(self, base: str, login: str):
        self.base = base
        self.http = requests.Session()
        self.http.headers["Accept-Language"] = "en"
        self.timings: dict[str, list[float]] = {"page": [], "save": []}
        self.statuses: dict[int, int] = {}
        self.errors: list[str] = []
        fields = form_values(self._call("GET", "/auth/login", "page").text, "/auth/login")
        fields |= {"login": login, "password": STAFF_PASSWORD}
        answer = self._call("POST", "/auth/login", "page", data=fields)
        if answer.status_code != 302:
            raise RuntimeError(f"{login} could not log in: {answer.status_code}")

    def _call(self, method: str, path: str, kind: str, **kwargs) -> requests.Response:
        started = time.perf_counter()
        answer = self.http.request(
            method, self.base + path, allow_redirects=False, timeout=30, **kwargs
        )
        self.timings[kind].append(time.perf_counter() - started)
        self.statuses[answer.status_code] = self.statuses.get(answer.status_code, 0) + 1
        return answer

    def work_until(self, deadline: float, vendor_id: int, product_id: int) -> None:
        edit = f"/manage/products/{product_id}/edit"
        while time.monotonic() < deadline:
            try:
                for path in ("/manage/", f"/manage/vendors/{vendor_id}/products"):
                    self._call("GET", path, "page")
                fields = form_values(self._call("GET", edit, "page").text, edit)
                fields["price"] = str(int(fields["price"] or 1000) + 500)
                saved = self._call("POST", edit, "save", data=fields)
                if saved.status_code != 303:
                    self.errors.append(f"save answered {saved.status_code}")
            except (requests.RequestException, AssertionError) as error:
                self.errors.append(repr(error))


def products_for_staff(env: dict, count: int) -> list[tuple[int, int]]:
    """(vendor id, product id) pairs, one product per volunteer so saves do not conflict."""
    code = f"""
from sqlalchemy import select
from market import create_app
from market.extensions import db
from market.models import Market, Product, Vendor
with create_app().app_context():
    rows = db.session.execute(
        select(Vendor.id, Product.id).join(Product.vendor).join(Vendor.market)
        .where(Market.slug == "{MARKET}", Product.deleted_at.is_(None)).order_by(Product.id)
    ).all()
    print(" ".join(f"{{v}}:{{p}}" for v, p in rows[:{count}]))
"""
    pairs = sh(sys.executable, "-c", code, env=env).split()
    return [tuple(int(n) for n in pair.split(":")) for pair in pairs]


def workers_rss_mb(root: int) -> float:
    """Resident memory of the gunicorn workers: the leaves of the process tree under ``root``
    (make, its shell, gunicorn's master, then the workers)."""
    children = Path(f"/proc/{root}/task/{root}/children").read_text().split()
    if not children:
        status = Path(f"/proc/{root}/status").read_text()
        return int(re.search(r"VmRSS:\s+(\d+)", status).group(1)) / 1024
    return sum(workers_rss_mb(int(child)) for child in children)


def access_log_5xx(path: Path) -> int:
    """Answers with a 5xx status in gunicorn's access log (common log format)."""
    status = re.compile(r'" (\d{3}) ')
    count = 0
    for line in path.read_text(errors="replace").splitlines():
        match = status.search(line)
        count += bool(match and match.group(1).startswith("5"))
    return count


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--public-connections", type=int, default=25)
    parser.add_argument("--staff", type=int, default=8)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--database-url", help="PostgreSQL URL of an empty database")
    parser.add_argument("--redis-url", help="Redis for limits and the page cache")
    args = parser.parse_args()
    TMP.mkdir(parents=True, exist_ok=True)
    env = installation(args)
    paths = public_paths(env)
    pairs = products_for_staff(env, args.staff)
    shape = (
        f"{'PostgreSQL' if args.database_url else 'SQLite'}"
        f"{' + Redis' if args.redis_url else ''}, gunicorn {args.workers} "
        f"worker{'s' if args.workers > 1 else ''} × 8 threads"
    )
    per_page = max(1, args.public_connections // len(paths))

    server_env = env | {"WORKERS": str(args.workers)}
    with Server(server_env, name="load") as server:
        for path in paths.values():  # warm-up: caches, connections
            wrk(server.url + path, 1, 2)
        staff = [Staff(server.url, f"load{n}@example.org") for n in range(args.staff)]
        deadline = time.monotonic() + args.seconds
        public: dict[str, dict] = {}

        def shoppers(name: str, path: str) -> None:
            public[name] = wrk(server.url + path, args.seconds, per_page)

        threads = [threading.Thread(target=shoppers, args=item) for item in paths.items()]
        for thread in threads:
            thread.start()
        with ThreadPoolExecutor(len(staff)) as pool:
            for member, (vendor_id, product_id) in zip(staff, pairs, strict=False):
                pool.submit(member.work_until, deadline, vendor_id, product_id)
        for thread in threads:
            thread.join()
        rss = workers_rss_mb(server.process.pid)
    log_5xx = access_log_5xx(TMP / "access-load.log")

    pages = [t for member in staff for t in member.timings["page"]]
    saves = [t for member in staff for t in member.timings["save"]]
    staff_errors = [e for member in staff for e in member.errors]
    staff_5xx = sum(n for member in staff for code, n in member.statuses.items() if code >= 500)
    public_requests = sum(result["requests"] for result in public.values())
    public_errors = sum(result["errors"] for result in public.values())
    public_non_2xx = sum(result["non_2xx"] for result in public.values())
    connections = per_page * len(paths) + args.staff
    lines = [
        f"# Load run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        "",
        f"Machine: {machine()}",
        "",
        f"Command: `{' '.join(['python', 'bench/load.py', *sys.argv[1:]])}` "
        "(`make reliability`); "
        f"{shape}, started by `make serve` with its access log on; {args.seconds} s; "
        f"{connections} connections: {per_page} wrk connections on each of "
        f"{len(paths)} public pages and {args.staff} logged-in volunteers; the load "
        "generators share the machine's cores with the server.",
        "",
        "| traffic | requests | req/s | p50 ms | p95 ms | p99 ms | errors | non-2xx/3xx |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, result in public.items():
        lines.append(
            f"| public: {name} | {result['requests']} | {result['rps']:.0f} "
            f"| {result['p50'] / 1000:.1f} | {result['p95'] / 1000:.1f} "
            f"| {result['p99'] / 1000:.1f} | {result['errors']} | {result['non_2xx']} |"
        )
    for name, timings in (("back office pages", pages), ("back office saves", saves)):
        lines.append(
            f"| {name} | {len(timings)} | {len(timings) / args.seconds:.0f} "
            f"| {ms(percentile(timings, 0.5))} | {ms(percentile(timings, 0.95))} "
            f"| {ms(percentile(timings, 0.99))} | – | – |"
        )
    lines += [
        "",
        f"Totals: {public_requests + len(pages) + len(saves)} requests; errors: "
        f"{public_errors} public (connect/read/timeout), {len(staff_errors)} back office; "
        f"5xx: {staff_5xx} seen by the volunteers, {log_5xx} in the access log; "
        f"public non-2xx: {public_non_2xx}. Workers' memory after the run: {rss:.0f} MB RSS.",
        "",
    ]
    if staff_errors:
        lines += ["Back office errors (first 10):", "", *(f"- {e}" for e in staff_errors[:10])]
    report = "\n".join(lines) + "\n"
    print(report)
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"reliability-{datetime.now(UTC):%Y-%m-%d}.md"
    with out.open("a") as file:
        file.write(report + "\n")
    print(f"appended to {out.relative_to(ROOT)}")
    failed = public_errors or public_non_2xx or staff_errors or staff_5xx or log_5xx
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
