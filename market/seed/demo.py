"""The demo markets made into records (their data is in demo_market.py and
demo_klandasan.py), with the demo accounts.

Photos are drawn with Pillow, so nothing is downloaded. Demo accounts exist only here.
"""

import io
import random

from PIL import Image, ImageDraw, ImageFilter

from market.extensions import db
from market.models import (
    Availability,
    Category,
    Market,
    PriceKind,
    Product,
    Role,
    Vendor,
    VendorStatus,
    VlogLink,
    VlogPlatform,
    utcnow,
)
from market.seed import demo_klandasan as klandasan
from market.seed.demo_market import MARKET, VENDORS, VLOGS
from market.services import accounts
from market.services.consent import CONSENT_VERSION
from market.services.photos import process_upload, store_photo
from market.services.slugs import slugify
from market.services.vlogs import parse_vlog_url

DEMO_PASSWORD = "pasar-demo-2026"  # noqa: S105 - documented in the README, demo data only


def _mix(colour: tuple[int, int, int], other: tuple[int, int, int], amount: float) -> tuple:
    return tuple(round(c * (1 - amount) + o * amount) for c, o in zip(colour, other, strict=True))


def demo_image(seed: str, colour: tuple[int, int, int], size=(960, 720)) -> bytes:
    """A deterministic still life drawn with Pillow: goods in the vendor's colour on a wooden
    table, lit from the top left, so demo pages look like real catalogue photos."""
    rng = random.Random(seed)
    width, height = size
    image = Image.new("RGB", size)
    draw = ImageDraw.Draw(image)
    wood = (176, 132, 92)
    for y in range(height):
        light = 1.08 - 0.35 * y / height
        grain = 10 * ((y // 7) % 3 - 1)
        draw.line([(0, y), (width, y)], fill=tuple(min(255, int(c * light) + grain) for c in wood))
    cloth = _mix(colour, (245, 238, 225), 0.55)
    draw.rounded_rectangle(
        [width * 0.08, height * 0.18, width * 0.92, height * 0.9], radius=40, fill=cloth
    )
    cx, cy = width / 2 + rng.randint(-60, 60), height * 0.55
    for _ in range(rng.randint(9, 16)):
        x = cx + rng.gauss(0, width * 0.16)
        y = cy + rng.gauss(0, height * 0.1)
        r = rng.randint(int(height * 0.05), int(height * 0.13))
        body = _mix(colour, (rng.randint(0, 255), rng.randint(60, 200), rng.randint(0, 120)), 0.25)
        draw.ellipse(
            [x - r + 12, y - r + 18, x + r + 12, y + r + 18], fill=_mix(cloth, (0, 0, 0), 0.3)
        )
        draw.ellipse([x - r, y - r, x + r, y + r], fill=body)
        h = r * 0.35
        draw.ellipse(
            [x - r * 0.55, y - r * 0.6, x - r * 0.55 + h, y - r * 0.6 + h],
            fill=_mix(body, (255, 255, 255), 0.55),
        )
    image = image.filter(ImageFilter.GaussianBlur(1.6))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=88)
    return buffer.getvalue()


def _add_photo(seed: str, colour, *, vendor_id: int, product_id: int | None, alt: str) -> None:
    store_photo(
        process_upload(demo_image(seed, colour)),
        vendor_id=vendor_id,
        product_id=product_id,
        alt_text=alt,
    )


def seed_demo() -> Market:
    """Create the demo markets with their vendors, products, photos and the demo accounts;
    returns the first market, the one the demo accounts work in."""
    market = Market(published=True, **MARKET)
    db.session.add(market)
    db.session.commit()
    admin = accounts.create_user(
        role=Role.ADMIN, name="Admin Pasar", email="admin@example.org", password=DEMO_PASSWORD
    )
    accounts.create_user(
        role=Role.COORDINATOR,
        name="Dewi Koordinator",
        email="koordinator@example.org",
        password=DEMO_PASSWORD,
        market=market,
    )
    volunteer = accounts.create_user(
        role=Role.VOLUNTEER,
        name="Bayu Relawan",
        email="relawan@example.org",
        password=DEMO_PASSWORD,
        market=market,
    )
    _fill_market(market, VENDORS, VLOGS, onboarded_by=volunteer, vendor_account=True)
    # The demo accounts stay as documented (staff of the first market only), so the admin,
    # who may act in every market, stands for the volunteer of the second.
    second = Market(published=True, **klandasan.MARKET)
    db.session.add(second)
    db.session.commit()
    _fill_market(second, klandasan.VENDORS, klandasan.VLOGS, onboarded_by=admin)
    return market


def _fill_market(market: Market, vendors, vlogs, *, onboarded_by, vendor_account=False) -> None:
    """Add the vendors, products, photos and vlog links of a demo market, and its cover photo;
    with vendor_account, the first vendor gets the demo vendor login."""
    categories = {c.slug: c for c in db.session.query(Category)}
    now = utcnow()
    for index, (
        name,
        owner,
        block,
        number,
        phone,
        cats,
        description,
        colour,
        products,
    ) in enumerate(vendors):
        vendor = Vendor(
            market=market,
            slug=slugify(name),
            business_name=name,
            owner_name=owner,
            stall_block=block,
            stall_number=number,
            whatsapp=accounts.normalise_phone(phone),
            description=description,
            opening_hours=market.opening_hours,
            categories=[categories[c] for c in cats],
            status=VendorStatus.PUBLISHED,
            consent_at=now,
            consent_by_id=onboarded_by.id,
            consent_version=CONSENT_VERSION,
            onboarded_by_id=onboarded_by.id,
            published_at=now,
        )
        db.session.add(vendor)
        db.session.flush()
        _add_photo(
            f"stall-{name}", colour, vendor_id=vendor.id, product_id=None, alt=f"Kios {name}"
        )
        for position, (pname, price, kind, note, availability, facts) in enumerate(products):
            product = Product(
                vendor=vendor,
                slug=slugify(pname),
                name=pname,
                price_idr=price,
                price_kind=PriceKind(kind),
                price_note=note,
                availability=Availability(availability),
                position=position,
                categories=[categories[cats[0]]],
                description=f"{pname} dari {name}, {market.name}.",
                **facts,
            )
            db.session.add(product)
            db.session.flush()
            _add_photo(
                f"{name}-{pname}", colour, vendor_id=vendor.id, product_id=product.id, alt=pname
            )
        if name in vlogs:
            parsed = parse_vlog_url(vlogs[name])
            db.session.add(
                VlogLink(
                    vendor_id=vendor.id,
                    url=parsed.url,
                    platform=VlogPlatform(parsed.platform),
                    video_id=parsed.video_id,
                )
            )
        if vendor_account and index == 0:
            vendor.owner = accounts.create_user(
                role=Role.VENDOR, name=owner, phone=phone, password=DEMO_PASSWORD
            )
        db.session.commit()
    cover = store_photo(
        process_upload(demo_image(f"cover-{market.slug}", vendors[0][7], (1280, 720))),
        alt_text=market.name,
    )
    db.session.flush()
    market.cover_photo_id = cover.id
    db.session.commit()
