"""The photo pipeline: accepted formats, orientation, metadata stripping, refusals, variants."""

import hashlib
import io
import struct
import subprocess
import sys
import threading
import time
import zipfile

import pillow_heif
import pytest
from PIL import ExifTags, Image, ImageCms, ImageDraw, ImageFile
from PIL.JpegImagePlugin import JpegImageFile

from market.models.media import Photo
from market.services import imaging
from market.services.imaging import (
    DecodeBudget,
    DecodeBusy,
    PhotoRejected,
    ProcessedPhoto,
    decode_cost,
    process_photo,
    save_variants,
    variant_key,
)
from market.storage import LocalStorage
from tests.factories import encode, photo_like, png_bomb, webp_chunks
from tests.pages import ANIMATED, DAMAGED, TOO_MANY_PIXELS, UNREADABLE

MB = 1024 * 1024
LIMITS = {"max_bytes": 15 * MB, "max_pixels": 50_000_000}

# --- building test files ------------------------------------------------------------------


def swapped_primaries_profile() -> bytes:
    """An RGB ICC profile whose red is sRGB's blue and vice versa: conversion is visible."""
    profile = bytearray(ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())
    count = struct.unpack(">I", profile[128:132])[0]
    entries = {}
    for index in range(count):
        signature, offset, size = struct.unpack_from(">4sII", profile, 132 + 12 * index)
        entries[signature] = (index, offset, size)
    (red_index, red_offset, red_size) = entries[b"rXYZ"]
    (blue_index, blue_offset, blue_size) = entries[b"bXYZ"]
    struct.pack_into(">4sII", profile, 132 + 12 * red_index, b"rXYZ", blue_offset, blue_size)
    struct.pack_into(">4sII", profile, 132 + 12 * blue_index, b"bXYZ", red_offset, red_size)
    return bytes(profile)


def near(pixel, expected, tolerance=40) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(pixel[:3], expected, strict=True))


def open_variant(data: bytes) -> Image.Image:
    im = Image.open(io.BytesIO(data))
    im.load()
    return im


@pytest.fixture(scope="module")
def photo_jpeg() -> bytes:
    return encode(photo_like((2000, 1500)), "JPEG", quality=90)


# --- accepted photos ---------------------------------------------------------------------


def test_jpeg_with_orientation_6_comes_out_upright_without_exif_or_gps():
    # Stored landscape with a red mark at the stored top-left; orientation 6 means "rotate
    # 90° clockwise to view", which puts the mark at the top-right of the upright picture.
    stored = Image.new("RGB", (1200, 800), (40, 90, 160))
    ImageDraw.Draw(stored).rectangle((0, 0, 199, 199), fill=(230, 20, 20))
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    exif[ExifTags.Base.Make] = "PasarPhone"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "S"
    gps[ExifTags.GPS.GPSLatitude] = (1.0, 16.0, 30.0)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (116.0, 49.0, 50.0)
    data = encode(stored, "JPEG", quality=90, exif=exif.tobytes())
    with Image.open(io.BytesIO(data)) as original:  # the test file really carries GPS
        assert original.getexif().get_ifd(ExifTags.IFD.GPSInfo)[ExifTags.GPS.GPSLatitudeRef]

    photo = process_photo(data, **LIMITS)

    assert (photo.width, photo.height) == (800, 1200)
    assert sorted(photo.variants) == [400, 800]
    for width, webp in photo.variants.items():
        assert webp_chunks(webp) == [b"VP8 "]  # no VP8X, so no EXIF, XMP or ICC chunk
        assert b"Exif" not in webp and b"PasarPhone" not in webp
        im = open_variant(webp)
        assert im.size == (width, width * 3 // 2)
        assert not im.getexif()
        assert near(im.getpixel((width - 5, 5)), (230, 20, 20))
        assert near(im.getpixel((5, 5)), (40, 90, 160))
        assert near(im.getpixel((width - 5, im.height - 5)), (40, 90, 160))


@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_exif_orientation_puts_the_mark_top_left(orientation):
    # Draw the upright picture (mark top-left), then store it the way a camera with that
    # orientation tag would; processing must undo exactly that.
    upright = Image.new("RGB", (300, 200), (0, 160, 0))
    ImageDraw.Draw(upright).rectangle((0, 0, 59, 59), fill=(250, 250, 0))
    undo = {
        2: Image.Transpose.FLIP_LEFT_RIGHT,
        3: Image.Transpose.ROTATE_180,
        4: Image.Transpose.FLIP_TOP_BOTTOM,
        5: Image.Transpose.TRANSPOSE,
        6: Image.Transpose.ROTATE_90,
        7: Image.Transpose.TRANSVERSE,
        8: Image.Transpose.ROTATE_270,
    }
    stored = upright.transpose(undo[orientation]) if orientation in undo else upright
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    photo = process_photo(encode(stored, "JPEG", quality=95, exif=exif.tobytes()), **LIMITS)
    assert (photo.width, photo.height) == (300, 200)
    im = open_variant(photo.variants[300])
    assert near(im.getpixel((10, 10)), (250, 250, 0))
    assert near(im.getpixel((290, 190)), (0, 160, 0))


def test_invalid_orientation_value_is_ignored():
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 9
    photo = process_photo(
        encode(Image.new("RGB", (300, 200)), "JPEG", exif=exif.tobytes()), **LIMITS
    )
    assert (photo.width, photo.height) == (300, 200)


def test_large_jpeg_is_decoded_at_reduced_scale(monkeypatch):
    decoded_sizes = []
    original_load = JpegImageFile.load

    def spying_load(self):
        result = original_load(self)
        decoded_sizes.append(self.size)
        return result

    monkeypatch.setattr(JpegImageFile, "load", spying_load)
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    rotated = encode(photo_like((4000, 3000)), "JPEG", quality=85, exif=exif.tobytes())
    decoded_sizes.clear()
    photo = process_photo(rotated, **LIMITS)
    # Upright 3000x4000: its 1536x2048 master needs only a half-scale decode of 4000x3000.
    assert (photo.width, photo.height) == (3000, 4000)
    assert sorted(photo.variants) == [400, 800, 1600]
    assert photo.master_width == 1536
    assert decoded_sizes and max(decoded_sizes) == (2000, 1500)


def test_png_with_transparency_is_flattened_onto_white():
    im = Image.new("RGBA", (600, 300), (0, 0, 0, 0))
    ImageDraw.Draw(im).rectangle((0, 0, 299, 299), fill=(200, 30, 30, 255))
    photo = process_photo(encode(im, "PNG"), **LIMITS)
    assert sorted(photo.variants) == [400]
    webp = photo.variants[400]
    assert webp_chunks(webp) == [b"VP8 "]
    variant = open_variant(webp)
    assert variant.mode == "RGB" and variant.size == (400, 200)
    assert near(variant.getpixel((50, 100)), (200, 30, 30))
    assert near(variant.getpixel((350, 100)), (255, 255, 255), tolerance=8)


def test_palette_png_with_transparent_index_is_flattened_onto_white():
    im = Image.new("P", (120, 80), 0)
    im.putpalette([0, 0, 0, 20, 120, 220] + [0] * 762)
    ImageDraw.Draw(im).rectangle((60, 0, 119, 79), fill=1)
    photo = process_photo(encode(im, "PNG", transparency=0), **LIMITS)
    variant = open_variant(photo.variants[120])
    assert near(variant.getpixel((10, 40)), (255, 255, 255), tolerance=8)
    assert near(variant.getpixel((100, 40)), (20, 120, 220))


def test_sixteen_bit_greyscale_png_keeps_its_tones():
    im = Image.new("I;16", (64, 64), 32768)
    photo = process_photo(encode(im, "PNG"), **LIMITS)
    assert near(open_variant(photo.variants[64]).getpixel((32, 32)), (128, 128, 128), 10)


def test_small_heic_from_a_phone_is_accepted():
    data = encode(Image.new("RGB", (64, 48), (30, 140, 70)), "HEIF", quality=80)
    with Image.open(io.BytesIO(data)) as im:
        assert im.format == "HEIF"
    photo = process_photo(data, **LIMITS)
    assert (photo.width, photo.height) == (64, 48)
    assert list(photo.variants) == [64]  # narrower than the smallest width: its own width
    variant = open_variant(photo.variants[64])
    assert variant.size == (64, 48)
    assert near(variant.getpixel((32, 24)), (30, 140, 70))


def test_still_webp_is_accepted_and_reencoded():
    data = encode(photo_like((900, 600)), "WEBP", quality=90)
    photo = process_photo(data, **LIMITS)
    assert sorted(photo.variants) == [400, 800]


def test_mpo_from_a_phone_uses_its_first_frame():
    first = Image.new("RGB", (500, 400), (200, 100, 0))
    second = Image.new("RGB", (500, 400), (0, 0, 250))
    data = encode(first, "MPO", save_all=True, append_images=[second])
    with Image.open(io.BytesIO(data)) as im:
        assert im.format == "MPO" and im.n_frames == 2
    photo = process_photo(data, **LIMITS)
    assert near(open_variant(photo.variants[400]).getpixel((200, 150)), (200, 100, 0))


def test_cmyk_jpeg_becomes_rgb():
    data = encode(Image.new("CMYK", (500, 300), (0, 255, 255, 0)), "JPEG", quality=95)
    variant = open_variant(process_photo(data, **LIMITS).variants[400])
    assert variant.mode == "RGB"
    assert near(variant.getpixel((200, 100)), (255, 0, 0), tolerance=60)


def test_embedded_colour_profile_is_applied_then_dropped():
    profile = swapped_primaries_profile()
    data = encode(
        Image.new("RGB", (500, 300), (255, 0, 0)), "JPEG", quality=95, icc_profile=profile
    )
    webp = process_photo(data, **LIMITS).variants[400]
    assert webp_chunks(webp) == [b"VP8 "]
    # Red in the embedded profile is sRGB blue.
    assert near(open_variant(webp).getpixel((200, 100)), (0, 0, 255), tolerance=50)


def test_unusable_colour_profile_does_not_cost_the_photo():
    data = encode(Image.new("RGB", (500, 300), (255, 0, 0)), "JPEG", icc_profile=b"not a profile")
    variant = open_variant(process_photo(data, **LIMITS).variants[400])
    assert near(variant.getpixel((200, 100)), (255, 0, 0))


# --- variants, hashes and sizes ---------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        ((2000, 1500), [400, 800, 1600]),
        ((1600, 900), [400, 800, 1600]),
        ((1000, 1000), [400, 800]),
        ((400, 300), [400]),
        ((399, 300), [399]),
        ((250, 2000), [250]),
        ((3000, 200), [400, 800, 1600]),
    ],
)
def test_variant_widths_never_upscale(size, expected):
    photo = process_photo(encode(Image.new("RGB", size, (90, 90, 90)), "PNG"), **LIMITS)
    assert list(photo.variants) == expected
    assert (photo.width, photo.height) == size
    record = Photo(content_hash=photo.content_hash, width=photo.width, height=photo.height)
    for width, webp in photo.variants.items():
        assert open_variant(webp).size == (width, record.height_for(width))


def test_custom_widths_and_quality():
    data = encode(photo_like((1000, 750)), "JPEG", quality=90)
    low = process_photo(data, **LIMITS, widths=(200, 600), quality=40)
    high = process_photo(data, **LIMITS, widths=(200, 600), quality=90)
    assert list(low.variants) == [200, 600]
    assert len(low.variants[600]) < len(high.variants[600])


def test_same_bytes_give_the_same_hash_and_files(photo_jpeg):
    first = process_photo(photo_jpeg, **LIMITS)
    second = process_photo(photo_jpeg, **LIMITS)
    assert first.content_hash == second.content_hash == hashlib.sha256(photo_jpeg).hexdigest()
    assert first.variants == second.variants
    assert first.original_bytes == len(photo_jpeg)
    other = process_photo(photo_jpeg + b"\0", **LIMITS)  # trailing junk after the JPEG end
    assert other.content_hash != first.content_hash


def test_photo_like_variants_stay_small(photo_jpeg):
    photo = process_photo(photo_jpeg, **LIMITS)
    assert len(photo.variants[400]) <= 20 * 1024
    assert len(photo.variants[800]) <= 50 * 1024
    assert len(photo.variants[1600]) <= 150 * 1024


def test_variant_key_matches_the_photo_model():
    content_hash = hashlib.sha256(b"x").hexdigest()
    assert variant_key(content_hash, 400) == f"photos/{content_hash[:2]}/{content_hash}-400.webp"
    assert variant_key(content_hash, 800) == Photo(content_hash=content_hash).key(800)


def test_save_variants_saves_each_variant_once(tmp_path, photo_jpeg):
    storage = LocalStorage(tmp_path)
    photo = process_photo(photo_jpeg, **LIMITS)
    keys = save_variants(storage, photo)
    assert keys == [variant_key(photo.content_hash, width) for width in (400, 800, 1600)]
    assert sorted(storage.keys()) == sorted(keys)
    assert storage.open(keys[0]) == photo.variants[400]
    assert save_variants(storage, photo) == keys


def test_processed_photo_is_frozen(photo_jpeg):
    photo = process_photo(photo_jpeg, **LIMITS, widths=(100,))
    assert isinstance(photo, ProcessedPhoto)
    with pytest.raises(AttributeError):
        photo.width = 1  # type: ignore[misc]


# --- refusals ------------------------------------------------------------------------------


def _zip_bytes() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr("photo.png", encode(Image.new("RGB", (10, 10)), "PNG"))
    return buf.getvalue()


def _truncated(data: bytes, fraction: float = 0.6) -> bytes:
    return data[: int(len(data) * fraction)]


def _corrupt_png() -> bytes:
    data = bytearray(encode(photo_like((300, 200)), "PNG"))
    idat = data.index(b"IDAT")
    data[idat + 40 : idat + 60] = b"\xff" * 20  # breaks the CRC and the deflate stream
    return bytes(data)


def _animated(fmt: str) -> bytes:
    frames = [Image.new("RGB", (80, 60), colour) for colour in ("red", "blue", "green")]
    return encode(frames[0], fmt, save_all=True, append_images=frames[1:], duration=100)


REFUSALS = {
    "zero bytes": (lambda: b"", UNREADABLE),
    "svg": (
        lambda: b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
        UNREADABLE,
    ),
    "html named .jpg": (lambda: b"<!doctype html><html><body>hi</body></html>", UNREADABLE),
    "zip named .png": (_zip_bytes, UNREADABLE),
    "pdf": (lambda: b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n", UNREADABLE),
    "gif": (lambda: encode(Image.new("P", (40, 40)), "GIF"), UNREADABLE),
    "tiff": (lambda: encode(Image.new("RGB", (40, 40)), "TIFF"), UNREADABLE),
    "bmp": (lambda: encode(Image.new("RGB", (40, 40)), "BMP"), UNREADABLE),
    "jpeg magic then html": (lambda: b"\xff\xd8\xff\xe0<html>" + b"x" * 200, DAMAGED),
    "truncated jpeg": (lambda: _truncated(encode(photo_like((800, 600)), "JPEG")), DAMAGED),
    "truncated png": (lambda: _truncated(encode(photo_like((300, 200)), "PNG")), DAMAGED),
    "corrupt png": (_corrupt_png, DAMAGED),
    "truncated webp": (lambda: _truncated(encode(photo_like((300, 200)), "WEBP")), DAMAGED),
    "animated webp": (lambda: _animated("WEBP"), ANIMATED),
    "animated png": (lambda: _animated("PNG"), ANIMATED),
    "20000x20000 png bomb": (lambda: png_bomb(20_000, 20_000), TOO_MANY_PIXELS),
    "over the pixel limit": (lambda: png_bomb(8_000, 7_000), TOO_MANY_PIXELS),
}


@pytest.mark.parametrize("name", REFUSALS)
def test_refusals_have_a_clear_message_and_store_nothing(name, tmp_path):
    make, message = REFUSALS[name]
    storage = LocalStorage(tmp_path)
    with pytest.raises(PhotoRejected) as caught:
        save_variants(storage, process_photo(make(), **LIMITS))
    assert str(caught.value) == message
    assert str(caught.value.message) == message
    assert isinstance(caught.value, ValueError)
    assert list(storage.keys()) == []


def test_truncated_jpeg_is_refused_when_decoded_at_reduced_scale(photo_jpeg):
    with pytest.raises(PhotoRejected, match="damaged"):
        process_photo(_truncated(photo_jpeg, 0.5), **LIMITS, widths=(200,))


def test_pixel_limit_is_checked_before_pillow_limit():
    # Under Pillow's own bomb threshold, so only our check can refuse it.
    data = encode(Image.new("1", (1200, 1000)), "PNG")
    with pytest.raises(PhotoRejected) as caught:
        process_photo(data, max_bytes=MB, max_pixels=1_199_999)
    assert str(caught.value) == TOO_MANY_PIXELS
    assert process_photo(data, max_bytes=MB, max_pixels=1_200_000).width == 1200


def test_bomb_is_refused_even_with_a_generous_pixel_limit():
    with pytest.raises(PhotoRejected) as caught:
        process_photo(png_bomb(20_000, 20_000), max_bytes=MB, max_pixels=10**10)
    assert str(caught.value) == TOO_MANY_PIXELS


def test_files_over_the_byte_limit_are_refused_before_reading(photo_jpeg):
    assert process_photo(photo_jpeg, max_bytes=len(photo_jpeg), max_pixels=10**7).variants
    with pytest.raises(PhotoRejected) as caught:
        process_photo(photo_jpeg, max_bytes=len(photo_jpeg) - 1, max_pixels=10**7)
    assert str(caught.value).startswith("The photo is larger than ")
    with pytest.raises(PhotoRejected) as caught:
        process_photo(b"\xff\xd8" + b"\0" * MB, max_bytes=MB, max_pixels=10**7)
    assert str(caught.value) == "The photo is larger than 1 MB."
    with pytest.raises(PhotoRejected) as caught:
        process_photo(b"\0" * (3 * MB), max_bytes=5 * MB // 2, max_pixels=10**7)
    assert str(caught.value) == "The photo is larger than 2.5 MB."
    with pytest.raises(PhotoRejected) as caught:
        process_photo(b"\0" * (16 * MB), **LIMITS)
    assert str(caught.value) == "The photo is larger than 15 MB."


def test_truncated_heic_is_refused():
    data = encode(Image.new("RGB", (64, 48), (30, 140, 70)), "HEIF", quality=80)
    with pytest.raises(PhotoRejected) as caught:
        process_photo(_truncated(data, 0.7), **LIMITS)
    assert str(caught.value) in (DAMAGED, UNREADABLE)


def test_truncated_images_are_never_padded():
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False
    assert pillow_heif.__version__  # the HEIF opener is registered at import
    assert "HEIF" in Image.OPEN
    assert imaging.WEBP_METHOD < 4


def test_messages_are_translatable():
    with pytest.raises(PhotoRejected) as caught:
        process_photo(b"", **LIMITS)
    # A lazy string: rendered in the language of whoever sees it, not at raise time.
    assert type(caught.value.message).__name__ == "LazyString"


# --- the memory a photo may take, and the budget a worker shares -----------------------------

# Runs the pipeline on one file in a fresh process and prints the growth of its peak resident
# memory, so nothing this test process allocated before counts.
_MEASURE = """
import re, sys
from market.services.imaging import process_photo
def kb(key):
    return int(re.search(key + r":\\s+(\\d+)", open("/proc/self/status").read()).group(1))
data = sys.stdin.buffer.read()
open("/proc/self/clear_refs", "w").write("5")
base = kb("VmRSS")
process_photo(data, max_bytes=64 << 20, max_pixels=50_000_000)
print((kb("VmHWM") - base) * 1024)
"""


def _transparent_palette(size):
    im = Image.new("P", size, 1)
    im.putpalette([0, 0, 0, 200, 40, 40] + [0] * 762)
    ImageDraw.Draw(im).rectangle((0, 0, size[0] // 2, size[1] // 2), fill=0)
    return encode(im, "PNG", transparency=0)


COSTLY_SHAPES = {
    "RGB PNG, 12 MP": lambda: encode(Image.new("RGB", (4000, 3000), (200, 120, 40)), "PNG"),
    "RGBA PNG, 12 MP": lambda: encode(Image.new("RGBA", (4000, 3000), (9, 9, 9, 90)), "PNG"),
    "palette PNG with a transparent colour, 12 MP": lambda: _transparent_palette((4000, 3000)),
    "16-bit grey PNG, 12 MP": lambda: encode(Image.new("I;16", (4000, 3000), 30000), "PNG"),
    "tall RGBA strip, 12 MP": lambda: encode(Image.new("RGBA", (1000, 12000), (1, 2, 3, 4)), "PNG"),
    "WebP, 12 MP": lambda: encode(Image.new("RGB", (4000, 3000), (9, 90, 9)), "WEBP", method=0),
    "JPEG, 12 MP": lambda: encode(photo_like((4000, 3000)), "JPEG", quality=80),
}


@pytest.mark.live  # each shape decoded in a Python child, to read its peak memory
@pytest.mark.parametrize("shape", COSTLY_SHAPES)
def test_decode_cost_is_never_below_the_memory_really_used(shape):
    data = COSTLY_SHAPES[shape]()
    measured = subprocess.run(
        [sys.executable, "-c", _MEASURE], input=data, capture_output=True, check=True
    )
    peak = int(measured.stdout)
    estimate = decode_cost(data)
    assert peak <= estimate, f"{shape}: used {peak / MB:.0f} MB, estimated {estimate / MB:.0f}"
    # Honest, not merely huge: within three times what it really takes, or the budget would
    # turn uploads away for nothing.
    assert estimate <= 3 * peak + 16 * MB, f"{shape}: estimated {estimate / MB:.0f} MB"


def test_a_photo_needing_more_than_the_budget_is_refused_unread():
    data = encode(Image.new("RGB", (4000, 3000), (9, 90, 9)), "WEBP", method=0)
    cost = decode_cost(data)
    with pytest.raises(PhotoRejected) as caught:
        process_photo(data, **LIMITS, max_memory=cost - 1)
    assert str(caught.value) == TOO_MANY_PIXELS
    assert process_photo(data, **LIMITS, max_memory=cost).width == 4000


def test_unreadable_files_cost_nothing_to_decode():
    assert decode_cost(b"") == decode_cost(b"not a photo") == 0


def test_the_decoding_budget_waits_for_room_then_says_busy():
    budget = DecodeBudget(100)
    with budget.reserve(60, wait=0):
        with budget.reserve(40, wait=0):
            pass  # both fit at once
        started = time.monotonic()
        with pytest.raises(DecodeBusy), budget.reserve(41, wait=0.2):
            pass
        assert 0.2 <= time.monotonic() - started < 2

        # Room freed while a reservation waits lets it through at once.
        def free_soon():
            time.sleep(0.1)
            holder.__exit__(None, None, None)

        holder = budget.reserve(40, wait=0)
        holder.__enter__()
        threading.Thread(target=free_soon).start()
        with budget.reserve(40, wait=5):
            pass
    with budget.reserve(100, wait=0):
        pass  # everything was given back
    with pytest.raises(ValueError):
        budget.reserve(101, wait=0).__enter__()
