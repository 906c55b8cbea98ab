"""The campaign mix: volunteers saving in some markets while shoppers browse the others.

Volunteers save product prices in N markets at a steady rate (15 saves/s by default; each save
a committed change through the app's own services, from another process, invalidating through
the shared Redis exactly as a back-office save does), while shoppers ask, at a fixed rate, for
the market, stall, product and search pages of those N markets and of M other markets. The
server runs with MARKET_CACHE_DEBUG_HEADER=1, so every answer says which cache answered.
Reports the cache hit rate and p50/p95 for the markets not being edited (goal: >= 95 % hits,
p95 <= 20 ms) and for the edited ones; writes bench/results/campaign-mix-<date>.md.

    python bench/campaign_mix.py --markets 6 --edited 2
"""

import argparse
import http.client
import json
import random
import sqlite3
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.run import PYTHON, REDIS_URL, RESULTS, TMP, Server, dataset, machine  # noqa: E402

EDITOR = """
import json, os, random, sys, time
from sqlalchemy import select
from market import create_app
from market.extensions import db
from market.models import Market, Product, Vendor
slugs, rate, seconds = json.loads(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
app = create_app()
with app.app_context():
    ids = db.session.scalars(select(Product.id).join(Vendor).join(Market)
                             .where(Market.slug.in_(slugs))).all()
    saves, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        product = db.session.get(Product, random.choice(ids))
        product.price_idr = random.randrange(1000, 200000, 500)
        db.session.commit()
        saves += 1
        delay = start + saves / rate - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
    print(json.dumps({"saves": saves, "seconds": time.perf_counter() - start}))
"""


def shopper_pages(env: dict, markets: list[str], per_market: int) -> dict[str, list[str]]:
    """For each market: its storefront, a search, and a few stall and product pages."""
    database = sqlite3.connect(env["MARKET_DATABASE_URL"].removeprefix("sqlite:///"))
    pages = {}
    for slug in markets:
        pages[slug] = [f"/pasar/{slug}/", f"/pasar/{slug}/cari?q=amplang"]
        rows = database.execute(
            "SELECT v.slug, p.slug FROM vendor v JOIN market m ON m.id = v.market_id "
            "JOIN product p ON p.vendor_id = v.id WHERE m.slug = ? AND p.position = 0 "
            "ORDER BY v.id LIMIT ?",
            (slug, per_market),
        ).fetchall()
        for vendor, product in rows:
            pages[slug] += [
                f"/pasar/{slug}/lapak/{vendor}/",
                f"/pasar/{slug}/lapak/{vendor}/{product}",
            ]
    database.close()
    return pages


def browse(base: str, paths: list[tuple[str, str]], rate: int, seconds: int) -> list[tuple]:
    """Open-loop: one request every 1/rate s whatever the answers do. (group, ms, X-Cache)."""
    host, port = base.removeprefix("http://").split(":")
    results, lock, local = [], threading.Lock(), threading.local()

    def one(group: str, path: str) -> None:
        connection = getattr(local, "connection", None) or http.client.HTTPConnection(
            host, int(port), timeout=10
        )
        local.connection = connection
        started = time.perf_counter()
        try:
            connection.request("GET", path, headers={"Accept-Encoding": "gzip, br"})
            response = connection.getresponse()
            response.read()
            outcome = response.getheader("X-Cache", "?") if response.status == 200 else "ERROR"
        except OSError:
            local.connection = None
            outcome = "ERROR"
        with lock:
            results.append((group, (time.perf_counter() - started) * 1000, outcome))

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=32) as pool:
        for n in range(rate * seconds):
            delay = start + n / rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            pool.submit(one, *random.choice(paths))
    return results


def summary(results: list[tuple], group: str) -> dict:
    mine = sorted(ms for g, ms, _ in results if g == group)
    outcomes = [o for g, _, o in results if g == group]
    hits = outcomes.count("HIT")
    return {
        "requests": len(mine),
        "hit_rate": 100 * hits / len(outcomes),
        "misses": outcomes.count("MISS"),
        "errors": outcomes.count("ERROR"),
        "p50": mine[len(mine) // 2],
        "p95": mine[min(len(mine) - 1, int(0.95 * len(mine)))],
    }


def mix(
    markets: int = 6,
    edited: int = 2,
    vendors: int = 40,
    products: int = 20,
    saves: float = 15,
    rate: int = 100,
    seconds: int = 20,
    redis_url: str = REDIS_URL,
) -> list[str]:
    """Run the mix once on its own SQLite dataset; the lines of its report (Markdown)."""
    import redis

    redis.Redis.from_url(redis_url).flushdb()
    data_env, _built = dataset(markets, vendors, products)
    env = data_env | {"MARKET_REDIS_URL": redis_url, "MARKET_CACHE_DEBUG_HEADER": "1"}
    database = sqlite3.connect(env["MARKET_DATABASE_URL"].removeprefix("sqlite:///"))
    slugs = [
        slug
        for (slug,) in database.execute(
            "SELECT slug FROM market WHERE slug LIKE 'pasar-bench-%' ORDER BY id"
        )
    ]
    database.close()
    in_edit, browsed = slugs[:edited], slugs[edited:]
    pages = shopper_pages(env, slugs, per_market=5)
    paths = [("edited" if m in in_edit else "other", p) for m in slugs for p in pages[m]]

    with Server(env, name="campaign") as app:
        browse(app.url, paths, rate, 3)  # warm-up: the pages in the cache
        editor = subprocess.Popen(
            [PYTHON, "-c", EDITOR, json.dumps(in_edit), str(saves), str(seconds)],
            env=env,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        results = browse(app.url, paths, rate, seconds)
        saved = json.loads(editor.communicate(timeout=60)[0].strip().splitlines()[-1])
    rows = {group: summary(results, group) for group in ("other", "edited")}
    lines = [
        f"Data: {markets} synthetic markets × {vendors} stalls × {products} products "
        "(+ the demo market), SQLite; server: `make serve` (gunicorn 1 worker × 8 threads, "
        "access log on) with the page cache in Redis.",
        "",
        f"Volunteers saved {saved['saves']} product prices in {len(in_edit)} markets "
        f"({', '.join(in_edit)}) in {saved['seconds']:.1f} s = "
        f"{saved['saves'] / saved['seconds']:.1f} saves/s, while shoppers asked "
        f"{rate} req/s (open loop) for the storefront, a search, 5 stalls and 5 products "
        f"of every market ({len(paths)} pages).",
        "",
        "| markets | requests | cache hits | misses | errors | p50 ms | p95 ms | goal |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for group, label, goal in (
        ("other", f"not edited ({len(browsed)})", "≥ 95 % hits, p95 ≤ 20 ms"),
        ("edited", f"edited ({len(in_edit)})", "–"),
    ):
        r = rows[group]
        lines.append(
            f"| {label} | {r['requests']} | {r['hit_rate']:.1f} % | {r['misses']} | {r['errors']} "
            f"| {r['p50']:.1f} | {r['p95']:.1f} | {goal} |"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--markets", type=int, default=6, help="synthetic markets in all")
    parser.add_argument("--edited", type=int, default=2, help="markets volunteers save in")
    parser.add_argument("--vendors", type=int, default=40)
    parser.add_argument("--products", type=int, default=20)
    parser.add_argument("--saves", type=float, default=15, help="saves per second")
    parser.add_argument("--rate", type=int, default=100, help="shoppers' requests per second")
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--redis-url", default=REDIS_URL)
    args = parser.parse_args()
    lines = [
        f"# Campaign mix {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        "",
        f"Machine: {machine()} — shared with other jobs and loaded: the figures are indicative.",
        "",
        f"Command: `python bench/campaign_mix.py {' '.join(sys.argv[1:])}`.",
        "",
        *mix(**vars(args)),
    ]
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"campaign-mix-{datetime.now(UTC):%Y-%m-%d}.md"
    out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    print(f"\nwritten to {out.relative_to(ROOT)}")


if __name__ == "__main__":
    TMP.mkdir(parents=True, exist_ok=True)
    main()
