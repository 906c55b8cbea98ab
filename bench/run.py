"""The performance budgets, measured in one run: `make bench` (see bench/README.md).

Starts the app with `make serve` exactly as `make run` does, and a bare Flask "hello" app the
same way, then measures throughput and latency under wrk, latency at a fixed 200 req/s, SQL
queries per page, bytes per page, the photo pipeline, search latency on the synthetic catalogue
and the worker's memory. Writes bench/results/<date>.md.
"""

import argparse
import http.client
import json
import os
import platform
import re
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, make_url, text  # noqa: E402

from tests.live import app_env, free_port, wait_until_up  # noqa: E402

TMP = ROOT / "bench" / "tmp"
RESULTS = ROOT / "bench" / "results"
PYTHON = sys.executable
# The campaign mix's page cache; a database of its own, emptied before each mix.
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/8")


def sh(*command: str, env=None) -> str:
    return subprocess.run(
        command, env=env, cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout


def dataset(
    markets: int, vendors: int, products: int, database_url: str | None = None
) -> tuple[dict, str]:
    """A database with the demo market and the synthetic catalogue, built once and reused:
    SQLite under bench/tmp/, or the (empty) database at ``database_url``."""
    folder = TMP / f"data-{markets}x{vendors}x{products}"
    settings = {}
    if database_url:
        folder = folder.with_name(f"{folder.name}-{make_url(database_url).database}")
        settings["MARKET_DATABASE_URL"] = database_url
    env = app_env(folder, **settings)
    if not (folder / "ready").exists():
        folder.mkdir(parents=True, exist_ok=True)
        flask = [PYTHON, "-m", "flask", "--app", "market"]
        started = time.monotonic()
        sh(*flask, "db", "upgrade", env=env)
        sh(*flask, "seed-demo", env=env)
        sh(
            *flask,
            "seed-bench",
            "--markets",
            str(markets),
            "--vendors",
            str(vendors),
            "--products",
            str(products),
            env=env,
        )
        (folder / "ready").write_text(f"{time.monotonic() - started:.0f}")
    return env, (folder / "ready").read_text()


def sample_urls(env: dict) -> dict[str, str]:
    """One page of each kind, taken from the largest synthetic market."""
    engine = create_engine(env["MARKET_DATABASE_URL"])
    with engine.connect() as database:
        market_id, market = database.execute(
            text(
                "SELECT id, slug FROM market WHERE slug LIKE 'pasar-bench-%' "
                "ORDER BY id DESC LIMIT 1"
            )
        ).one()
        vendor_id, vendor = database.execute(
            text("SELECT id, slug FROM vendor WHERE market_id = :m ORDER BY id LIMIT 1 OFFSET 7"),
            {"m": market_id},
        ).one()
        (product,) = database.execute(
            text("SELECT slug FROM product WHERE vendor_id = :v ORDER BY position LIMIT 1"),
            {"v": vendor_id},
        ).one()
    engine.dispose()
    return {
        "market": f"/pasar/{market}/",
        "vendor": f"/pasar/{market}/lapak/{vendor}/",
        "product": f"/pasar/{market}/lapak/{vendor}/{product}",
        "search": f"/pasar/{market}/cari?q=amplang",
        "api": f"/api/v1/markets/{market}/products?q=manik",
    }


class Server:
    """`make serve` on a free port; stopped on exit."""

    def __init__(
        self,
        env: dict,
        app: str = "market:create_app()",
        name: str = "app",
        ready_path: str = "/robots.txt",
    ):
        # A page that answers at once: the city page of a million goods, uncached and cold,
        # can take longer than each try of wait_until_up waits.
        self.ready_path = ready_path
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        log = TMP / f"access-{name}.log"
        self.process = subprocess.Popen(
            [
                "make",
                "--no-print-directory",
                "serve",
                f"PORT={self.port}",
                f"APP={app}",
                f"ACCESS_LOG={log}",
            ],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

    def __enter__(self):
        wait_until_up(self.url + self.ready_path, self.process)
        return self

    def __exit__(self, *_exc):
        os.killpg(self.process.pid, 15)
        self.process.wait(timeout=20)

    def worker_rss_mb(self) -> float:
        """Resident memory of the gunicorn worker: among the processes serving this port (make's
        shell, the gunicorn master, the worker), the one with no child among them."""
        pids = [int(p) for p in sh("pgrep", "-f", f"gunicorn.*127.0.0.1:{self.port}").split()]
        parents = {int(Path(f"/proc/{pid}/stat").read_text().split()[3]) for pid in pids}
        worker = next(pid for pid in pids if pid not in parents)
        status = Path(f"/proc/{worker}/status").read_text()
        return int(re.search(r"VmRSS:\s+(\d+)", status).group(1)) / 1024


def wrk(url: str, seconds: int, connections: int) -> dict:
    out = sh("wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "-s", "bench/report.lua", url)
    return json.loads(out.strip().splitlines()[-1])


def fixed_rate(base: str, paths: list[str], rate: int, seconds: int) -> dict:
    """Open-loop load: one request every 1/rate s whatever the answers do, so slow answers
    show in the latency instead of lowering the rate (wrk would hide them)."""
    host, port = base.removeprefix("http://").split(":")
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    local = threading.local()

    def one(path: str) -> None:
        nonlocal errors
        connection = getattr(local, "connection", None) or http.client.HTTPConnection(
            host, int(port), timeout=10
        )
        local.connection = connection
        started = time.perf_counter()
        try:
            connection.request("GET", path)
            response = connection.getresponse()
            response.read()
            ok = response.status == 200
        except OSError:
            local.connection = None
            ok = False
        elapsed = time.perf_counter() - started
        with lock:
            latencies.append(elapsed)
            errors += not ok

    from concurrent.futures import ThreadPoolExecutor

    total = rate * seconds
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=32) as pool:
        for n in range(total):
            delay = start + n / rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            pool.submit(one, paths[n % len(paths)])
    achieved = total / (time.perf_counter() - start)
    ordered = sorted(latencies)

    def pct(p: float) -> float:
        return ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000

    return {"rate": achieved, "p50": pct(0.5), "p95": pct(0.95), "p99": pct(0.99), "errors": errors}


def cache_counts(base: str) -> dict[str, dict[str, int]]:
    """Hits and misses per page kind, counted by the server (MARKET_CACHE_DEBUG_HEADER)."""
    connection = http.client.HTTPConnection(base.removeprefix("http://"), timeout=10)
    connection.request("GET", "/_pagecache/stats")
    return json.loads(connection.getresponse().read())


def sql_per_page(env: dict, urls: dict[str, str]) -> dict[str, tuple[float, float]]:
    """(queries, milliseconds of SQL) per page, median of 20 uncached renders in-process."""
    code = f"""
import json, os, statistics, time
os.environ.update({json.dumps({k: v for k, v in env.items() if k.startswith("MARKET_")})})
os.environ["MARKET_PAGE_CACHE"] = "0"
from sqlalchemy import event
from market import create_app
from market.extensions import db
app = create_app()
stats = {{"n": 0, "t": 0.0}}
with app.app_context():
    engine = db.engine
@event.listens_for(engine, "before_cursor_execute")
def before(conn, cursor, statement, params, context, many):
    conn.info["t0"] = time.perf_counter()
@event.listens_for(engine, "after_cursor_execute")
def after(conn, cursor, statement, params, context, many):
    if statement.startswith("BEGIN"):
        return
    stats["n"] += 1
    stats["t"] += time.perf_counter() - conn.info["t0"]
client = app.test_client()
out = {{}}
for name, url in {json.dumps(urls)}.items():
    counts, times = [], []
    for _ in range(20):
        stats.update(n=0, t=0.0)
        assert client.get(url).status_code == 200, url
        counts.append(stats["n"]); times.append(stats["t"] * 1000)
    out[name] = [statistics.median(counts), statistics.median(times)]
print(json.dumps(out))
"""
    return json.loads(sh(PYTHON, "-c", code, env=env).strip().splitlines()[-1])


def first_view_bytes(base: str, urls: dict[str, str]) -> dict[str, dict[str, int]]:
    """Bytes on the wire for the first view of each page on a phone (Chromium, 390 by 844)."""
    code = f"""
import json
from playwright.sync_api import sync_playwright
out = {{}}
with sync_playwright() as p:
    browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--headless",
        "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"])
    for name, url in {json.dumps(urls)}.items():
        context = browser.new_context(viewport={{"width": 390, "height": 844}}, is_mobile=True,
                                      device_scale_factor=2)
        page = context.new_page()
        sizes = {{"html": 0, "css": 0, "js": 0, "img": 0, "other": 0}}
        def done(request):
            kind = {{"document": "html", "stylesheet": "css", "script": "js",
                    "image": "img"}}.get(request.resource_type, "other")
            sizes[kind] += request.sizes()["responseBodySize"]
        page.on("requestfinished", done)
        page.goto("{base}" + url, wait_until="networkidle")
        out[name] = sizes
        context.close()
    browser.close()
print(json.dumps(out))
"""
    return json.loads(sh(PYTHON, "-c", code).strip().splitlines()[-1])


# What shoppers type: common goods, two words, a prefix, and a word nothing matches.
QUERIES = [
    "amplang",
    "manik",
    "kain batik",
    "kopi",
    "tas rot",
    "gelang enggang",
    "madu kelulut",
    "zzz",
]


def search_latency(env: dict, queries: list[str]) -> dict:
    code = f"""
import json, os, statistics, time
os.environ.update({json.dumps({k: v for k, v in env.items() if k.startswith("MARKET_")})})
from sqlalchemy import func, select
from market import create_app
from market.extensions import db
from market.models import Market, Product, Vendor
from market.services.search import search_city, search_market
app = create_app()
with app.app_context():
    market = db.session.scalars(select(Market).where(Market.slug.like("pasar-bench-%"))
                                .order_by(Market.id.desc())).first()
    total = db.session.scalar(select(func.count(Product.id)))
    out = {{"products": total}}
    for scope, search in (("market", lambda q: search_market(market, q)), ("city", search_city)):
        for q in {json.dumps(queries)}:
            search(q)  # warm-up: the page cache of the database, statement caches
        times = []
        for _ in range(5):
            for q in {json.dumps(queries)}:
                t0 = time.perf_counter()
                search(q)
                times.append((time.perf_counter() - t0) * 1000)
        times.sort()
        out[scope] = {{"n": len(times), "p50": statistics.median(times),
                      "p95": times[int(0.95 * len(times)) - 1]}}
    print(json.dumps(out))
"""
    return json.loads(sh(PYTHON, "-c", code, env=env).strip().splitlines()[-1])


def _kb(size: int) -> str:
    return f"{size / 1024:.1f} KB"


def database_version(url: str) -> str:
    engine = create_engine(url)
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            version = "SQLite " + connection.exec_driver_sql("SELECT sqlite_version()").scalar()
        else:
            version = "PostgreSQL " + connection.exec_driver_sql("SHOW server_version").scalar()
    engine.dispose()
    return version


def redis_reachable(url: str) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


def machine() -> str:
    cpu = re.search(r"model name\s*:\s*(.+)", Path("/proc/cpuinfo").read_text())
    memory = re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text())
    return (
        f"{cpu.group(1) if cpu else platform.machine()}, {len(os.sched_getaffinity(0))} cores, "
        f"{int(memory.group(1)) / 2**20:.0f} GiB, {platform.platform()}, "
        f"Python {platform.python_version()}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--markets", type=int, default=50)
    parser.add_argument("--vendors", type=int, default=400)
    parser.add_argument("--products", type=int, default=50)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument(
        "--database-url",
        help="an empty PostgreSQL database to build the dataset in (and measure) instead of "
        "SQLite under bench/tmp/, e.g. postgresql+psycopg://postgres@127.0.0.1:5432/bench",
    )
    args = parser.parse_args()
    TMP.mkdir(parents=True, exist_ok=True)
    lines = [
        f"# Benchmark {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        "",
        f"Machine: {machine()}",
        "",
        f"Command: `{' '.join(['make', 'bench', *sys.argv[1:]])}` "
        f"(wrk -t2 -c{args.connections} -d{args.seconds}s on loopback; "
        "server started by `make serve`: gunicorn 1 worker × 8 threads, access log on)",
        "",
    ]

    def emit(*new: str) -> None:
        lines.extend(new)
        print("\n".join(new), flush=True)

    started = time.monotonic()
    env, build_seconds = dataset(args.markets, args.vendors, args.products, args.database_url)
    engine = database_version(env["MARKET_DATABASE_URL"])
    emit(
        f"Dataset: {args.markets} markets × {args.vendors} vendors × {args.products} products "
        f"(+ the demo market) in {engine}, built in {build_seconds} s.",
        "",
    )
    urls = sample_urls(env)

    with Server(
        os.environ | {"MARKET_ENV": "development"},
        app="bench.hello:app",
        name="hello",
        ready_path="/",
    ) as hello:
        wrk(hello.url + "/", 2, args.connections)  # warm-up
        ceiling = wrk(hello.url + "/", args.seconds, args.connections)
    emit(
        "## Throughput under wrk",
        "",
        "| page | cache | req/s | % of hello | p50 ms | p95 ms | p99 ms | errors | non-2xx |",
        "|---|---|---|---|---|---|---|---|---|",
        f"| hello (bare Flask) | – | {ceiling['rps']:.0f} | 100 % | {ceiling['p50'] / 1000:.1f} "
        f"| {ceiling['p95'] / 1000:.1f} | {ceiling['p99'] / 1000:.1f} | {ceiling['errors']} "
        f"| {ceiling['non_2xx']} |",
    )
    memory = {}
    for cache_on in (False, True):
        server_env = env | {
            "MARKET_PAGE_CACHE": "1" if cache_on else "0",
            "MARKET_CACHE_DEBUG_HEADER": "1",
        }
        with Server(server_env, name="cached" if cache_on else "uncached") as app:
            for name, path in urls.items():
                wrk(app.url + path, 1, args.connections)  # warm-up: caches, connections
                result = wrk(app.url + path, args.seconds, args.connections)
                emit(
                    f"| {name} | {'on' if cache_on else 'off'} | {result['rps']:.0f} "
                    f"| {100 * result['rps'] / ceiling['rps']:.0f} % | {result['p50'] / 1000:.1f} "
                    f"| {result['p95'] / 1000:.1f} | {result['p99'] / 1000:.1f} "
                    f"| {result['errors']} | {result['non_2xx']} |"
                )
            if not cache_on:
                paced = fixed_rate(app.url, list(urls.values())[:4], 200, args.seconds)
            else:
                answered = cache_counts(app.url)
            memory["cached" if cache_on else "uncached"] = app.worker_rss_mb()
    emit(
        "",
        "## Latency at a fixed 200 req/s, uncached (market, vendor, product, search)",
        "",
        "| achieved req/s | p50 ms | p95 ms | p99 ms | errors |",
        "|---|---|---|---|---|",
        f"| {paced['rate']:.0f} | {paced['p50']:.1f} | {paced['p95']:.1f} | {paced['p99']:.1f} "
        f"| {paced['errors']} |",
        "",
        "## Which cache answered in the cached run (the worker's own counts, warm-up included)",
        "",
        "| page kind | hits | misses | hit rate |",
        "|---|---|---|---|",
        *(
            f"| {kind} | {n['hit']} | {n['miss']} "
            f"| {100 * n['hit'] / (n['hit'] + n['miss']):.2f} % |"
            for kind, n in answered.items()
        ),
        "",
        "## Worker memory after the load runs",
        "",
        f"uncached run: {memory['uncached']:.0f} MB RSS; cached run: {memory['cached']:.0f} MB RSS",
        "",
    )

    queries = sql_per_page(env, urls)
    emit(
        "## SQL per page (uncached render, median of 20)",
        "",
        "| page | queries | SQL ms |",
        "|---|---|---|",
        *(f"| {name} | {n:.0f} | {ms:.1f} |" for name, (n, ms) in queries.items()),
        "",
    )

    with Server(env, name="bytes") as app:
        sizes = first_view_bytes(
            app.url,
            {k: v for k, v in urls.items() if k != "api"}
            | {"demo market": "/pasar/pasar-inpres-kebun-sayur/"},
        )
    emit(
        "## Bytes on the wire, first view on a phone (Chromium 390×844, DPR 2)",
        "",
        "| page | HTML | CSS | JS | non-image total | images | all |",
        "|---|---|---|---|---|---|---|",
        *(
            "| {} | {} | {} | {} | {} | {} | {} |".format(
                name,
                *(_kb(s[kind]) for kind in ("html", "css", "js")),
                _kb(s["html"] + s["css"] + s["js"] + s["other"]),
                _kb(s["img"]),
                _kb(sum(s.values())),
            )
            for name, s in sizes.items()
        ),
        "",
    )

    photo = sh(PYTHON, "bench/photo_pipeline.py", "--runs", "5").strip().splitlines()[-1]
    emit(
        "## Photo pipeline (one 12-megapixel JPEG to all variants)",
        "",
        "| date | machine | input | time | memory | variants |",
        "|---|---|---|---|---|---|",
        photo,
        "",
    )

    search = search_latency(env, QUERIES)
    emit(
        f"## Search latency, top 20 stalls and goods ({engine})",
        "",
        f"{search['products']:,} products in the database; {search['market']['n']} searches "
        "of each kind, after one warm-up pass.",
        "",
        "| search | p50 ms | p95 ms |",
        "|---|---|---|",
        *(
            f"| {label} | {search[kind]['p50']:.1f} | {search[kind]['p95']:.1f} |"
            for kind, label in (("market", "within one market"), ("city", "every market (/cari)"))
        ),
        "",
    )
    if redis_reachable(REDIS_URL):
        from bench.campaign_mix import mix

        emit(
            "## Campaign mix: volunteers saving in 2 of 6 markets while shoppers browse all 6",
            "",
            "`bench/campaign_mix.py`'s defaults, on its own small dataset whatever the database "
            "above: the page cache in Redis, every answer's `X-Cache` counted.",
            "",
            *mix(redis_url=REDIS_URL),
            "",
        )
    else:
        emit(f"Campaign mix skipped: no Redis at {REDIS_URL}.", "")
    emit(f"Total benchmark time: {time.monotonic() - started:.0f} s.")
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"{datetime.now(UTC):%Y-%m-%d}-{engine.split()[0].lower()}.md"
    out.write_text("\n".join(lines) + "\n")
    print(f"\nwritten to {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
