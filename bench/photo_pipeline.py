"""Time and memory of process_photo on a 12 MP phone-style JPEG; prints one Markdown table row.

    .venv/bin/python bench/photo_pipeline.py [--runs 5]

Each run is a fresh subprocess, so its peak RSS (VmHWM) is the pipeline's own and not left
over from an earlier run; tracemalloc would miss Pillow's C allocations. The reported delta
is the peak minus the RSS just before the call, after imports and a warm-up photo.
"""

import argparse
import io
import json
import platform
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LIMITS = {"max_bytes": 15 * 1024 * 1024, "max_pixels": 50_000_000}


def make_photo(path: Path, size: tuple[int, int] = (4000, 3000), seed: int = 2026) -> None:
    """A JPEG that compresses like a camera photo: shapes, gradients, texture, sensor noise."""
    from PIL import ExifTags, Image, ImageDraw, ImageFilter

    rnd = random.Random(seed)
    width, height = size
    blobs = Image.frombytes("RGB", (32, 24), rnd.randbytes(32 * 24 * 3))
    im = Image.blend(
        blobs.resize(size, Image.Resampling.BICUBIC),
        Image.linear_gradient("L").rotate(30).resize(size).convert("RGB"),
        0.35,
    )
    draw = ImageDraw.Draw(im)
    for _ in range(120):
        x, y = rnd.randrange(width), rnd.randrange(height)
        r = rnd.randrange(width // 80, width // 10)
        box = (x - r, y - r, x + r, y + r)
        colour = tuple(rnd.randbytes(3))
        if rnd.random() < 0.5:
            draw.ellipse(box, fill=colour)
        else:
            draw.rectangle(box, outline=colour, width=rnd.randrange(2, 30))
    im = im.filter(ImageFilter.GaussianBlur(2))
    # Texture at two scales (fabric, leaves, produce) plus per-pixel sensor noise.
    texture = Image.effect_noise((width // 40, height // 40), 60)
    texture = texture.resize(size, Image.Resampling.BICUBIC).convert("RGB")
    im = Image.blend(im, texture, 0.12)
    im = Image.blend(im, Image.effect_noise(size, 40).convert("RGB"), 0.12)
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6  # a phone held upright
    exif[ExifTags.Base.Make] = "Bench"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "S"
    gps[ExifTags.GPS.GPSLatitude] = (1.0, 16.0, 30.0)
    im.save(path, "JPEG", quality=90, exif=exif.tobytes())


def _rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        resident_pages = int(statm.read().split()[1])
    return resident_pages * resource.getpagesize() / 2**20


def _peak_rss_mb() -> float:
    # VmHWM belongs to this process's own address space; getrusage's ru_maxrss would carry
    # over the parent's peak through fork and exec (here: the parent that drew the photo).
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(path: Path) -> None:
    """One measured run; prints a JSON line."""
    sys.path.insert(0, str(ROOT))
    from PIL import Image

    from market.services.imaging import process_photo

    warm_up = io.BytesIO()
    Image.new("RGB", (64, 48), "white").save(warm_up, "JPEG")
    process_photo(warm_up.getvalue(), **LIMITS)

    data = path.read_bytes()
    before = _rss_mb()
    start = time.perf_counter()
    photo = process_photo(data, **LIMITS)
    seconds = time.perf_counter() - start
    peak = _peak_rss_mb()
    result = {
        "seconds": seconds,
        "peak_mb": peak,
        "delta_mb": peak - before,
        "baseline_mb": before,
        "size": [photo.width, photo.height],
        "variants": {width: len(webp) for width, webp in photo.variants.items()},
    }
    print(json.dumps(result))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "stall.jpg"
        make_photo(path)
        jpeg_mb = path.stat().st_size / 2**20
        runs = []
        for _ in range(args.runs):
            out = subprocess.run(
                [sys.executable, __file__, "--child", str(path)],
                check=True,
                capture_output=True,
                text=True,
                cwd=ROOT,
            )
            runs.append(json.loads(out.stdout.strip().splitlines()[-1]))

    times_ms = sorted(run["seconds"] * 1000 for run in runs)
    variants = ", ".join(f"{w} px {size / 1024:.1f} KB" for w, size in runs[0]["variants"].items())
    print(
        f"| {time.strftime('%Y-%m-%d')} | {platform.machine()}, {_cpu_count()} CPU, "
        f"Python {platform.python_version()} "
        f"| 4000×3000 JPEG q90 {jpeg_mb:.1f} MB, orientation 6 → {runs[0]['size'][0]}×"
        f"{runs[0]['size'][1]} "
        f"| median {statistics.median(times_ms):.0f} ms (min {times_ms[0]:.0f}, "
        f"max {times_ms[-1]:.0f}, {len(runs)} runs) "
        f"| peak RSS {max(run['peak_mb'] for run in runs):.0f} MB "
        f"(+{max(run['delta_mb'] for run in runs):.0f} MB over "
        f"{statistics.median(run['baseline_mb'] for run in runs):.0f} MB after imports) "
        f"| {variants} |"
    )


def _cpu_count() -> int:
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


if __name__ == "__main__":
    main()
