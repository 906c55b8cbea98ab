"""The catalogue: categories, slugs, and storing processed photos of stalls and products.

The shared category list itself is reference data created by the first migration."""

import re
import unicodedata

from flask import current_app
from sqlalchemy import select

from market.extensions import db
from market.models import Category, Photo
from market.services.photos import ProcessedPhoto, process_photo, variant_key


def all_categories() -> list[Category]:
    return list(db.session.scalars(select(Category).order_by(Category.position)))


def slugify(text: str, max_length: int = 60) -> str:
    """ASCII, lowercase, hyphenated: 'Amplang Ikan Pipih Bu Sri!' → 'amplang-ikan-pipih-bu-sri'."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:max_length].rstrip("-") or "item"


def unique_slug(text: str, taken: set[str]) -> str:
    base = slugify(text)
    slug, n = base, 2
    while slug in taken:
        slug = f"{base}-{n}"
        n += 1
    return slug


def process_upload(data: bytes) -> ProcessedPhoto:
    """Run the photo pipeline with the limits of this installation."""
    return process_photo(
        data,
        max_bytes=current_app.config["MARKET_PHOTO_MAX_BYTES"],
        max_pixels=current_app.config["MARKET_PHOTO_MAX_PIXELS"],
    )


def store_photo(
    processed: ProcessedPhoto,
    *,
    vendor_id: int | None = None,
    product_id: int | None = None,
    alt_text: str = "",
    position: int = 0,
) -> Photo:
    """Save the variants (once per content hash) and add the Photo row to the session."""
    storage = current_app.extensions["market_storage"]
    for width, data in processed.variants.items():
        storage.save(variant_key(processed.content_hash, width), data, "image/webp")
    photo = Photo(
        vendor_id=vendor_id,
        product_id=product_id,
        content_hash=processed.content_hash,
        original_bytes=processed.original_bytes,
        width=processed.width,
        height=processed.height,
        variants=sorted(processed.variants),
        alt_text=alt_text[:200],
        position=position,
    )
    db.session.add(photo)
    return photo
