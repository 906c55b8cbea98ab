"""Where an uncached public page spends its CPU: each page of `make bench` rendered in-process
(no server, no network), timed in CPU time (what a shared machine's neighbours disturb least)
and wall time, and profiled with cProfile.

    PYTHONPATH=. .venv/bin/python bench/profile_pages.py --markets 50 --vendors 400 --products 50
    PYTHONPATH=. .venv/bin/python bench/profile_pages.py --top 25 --sort cumulative \
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench

Uses the dataset `make bench` built (bench/tmp/), or the given database.
"""

import argparse
import cProfile
import io
import os
import pstats
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.run import dataset, sample_urls  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--markets", type=int, default=50)
    parser.add_argument("--vendors", type=int, default=400)
    parser.add_argument("--products", type=int, default=50)
    parser.add_argument("--database-url", help="profile this database instead of bench/tmp's")
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--top", type=int, default=0, help="print the N costliest functions")
    parser.add_argument("--sort", default="tottime", help="pstats order: tottime, cumulative…")
    parser.add_argument("--page", action="append", help="only these page kinds")
    args = parser.parse_args()
    env = dataset(args.markets, args.vendors, args.products, args.database_url)[0]
    os.environ.update({k: v for k, v in env.items() if k.startswith("MARKET_")})
    os.environ["MARKET_PAGE_CACHE"] = "0"
    from market import create_app

    app = create_app()
    client = app.test_client()
    for name, url in sample_urls(env).items():
        if args.page and name not in args.page:
            continue
        for _ in range(5):
            assert client.get(url).status_code == 200, url
        times, cpu = [], []
        profile = cProfile.Profile()
        for _ in range(args.runs):
            started, started_cpu = time.perf_counter(), time.process_time()
            if args.top:
                profile.enable()
            client.get(url)
            if args.top:
                profile.disable()
            times.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - started_cpu) * 1000)
        times.sort()
        print(
            f"{name:8} {url}: CPU median {statistics.median(cpu):.1f} ms; wall median "
            f"{statistics.median(times):.1f} ms, p95 {times[int(0.95 * len(times)) - 1]:.1f} ms",
            flush=True,
        )
        if args.top:
            out = io.StringIO()
            pstats.Stats(profile, stream=out).sort_stats(args.sort).print_stats(args.top)
            print(out.getvalue())


if __name__ == "__main__":
    main()
