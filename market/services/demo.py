"""The demo market: Pasar Inpres Kebun Sayur in Balikpapan, its vendors, products and accounts.

Photos are drawn with Pillow, so nothing is downloaded. Demo accounts exist only here.
"""

import io
import random
from decimal import Decimal

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
from market.services import accounts
from market.services.consent import CONSENT_VERSION
from market.services.photos import process_upload, store_photo
from market.services.slugs import slugify
from market.services.vlogs import parse_vlog_url

DEMO_PASSWORD = "pasar-demo-2026"  # noqa: S105 - documented in the README, demo data only
DEMO_VENDOR_PHONE = "0812-0000-0001"

MARKET = {
    "slug": "pasar-inpres-kebun-sayur",
    "name": "Pasar Inpres Kebun Sayur",
    "city": "Balikpapan",
    "province": "Kalimantan Timur",
    "address": "Jl. Letjen Suprapto, Kebun Sayur, Balikpapan Barat",
    "description": (
        "Pusat oleh-oleh dan kerajinan khas Kalimantan di Balikpapan: manik-manik Dayak, "
        "batu akik dan mutiara, amplang, batik, anyaman rotan dan ukiran."
    ),
    "opening_hours": "Setiap hari 08.00–21.00 WITA",
    "latitude": Decimal("-1.238900"),
    "longitude": Decimal("116.829700"),
}

# (name, owner, block, number, phone, categories, description, colour, products)
# products: (name, price, kind, note, availability, facts)
VENDORS = [
    (
        "Manik Dayak Bu Sri",
        "Sri Wahyuni",
        "A",
        "3",
        DEMO_VENDOR_PHONE,
        ["aksesoris", "kerajinan"],
        "Gelang, kalung dan tas manik-manik motif Dayak, dirangkai sendiri di kios.",
        (190, 60, 40),
        [
            (
                "Gelang manik motif burung enggang",
                25000,
                "fixed",
                "",
                "in_stock",
                {"material": "Manik kaca, motif enggang"},
            ),
            (
                "Kalung manik Dayak tiga warna",
                75000,
                "fixed",
                "",
                "in_stock",
                {"material": "Manik kaca"},
            ),
            (
                "Tas selempang manik",
                350000,
                "from",
                "tergantung ukuran",
                "pre_order",
                {"material": "Manik kaca, kain blacu"},
            ),
            ("Gantungan kunci manik", 15000, "fixed", "per 3 pcs", "in_stock", {}),
            (
                "Ikat kepala manik (lawung)",
                120000,
                "negotiable",
                "",
                "sold_out",
                {"material": "Manik kaca, motif Dayak Kenyah"},
            ),
        ],
    ),
    (
        "Amplang Kepiting Pak Udin",
        "Udin Saprudin",
        "B",
        "12",
        "0812-0000-0002",
        ["makanan", "suvenir"],
        "Amplang ikan tenggiri dan kepiting, digoreng tiap pagi. Tahan dua bulan.",
        (214, 160, 60),
        [
            (
                "Amplang ikan tenggiri 250 g",
                35000,
                "fixed",
                "",
                "in_stock",
                {"halal": True, "permit_number": "PIRT 2066471010123-26"},
            ),
            (
                "Amplang kepiting 250 g",
                45000,
                "fixed",
                "",
                "in_stock",
                {"halal": True, "permit_number": "PIRT 2066471010124-26"},
            ),
            ("Kerupuk ikan pipih 500 g", 40000, "fixed", "", "in_stock", {"halal": True}),
            ("Stik ikan pedas", 20000, "fixed", "per bungkus", "in_stock", {"halal": True}),
            ("Abon ikan tongkol 200 g", 50000, "fixed", "", "sold_out", {"halal": True}),
        ],
    ),
    (
        "Batik & Sarung Borneo Indah",
        "Hj. Rahmawati",
        "C",
        "7",
        "0812-0000-0003",
        ["kain", "pakaian"],
        "Batik motif Dayak dan Kaltim, sarung tenun Samarinda, kain sasirangan.",
        (40, 90, 140),
        [
            (
                "Kain batik motif Dayak 2 m",
                150000,
                "from",
                "",
                "in_stock",
                {"material": "Katun primisima"},
            ),
            (
                "Sarung tenun Samarinda",
                275000,
                "fixed",
                "",
                "in_stock",
                {"material": "Sutra tenun ATBM"},
            ),
            (
                "Kain sasirangan",
                120000,
                "fixed",
                "",
                "in_stock",
                {"material": "Katun, pewarna alam"},
            ),
            ("Kemeja batik pria lengan pendek", 185000, "fixed", "ukuran M–XXL", "in_stock", {}),
            ("Selendang batik", 85000, "negotiable", "", "pre_order", {}),
        ],
    ),
    (
        "Permata Hati — Akik & Mutiara",
        "Andi Baso",
        "A",
        "11",
        "0812-0000-0004",
        ["aksesoris", "suvenir"],
        "Batu akik Kalimantan dan mutiara air laut, bisa pesan ikat cincin.",
        (90, 60, 130),
        [
            (
                "Cincin batu akik kecubung",
                250000,
                "from",
                "",
                "in_stock",
                {"material": "Kecubung Kalimantan, ikat perak"},
            ),
            (
                "Kalung mutiara air laut",
                450000,
                "negotiable",
                "",
                "in_stock",
                {"material": "Mutiara Lombok"},
            ),
            ("Anting mutiara", 95000, "fixed", "sepasang", "in_stock", {}),
            ("Gelang batu akik", 65000, "fixed", "", "in_stock", {}),
            ("Liontin batu bacan", 300000, "negotiable", "", "sold_out", {}),
        ],
    ),
    (
        "Ukiran Mandau Pak Yohanes",
        "Yohanes Lejau",
        "D",
        "2",
        "0812-0000-0005",
        ["kerajinan", "suvenir"],
        "Miniatur mandau, topeng hudoq dan perisai talawang ukiran tangan.",
        (110, 70, 40),
        [
            (
                "Miniatur mandau 30 cm",
                175000,
                "fixed",
                "",
                "in_stock",
                {"material": "Kayu ulin, kuningan"},
            ),
            (
                "Topeng hudoq",
                250000,
                "from",
                "",
                "in_stock",
                {"material": "Kayu pelantan, cat alam"},
            ),
            (
                "Perisai talawang mini",
                150000,
                "fixed",
                "",
                "in_stock",
                {"material": "Kayu, motif Dayak Kenyah"},
            ),
            ("Patung ukir burung enggang", 400000, "negotiable", "", "pre_order", {}),
            ("Gantungan dinding ukir", 90000, "fixed", "", "in_stock", {}),
        ],
    ),
    (
        "Oleh-oleh Kaltim Mbak Rina",
        "Rina Lestari",
        "B",
        "4",
        "0812-0000-0006",
        ["suvenir", "makanan"],
        "Kaos Balikpapan, magnet kulkas, lempok durian dan camilan khas Kaltim.",
        (30, 120, 90),
        [
            (
                "Kaos Balikpapan beruang madu",
                75000,
                "fixed",
                "",
                "in_stock",
                {"material": "Katun combed 30s"},
            ),
            ("Magnet kulkas Balikpapan", 25000, "fixed", "per 3 pcs", "in_stock", {}),
            ("Lempok durian 250 g", 55000, "fixed", "", "in_stock", {"halal": True}),
            ("Gantungan kunci beruang madu", 10000, "fixed", "", "in_stock", {}),
            ("Dodol rumput laut", 30000, "fixed", "", "sold_out", {"halal": True}),
        ],
    ),
    (
        "Anyaman Rotan Ibu Maria",
        "Maria Ping",
        "D",
        "9",
        "0812-0000-0007",
        ["kerajinan", "rumah-tangga"],
        "Tas, keranjang dan topi seraung dari rotan, dianyam ibu-ibu Dayak Kenyah.",
        (150, 110, 50),
        [
            ("Tas rotan bundar", 225000, "fixed", "", "in_stock", {"material": "Rotan alam"}),
            ("Topi seraung", 85000, "fixed", "", "in_stock", {"material": "Daun sang, rotan"}),
            ("Keranjang anjat", 160000, "from", "", "in_stock", {"material": "Rotan, motif Dayak"}),
            ("Tikar rotan 1×2 m", 600000, "negotiable", "", "pre_order", {}),
            ("Tatakan gelas rotan", 35000, "fixed", "per 6 pcs", "in_stock", {}),
        ],
    ),
    (
        "Madu & Kopi Hutan Borneo",
        "Agus Salim",
        "C",
        "15",
        "0812-0000-0008",
        ["minuman", "makanan"],
        "Madu kelulut, kopi liberika dan gula aren dari petani Kaltim.",
        (120, 80, 20),
        [
            (
                "Madu kelulut 250 ml",
                120000,
                "fixed",
                "",
                "in_stock",
                {"halal": True, "permit_number": "PIRT 5066471020011-26"},
            ),
            ("Kopi liberika bubuk 200 g", 45000, "fixed", "", "in_stock", {"halal": True}),
            ("Gula aren cetak 500 g", 30000, "fixed", "", "in_stock", {"halal": True}),
            ("Teh daun bajakah", 40000, "fixed", "", "in_stock", {}),
            ("Madu hutan 500 ml", 150000, "fixed", "", "sold_out", {"halal": True}),
        ],
    ),
    (
        "Ikan Asin Bu Ani",
        "Ani Suryani",
        "E",
        "1",
        "0812-0000-0009",
        ["makanan", "bumbu"],
        "Ikan asin, udang ebi dan terasi dari nelayan Manggar.",
        (70, 110, 130),
        [
            ("Ikan asin peda 500 g", 60000, "fixed", "", "in_stock", {"halal": True}),
            ("Udang ebi 250 g", 70000, "fixed", "", "in_stock", {"halal": True}),
            ("Terasi udang", 15000, "fixed", "per batang", "in_stock", {"halal": True}),
            ("Cumi asin 250 g", 65000, "fixed", "", "in_stock", {"halal": True}),
            ("Ikan teri medan 250 g", 45000, "fixed", "", "in_stock", {"halal": True}),
        ],
    ),
]

VLOGS = {
    "Manik Dayak Bu Sri": "https://www.youtube.com/watch?v=dQw4w9WgXcQ",
    "Amplang Kepiting Pak Udin": "https://www.tiktok.com/@amplangudin/video/7301234567890123456",
}


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
    """Create the demo market with its vendors, products, photos and accounts."""
    categories = {c.slug: c for c in db.session.query(Category)}
    market = Market(published=True, **MARKET)
    db.session.add(market)
    db.session.commit()
    accounts.create_user(
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
    ) in enumerate(VENDORS):
        vendor = Vendor(
            market=market,
            slug=slugify(name),
            business_name=name,
            owner_name=owner,
            stall_block=block,
            stall_number=number,
            whatsapp=accounts.normalise_phone(phone),
            description=description,
            opening_hours="08.00–21.00 WITA",
            categories=[categories[c] for c in cats],
            status=VendorStatus.PUBLISHED,
            consent_at=now,
            consent_by_id=volunteer.id,
            consent_version=CONSENT_VERSION,
            onboarded_by_id=volunteer.id,
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
                description=f"{pname} dari {name}, {MARKET['name']}.",
                **facts,
            )
            db.session.add(product)
            db.session.flush()
            _add_photo(
                f"{name}-{pname}", colour, vendor_id=vendor.id, product_id=product.id, alt=pname
            )
        if name in VLOGS:
            parsed = parse_vlog_url(VLOGS[name])
            db.session.add(
                VlogLink(
                    vendor_id=vendor.id,
                    url=parsed.url,
                    platform=VlogPlatform(parsed.platform),
                    video_id=parsed.video_id,
                )
            )
        if index == 0:
            vendor.owner = accounts.create_user(
                role=Role.VENDOR, name=owner, phone=phone, password=DEMO_PASSWORD
            )
        db.session.commit()
    cover = store_photo(
        process_upload(demo_image("market-cover", (154, 52, 18), (1280, 720))), alt_text=market.name
    )
    db.session.flush()
    market.cover_photo_id = cover.id
    db.session.commit()
    return market
