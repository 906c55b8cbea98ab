"""The photo pipeline: check an upload, turn it upright, strip its metadata, make WebP variants
for the pages and a JPEG master for the channels that take no WebP (product feeds, marketplace
uploads)."""

import hashlib
import io
import math
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pillow_heif
from flask_babel import lazy_gettext as _l
from PIL import Image, ImageCms, ImageFile, UnidentifiedImageError

if TYPE_CHECKING:
    from market.storage import Storage

pillow_heif.register_heif_opener()

# A half-received upload must be refused, not silently padded with grey.
ImageFile.LOAD_TRUNCATED_IMAGES = False

# What Image.open may try, so a crafted file is never handed to a less-travelled decoder.
_OPEN_FORMATS = ("JPEG", "PNG", "WEBP", "HEIF")
# Phones' JPEGs with a preview or a depth map come out of the JPEG opener as MPO; their first
# frame is the photo.
_ACCEPTED_FORMATS = frozenset({*_OPEN_FORMATS, "MPO"})
# method=2 encodes about three times faster than the default 4, for files 7-10% larger. The
# small variants that listing pages load by the dozen take ~10 ms even with method 4.
WEBP_METHOD = 2
WEBP_METHOD_SMALL = 4
_SMALL_VARIANT_PIXELS = 250_000
_WEBP_MAX_SIDE = 16383
_ORIENTATION_TAG = 0x0112
# EXIF orientation → the transposition that makes the picture upright (as ImageOps does).
_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
_SWAPS_AXES = frozenset({5, 6, 7, 8})
# How far below the largest variant's width a JPEG may be decoded (see _decode_upright).
_DRAFT_SLACK = 0.9
_DEEP_GREYS = frozenset({"I;16", "I;16B", "I;16L", "I;16N", "I", "F"})
# How many decoded pixels _shrink converts at once: a few megabytes, whatever the photo.
_BAND_PIXELS = 1_000_000
WIDTHS = (400, 800, 1600)
# The master: the longest side the shopping channels make use of (Meta and the marketplaces
# want at least 500 px, ideally 1024 or more), kept as JPEG because not every channel reads WebP.
MASTER_SIDE = 2048
MASTER_QUALITY = 88
# For decode_cost, measured with bench/photo_memory.py: Pillow keeps RGB, like RGBA, in four
# bytes a pixel.
_BYTES_PER_PIXEL = {"1": 1, "L": 1, "P": 1, "I;16": 2, "I;16B": 2, "I;16L": 2, "I;16N": 2}
_DECODER_EXTRA = {"WEBP": 12}
_BYTES_PER_VARIANT_PIXEL = 16
# The master's resized copy and the JPEG encoder's buffers.
_BYTES_PER_MASTER_PIXEL = 8
_FIXED_COST = 16 * 1024 * 1024
_SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


class PhotoRejected(ValueError):
    """An upload that cannot become a photo; ``message`` is translatable and fit to show."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return str(self.message)


class DecodeBusy(RuntimeError):
    """No room in the decoding budget came free within the wait."""


class DecodeBudget:
    """The memory one process may spend decoding photos at once, shared by its threads.

    Each piece of work reserves its decode_cost before it starts and waits at most a moment
    for room: during an upload storm the excess gets a quick "try again" instead of every
    thread of the worker decoding at once (which took one worker to 2 GB and stalled the
    public pages behind it)."""

    def __init__(self, limit: int):
        self.limit = limit
        self._used = 0
        self._room = threading.Condition()

    @contextmanager
    def reserve(self, cost: int, *, wait: float) -> Iterator[None]:
        """Hold ``cost`` bytes of the budget for the block; DecodeBusy after ``wait`` s."""
        if cost > self.limit:
            raise ValueError("a cost beyond the whole budget can never be reserved")
        with self._room:
            if not self._room.wait_for(lambda: self._used + cost <= self.limit, timeout=wait):
                raise DecodeBusy
            self._used += cost
        try:
            yield
        finally:
            with self._room:
                self._used -= cost
                self._room.notify_all()


@dataclass(frozen=True)
class ProcessedPhoto:
    """The result of process_photo; nothing is stored yet."""

    content_hash: str  # sha256 of the uploaded bytes, so the same upload is stored once
    width: int  # of the upright original, so variant heights follow its exact aspect ratio
    height: int
    original_bytes: int
    variants: dict[int, bytes]  # width → WebP bytes
    master: bytes  # the upright photo as JPEG, at most MASTER_SIDE on its longest side
    master_width: int


def variant_key(content_hash: str, width: int) -> str:
    """The storage key of one variant; the same format as ``Photo.key``."""
    return f"photos/{content_hash[:2]}/{content_hash}-{width}.webp"


def master_key(content_hash: str, width: int) -> str:
    """The storage key of the JPEG master; the same format as ``Photo.master_key``."""
    return f"photos/{content_hash[:2]}/{content_hash}-{width}.jpg"


def master_size(width: int, height: int) -> tuple[int, int]:
    """The master's size for an upright photo of this size: never enlarged."""
    scale = min(1, MASTER_SIDE / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def encode_jpeg(im: Image.Image) -> bytes:
    """A JPEG of ``im`` (RGB or L) without any metadata block."""
    im.info = {}
    out = io.BytesIO()
    im.save(out, format="JPEG", quality=MASTER_QUALITY, optimize=True, exif=b"")
    return out.getvalue()


def save_variants(storage: "Storage", photo: ProcessedPhoto) -> list[str]:
    """Save every variant of ``photo`` under its key and return the keys, smallest first.

    Saving is idempotent, so the same photo uploaded twice (or by two vendors) costs nothing.
    """
    keys = []
    for width, data in photo.variants.items():
        key = variant_key(photo.content_hash, width)
        storage.save(key, data, "image/webp")
        keys.append(key)
    return keys


def _unreadable() -> PhotoRejected:
    return PhotoRejected(_l("This file is not a photo we can read (JPEG, PNG, WebP or HEIC)."))


def _too_many_pixels() -> PhotoRejected:
    return PhotoRejected(_l("The photo has too many pixels."))


def _damaged() -> PhotoRejected:
    return PhotoRejected(_l("The photo file is damaged or incomplete."))


def process_photo(
    data: bytes,
    *,
    max_bytes: int,
    max_pixels: int,
    max_memory: int | None = None,
    widths: tuple[int, ...] = WIDTHS,
    quality: int = 75,
) -> ProcessedPhoto:
    """Check an uploaded photo and make its upright, metadata-free WebP variants.

    Variants are made for each of ``widths`` up to the photo's own width; a photo narrower
    than the smallest gets one variant at its own width. Raises PhotoRejected, with a message
    for the uploader, for anything that is not a JPEG, PNG, WebP or HEIC/HEIF still image
    within the limits (``max_memory``: the bytes decoding may take, see decode_cost), or that
    cannot be decoded completely.
    """
    if not widths or min(widths) < 1:
        raise ValueError("widths must be positive")
    if not data:
        raise _unreadable()
    if len(data) > max_bytes:
        megabytes = f"{max_bytes / (1024 * 1024):.1f}".removesuffix(".0")
        raise PhotoRejected(_l("The photo is larger than %(mb)s MB.", mb=megabytes))

    if max_memory is not None and decode_cost(data, widths=widths) > max_memory:
        raise _too_many_pixels()

    try:
        with Image.open(io.BytesIO(data), formats=_OPEN_FORMATS) as im:
            _check_opened(im, max_pixels)
            if im.format not in ("JPEG", "MPO"):
                # Only JPEG gains from waiting (draft); PNG may keep its EXIF after the pixels,
                # and a failed load must raise here, not inside the EXIF lookup below.
                im.load()
            orientation = _orientation(im)
            width, height = (im.height, im.width) if orientation in _SWAPS_AXES else im.size
            chosen = _variant_widths(width, height, widths)
            icc_profile = im.info.get("icc_profile")
            largest = _decode_upright(im, orientation, _decoded_size(width, height, chosen))
            if largest is im:
                # Leaving the block frees the decoded pixels, which the variants do not need.
                largest = im.copy()
        largest = _to_srgb(largest, icc_profile)
    except PhotoRejected:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        # Pillow's own limit, met inside Image.open; the warning arrives as an exception when
        # warnings are errors (as in the tests).
        raise _too_many_pixels() from None
    except UnidentifiedImageError:
        raise _unreadable() from None
    except MemoryError:
        raise
    except Exception as exc:
        # Pillow's parsers answer hostile or broken input with many exception types (OSError
        # for truncation, SyntaxError for bad PNG chunks, ValueError, struct.error, …).
        raise _damaged() from exc

    master = master_size(width, height)
    master_image = (
        largest if largest.size == master else largest.resize(master, Image.Resampling.LANCZOS)
    )
    master_bytes = encode_jpeg(master_image)
    variants: dict[int, bytes] = {}
    source = largest
    for variant_width in reversed(chosen):
        size = (variant_width, _height_for(variant_width, width, height))
        # Each variant is made from the next larger one: a 2-4x step, which Lanczos handles
        # well, and much cheaper than going back to the decoded original every time.
        if source.size != size:
            source = source.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)
        variants[variant_width] = _encode_webp(source, quality)
    return ProcessedPhoto(
        content_hash=hashlib.sha256(data).hexdigest(),
        width=width,
        height=height,
        original_bytes=len(data),
        variants=dict(sorted(variants.items())),
        master=master_bytes,
        master_width=master[0],
    )


def _decoded_size(width: int, height: int, chosen: list[int]) -> tuple[int, int]:
    """The size to decode at: the larger of the widest variant and the master, so that
    neither is made by enlarging."""
    variant = (chosen[-1], _height_for(chosen[-1], width, height))
    master = master_size(width, height)
    return master if master[0] > variant[0] else variant


def decode_cost(data: bytes, *, widths: tuple[int, ...] = WIDTHS) -> int:
    """The memory, in bytes, that process_photo may need at its peak for ``data``, judged
    from the file's header alone (nothing is decoded); 0 for a file it refuses unread."""
    try:
        with Image.open(io.BytesIO(data), formats=_OPEN_FORMATS) as im:
            if im.format not in _ACCEPTED_FORMATS or min(im.size) < 1:
                return 0
            return _cost(im, widths)
    except Exception:
        # Whatever Image.open cannot read, process_photo refuses before decoding anything.
        return 0


def _cost(im: Image.Image, widths: tuple[int, ...]) -> int:
    """decode_cost of an opened, not yet decoded image (a JPEG is left drafted).

    Measured peaks, per decoded pixel: the decoded image itself (Pillow keeps RGB in 4 bytes,
    like RGBA), what the decoder holds besides it (WebP and HEIF decode into a buffer of their
    own first, and WebP keeps a canvas more), and the working copy that _shrink makes; per
    pixel of the largest variant or the master, whichever is larger: the resized copies, the
    transposition, the sRGB and white-background copies and the master's."""
    stored_w, stored_h = im.size
    # PNG and WebP may reveal a rotation only once decoded: count the larger of the two shapes.
    shapes = [(stored_w, stored_h)] if im.format in ("JPEG", "MPO") else [im.size, im.size[::-1]]
    largest_px = 0
    for width, height in shapes:
        try:
            chosen = _variant_widths(width, height, widths)
        except PhotoRejected:
            continue
        decoded_w, decoded_h = _decoded_size(width, height, chosen)
        largest_px = max(largest_px, decoded_w * decoded_h)
    if im.format in ("JPEG", "MPO"):
        orientation = _orientation(im)
        width, height = (stored_h, stored_w) if orientation in _SWAPS_AXES else im.size
        size = _decoded_size(width, height, _variant_widths(width, height, widths))
        _draft(im, (size[1], size[0]) if orientation in _SWAPS_AXES else size)
    decoded_px = im.width * im.height
    per_pixel = _BYTES_PER_PIXEL.get(im.mode, 4) + _DECODER_EXTRA.get(im.format, 0)
    factor = max(1, math.isqrt(decoded_px // max(1, largest_px)))
    return (
        decoded_px * per_pixel
        + int(decoded_px / factor**2) * 4
        + largest_px * (_BYTES_PER_VARIANT_PIXEL + _BYTES_PER_MASTER_PIXEL)
        + _FIXED_COST
    )


def _height_for(variant_width: int, width: int, height: int) -> int:
    # The same rounding as Photo.height_for, so width/height attributes match the files.
    return max(1, round(height * variant_width / width))


def _check_opened(im: Image.Image, max_pixels: int) -> None:
    """Refuse by the header alone, before a single pixel is decoded."""
    if im.format not in _ACCEPTED_FORMATS:
        raise _unreadable()
    width, height = im.size
    if width < 1 or height < 1:
        raise _damaged()
    if width * height > max_pixels:
        raise _too_many_pixels()
    # MPO's extra frames are previews and HEIF's are depth maps or bursts: the first frame is
    # the photo. An animated WebP or PNG has no single frame that stands for it.
    if im.format in ("WEBP", "PNG") and getattr(im, "is_animated", False):
        raise PhotoRejected(_l("Animated images cannot be used; upload a still photo."))


def _orientation(im: Image.Image) -> int:
    try:
        value = im.getexif().get(_ORIENTATION_TAG, 1)
    except Exception:
        # A broken EXIF block should not cost a usable photo; it is dropped anyway.
        return 1
    return value if value in _TRANSPOSE else 1


def _draft(im: Image.Image, stored_size: tuple[int, int]) -> None:
    # libjpeg can decode at 1/2, 1/4 or 1/8 scale, which saves most of the time and memory;
    # draft() only works before anything has loaded the pixels. The slack lets a portrait
    # 4000x3000 photo decode at 1500 px wide for its 1600 px variant (a 7% upscale nobody
    # sees) instead of decoding all 12 MP.
    im.draft("RGB", tuple(max(1, math.ceil(side * _DRAFT_SLACK)) for side in stored_size))


def _decode_upright(im: Image.Image, orientation: int, size: tuple[int, int]) -> Image.Image:
    """Decode ``im`` and return it upright at ``size`` (width, height after orientation)."""
    swaps_axes = orientation in _SWAPS_AXES
    stored_size = (size[1], size[0]) if swaps_axes else size
    if im.format in ("JPEG", "MPO"):
        _draft(im, stored_size)
    im.load()
    decoded = _shrink(im, stored_size)
    if decoded.size != stored_size:
        # _shrink left less than a factor of two: Lanczos alone does the rest well.
        decoded = decoded.resize(stored_size, Image.Resampling.LANCZOS)
    # Transpose by the orientation read before draft(), the one the sizes were computed
    # for, rather than reading the EXIF block again (as ImageOps.exif_transpose would).
    if orientation in _TRANSPOSE:
        decoded = decoded.transpose(_TRANSPOSE[orientation])
    return decoded


def _working_mode(im: Image.Image) -> str:
    """The mode that resamples smoothly: palettes and bilevel images cannot, and a
    transparent colour must become real alpha first; 16-bit greys become 8-bit greys."""
    if im.mode in _DEEP_GREYS:
        return "L"
    if im.mode in ("L", "LA", "RGB", "RGBA", "CMYK") and "transparency" not in im.info:
        return im.mode
    return "RGBA" if _has_alpha(im) else "RGB"


def _in_working_mode(im: Image.Image, mode: str) -> Image.Image:
    if im.mode == mode:
        return im
    if im.mode in _DEEP_GREYS:
        # Scaled to 8 bits instead of letting convert() clip everything bright.
        return im.convert("I").point(lambda value: value / 256).convert("L")
    return im.convert(mode)


def _shrink(im: Image.Image, stored_size: tuple[int, int]) -> Image.Image:
    """The decoded ``im`` in its working mode, box-reduced by the largest whole factor that
    keeps it at least ``stored_size``.

    A band of rows at a time: converting a palette or 16-bit image whole, or the premultiplied
    copy that reducing an RGBA image makes, would each hold a second full-size copy beside
    the decoded pixels, which for a 50-megapixel PNG means hundreds of megabytes more."""
    factor = max(1, min(im.width // stored_size[0], im.height // stored_size[1]))
    mode = _working_mode(im)
    if factor == 1 and mode == im.mode:
        return im
    rows = max(1, _BAND_PIXELS // (im.width * factor)) * factor
    shrunk = Image.new(mode, (-(-im.width // factor), -(-im.height // factor)))
    for top in range(0, im.height, rows):
        band = _in_working_mode(im.crop((0, top, im.width, min(top + rows, im.height))), mode)
        shrunk.paste(band.reduce(factor), (0, top // factor))
    return shrunk


def _has_alpha(im: Image.Image) -> bool:
    return im.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in im.info


def _to_srgb(im: Image.Image, icc_profile: bytes | None) -> Image.Image:
    """An RGB image in sRGB; transparent areas become white, as on the site's cards."""
    alpha = None
    if _has_alpha(im):
        im = im.convert("LA" if im.mode in ("L", "LA", "La") else "RGBA")
        alpha = im.getchannel("A")
        im = im.convert(im.mode[0] if im.mode == "LA" else "RGB")
    elif im.mode not in ("L", "RGB", "CMYK"):
        im = im.convert("RGB")

    converted = None
    if icc_profile:
        try:
            source_profile = ImageCms.ImageCmsProfile(io.BytesIO(icc_profile))
            converted = ImageCms.profileToProfile(im, source_profile, _SRGB, outputMode="RGB")
        except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
            # A profile lcms cannot use (or one for another colour space than the pixels):
            # better slightly-off colours than refusing the photo.
            converted = None
    if converted is not None:
        im = converted
    elif im.mode != "RGB":
        im = im.convert("RGB")

    if alpha is not None:
        background = Image.new("RGB", im.size, "white")
        background.paste(im, mask=alpha)
        im = background
    return im


def _variant_widths(width: int, height: int, widths: tuple[int, ...]) -> list[int]:
    chosen = sorted({w for w in widths if w <= width}) or [width]
    # WebP cannot store a side longer than 16383 px: a very tall strip gets narrower variants.
    chosen = [w for w in chosen if _height_for(w, width, height) <= _WEBP_MAX_SIDE]
    if not chosen:
        raise PhotoRejected(_l("The photo is too long and narrow to show."))
    return chosen


def _encode_webp(im: Image.Image, quality: int) -> bytes:
    # A fresh info dict so that no EXIF, XMP or ICC block can ride along into the file.
    im.info = {}
    out = io.BytesIO()
    method = WEBP_METHOD_SMALL if im.width * im.height <= _SMALL_VARIANT_PIXELS else WEBP_METHOD
    im.save(out, format="WEBP", quality=quality, method=method, exif=b"", xmp=b"")
    return out.getvalue()
