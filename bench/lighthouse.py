"""Lighthouse scores of the public pages on a phone: `make lighthouse`.

Serves a fresh copy of the demo market with gunicorn as `make run` does, runs Lighthouse 12
(its default mobile mode: a mid-range phone on slow 4G, simulated) in Debian's Chromium against
the market, a stall and a product page, fully offline, and writes the four category scores of
each page to bench/results/lighthouse.md. The JSON reports stay in bench/tmp/lighthouse/.
Exits with 1 when a score is below the target, after writing the results.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from market.seed.demo import MARKET, VENDORS  # noqa: E402
from market.services.slugs import slugify  # noqa: E402
from tests.live import app_env, flask, serve  # noqa: E402

TMP = ROOT / "bench" / "tmp" / "lighthouse"
RESULT = ROOT / "bench" / "results" / "lighthouse.md"
LIGHTHOUSE = ROOT / "node_modules" / ".bin" / "lighthouse"
CHROME = os.environ.get("CHROME_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
CHROME_FLAGS = (
    "--headless=new --no-sandbox --disable-gpu --disable-quic --no-first-run "
    "--disable-background-networking --disable-component-update --disable-sync "
    "--disable-dev-shm-usage"
)
CATEGORIES = {
    "performance": "Performance",
    "accessibility": "Accessibility",
    "best-practices": "Best practices",
    "seo": "SEO",
}
TARGET = 95


def demo_pages() -> dict[str, str]:
    """The demo market, its first stall (the one with a video) and that stall's first product."""
    name, *_rest, products = VENDORS[0]
    market = f"/pasar/{MARKET['slug']}/"
    vendor = f"{market}lapak/{slugify(name)}/"
    return {"market": market, "vendor": vendor, "product": vendor + slugify(products[0][0])}


def run_lighthouse(url: str, report: Path) -> dict:
    command = [
        str(LIGHTHOUSE),
        url,
        "--output=json",
        f"--output-path={report}",
        "--quiet",
        f"--chrome-flags={CHROME_FLAGS}",
    ]
    subprocess.run(command, env={**os.environ, "CHROME_PATH": CHROME}, cwd=ROOT, check=True)
    return json.loads(report.read_text())


def scores(report: dict) -> dict[str, int]:
    return {key: round(report["categories"][key]["score"] * 100) for key in CATEGORIES}


def lost_points(report: dict) -> list[str]:
    """The weighted audits that did not pass: where a score below 100 comes from."""
    lost = []
    for key in CATEGORIES:
        for ref in report["categories"][key]["auditRefs"]:
            audit = report["audits"][ref["id"]]
            if ref["weight"] and audit["score"] is not None and audit["score"] < 0.9:
                value = f" ({audit['displayValue']})" if audit.get("displayValue") else ""
                lost.append(f"{CATEGORIES[key]}: {audit['title']}{value}{_culprits(audit)}")
    return lost


def _culprits(audit: dict) -> str:
    """The first few resources an audit names, e.g. what logged a console error."""
    urls = []
    for item in audit.get("details", {}).get("items", []):
        url = item.get("url") or item.get("sourceLocation", {}).get("url")
        if url and url not in urls:
            urls.append(url)
    return " — " + ", ".join(f"`{url}`" for url in urls[:3]) if urls else ""


def measure(base_url: str, pages: dict[str, str], runs: int) -> dict[str, dict]:
    """Per page: the report of the run with the median performance score (performance varies
    from run to run on a shared machine; the other categories do not)."""
    results = {}
    for name, path in pages.items():
        reports = []
        for number in range(runs):
            report = run_lighthouse(base_url + path, TMP / f"{name}-{number + 1}.json")
            reports.append(report)
            print(f"{name} run {number + 1}: {scores(report)}", flush=True)
        reports.sort(key=lambda report: report["categories"]["performance"]["score"])
        results[name] = {"path": path, "report": reports[len(reports) // 2], "runs": reports}
    return results


def chromium_version() -> str:
    result = subprocess.run([CHROME, "--version"], capture_output=True, text=True, check=True)
    return result.stdout.split(" built on ")[0].strip()


def write_markdown(results: dict[str, dict], runs: int, command: str) -> bool:
    """Write the results; True when every score meets the target."""
    first = next(iter(results.values()))["report"]
    lines = [
        f"# Lighthouse, mobile — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        "",
        f"Command: `{command}` — Lighthouse {first['lighthouseVersion']}, default mobile "
        f"settings (emulated mid-range phone, simulated slow 4G), {chromium_version()} "
        "headless; the demo data served by gunicorn as `make run` serves it (1 worker × 8 "
        "threads), offline.",
        "",
        f"Target: every score ≥ {TARGET}."
        + (
            f" Each page ran {runs} times; the run with the median performance score is shown."
            if runs > 1
            else ""
        ),
        "",
        "| page | path | " + " | ".join(CATEGORIES.values()) + " |",
        "|---|---|" + "---|" * len(CATEGORIES),
    ]
    below = []
    for name, result in results.items():
        page_scores = scores(result["report"])
        cells = [str(page_scores[key]) for key in CATEGORIES]
        lines.append(f"| {name} | `{result['path']}` | " + " | ".join(cells) + " |")
        if min(page_scores.values()) < TARGET:
            below.append(name)
    if runs > 1:
        lines += ["", "Performance of every run:", ""]
        for name, result in results.items():
            values = [scores(report)["performance"] for report in result["runs"]]
            lines.append(
                f"- {name}: {', '.join(map(str, values))} (median {statistics.median(values):g})"
            )
    lines += [
        "",
        "## Audits that cost points",
        "",
        "Offline, pictures from other sites (the YouTube thumbnails of vlogs) cannot load, and "
        "Lighthouse counts each as a console error.",
        "",
    ]
    for name, result in results.items():
        lost = lost_points(result["report"])
        lines.append(f"- **{name}**: " + ("; ".join(lost) if lost else "none"))
    RESULT.parent.mkdir(parents=True, exist_ok=True)
    RESULT.write_text("\n".join(lines) + "\n")
    return not below


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1, help="Lighthouse runs per page")
    args = parser.parse_args()
    if not LIGHTHOUSE.exists():
        sys.exit("Lighthouse is not installed: `make install-test` (npm install) first")
    if not Path(CHROME).exists():
        sys.exit(f"Chromium is not installed ({CHROME}): `apt-get install chromium`")
    shutil.rmtree(TMP, ignore_errors=True)
    TMP.mkdir(parents=True)
    env = app_env(TMP)
    flask(env, "db", "upgrade")
    flask(env, "seed-demo")
    with serve(env, workers=1, threads=8) as base_url:
        results = measure(base_url, demo_pages(), args.runs)
    command = f"make lighthouse LIGHTHOUSE_RUNS={args.runs}"
    passed = write_markdown(results, args.runs, command)
    print(RESULT.read_text())
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
