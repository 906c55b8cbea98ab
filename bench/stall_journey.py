"""The volunteer's journey at a stall (tests/e2e/stall_journey.py) on a market-hall connection:
Chromium throttled through the DevTools protocol to 1.6 Mbps down, 750 kbps up and 150 ms of
latency, on a 360x740 phone. Records taps, typed fields, page loads, bytes sent and the time in
bench/results/stall_journey.md.

    python bench/stall_journey.py [--down-kbps 1600] [--up-kbps 750] [--latency-ms 150]

A benchmark, not a test: it fails only when the journey itself fails."""

import argparse
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from playwright.sync_api import expect, sync_playwright  # noqa: E402

from tests.e2e.browser import CHROMIUM, CHROMIUM_ARGS, log_in  # noqa: E402
from tests.e2e.stall_journey import PHONE_360, STALL, make_photos, run_journey  # noqa: E402
from tests.live import app_env, flask, serve  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "stall_journey.md"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--down-kbps", type=int, default=1600)
    parser.add_argument("--up-kbps", type=int, default=750)
    parser.add_argument("--latency-ms", type=int, default=150)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        (folder / "camera").mkdir()
        photos = make_photos(folder / "camera")
        (folder / "live").mkdir()
        env = app_env(folder / "live", MARKET_LOGIN_LIMIT="100 per minute")
        flask(env, "db", "upgrade")
        flask(env, "seed-demo")
        with serve(env) as url, sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            context = browser.new_context(base_url=url, **PHONE_360)
            # A photo takes half a minute to go up at 750 kbps.
            context.set_default_timeout(600_000)
            expect.set_options(timeout=600_000)
            page = context.new_page()
            log_in(page, "relawan@example.org")
            figures = measure(page, photos, args)
            browser.close()
        figures.update(photos_received(folder / "live" / "market.sqlite3"))
    write(figures, args)


def measure(page, photos: list[Path], args) -> dict:
    """Run the journey under throttling, counting documents loaded and request bytes sent."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send(
        "Network.emulateNetworkConditions",
        {
            "offline": False,
            "latency": args.latency_ms,
            "downloadThroughput": args.down_kbps * 1000 / 8,
            "uploadThroughput": args.up_kbps * 1000 / 8,
        },
    )
    sent = {"bytes": 0, "uploads": 0, "documents": 0, "goods_bytes": 0, "goods_seconds": 0.0}

    def on_request_finished(request) -> None:
        # The length the browser put on the wire; Playwright cannot see multipart bodies.
        length = request.all_headers().get("content-length")
        if length:
            sent["bytes"] += int(length)
            if "multipart/form-data" in (request.header_value("content-type") or ""):
                sent["uploads"] += 1
                if request.url.endswith("/products"):
                    # From the first byte sent to the first byte of the answer: the upload
                    # and the server's work on the photos.
                    timing = request.timing
                    waited = timing["responseStart"] - timing["requestStart"]
                    sent["goods_seconds"] += waited / 1000
                    sent["goods_bytes"] += int(length)
        if request.resource_type == "document" and request.frame == page.main_frame:
            sent["documents"] += 1

    page.on("requestfinished", on_request_finished)
    started = time.monotonic()
    taps = run_journey(page, photos)
    seconds = time.monotonic() - started
    return {
        "taps": taps.taps,
        "typed": taps.typed,
        "page_loads": sent["documents"],
        "bytes_sent": sent["bytes"],
        "uploads": sent["uploads"],
        "seconds": seconds,
        "goods_bytes": sent["goods_bytes"],
        "goods_seconds": sent["goods_seconds"],
        "photo_bytes": sum(p.stat().st_size for p in photos),
        "photos": len(photos),
    }


def photos_received(database: Path) -> dict:
    """What the server received of each photo of the journey's stall (bytes of the file as
    uploaded, before the server made its variants)."""
    with sqlite3.connect(database) as db:
        rows = db.execute(
            "SELECT photo.product_id IS NOT NULL, photo.original_bytes FROM photo "
            "JOIN vendor ON vendor.id = photo.vendor_id WHERE vendor.business_name = ?",
            (STALL["name"],),
        ).fetchall()
    goods = [size for of_product, size in rows if of_product]
    return {
        "received": len(rows),
        "goods_photos": len(goods),
        "largest_upload": max(size for _of, size in rows),
        "mean_upload": sum(size for _of, size in rows) / len(rows),
    }


def write(figures: dict, args) -> None:
    megabytes = figures["bytes_sent"] / 1_000_000
    lines = [
        "# The volunteer's journey at a stall, on a market-hall connection",
        "",
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC by `python bench/stall_journey.py` "
        f"(Chromium throttled through CDP: {args.down_kbps} kbps down, {args.up_kbps} kbps up, "
        f"{args.latency_ms} ms latency; 360x740 phone; one gunicorn worker on this machine).",
        "",
        "Journey: register the vendor with consent and a stall photo, 5 products with 8 photos,",
        "2 vlog links, publish, send the invitation on WhatsApp. Every photo is a 12 MP camera",
        f"JPEG ({figures['photos']} files, {figures['photo_bytes'] / 1_000_000:.1f} MB together).",
        "",
        "| figure | value |",
        "|---|---|",
        f"| taps (clicks, ticks, file choices) | {figures['taps']} |",
        f"| fields typed | {figures['typed']} |",
        f"| page loads (documents) | {figures['page_loads']} |",
        f"| form posts (offline.js sends each as multipart) | {figures['uploads']} |",
        f"| bytes sent | {figures['bytes_sent']:,} ({megabytes:.1f} MB) |",
        f"| photos received by the server (stall + goods) | {figures['received']} |",
        f"| one 12 MP photo as uploaded: largest / mean | {figures['largest_upload'] / 1000:.0f} KB"
        f" / {figures['mean_upload'] / 1000:.0f} KB |",
        f"| goods posts with their {figures['goods_photos']} photos: bytes | "
        f"{figures['goods_bytes']:,} ({figures['goods_bytes'] / 1_000_000:.1f} MB) |",
        f"| goods posts: upload time (request sent to first byte of the answer) | "
        f"{figures['goods_seconds']:.0f} s |",
        f"| time, first tap to invitation | {figures['seconds']:.0f} s |",
        "",
        "The time is the machine's: the script types and chooses photos at once, where a",
        "volunteer spends a few seconds per field and per photo taken (17 fields, 9 photos).",
        "",
        "Photos are made small on the phone (1600 px JPEG at quality 0.85, market/static/js/",
        "offline.js) before they go up; the server's `original_bytes` is what it received.",
        "The journey with the signal cut in the middle is a test",
        "(tests/e2e/test_stall_journey.py::test_the_journey_with_the_signal_cut_in_the_middle),",
        "not measured here.",
        "",
    ]
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
