"""Synthetic catalogues for benchmarks: many markets, vendors and products, inserted in bulk.

Names are built from word lists so searches have realistic hits; every photo row points at a
handful of shared files, as the same photo uploaded many times would.
"""

import random
from collections.abc import Callable, Iterator
from itertools import islice

from sqlalchemy import func, insert, select, text

from market.extensions import db
from market.models import (
    Availability,
    Category,
    Market,
    Photo,
    PriceKind,
    Product,
    Vendor,
    VendorStatus,
    utcnow,
)
from market.models.product import product_category
from market.models.vendor import vendor_category
from market.seed.demo import demo_image
from market.services import search
from market.services.photos import process_upload, store_photo

GOODS = [
    "amplang",
    "kerupuk",
    "gelang manik",
    "kalung manik",
    "tas rotan",
    "topi seraung",
    "sarung tenun",
    "kain batik",
    "kemeja batik",
    "cincin akik",
    "kalung mutiara",
    "madu kelulut",
    "kopi liberika",
    "gula aren",
    "ikan asin",
    "udang ebi",
    "terasi",
    "lempok durian",
    "miniatur mandau",
    "topeng hudoq",
    "tikar rotan",
    "keranjang anjat",
    "kaos",
    "magnet kulkas",
    "dodol",
    "abon ikan",
    "stik ikan",
    "teh bajakah",
    "anting mutiara",
    "selendang",
]
KINDS = [
    "tenggiri",
    "kepiting",
    "udang",
    "motif Dayak",
    "motif enggang",
    "asli",
    "khas Kaltim",
    "premium",
    "pedas",
    "original",
    "kecil",
    "besar",
    "jumbo",
    "mini",
    "spesial",
]
PEOPLE = [
    "Sri",
    "Udin",
    "Rina",
    "Agus",
    "Maria",
    "Yohanes",
    "Ani",
    "Baso",
    "Dewi",
    "Rahmat",
    "Siti",
    "Budi",
    "Wati",
    "Joko",
    "Lestari",
    "Hasan",
    "Nur",
    "Eka",
    "Putri",
    "Made",
]
TRADES = ["Kios", "Toko", "Lapak", "Warung", "Galeri", "Sentra", "Rumah"]
CHUNK = 5000
SHARED_PHOTOS = 8


def _chunks(rows: Iterator[dict], size: int = CHUNK) -> Iterator[list[dict]]:
    while batch := list(islice(rows, size)):
        yield batch


def _next_id(model) -> int:
    return (db.session.scalar(select(func.max(model.id))) or 0) + 1


def seed_bench(
    markets: int, vendors: int, products: int, *, report: Callable[[str], None] = print
) -> dict[str, int]:
    """Add published markets, each with `vendors` vendors of `products` products."""
    rng = random.Random(2026)
    now = utcnow()
    category_ids = list(db.session.scalars(select(Category.id)))
    shared = []
    for n in range(SHARED_PHOTOS):
        photo = store_photo(process_upload(demo_image(f"bench-{n}", (140, 70 + 15 * n, 40))))
        shared.append(photo)
    db.session.flush()
    # The shared Photo rows only carried the files; the catalogue's rows point at their hash.
    templates = [
        {
            "content_hash": p.content_hash,
            "original_bytes": p.original_bytes,
            "width": p.width,
            "height": p.height,
            "variants": p.variants,
        }
        for p in shared
    ]
    for photo in shared:
        db.session.delete(photo)
    db.session.commit()

    first_market, first_vendor, first_product = map(_next_id, (Market, Vendor, Product))
    market_rows = [
        {
            "id": first_market + m,
            "slug": f"pasar-bench-{first_market + m}",
            "name": f"Pasar Bench {first_market + m}",
            "city": "Balikpapan",
            "province": "Kalimantan Timur",
            "address": "",
            "description": "Pasar uji beban.",
            "opening_hours": "08.00–21.00",
            "published": True,
            "created_at": now,
            "updated_at": now,
        }
        for m in range(markets)
    ]
    db.session.execute(insert(Market), market_rows)

    def vendor_rows() -> Iterator[dict]:
        for m in range(markets):
            for v in range(vendors):
                vendor_id = first_vendor + m * vendors + v
                person = PEOPLE[v % len(PEOPLE)]
                yield {
                    "id": vendor_id,
                    "market_id": first_market + m,
                    "slug": f"lapak-{vendor_id}",
                    "business_name": f"{TRADES[v % len(TRADES)]} {GOODS[v % len(GOODS)]} {person}",
                    "owner_name": person,
                    "stall_block": chr(65 + v // 100),
                    "stall_number": str(v % 100 + 1),
                    "whatsapp": f"+62812{vendor_id:08d}",
                    "description": "Lapak uji beban.",
                    "opening_hours": "",
                    "hidden_reason": "",
                    "status": VendorStatus.PUBLISHED,
                    "consent_at": now,
                    "consent_version": "bench",
                    "published_at": now,
                    "created_at": now,
                    "updated_at": now,
                    "version": 1,
                }

    def product_rows() -> Iterator[dict]:
        for vendor_offset in range(markets * vendors):
            for p in range(products):
                product_id = first_product + vendor_offset * products + p
                name = f"{rng.choice(GOODS).capitalize()} {rng.choice(KINDS)} {p + 1}"
                yield {
                    "id": product_id,
                    "vendor_id": first_vendor + vendor_offset,
                    "slug": f"produk-{product_id}",
                    "name": name,
                    "description": f"{name}, dibuat di Kalimantan Timur.",
                    "price_idr": rng.randrange(5, 500) * 1000,
                    "price_kind": PriceKind.FIXED,
                    "price_note": "",
                    "availability": Availability.IN_STOCK,
                    "halal": p % 2 == 0,
                    "permit_number": "",
                    "material": "",
                    "position": p,
                    "hidden_reason": "",
                    "created_at": now,
                    "updated_at": now,
                    "version": 1,
                }

    counts = {"markets": markets, "vendors": 0, "products": 0}
    for batch in _chunks(vendor_rows()):
        db.session.execute(insert(Vendor), batch)
        db.session.execute(
            insert(vendor_category),
            [{"vendor_id": r["id"], "category_id": rng.choice(category_ids)} for r in batch],
        )
        db.session.execute(
            insert(Photo),
            [
                {
                    "vendor_id": r["id"],
                    "product_id": None,
                    "alt_text": r["business_name"],
                    "position": 0,
                    "created_at": now,
                    "updated_at": now,
                    **rng.choice(templates),
                }
                for r in batch
            ],
        )
        # Bulk inserts bypass the session hook that keeps the search index current.
        search.reindex(db.session.connection(), [r["id"] for r in batch], [])
        counts["vendors"] += len(batch)
    db.session.commit()
    for batch in _chunks(product_rows()):
        db.session.execute(insert(Product), batch)
        db.session.execute(
            insert(product_category),
            [{"product_id": r["id"], "category_id": rng.choice(category_ids)} for r in batch],
        )
        db.session.execute(
            insert(Photo),
            [
                {
                    "vendor_id": r["vendor_id"],
                    "product_id": r["id"],
                    "alt_text": r["name"],
                    "position": 0,
                    "created_at": now,
                    "updated_at": now,
                    **rng.choice(templates),
                }
                for r in batch
            ],
        )
        search.reindex(db.session.connection(), [], [r["id"] for r in batch])
        db.session.commit()
        counts["products"] += len(batch)
        if counts["products"] % (CHUNK * 20) == 0:
            report(f"{counts['products']:,} products")
    if db.session.get_bind().dialect.name == "postgresql":
        # The planner's statistics still describe the tables before the load (autovacuum
        # catches up minutes later): a photo lookup by a few products then reads thousands.
        db.session.execute(text("ANALYZE"))
        db.session.commit()
    return counts
