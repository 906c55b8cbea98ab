"""Products: their fields, order, availability, soft delete and restore, without lost updates.

Every change is audited in the same commit as the change itself.
"""

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.exc import StaleDataError

from market import text
from market.extensions import db
from market.models import Availability, Category, PriceKind, Product, User, Vendor, utcnow
from market.services import photos
from market.services.audit import changes_of, record
from market.services.categories import all_categories
from market.services.errors import Conflict, Invalid
from market.services.fields import english_texts, enum_value, read_text, too_long
from market.services.ordering import move, next_position
from market.services.prices import PriceRejected, parse_price
from market.services.slugs import unique_slug
from market.services.soft_delete import check_live_product, check_live_vendor

MAX_NAME = 120
MAX_DESCRIPTION = 2000
MAX_PRICE_NOTE = 60
MAX_PERMIT = 40
MAX_MATERIAL = 120
TEXT_FIELDS = ("price_note", "permit_number", "material")
# The marketplaces' own ceilings are lower; these only keep typing slips out.
MAX_WEIGHT_GRAMS = 1_000_000
MAX_STOCK = 1_000_000
# Whole numbers as people type them: "1500", "1.500" or "1 500"; weights also "250 g", "1,5 kg".
_WHOLE = re.compile(r"^(\d{1,3}(?:[. ]\d{3})+|\d+)$")
_GRAMS = re.compile(r"^(.+?)\s*(?:g|gr|gram)$")
_KILOS = re.compile(r"^(\d+(?:[.,]\d+)?)\s*(?:kg|kilo)$")


class InvalidProduct(Invalid):
    """Some fields are wrong; ``errors`` maps each field name to a message fit to show."""

    def __init__(self, errors: Mapping[str, Any]):
        self.errors = dict(errors)
        super().__init__("; ".join(f"{k}: {v}" for k, v in self.errors.items()))


class StaleProduct(Conflict):
    """Someone saved the product after the form was opened, and the form would overwrite it.

    ``changed`` maps each such field to (the value saved meanwhile, the value in the form).
    """

    def __init__(self, changed: dict[str, tuple[Any, Any]]):
        super().__init__(
            str(_l("Someone else saved this product while you were editing it.")), changed
        )


@dataclass
class ProductFields:
    """A product's checked and normalised fields."""

    name: str
    description: str = ""
    price_idr: int | None = None
    price_kind: PriceKind = PriceKind.FIXED
    price_note: str = ""
    availability: Availability = Availability.IN_STOCK
    halal: bool = False
    permit_number: str = ""
    material: str = ""
    weight_grams: int | None = None
    stock_count: int | None = None
    name_en: str = ""
    description_en: str = ""
    categories: list[Category] = field(default_factory=list)

    def values(self) -> dict[str, Any]:
        """The plain column values, for comparing with a product and for the audit trail."""
        return {
            "name": self.name,
            "description": self.description,
            "price_idr": self.price_idr,
            "price_kind": self.price_kind,
            "price_note": self.price_note,
            "availability": self.availability,
            "halal": self.halal,
            "permit_number": self.permit_number,
            "material": self.material,
            "weight_grams": self.weight_grams,
            "stock_count": self.stock_count,
            "name_en": self.name_en,
            "description_en": self.description_en,
        }

    def snapshot(self) -> dict[str, Any]:
        """The same shape as product_snapshot(), to compare a form with a saved product."""
        return _snapshot(self.values(), self.categories)


def _snapshot(values: Mapping[str, Any], categories: Iterable[Category]) -> dict[str, Any]:
    plain = {
        k: (str(v) if isinstance(v, PriceKind | Availability) else v) for k, v in values.items()
    }
    return plain | {"categories": sorted(c.slug for c in categories)}


def product_snapshot(product: Product) -> dict[str, Any]:
    """The editable fields of a product as plain JSON values.

    An edit form carries the snapshot it was opened with, so that a save based on an old
    version can tell what others changed meanwhile from what the editor changed."""
    return _snapshot(
        {key: getattr(product, key) for key in ProductFields("").values()}, product.categories
    )


def clean_product(raw: Mapping[str, Any]) -> ProductFields:
    """Check and normalise typed product fields; raise InvalidProduct naming every problem.

    ``raw`` holds strings as typed, ``halal`` as a bool and ``categories`` as category ids.
    A price is needed unless it is negotiable; it is read as people type it ("Rp 25.000,-").
    """
    errors: dict[str, str] = {}
    name = read_text(raw, "name", errors, text.name)
    description = read_text(raw, "description", errors, text.multi_line)
    texts = {
        key: read_text(raw, key, errors) for key in ("price_note", "permit_number", "material")
    }
    english = english_texts(raw, errors, MAX_NAME, MAX_DESCRIPTION)
    limits = {
        "name": (name, MAX_NAME),
        "description": (description, MAX_DESCRIPTION),
        "price_note": (texts["price_note"], MAX_PRICE_NOTE),
        "permit_number": (texts["permit_number"], MAX_PERMIT),
        "material": (texts["material"], MAX_MATERIAL),
    }
    for key, (value, limit) in limits.items():
        if len(value) > limit:
            errors[key] = too_long(limit, len(value))
    if not name and "name" not in errors:
        errors["name"] = str(_l("Give the product a name."))

    price_kind = enum_value(PriceKind, raw.get("price_kind"), PriceKind.FIXED)
    availability = enum_value(Availability, raw.get("availability"), Availability.IN_STOCK)
    if price_kind is None:
        errors["price_kind"] = str(_l("Choose how the price works."))
    if availability is None:
        errors["availability"] = str(_l("Choose whether the product is available."))
    price_idr = None
    try:
        price_idr = parse_price(raw.get("price"))
    except PriceRejected as exc:
        errors["price"] = str(exc.message)
    else:
        if price_idr is None and price_kind in (PriceKind.FIXED, PriceKind.FROM):
            errors["price"] = str(_l("Enter the price, or choose “negotiable”."))
        elif price_idr == 0:
            errors["price"] = str(
                _l("A price of Rp0 is not possible; leave it empty if you bargain.")
            )

    weight_grams = _number(raw, "weight_grams", errors, _read_grams, MAX_WEIGHT_GRAMS)
    stock_count = _number(raw, "stock_count", errors, _read_whole, MAX_STOCK)

    category_ids = {str(i) for i in raw.get("categories") or ()}
    categories = [c for c in all_categories() if str(c.id) in category_ids]
    if len(categories) != len(category_ids):
        errors["categories"] = str(_l("Choose categories from the list."))
    if errors:
        raise InvalidProduct(errors)
    return ProductFields(
        name=name,
        description=description,
        price_idr=price_idr,
        price_kind=price_kind,
        availability=availability,
        halal=bool(raw.get("halal")),
        weight_grams=weight_grams,
        stock_count=stock_count,
        categories=categories,
        **texts,
        **english,
    )


def _read_whole(text: str) -> int | None:
    match = _WHOLE.match(text)
    return int(re.sub(r"[. ]", "", match.group(1))) if match else None


def _read_grams(text: str) -> int | None:
    kilos = _KILOS.match(text)
    if kilos:
        grams = Decimal(kilos.group(1).replace(",", ".")) * 1000
        return int(grams) if grams == grams.to_integral_value() else None
    grams = _GRAMS.match(text)
    return _read_whole(grams.group(1) if grams else text)


_NUMBER_MESSAGES = {
    "weight_grams": (
        _l("Enter the weight in grams as a whole number, for example 250 or 1,5 kg."),
        lambda most: _l("That weight is too high: the most is %(max)s grams.", max=most),
    ),
    "stock_count": (
        _l("Enter how many are ready as a whole number, for example 12."),
        lambda most: _l("That stock count is too high: the most is %(max)s.", max=most),
    ),
}


def _number(raw: Mapping[str, Any], key: str, errors: dict[str, str], read, limit: int):
    """An optional whole number typed into ``key``: None when left empty; a message in
    ``errors`` when it cannot be read or is beyond ``limit``."""
    typed = " ".join(unicodedata.normalize("NFKC", str(raw.get(key) or "")).lower().split())
    if not typed:
        return None
    unreadable, too_high = _NUMBER_MESSAGES[key]
    value = read(typed) if typed.isascii() else None
    if value is None:
        errors[key] = str(unreadable)
    elif value > limit:
        errors[key] = str(too_high(f"{limit:,}".replace(",", ".")))
    return value if key not in errors else None


def list_products(vendor: Vendor) -> list[Product]:
    """The vendor's live products in shop order, with what the list page shows."""
    return list(
        db.session.scalars(
            select(Product)
            .where(Product.vendor_id == vendor.id, Product.deleted_at.is_(None))
            .options(selectinload(Product.photos), selectinload(Product.categories))
            .order_by(Product.position, Product.id)
        )
    )


def deleted_products(vendor: Vendor) -> list[Product]:
    """Deleted products, most recent first, so they can be restored."""
    return list(
        db.session.scalars(
            select(Product)
            .where(Product.vendor_id == vendor.id, Product.deleted_at.is_not(None))
            .order_by(Product.deleted_at.desc())
        )
    )


def create_product(
    vendor: Vendor,
    fields: ProductFields,
    *,
    actor: User,
    uploads: Iterable[photos.Upload] = (),
) -> tuple[Product, list[photos.Refusal]]:
    """Add a product at the end of the list, with any photos chosen in the same form.

    Photos that cannot be used are refused one by one; the product is saved anyway."""
    check_live_vendor(vendor)
    accepted, refused = photos.process_uploads(uploads, taken=set(), room=photos.MAX_PHOTOS)
    product = add_product(vendor, fields, actor=actor)
    photos.store_accepted(product, accepted, actor=actor)
    db.session.commit()
    return product, refused


def add_product(
    vendor: Vendor,
    fields: ProductFields,
    *,
    actor: User | None,
    reason: str = "",
) -> Product:
    """Put a new product at the end of the vendor's list and audit it; the caller commits."""
    values = fields.values()
    taken_slugs = set(
        db.session.scalars(select(Product.slug).where(Product.vendor_id == vendor.id))
    )
    product = Product(
        vendor=vendor,
        slug=unique_slug(fields.name, taken_slugs),
        position=next_position(Product.position, Product.vendor_id == vendor.id),
        categories=fields.categories,
        **values,
    )
    db.session.add(product)
    created = {k: [None, v] for k, v in values.items() if v}
    if fields.categories:
        created["categories"] = [None, [c.slug for c in fields.categories]]
    record(actor, "product.create", product, created, reason=reason)
    return product


def update_product(
    product: Product,
    fields: ProductFields,
    *,
    actor: User,
    version: int | None,
    base: Mapping[str, Any] | None,
) -> dict:
    """Save an edited product; return the changes, {} if nothing changed.

    ``version`` and ``base`` are the product's version and snapshot when the form was opened.
    If the product was saved since, the edit goes through only when none of the fields it
    holds was changed meanwhile (a reorder or a new photo does not matter); otherwise
    StaleProduct is raised and nothing is written. Without a usable ``base`` every difference
    between the saved product and the form counts as a conflict.
    """
    check_live_product(product)
    if version != product.version:
        _refuse_overwrites(product, fields, base)
    changes = changes_of(product, fields.values())
    old_categories = sorted(c.slug for c in product.categories)
    new_categories = sorted(c.slug for c in fields.categories)
    if old_categories != new_categories:
        changes["categories"] = [old_categories, new_categories]
        product.categories = fields.categories
        # New categories alone only touch the association table; touching the row too bumps
        # the version, so that other open forms notice this change.
        product.updated_at = utcnow()
    if not changes:
        return {}
    for key, (_old, new) in changes.items():
        if key != "categories":
            setattr(product, key, new)
    try:
        # record() may autoflush the update, which is where a stale version shows.
        record(actor, "product.update", product, changes)
        db.session.commit()
    except StaleDataError:
        # Another request committed between our read and our write.
        db.session.rollback()
        _refuse_overwrites(product, fields, base)
        raise StaleProduct({}) from None
    return changes


def _refuse_overwrites(
    product: Product, fields: ProductFields, base: Mapping[str, Any] | None
) -> None:
    saved = product_snapshot(product)
    yours = fields.snapshot()
    changed_meanwhile = [
        k for k in saved if not isinstance(base, Mapping) or base.get(k) != saved[k]
    ]
    overwritten = {k: (saved[k], yours[k]) for k in changed_meanwhile if saved[k] != yours[k]}
    if overwritten:
        raise StaleProduct(overwritten)


def set_availability(product: Product, availability: str, *, actor: User) -> bool:
    """One tap from the list: in stock, sold out or pre-order. Returns whether it changed."""
    check_live_product(product)
    value = enum_value(Availability, availability, None)
    if value is None:
        raise Invalid(_l("Choose whether the product is available."))
    if value == product.availability:
        return False
    record(actor, "product.availability", product, {"availability": [product.availability, value]})
    product.availability = value
    db.session.commit()
    return True


def move_product(product: Product, direction: str, *, actor: User) -> bool:
    """Move a product one place up or down the vendor's list. Returns whether it moved."""
    check_live_product(product)
    products = list(
        db.session.scalars(
            select(Product)
            .where(Product.vendor_id == product.vendor_id, Product.deleted_at.is_(None))
            .order_by(Product.position, Product.id)
        )
    )
    moved = move(products, product, direction)
    if product not in moved:
        return False
    record(actor, "product.move", product, {"position": list(moved[product])})
    db.session.commit()
    return True


def delete_product(product: Product, *, actor: User) -> None:
    """Soft delete: the product disappears everywhere but can be restored."""
    check_live_product(product)
    product.deleted_at = utcnow()
    record(actor, "product.delete", product, {"deleted_at": [None, product.deleted_at]})
    db.session.commit()


def restore_product(product: Product, *, actor: User) -> None:
    """Bring a deleted product back, at the end of the list."""
    check_live_vendor(product.vendor)
    if product.deleted_at is None:
        return
    changes = {"deleted_at": [product.deleted_at, None]}
    product.deleted_at = None
    product.position = next_position(
        Product.position, Product.vendor_id == product.vendor_id, Product.deleted_at.is_(None)
    )
    record(actor, "product.restore", product, changes)
    db.session.commit()
