"""The upload storm of docs/RELIABILITY.md (issue 12, defect 3): eight volunteers each send
twelve 49-megapixel PNGs at once while a shopper searches (`python bench/upload_storm.py`).

Starts the app with `make serve`, as `make run` does (one worker, eight threads), on a copy of
the demo market with the page cache off, so that every search really runs. Each volunteer posts
its twelve photos to a product; a volunteer told "busy" (503) waits the Retry-After it was given
and sends them again, until they are accepted or --seconds have passed. Meanwhile one shopper
searches the market, one query after the other. Reports the worker's peak resident memory (VmHWM
from /proc), the shopper's p50/p95/max, how the uploads were answered and how fast a "busy"
came, and writes bench/results/upload-storm-<date>.md."""

import argparse
import re
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402

from bench.load import MARKET, STAFF_PASSWORD, installation, products_for_staff  # noqa: E402
from bench.run import RESULTS, Server, machine, sh  # noqa: E402
from tests.factories import big_png  # noqa: E402
from tests.pages import form_values  # noqa: E402
from tests.reliability_helpers import percentile  # noqa: E402

WORDS = ("amplang", "manik", "batik", "kue", "gelang", "kerupuk", "sarung", "tas", "rotan")


def worker_pid(port: int) -> int:
    """Among the processes serving ``port`` (make's shell, gunicorn's master, the worker), the
    one with no child among them."""
    pids = [int(p) for p in sh("pgrep", "-f", f"gunicorn.*127.0.0.1:{port}").split()]
    parents = {int(Path(f"/proc/{pid}/stat").read_text().split()[3]) for pid in pids}
    return next(pid for pid in pids if pid not in parents)


def memory_mb(pid: int, key: str) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(rf"{key}:\s+(\d+) kB", status).group(1)) / 1024


def log_in(base: str, login: str) -> requests.Session:
    http = requests.Session()
    http.headers["Accept-Language"] = "en"
    page = http.get(base + "/auth/login", timeout=30)
    fields = form_values(page.text, "/auth/login") | {"login": login, "password": STAFF_PASSWORD}
    answer = http.post(base + "/auth/login", data=fields, allow_redirects=False, timeout=30)
    if answer.status_code != 302:
        raise RuntimeError(f"{login} could not log in: {answer.status_code}")
    return http


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--volunteers", type=int, default=8)
    parser.add_argument("--photos", type=int, default=12, help="PNGs per upload")
    parser.add_argument("--seconds", type=float, default=120, help="give up retrying after")
    args = parser.parse_args()

    env = installation(argparse.Namespace(staff=args.volunteers, database_url="", redis_url=""))
    env["MARKET_PAGE_CACHE"] = "0"
    env.setdefault("VENV", str(Path(sys.executable).parents[1]))
    targets = products_for_staff(env, args.volunteers)
    pngs = [big_png(shade) for shade in range(args.photos)]
    files = [("photos", (f"besar-{n}.png", png, "image/png")) for n, png in enumerate(pngs)]

    with Server(env, name="storm") as server:
        worker = worker_pid(server.port)
        idle_mb = memory_mb(worker, "VmRSS")
        volunteers = [log_in(server.url, f"load{n}@example.org") for n in range(args.volunteers)]
        answers: list[tuple[int, float]] = []
        accepted_after: list[float] = []
        stop = threading.Event()
        searches: list[float] = []
        search_statuses: Counter = Counter()

        def shopper() -> None:
            n = 0
            while not stop.is_set():
                n += 1
                path = f"/pasar/{MARKET}/cari?q={WORDS[n % len(WORDS)]}"
                began = time.perf_counter()
                answer = requests.get(server.url + path, timeout=60)
                searches.append(time.perf_counter() - began)
                search_statuses[answer.status_code] += 1

        def volunteer(n: int) -> None:
            http, (_vendor, product) = volunteers[n], targets[n]
            edit, action = f"/manage/products/{product}/edit", f"/manage/products/{product}/photos"
            started = time.perf_counter()
            while time.perf_counter() - started < args.seconds:
                fields = form_values(http.get(server.url + edit, timeout=60).text, action)
                began = time.perf_counter()
                answer = http.post(
                    server.url + action,
                    data=fields,
                    files=files,
                    allow_redirects=False,
                    timeout=300,
                )
                answers.append((answer.status_code, time.perf_counter() - began))
                if answer.status_code != 503:
                    accepted_after.append(time.perf_counter() - started)
                    return
                time.sleep(int(answer.headers.get("Retry-After", "1")))

        search_thread = threading.Thread(target=shopper)
        search_thread.start()
        time.sleep(2)  # the shopper's quiet baseline
        quiet = len(searches)
        storm_began = time.perf_counter()
        with ThreadPoolExecutor(args.volunteers) as pool:
            list(pool.map(volunteer, range(args.volunteers)))
        storm_seconds = time.perf_counter() - storm_began
        stop.set()
        search_thread.join()
        peak_mb = memory_mb(worker, "VmHWM")

    during = searches[quiet:]
    statuses = Counter(status for status, _ in answers)
    busy = [seconds for status, seconds in answers if status == 503]
    took = [seconds for status, seconds in answers if status != 503]

    def spread(values: list[float], unit: str, scale: float = 1) -> str:
        p50, top = percentile(values, 0.5) * scale, max(values, default=0) * scale
        return f"{p50:.1f} {unit} / {top:.1f} {unit}"

    rows = [
        ("worker resident memory, idle → peak (VmHWM)", f"{idle_mb:.0f} MB → {peak_mb:.0f} MB"),
        ("storm duration", f"{storm_seconds:.1f} s"),
        ("upload answers", ", ".join(f"{n}× {s}" for s, n in sorted(statuses.items()))),
        ("a busy answer came after (p50 / max)", spread(busy, "s")),
        (f"an accepted upload of {args.photos} photos took (p50 / max)", spread(took, "s")),
        (
            f"volunteers whose photos were accepted within {args.seconds:.0f} s",
            f"{len(accepted_after)} of {args.volunteers}, the last after "
            f"{max(accepted_after, default=0):.1f} s",
        ),
        ("shopper's search before the storm, p50 / max", spread(searches[:quiet], "ms", 1000)),
        (
            "shopper's search during the storm, p50 / p95 / max",
            f"{percentile(during, 0.5) * 1000:.0f} / {percentile(during, 0.95) * 1000:.0f} / "
            f"{max(during, default=0) * 1000:.0f} ms ({len(during)} searches)",
        ),
        ("search answers", ", ".join(f"{n}× {s}" for s, n in sorted(search_statuses.items()))),
    ]
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")
    date = datetime.now(UTC).date().isoformat()
    report = RESULTS / f"upload-storm-{date}.md"
    report.write_text(
        f"# Upload storm, {date}\n\n"
        f"`python bench/upload_storm.py --volunteers {args.volunteers} --photos {args.photos}` "
        f"on {machine()}. `make serve` (1 worker, 8 threads, access log on), demo market, page "
        f"cache off; {args.volunteers} volunteers each post {args.photos} PNGs of 7000×7000 "
        f"({len(pngs[0]) // 1024} KB each) at once, retrying after Retry-After when told busy, "
        "while one shopper searches the market without pause. Goal: worker ≤ 600 MB, search "
        "p95 ≤ 1 s.\n\n"
        "| measure | value |\n|---|---|\n" + "".join(f"| {n} | {v} |\n" for n, v in rows)
    )
    print(f"written to {report.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
