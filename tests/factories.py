"""Builders of test data: rows (markets, people, stalls, products, photos, vlogs), the worlds the
authorisation and catalogue tests start from, and image files made with Pillow.

Each builder commits, takes the record it hangs off plus keyword overrides, and invents unique
names and addresses, so that tests never share a fixture database."""

import hashlib
import io
import random
import struct
import zlib
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cache
from itertools import count

import segno
from PIL import ExifTags, Image, ImageDraw, ImageFilter

from market.extensions import db
from market.models import (
    Campaign,
    CampaignMarket,
    Category,
    Market,
    MarketStaff,
    Photo,
    Product,
    Role,
    StaffRole,
    User,
    Vendor,
    VendorStatus,
    VlogLink,
    VlogPlatform,
    utcnow,
)
from market.services import accounts
from market.services.photos import Upload, add_photos
from market.services.qris import save_qris
from market.services.reports import local_today
from market.services.vlog_links import add_vlog

PASSWORD = "correct horse battery"
_serial = count(1)

# --- rows -------------------------------------------------------------------------------------


def make_market(**overrides) -> Market:
    n = next(_serial)
    values = {
        "slug": f"pasar-{n}",
        "name": f"Pasar Uji {n}",
        "city": "Balikpapan",
        "province": "Kalimantan Timur",
        "published": True,
    }
    market = Market(**(values | overrides))
    db.session.add(market)
    db.session.commit()
    return market


def make_user(role: Role = Role.VOLUNTEER, market: Market | None = None, **overrides) -> User:
    n = next(_serial)
    if role == Role.VENDOR and "email" not in overrides:
        overrides.setdefault("phone", f"+62812{n:08d}")
    else:
        overrides.setdefault("email", f"user{n}@example.org")
    return accounts.create_user(
        role=role,
        name=overrides.pop("name", f"User {n}"),
        password=overrides.pop("password", PASSWORD),
        market=market,
        **overrides,
    )


def assign(user: User, market: Market, role: StaffRole = StaffRole.VOLUNTEER) -> None:
    db.session.add(MarketStaff(user=user, market=market, role=role))
    db.session.commit()


# Everyone an authorisation test asks about; "other_*" belong to another market or stall.
ROLES = (
    "anonymous",
    "vendor",
    "other_vendor",
    "volunteer",
    "other_volunteer",
    "coordinator",
    "other_coordinator",
    "admin",
)
EVERYONE = frozenset(ROLES) - {"anonymous"}


def make_people(market: Market, other_market: Market) -> dict[str, User]:
    """One account per role of ROLES but anonymous: staff of `market` and of `other_market`,
    and two vendor accounts for the caller to make owners of stalls."""
    people = {
        "admin": make_user(Role.ADMIN),
        "coordinator": make_user(Role.COORDINATOR),
        "other_coordinator": make_user(Role.COORDINATOR),
        "volunteer": make_user(Role.VOLUNTEER),
        "other_volunteer": make_user(Role.VOLUNTEER),
        "vendor": make_user(Role.VENDOR),
        "other_vendor": make_user(Role.VENDOR),
    }
    assign(people["coordinator"], market, StaffRole.COORDINATOR)
    assign(people["other_coordinator"], other_market, StaffRole.COORDINATOR)
    assign(people["volunteer"], market, StaffRole.VOLUNTEER)
    assign(people["other_volunteer"], other_market, StaffRole.VOLUNTEER)
    return people


def make_person(role: str, market: Market, vendor: Vendor) -> User | None:
    """The one user of ROLES a test asks about (None for anonymous), placed relative to
    `market` and `vendor` as make_people places them; the password is PASSWORD."""
    other = make_market()
    if role == "anonymous":
        return None
    if role == "vendor":
        user = make_user(Role.VENDOR)
        vendor.owner = user
        db.session.commit()
        return user
    if role == "other_vendor":
        user = make_user(Role.VENDOR)
        make_vendor(other, owner=user)
        return user
    if role == "admin":
        return make_user(Role.ADMIN)
    staff_role, where = {
        "volunteer": (StaffRole.VOLUNTEER, market),
        "other_volunteer": (StaffRole.VOLUNTEER, other),
        "coordinator": (StaffRole.COORDINATOR, market),
        "other_coordinator": (StaffRole.COORDINATOR, other),
    }[role]
    user = make_user(Role(staff_role.value))
    assign(user, where, staff_role)
    return user


def make_vendor(market: Market, **overrides) -> Vendor:
    n = next(_serial)
    published = overrides.pop("published", True)
    values = {
        "market": market,
        "slug": f"lapak-{n}",
        "business_name": f"Lapak {n}",
        "owner_name": f"Pemilik {n}",
        "stall_block": "A",
        "stall_number": str(n),
        "whatsapp": f"+62813{n:08d}",
        "status": VendorStatus.PUBLISHED if published else VendorStatus.DRAFT,
        "consent_at": utcnow() if published else None,
        "consent_version": "2026-01" if published else None,
    }
    vendor = Vendor(**(values | overrides))
    db.session.add(vendor)
    db.session.commit()
    return vendor


def make_product(vendor: Vendor, **overrides) -> Product:
    n = next(_serial)
    values = {"vendor": vendor, "slug": f"produk-{n}", "name": f"Produk {n}", "price_idr": 25000}
    product = Product(**(values | overrides))
    db.session.add(product)
    db.session.commit()
    return product


def make_photo(vendor: Vendor, product: Product | None = None, **overrides) -> Photo:
    """A photo row without files (pages only build its URLs, the checklist only counts it);
    add_photos below stores real ones."""
    n = next(_serial)
    values = {
        "vendor_id": vendor.id,
        "product_id": product.id if product else None,
        "content_hash": hashlib.sha256(f"photo-{n}".encode()).hexdigest(),
        "original_bytes": 1000,
        "width": 1200,
        "height": 900,
        "variants": [400, 800, 1200],
        "alt_text": f"Foto {n}",
    }
    photo = Photo(**(values | overrides))
    db.session.add(photo)
    db.session.commit()
    return photo


def make_vlog(vendor: Vendor, product: Product | None = None, **overrides) -> VlogLink:
    video_id = overrides.pop("video_id", "dQw4w9WgXcQ")
    values = {
        "vendor_id": vendor.id,
        "product_id": product.id if product else None,
        "url": f"https://www.youtube.com/watch?v={video_id}",
        "platform": VlogPlatform.YOUTUBE,
        "video_id": video_id,
    }
    vlog = VlogLink(**(values | overrides))
    db.session.add(vlog)
    db.session.commit()
    return vlog


def make_ready_vendor(market: Market, products: int = 3, **overrides) -> Vendor:
    """A draft with everything publishing needs: profile, consent, stall photo, products."""
    overrides.setdefault("published", False)
    vendor = make_vendor(market, **overrides)
    vendor.consent_at = utcnow()
    vendor.consent_version = "2026-01"
    db.session.commit()
    make_photo(vendor)
    for _ in range(products):
        make_photo(vendor, make_product(vendor))
    return vendor


def make_catalogue(market: Market, vendors: int, products: int) -> list[Vendor]:
    """Photographed stalls with photographed products in `market`, as the demo has."""
    made = []
    for _ in range(vendors):
        vendor = make_vendor(market)
        make_photo(vendor)
        for _ in range(products):
            make_photo(vendor, make_product(vendor))
        made.append(vendor)
    return made


def category(slug: str) -> Category:
    return db.session.query(Category).filter_by(slug=slug).one()


# --- worlds -----------------------------------------------------------------------------------


@dataclass
class World:
    """Two markets with staff of every role in each (make_people), and the stalls a test acts
    on; the fields a plain world leaves None belong to the stocked one."""

    market: Market
    other_market: Market
    vendor: Vendor  # owned by people["vendor"]
    people: dict[str, User]
    other_vendor: Vendor | None = None  # in the other market, owned by people["other_vendor"]
    neighbour: Vendor | None = None  # next door in the same market, people["other_vendor"]'s
    product: Product | None = None
    stall_photo: Photo | None = None
    product_photos: list[Photo] = field(default_factory=list)
    vlog: VlogLink | None = None


def make_world(*, stocked: bool = False) -> World:
    """Plain: a draft stall in each market, owned by "vendor" and "other_vendor".

    Stocked: a published stall next to its neighbour's (the most likely intruder is the stall
    next door), with a product and two photos of it, a stall photo, a vlog and a QRIS code, all
    added through the services by the market's volunteer (five audit events)."""
    market, other_market = make_market(), make_market()
    people = make_people(market, other_market)
    if not stocked:
        vendor = make_vendor(market, published=False, owner=people["vendor"])
        other_vendor = make_vendor(other_market, published=False, owner=people["other_vendor"])
        return World(market, other_market, vendor, people, other_vendor=other_vendor)
    vendor = make_vendor(market, owner=people["vendor"])
    neighbour = make_vendor(market, owner=people["other_vendor"])
    product = make_product(vendor, name="Amplang kepiting")
    volunteer = people["volunteer"]
    add_photos(vendor, [Upload("stall.jpg", jpeg(colour=(10, 90, 160)))], actor=volunteer)
    add_photos(product, [Upload("a.jpg", jpeg(colour=(200, 30, 30)))], actor=volunteer)
    add_photos(product, [Upload("b.jpg", jpeg(colour=(30, 200, 30)))], actor=volunteer)
    vlog = add_vlog(vendor, "https://youtu.be/dQw4w9WgXcQ", actor=volunteer)
    save_qris(
        vendor,
        actor=volunteer,
        merchant_name="AMPLANG BU SRI",
        upload=Upload("qris.png", qris_sticker()),
    )
    return World(
        market,
        other_market,
        vendor,
        people,
        neighbour=neighbour,
        product=product,
        stall_photo=vendor.photos[0],
        product_photos=list(product.photos),
        vlog=vlog,
    )


# --- image files ------------------------------------------------------------------------------


def encode(im: Image.Image, fmt: str, **params) -> bytes:
    buf = io.BytesIO()
    im.save(buf, fmt, **params)
    return buf.getvalue()


def jpeg(size: tuple[int, int] = (480, 360), colour=(200, 120, 40), **params) -> bytes:
    return encode(Image.new("RGB", size, colour), "JPEG", **params)


def photo_like(size: tuple[int, int], seed: int = 7) -> Image.Image:
    """Smooth shapes, a gradient and a little sensor noise: compresses like a real photo."""
    rnd = random.Random(seed)
    width, height = size
    blobs = Image.frombytes("RGB", (16, 12), rnd.randbytes(16 * 12 * 3))
    im = Image.blend(
        blobs.resize(size, Image.Resampling.BICUBIC),
        Image.linear_gradient("L").resize(size).convert("RGB"),
        0.3,
    )
    draw = ImageDraw.Draw(im)
    for _ in range(40):
        x, y = rnd.randrange(width), rnd.randrange(height)
        r = rnd.randrange(width // 60, width // 8)
        draw.ellipse((x - r, y - r, x + r, y + r), fill=tuple(rnd.randbytes(3)))
    im = im.filter(ImageFilter.GaussianBlur(width / 800))
    # Texture (fabric, leaves, produce) and sensor noise.
    texture = Image.effect_noise((width // 40, height // 40), 60)
    im = Image.blend(im, texture.resize(size, Image.Resampling.BICUBIC).convert("RGB"), 0.12)
    return Image.blend(im, Image.effect_noise(size, 40).convert("RGB"), 0.12)


def phone_jpeg_with_gps() -> bytes:
    """A landscape-stored photo that the camera marks 'rotate 90° clockwise' (orientation 6),
    with a red mark in the stored top-left corner, GPS coordinates and a camera make."""
    im = Image.new("RGB", (600, 400), (240, 240, 240))
    im.paste((220, 0, 0), (0, 0, 120, 120))
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    exif[ExifTags.Base.Make] = "PhoneMakerX"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "S"
    gps[ExifTags.GPS.GPSLatitude] = (1.0, 14.0, 20.0)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (116.0, 49.0, 47.0)
    return encode(im, "JPEG", exif=exif.tobytes(), quality=92)


def png_bomb(width: int, height: int) -> bytes:
    """A valid 1-bit PNG of any size, a few KB on disk: a decompression bomb."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    compressor = zlib.compressobj(9)
    row = b"\0" * (1 + (width + 7) // 8)
    idat = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0))
        + chunk(b"IDAT", idat)
        + chunk(b"IEND", b"")
    )


def qris_sticker(seed: str = "00020101021126") -> bytes:
    """A PNG with a QR code on it, like a photo of a QRIS sticker."""
    buf = io.BytesIO()
    segno.make(seed, error="m").save(buf, kind="png", scale=8, border=4)
    return buf.getvalue()


def open_image(data: bytes) -> Image.Image:
    im = Image.open(io.BytesIO(data))
    im.load()
    return im


def webp_chunks(data: bytes) -> list[bytes]:
    """The RIFF chunk names of a WebP file: metadata would show up as EXIF, XMP  or ICCP."""
    assert data[:4] == b"RIFF" and data[8:12] == b"WEBP"
    assert struct.unpack("<I", data[4:8])[0] == len(data) - 8
    chunks, pos = [], 12
    while pos < len(data):
        size = struct.unpack("<I", data[pos + 4 : pos + 8])[0]
        chunks.append(data[pos : pos + 4])
        pos += 8 + size + (size & 1)
    assert pos == len(data)
    return chunks


@cache
def big_png(shade: int = 40, side: int = 7000) -> bytes:
    """49 megapixels in about 160 KB, like the file of the audit that found uploads stalling
    every page; each shade is another photo (the same photo twice is stored once, and would
    cost no decoding the second time)."""
    im = Image.new("RGB", (side, side), (200, 120, shade))
    draw = ImageDraw.Draw(im)
    for corner in range(0, side, 500):
        draw.rectangle((corner, corner, corner + 300, corner + 300), fill=(10, 200, 30))
    buffer = io.BytesIO()
    im.save(buffer, "PNG")
    return buffer.getvalue()


def make_campaign(markets, volunteers=(), days_before: int = 2, days: int = 10, **overrides):
    """A campaign through `markets` (targets 10 stalls, 30 products each) that began
    `days_before` days ago (market time), with `volunteers` in its team."""
    start = local_today() - timedelta(days=days_before)
    values = {
        "name": f"Gerebek Pasar {next(_serial)}",
        "starts_on": start,
        "ends_on": start + timedelta(days=days - 1),
    }
    targets = overrides.pop("targets", None) or [(10, 30)] * len(markets)
    campaign = Campaign(**(values | overrides))
    campaign.targets = [
        CampaignMarket(market=market, stalls_target=stalls, products_target=products)
        for market, (stalls, products) in zip(markets, targets, strict=True)
    ]
    campaign.volunteers = list(volunteers)
    db.session.add(campaign)
    db.session.commit()
    return campaign
