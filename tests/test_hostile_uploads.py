"""A corpus of hostile files, generated here, posted through the real upload routes: every one
is refused with a clear message and leaves nothing behind, valid photos that carry a payload
come out as clean WebP without it, and the pipeline's memory stays bounded whatever it is fed.

The photo pipeline's own refusals are tested in test_photos and test_uploads; served photos'
headers in test_headers.
"""

import io
import json
import re
import struct
import subprocess
import sys
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import current_app
from PIL import Image
from sqlalchemy import func, select

from market.extensions import db
from market.models import Photo, Product, QrisCode
from tests.factories import encode, jpeg, photo_like, png_bomb
from tests.pages import csrf_token, log_in_english, reload

ROOT = Path(__file__).resolve().parents[1]
KEY = re.compile(r"^photos/[0-9a-f]{2}/[0-9a-f]{64}-\d+\.(webp|jpg)$")
# The pipeline's peak memory for the whole corpus, in a fresh process (see the last test):
# above what importing the app costs (about 170 MB here), and in all.
MEMORY_GROWTH_BOUND_MB = 64
MEMORY_BOUND_MB = 250


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _png_with(*extra: bytes, size=(40, 30)) -> bytes:
    """A small valid PNG with extra chunks inserted before its pixels."""
    data = encode(Image.new("RGB", size, (90, 140, 60)), "PNG")
    at = data.index(b"IDAT") - 4
    return data[:at] + b"".join(extra) + data[at:]


def _ztxt_bomb() -> bytes:
    text = zlib.compress(b"A" * (64 * 1024 * 1024), 9)
    return _png_with(_chunk(b"zTXt", b"Comment\0\0" + text))


def _iccp_bomb() -> bytes:
    profile = zlib.compress(b"\0" * (64 * 1024 * 1024), 9)
    return _png_with(_chunk(b"iCCP", b"icc\0\0" + profile))


def _jpeg_claiming(width: int, height: int) -> bytes:
    """A baseline JPEG header whose frame claims a huge size, with almost no data."""
    data = bytearray(jpeg((16, 16)))
    sof = data.index(b"\xff\xc0")
    struct.pack_into(">HH", data, sof + 5, height, width)
    return bytes(data)


def _webp_claiming(width: int, height: int) -> bytes:
    """An extended WebP (VP8X) whose canvas claims a huge size."""
    vp8x = b"VP8X" + struct.pack("<I", 10) + b"\0\0\0\0"
    vp8x += (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
    body = b"WEBP" + vp8x + encode(Image.new("RGB", (16, 16)), "WEBP")[12:]
    return b"RIFF" + struct.pack("<I", len(body)) + body


def _heic_claiming(width: int, height: int) -> bytes:
    data = bytearray(encode(Image.new("RGB", (64, 48), (30, 140, 70)), "HEIF", quality=50))
    at = data.index(b"ispe") + 8
    struct.pack_into(">II", data, at, width, height)
    return bytes(data)


def _png_claiming(width: int, height: int) -> bytes:
    data = bytearray(encode(Image.new("RGB", (16, 16)), "PNG"))
    struct.pack_into(">II", data, 16, width, height)
    struct.pack_into(">I", data, 29, zlib.crc32(bytes(data[12:29])))
    return bytes(data)


def _frames(fmt: str, count: int, size=(64, 48)) -> bytes:
    frames = [Image.new("RGB", size, (i % 256, 0, 0)) for i in range(count)]
    return encode(frames[0], fmt, save_all=True, append_images=frames[1:], duration=20)


def _zip(name: str = "photo.png") -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr(name, encode(Image.new("RGB", (10, 10)), "PNG"))
    return buf.getvalue()


def _zip_bomb() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("a.jpg", b"\0" * (32 * 1024 * 1024))
    return buf.getvalue()


def _truncated(data: bytes, fraction: float = 0.6) -> bytes:
    return data[: int(len(data) * fraction)]


def _jpeg_bad_huffman() -> bytes:
    """A JPEG whose Huffman table counts more codes than can exist."""
    data = bytearray(encode(photo_like((300, 200)), "JPEG"))
    dht = data.index(b"\xff\xc4")
    data[dht + 5 : dht + 21] = b"\xff" * 16
    return bytes(data)


HTML = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"
SVG = (
    b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)">'
    b"<script>alert(document.domain)</script></svg>"
)
SVG_FOREIGN = (
    b'<svg xmlns="http://www.w3.org/2000/svg"><foreignObject width="100" height="100">'
    b'<body xmlns="http://www.w3.org/1999/xhtml"><img src=x onerror=alert(1)></body>'
    b"</foreignObject></svg>"
)
ELF = b"\x7fELF\x02\x01\x01" + b"\0" * 9 + b"\x02\x00\x3e\x00" + b"\0" * 200
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog/OpenAction<</S/JavaScript/JS(app.alert(1))>>>>endobj\n"

# name → (file name as sent, content type as sent, bytes)
HOSTILE: dict[str, tuple[str, str, Callable[[], bytes]]] = {
    # pixel floods and decompression bombs: refused from the header, before decoding
    "PNG bomb 20000x20000": ("huge.png", "image/png", lambda: png_bomb(20_000, 20_000)),
    "PNG bomb 60000x900": ("wide.png", "image/png", lambda: png_bomb(60_000, 900)),
    "PNG just over the pixel limit": ("big.png", "image/png", lambda: png_bomb(7_100, 7_100)),
    "PNG header claiming 2^31 wide": (
        "claim.png",
        "image/png",
        lambda: _png_claiming(2**31 - 1, 1),
    ),
    "PNG header claiming 0x0": ("zero.png", "image/png", lambda: _png_claiming(0, 0)),
    "JPEG header claiming 65500x65500": (
        "claim.jpg",
        "image/jpeg",
        lambda: _jpeg_claiming(65_500, 65_500),
    ),
    "WebP canvas claiming 16384x16384": (
        "claim.webp",
        "image/webp",
        lambda: _webp_claiming(16_384, 16_384),
    ),
    "HEIC claiming 60000x60000": (
        "claim.heic",
        "image/heic",
        lambda: _heic_claiming(60_000, 60_000),
    ),
    "PNG zTXt bomb (64 MB of text)": ("text.png", "image/png", _ztxt_bomb),
    "PNG iCCP bomb (64 MB profile)": ("icc.png", "image/png", _iccp_bomb),
    # multi-frame and animated
    "animated WebP, 200 frames": ("anim.webp", "image/webp", lambda: _frames("WEBP", 200)),
    "animated PNG, 200 frames": ("anim.png", "image/png", lambda: _frames("PNG", 200)),
    "animated GIF, 200 frames": ("anim.gif", "image/gif", lambda: _frames("GIF", 200)),
    "multi-page TIFF": ("pages.tiff", "image/tiff", lambda: _frames("TIFF", 20)),
    # other formats, and things that are not images at all
    "SVG with script": ("logo.svg", "image/svg+xml", lambda: SVG),
    "SVG with script named .jpg": ("logo.jpg", "image/jpeg", lambda: SVG),
    "SVG with foreignObject named .png": ("x.png", "image/png", lambda: SVG_FOREIGN),
    "HTML named .jpg": ("photo.jpg", "image/jpeg", lambda: HTML),
    "HTML sent as image/png": ("photo.png", "image/png", lambda: HTML),
    "PDF with JavaScript named .jpg": ("scan.jpg", "image/jpeg", lambda: PDF),
    "ZIP named .png": ("photo.png", "image/png", _zip),
    "ZIP bomb named .jpg": ("photo.jpg", "image/jpeg", _zip_bomb),
    "ELF executable named .jpg": ("photo.jpg", "image/jpeg", lambda: ELF),
    "GIF": ("a.gif", "image/gif", lambda: encode(Image.new("P", (40, 40)), "GIF")),
    "BMP": ("a.bmp", "image/bmp", lambda: encode(Image.new("RGB", (40, 40)), "BMP")),
    "ICO": ("a.ico", "image/x-icon", lambda: encode(Image.new("RGB", (32, 32)), "ICO")),
    "AVIF": ("a.avif", "image/avif", lambda: encode(Image.new("RGB", (32, 32)), "AVIF")),
    "PSD magic": ("a.psd", "image/vnd.adobe.photoshop", lambda: b"8BPS\0\1" + b"\0" * 100),
    # polyglots that are not a decodable photo
    "GIF/JavaScript polyglot": (
        "a.jpg",
        "image/jpeg",
        lambda: b"GIF89a/*\x01\x00\x01\x00*/=alert(1)//",
    ),
    "GIF/JAR polyglot": (
        "a.jpg",
        "image/jpeg",
        lambda: encode(Image.new("P", (8, 8)), "GIF") + _zip(),
    ),
    "JPEG magic then HTML": ("a.jpg", "image/jpeg", lambda: b"\xff\xd8\xff\xe0" + HTML * 5),
    "PNG signature then HTML": ("a.png", "image/png", lambda: b"\x89PNG\r\n\x1a\n" + HTML),
    "HTML with a JPEG inside": (
        "a.jpg",
        "image/jpeg",
        lambda: HTML + jpeg((16, 16)),
    ),
    # empty, tiny, truncated, damaged
    "zero bytes": ("empty.jpg", "image/jpeg", lambda: b""),
    "one byte": ("one.jpg", "image/jpeg", lambda: b"\xff"),
    "JPEG start-of-image only": ("soi.jpg", "image/jpeg", lambda: b"\xff\xd8"),
    "truncated JPEG": ("half.jpg", "image/jpeg", lambda: _truncated(jpeg((800, 600)))),
    "truncated PNG": (
        "half.png",
        "image/png",
        lambda: _truncated(encode(photo_like((300, 200)), "PNG")),
    ),
    "truncated WebP": (
        "half.webp",
        "image/webp",
        lambda: _truncated(encode(photo_like((300, 200)), "WEBP")),
    ),
    "truncated HEIC": (
        "half.heic",
        "image/heic",
        lambda: _truncated(encode(Image.new("RGB", (64, 48), (9, 9, 9)), "HEIF"), 0.7),
    ),
    "JPEG with an impossible Huffman table": ("bad.jpg", "image/jpeg", _jpeg_bad_huffman),
    "over the byte limit": (
        "huge.jpg",
        "image/jpeg",
        lambda: b"\xff\xd8\xff" + b"\0" * (16 * 2**20),
    ),
    # hostile names (the content is hostile too; see the sanitised cases for good content)
    "path traversal name": ("../../../../etc/passwd", "image/jpeg", lambda: HTML),
    "Windows traversal name": ("..\\..\\windows\\win.ini", "image/jpeg", lambda: HTML),
    "NUL in the name": ("photo.jpg\0.html", "image/jpeg", lambda: HTML),
    "right-to-left override in the name": ("photo\u202egpj.html", "image/jpeg", lambda: HTML),
    "HTML in the name": ('<img src=x onerror="alert(1)">.jpg', "image/jpeg", lambda: SVG),
}


def _jpeg_with_comment(payload: bytes) -> bytes:
    data = jpeg((120, 90))
    com = b"\xff\xfe" + struct.pack(">H", len(payload) + 2) + payload
    return data[:2] + com + data[2:]


def _jpeg_with_huge_exif() -> bytes:
    im = Image.new("RGB", (120, 90), (200, 60, 60))
    exif = Image.Exif()
    exif[0x010E] = "<script>alert(1)</script>" + "X" * 60_000  # ImageDescription
    exif[0x010F] = "PhoneMakerX"
    return encode(im, "JPEG", exif=exif.tobytes())


def _png_with_text() -> bytes:
    return _png_with(
        _chunk(b"tEXt", b"Comment\0" + HTML),
        _chunk(b"iTXt", b"XML:com.adobe.xmp\0\0\0\0\0" + b"<x:xmpmeta>" + HTML * 300),
    )


# Valid photos that carry something else: accepted (they are photos), stored as fresh WebP
# variants under their content hash, with none of the payload.
CARRIERS: dict[str, tuple[str, Callable[[], bytes], bytes]] = {
    "JPEG with HTML appended": ("a.jpg", lambda: jpeg((120, 90)) + HTML, b"<script"),
    "JPEG with a ZIP appended": (
        "a.jpg",
        lambda: jpeg((120, 90), colour=(1, 2, 3)) + _zip("x.php"),
        b"x.php",
    ),
    "JPEG with script in a comment": (
        "a.jpg",
        lambda: _jpeg_with_comment(HTML),
        b"<script",
    ),
    "JPEG with 60 KB of EXIF": ("a.jpg", _jpeg_with_huge_exif, b"PhoneMakerX"),
    "PNG with HTML text chunks": ("a.png", _png_with_text, b"<script"),
    "good photo, traversal name": (
        "../../market/static/x.jpg",
        lambda: jpeg((120, 90), colour=(9, 99, 9)),
        b"static",
    ),
    "good photo, NUL in the name": (
        "a.jpg\0.php",
        lambda: jpeg((120, 90), colour=(99, 9, 9)),
        b"php",
    ),
}


@pytest.fixture
def vendor_client(stocked_world, client):
    log_in_english(client, stocked_world.people["vendor"])
    return client


def _storage_keys() -> set[str]:
    return set(current_app.extensions["market_storage"].keys())


def _photo_count() -> int:
    reload()
    return db.session.scalar(select(func.count(Photo.id)))


def _flashes(client) -> list[tuple[str, str]]:
    with client.session_transaction() as session:
        return session.pop("_flashes", [])


def _post(client, url: str, filename: str, content_type: str, data: bytes, **fields):
    """A multipart upload as a browser sends it: `photos` unless `field` says otherwise."""
    field = fields.pop("field", "photos")
    upload = (io.BytesIO(data), filename, content_type)
    return client.post(
        url,
        data={"csrf_token": csrf_token(client), field: [upload], **fields},
        content_type="multipart/form-data",
    )


def test_the_corpus_is_large_enough():
    assert len(HOSTILE) >= 40


def test_every_hostile_file_is_refused_and_leaves_nothing(stocked_world, vendor_client):
    url = f"/manage/products/{stocked_world.product.id}/photos"
    keys, photos = _storage_keys(), _photo_count()
    wrong = []
    for label, (name, content_type, make) in HOSTILE.items():
        response = _post(vendor_client, url, name, content_type, make())
        flashes = _flashes(vendor_client)
        refused = response.status_code == 303 and any(
            category == "error" and message.startswith("Not added:")
            for category, message in flashes
        )
        if not refused or any(category == "success" for category, _m in flashes):
            wrong.append(f"{label}: {response.status_code} {flashes}")
    assert not wrong, "\n".join(wrong)
    assert _storage_keys() == keys
    assert _photo_count() == photos


SAMPLE = [
    "PNG bomb 20000x20000",
    "JPEG header claiming 65500x65500",
    "SVG with script",
    "HTML named .jpg",
    "animated WebP, 200 frames",
    "truncated HEIC",
    "zero bytes",
    "path traversal name",
]


@pytest.mark.parametrize("label", SAMPLE)
def test_other_upload_routes_refuse_them_too(stocked_world, vendor_client, label):
    name, content_type, make = HOSTILE[label]
    data = make()
    vendor = stocked_world.vendor
    keys, photos = _storage_keys(), _photo_count()
    qris_before = db.session.scalar(
        select(QrisCode.photo_id).where(QrisCode.vendor_id == vendor.id)
    )
    stall = _post(vendor_client, f"/manage/vendors/{vendor.id}/photos", name, content_type, data)
    assert stall.status_code == 303
    assert any(m.startswith("Not added:") for _c, m in _flashes(vendor_client))
    qris = _post(
        vendor_client,
        f"/manage/vendors/{vendor.id}/qris",
        name,
        content_type,
        data,
        field="photo",
        merchant_name="AMPLANG BU SRI",
    )
    assert qris.status_code == 422
    new = _post(
        vendor_client,
        f"/manage/vendors/{vendor.id}/products/new",
        name,
        content_type,
        data,
        name="Kue dari berkas",
        price="5000",
        price_kind="fixed",
        availability="in_stock",
    )
    # The product is saved; the file is refused with a message and nothing of it is kept.
    assert new.status_code in (302, 303)
    assert any(m.startswith("Not added:") for _c, m in _flashes(vendor_client))
    reload()
    product = db.session.scalar(select(Product).where(Product.name == "Kue dari berkas"))
    assert product is not None and not product.photos
    assert _storage_keys() == keys
    assert _photo_count() == photos
    assert (
        db.session.scalar(select(QrisCode.photo_id).where(QrisCode.vendor_id == vendor.id))
        == qris_before
    )


@pytest.mark.parametrize("label", CARRIERS)
def test_photos_carrying_a_payload_are_stored_without_it(stocked_world, vendor_client, label):
    name, make, marker = CARRIERS[label]
    data = make()
    assert marker in data or marker in name.encode()
    keys = _storage_keys()
    response = _post(
        vendor_client,
        f"/manage/products/{stocked_world.product.id}/photos",
        name,
        "image/jpeg",
        data,
    )
    assert response.status_code == 303
    assert [c for c, _m in _flashes(vendor_client)] == ["success"]
    added = _storage_keys() - keys
    assert added and all(KEY.match(key) for key in added), added
    storage = current_app.extensions["market_storage"]
    for key in added:
        stored = storage.open(key)
        if key.endswith(".jpg"):  # the master, for the shopping channels
            assert stored[:3] == b"\xff\xd8\xff"
        else:
            assert stored[:4] == b"RIFF" and stored[8:12] == b"WEBP"
        for leak in (marker, b"<script", b"PK\x03\x04", b"Exif", b"XMP"):
            assert leak not in stored, (key, leak)
    # Nothing was written where the name pointed.
    assert not (Path(current_app.instance_path).parent / "market" / "static" / "x.jpg").exists()


def test_a_request_over_the_size_limit_is_refused_before_it_is_read(
    app, stocked_world, vendor_client
):
    limit = app.config["MAX_CONTENT_LENGTH"]
    app.config["MAX_CONTENT_LENGTH"] = 2 * 2**20
    try:
        keys = _storage_keys()
        response = _post(
            vendor_client,
            f"/manage/products/{stocked_world.product.id}/photos",
            "big.jpg",
            "image/jpeg",
            b"\xff\xd8" + b"\0" * (3 * 2**20),
        )
    finally:
        app.config["MAX_CONTENT_LENGTH"] = limit
    assert response.status_code == 413
    assert _storage_keys() == keys


MEASURE = """
import json, sys
from market.services.imaging import PhotoRejected, process_photo


def high_water_mb():
    # This process's own peak (VmHWM); ru_maxrss would include the parent's size at fork.
    with open("/proc/self/status") as status:
        line = next(line for line in status if line.startswith("VmHWM:"))
    return int(line.split()[1]) / 1024


baseline = high_water_mb()
outcomes = {}
for path in sys.argv[1:]:
    with open(path, "rb") as handle:
        data = handle.read()
    try:
        process_photo(data, max_bytes=15 * 2**20, max_pixels=50_000_000)
        outcomes[path] = "accepted"
    except PhotoRejected:
        outcomes[path] = "refused"
print(json.dumps({"baseline_mb": baseline, "peak_mb": high_water_mb(), "outcomes": outcomes}))
"""


@pytest.mark.live
@pytest.mark.slow
def test_memory_stays_bounded_for_the_whole_corpus(tmp_path):
    """The pipeline, in a fresh process, fed every hostile file: its peak resident memory
    grows by less than MEMORY_GROWTH_BOUND_MB over the process's own baseline (Python, the
    app, Pillow, libheif) and stays under MEMORY_BOUND_MB in all."""
    paths = []
    for number, (_name, _type, make) in enumerate(HOSTILE.values()):
        path = tmp_path / f"{number:02d}"
        path.write_bytes(make())
        paths.append(str(path))
    result = subprocess.run(
        [sys.executable, "-c", MEASURE, *paths],
        cwd=ROOT,
        capture_output=True,
        check=True,
        timeout=120,
    )
    report = json.loads(result.stdout)
    assert set(report["outcomes"].values()) == {"refused"}
    assert report["peak_mb"] - report["baseline_mb"] < MEMORY_GROWTH_BOUND_MB, report
    assert report["peak_mb"] < MEMORY_BOUND_MB, report
