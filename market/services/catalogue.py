"""The catalogue: products, photos of products and stalls, vlog links, and the QRIS code.

Also categories and slugs; the shared category list itself is reference data created by the
first migration. Every change is audited in the same commit as the change itself.
"""

import hashlib
import logging
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.exc import StaleDataError

from market.extensions import db
from market.models import (
    Availability,
    Category,
    Photo,
    PriceKind,
    Product,
    QrisCode,
    User,
    Vendor,
    VlogLink,
    VlogPlatform,
    utcnow,
)
from market.permissions import can_publish_vendor
from market.services.audit import changes_of, record
from market.services.errors import Conflict, Forbidden, Invalid
from market.services.imaging import PhotoRejected, ProcessedPhoto, process_photo, variant_key
from market.services.prices import PriceRejected, parse_price
from market.services.vlogs import VlogRejected, parse_vlog_url

MAX_NAME = 120
MAX_DESCRIPTION = 2000
MAX_PRICE_NOTE = 60
MAX_PERMIT = 40
MAX_MATERIAL = 120
MAX_ALT_TEXT = 200
MAX_VLOG_TITLE = 120
# A stall page with more photos than this is slow on a phone and no clearer.
MAX_PHOTOS = 12
MAX_VLOGS = 20
MAX_FILENAME_SHOWN = 60

log = logging.getLogger(__name__)


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


class PhotoNotStored(Invalid):
    """The photo storage could not take the files (a full disk, a bucket out of reach)."""


def store_photo(
    processed: ProcessedPhoto,
    *,
    vendor_id: int | None = None,
    product_id: int | None = None,
    alt_text: str = "",
    position: int = 0,
) -> Photo:
    """Save the variants (once per content hash) and add the Photo row to the session.

    Raises PhotoNotStored, after rolling the session back, when the storage fails; variants
    saved before the failure are left to housekeeping.collect_garbage."""
    storage = current_app.extensions["market_storage"]
    try:
        for width, data in processed.variants.items():
            storage.save(variant_key(processed.content_hash, width), data, "image/webp")
    except OSError as exc:
        log.error("photo storage failed: %s", exc)
        db.session.rollback()
        raise PhotoNotStored(
            _l("The server could not store the photo right now, so nothing was saved. Try later.")
        ) from exc
    photo = Photo(
        vendor_id=vendor_id,
        product_id=product_id,
        content_hash=processed.content_hash,
        original_bytes=processed.original_bytes,
        width=processed.width,
        height=processed.height,
        variants=sorted(processed.variants),
        alt_text=alt_text[:MAX_ALT_TEXT],
        position=position,
    )
    db.session.add(photo)
    return photo


def _one_line(value: Any) -> str:
    return re.sub(r"\s+", " ", str(value or "")).strip()


def _too_long(limit: int, length: int) -> str:
    return str(
        _l("Use at most %(limit)d characters (this has %(length)d).", limit=limit, length=length)
    )


def _check_live_vendor(vendor: Vendor) -> None:
    if vendor.deleted_at is not None:
        raise Invalid(_l("This vendor is deleted. A coordinator can restore it first."))


def _check_live_product(product: Product) -> None:
    _check_live_vendor(product.vendor)
    if product.deleted_at is not None:
        raise Invalid(_l("This product is deleted. Restore it first."))


# --- products -------------------------------------------------------------------------------


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
    name = _one_line(raw.get("name"))
    description = str(raw.get("description") or "").replace("\r\n", "\n").strip()
    texts = {
        "price_note": _one_line(raw.get("price_note")),
        "permit_number": _one_line(raw.get("permit_number")),
        "material": _one_line(raw.get("material")),
    }
    limits = {
        "name": (name, MAX_NAME),
        "description": (description, MAX_DESCRIPTION),
        "price_note": (texts["price_note"], MAX_PRICE_NOTE),
        "permit_number": (texts["permit_number"], MAX_PERMIT),
        "material": (texts["material"], MAX_MATERIAL),
    }
    for key, (value, limit) in limits.items():
        if len(value) > limit:
            errors[key] = _too_long(limit, len(value))
    if not name:
        errors["name"] = str(_l("Give the product a name."))

    price_kind = _enum_value(PriceKind, raw.get("price_kind"), PriceKind.FIXED)
    availability = _enum_value(Availability, raw.get("availability"), Availability.IN_STOCK)
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
        categories=categories,
        **texts,
    )


def _enum_value(enum_class, value: Any, default):
    if value in (None, ""):
        return default
    try:
        return enum_class(value)
    except ValueError:
        return None


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


def _next_position(column, *conditions) -> int:
    highest = db.session.scalar(select(func.max(column)).where(*conditions))
    return 0 if highest is None else highest + 1


def create_product(
    vendor: Vendor,
    fields: ProductFields,
    *,
    actor: User,
    uploads: Iterable["Upload"] = (),
) -> tuple[Product, list["Refusal"]]:
    """Add a product at the end of the list, with any photos chosen in the same form.

    Photos that cannot be used are refused one by one; the product is saved anyway."""
    _check_live_vendor(vendor)
    accepted, refused = _process_uploads(uploads, taken=set(), room=MAX_PHOTOS)
    taken_slugs = set(
        db.session.scalars(select(Product.slug).where(Product.vendor_id == vendor.id))
    )
    product = Product(
        vendor=vendor,
        slug=unique_slug(fields.name, taken_slugs),
        position=_next_position(Product.position, Product.vendor_id == vendor.id),
        categories=fields.categories,
        **fields.values(),
    )
    db.session.add(product)
    created = {k: [None, v] for k, v in fields.values().items() if v}
    if fields.categories:
        created["categories"] = [None, [c.slug for c in fields.categories]]
    record(actor, "product.create", product, created)
    _store_accepted(product, accepted, actor=actor)
    db.session.commit()
    return product, refused


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
    _check_live_product(product)
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
    _check_live_product(product)
    value = _enum_value(Availability, availability, None)
    if value is None:
        raise Invalid(_l("Choose whether the product is available."))
    if value == product.availability:
        return False
    record(actor, "product.availability", product, {"availability": [product.availability, value]})
    product.availability = value
    db.session.commit()
    return True


def _move(items: list, item, direction: str) -> dict[Any, tuple[int, int]]:
    """Swap ``item`` with its neighbour and number the list 0…n-1; return changed positions."""
    if direction not in ("up", "down"):
        raise Invalid(_l("Move up or down."))
    index = items.index(item)
    other = index - 1 if direction == "up" else index + 1
    if 0 <= other < len(items):
        items[index], items[other] = items[other], items[index]
    moved = {}
    for position, each in enumerate(items):
        if each.position != position:
            moved[each] = (each.position, position)
            each.position = position
    return moved


def move_product(product: Product, direction: str, *, actor: User) -> bool:
    """Move a product one place up or down the vendor's list. Returns whether it moved."""
    _check_live_product(product)
    products = list(
        db.session.scalars(
            select(Product)
            .where(Product.vendor_id == product.vendor_id, Product.deleted_at.is_(None))
            .order_by(Product.position, Product.id)
        )
    )
    moved = _move(products, product, direction)
    if product not in moved:
        return False
    record(actor, "product.move", product, {"position": list(moved[product])})
    db.session.commit()
    return True


def delete_product(product: Product, *, actor: User) -> None:
    """Soft delete: the product disappears everywhere but can be restored."""
    _check_live_product(product)
    product.deleted_at = utcnow()
    record(actor, "product.delete", product, {"deleted_at": [None, product.deleted_at]})
    db.session.commit()


def restore_product(product: Product, *, actor: User) -> None:
    """Bring a deleted product back, at the end of the list."""
    _check_live_vendor(product.vendor)
    if product.deleted_at is None:
        return
    changes = {"deleted_at": [product.deleted_at, None]}
    product.deleted_at = None
    product.position = _next_position(
        Product.position, Product.vendor_id == product.vendor_id, Product.deleted_at.is_(None)
    )
    record(actor, "product.restore", product, changes)
    db.session.commit()


# --- photos of stalls and products ------------------------------------------------------


@dataclass(frozen=True)
class Upload:
    """One file as received: its name (only to name it in messages) and its bytes."""

    filename: str
    data: bytes


@dataclass(frozen=True)
class Refusal:
    """A file that did not become a photo, and why."""

    filename: str
    message: str


def _shown_name(filename: str) -> str:
    name = _one_line(filename.replace("\\", "/").rsplit("/", 1)[-1]) or str(_l("(no name)"))
    return name if len(name) <= MAX_FILENAME_SHOWN else name[: MAX_FILENAME_SHOWN - 1] + "…"


def _process_uploads(
    uploads: Iterable[Upload], *, taken: set[str], room: int
) -> tuple[list[ProcessedPhoto], list[Refusal]]:
    """Run each file through the pipeline; nothing is stored yet.

    ``taken`` holds the content hashes the owner already shows: the same photo is not added
    twice. ``room`` is how many more photos the owner may have.
    """
    uploads = list(uploads)
    if uploads:
        # Decoding takes a quarter of a second per phone photo. End the transaction that
        # loading the records opened, so SQLite's write lock is not held while the CPU works.
        db.session.commit()
    accepted: list[ProcessedPhoto] = []
    refused: list[Refusal] = []
    seen = set(taken)
    for upload in uploads:
        name = _shown_name(upload.filename)
        if hashlib.sha256(upload.data).hexdigest() in seen:
            refused.append(Refusal(name, str(_l("This photo is already there."))))
            continue
        if len(accepted) >= room:
            refused.append(Refusal(name, _no_room()))
            continue
        try:
            processed = process_upload(upload.data)
        except PhotoRejected as exc:
            refused.append(Refusal(name, str(exc.message)))
            continue
        seen.add(processed.content_hash)
        accepted.append(processed)
    return accepted, refused


def _of_owner(vendor_id: int, product_id: int | None):
    """Photos of one stall (no product) or of one product, deleted ones included."""
    same_product = Photo.product_id == product_id if product_id else Photo.product_id.is_(None)
    return (Photo.vendor_id == vendor_id, same_product)


def _photo_siblings(vendor_id: int, product_id: int | None):
    return (*_of_owner(vendor_id, product_id), Photo.deleted_at.is_(None))


def _no_room() -> str:
    return str(_l("There are already %(max)d photos.", max=MAX_PHOTOS))


def _owner_ids(owner: Vendor | Product) -> tuple[int, int | None]:
    if isinstance(owner, Product):
        return owner.vendor_id, owner.id
    return owner.id, None


def _check_live_owner(owner: Vendor | Product) -> None:
    if isinstance(owner, Product):
        _check_live_product(owner)
    else:
        _check_live_vendor(owner)


def _default_alt(owner: Vendor | Product) -> str:
    return owner.name if isinstance(owner, Product) else owner.business_name


def _store_accepted(
    owner: Vendor | Product, accepted: list[ProcessedPhoto], *, actor: User
) -> list[Photo]:
    if not accepted:
        return []
    vendor_id, product_id = _owner_ids(owner)
    position = _next_position(Photo.position, *_photo_siblings(vendor_id, product_id))
    photos = []
    for offset, processed in enumerate(accepted):
        photos.append(
            store_photo(
                processed,
                vendor_id=vendor_id,
                product_id=product_id,
                alt_text=_default_alt(owner),
                position=position + offset,
            )
        )
    db.session.flush()
    record(actor, "photo.add", owner, {"photos": [None, [p.id for p in photos]]})
    return photos


def add_photos(
    owner: Vendor | Product, uploads: Iterable[Upload], *, actor: User
) -> tuple[list[Photo], list[Refusal]]:
    """Add photos to a stall (a Vendor) or a product; return those added and those refused.

    Each file is judged alone, so one damaged file does not cost the others. A refused file
    leaves nothing behind; the same photo twice is stored once."""
    _check_live_owner(owner)
    vendor_id, product_id = _owner_ids(owner)
    live = list(
        db.session.scalars(
            select(Photo.content_hash).where(*_photo_siblings(vendor_id, product_id))
        )
    )
    accepted, refused = _process_uploads(
        uploads, taken=set(live), room=max(0, MAX_PHOTOS - len(live))
    )
    photos = _store_accepted(owner, accepted, actor=actor)
    db.session.commit()
    return photos, refused


def photo_vendor(photo: Photo) -> Vendor | None:
    """The vendor a stall or product photo belongs to (market covers and QRIS photos: None)."""
    return db.session.get(Vendor, photo.vendor_id) if photo.vendor_id is not None else None


def _photo_owner(photo: Photo) -> Vendor | Product:
    if photo.product_id is not None:
        return photo.product
    vendor = photo_vendor(photo)
    if vendor is None:
        raise Invalid(_l("This photo does not belong to a stall."))
    return vendor


def _check_photo_editable(photo: Photo) -> Vendor | Product:
    owner = _photo_owner(photo)
    _check_live_owner(owner)
    return owner


def deleted_photos(owner: Vendor | Product) -> list[Photo]:
    """The owner's deleted photos, most recent first, for restoring."""
    return list(
        db.session.scalars(
            select(Photo)
            .where(*_of_owner(*_owner_ids(owner)), Photo.deleted_at.is_not(None))
            .order_by(Photo.deleted_at.desc())
            .limit(MAX_PHOTOS)
        )
    )


def move_photo(photo: Photo, direction: str, *, actor: User) -> bool:
    """Move a photo one place; the first photo is the one lists and previews show."""
    owner = _check_photo_editable(photo)
    if photo.deleted_at is not None:
        raise Invalid(_l("This photo is deleted. Restore it first."))
    siblings = list(
        db.session.scalars(
            select(Photo)
            .where(*_photo_siblings(photo.vendor_id, photo.product_id))
            .order_by(Photo.position, Photo.id)
        )
    )
    moved = _move(siblings, photo, direction)
    if photo not in moved:
        return False
    record(actor, "photo.move", owner, {"photo": photo.id, "position": list(moved[photo])})
    db.session.commit()
    return True


def set_alt_text(photo: Photo, text: str, *, actor: User) -> bool:
    """What a screen reader says for the photo; empty means the product or stall name."""
    owner = _check_photo_editable(photo)
    alt_text = _one_line(text) or _default_alt(owner)
    if len(alt_text) > MAX_ALT_TEXT:
        raise Invalid(_too_long(MAX_ALT_TEXT, len(alt_text)))
    if alt_text == photo.alt_text:
        return False
    record(
        actor, "photo.alt_text", owner, {"photo": photo.id, "alt_text": [photo.alt_text, alt_text]}
    )
    photo.alt_text = alt_text
    db.session.commit()
    return True


def delete_photo(photo: Photo, *, actor: User) -> None:
    """Soft delete; the files stay, since other photos may share them and restore needs them."""
    owner = _check_photo_editable(photo)
    if photo.deleted_at is not None:
        return
    photo.deleted_at = utcnow()
    record(actor, "photo.delete", owner, {"photo": photo.id})
    db.session.commit()


def restore_photo(photo: Photo, *, actor: User) -> None:
    """Bring a deleted photo back at the end, if there is room."""
    owner = _check_photo_editable(photo)
    if photo.deleted_at is None:
        return
    siblings = _photo_siblings(photo.vendor_id, photo.product_id)
    if db.session.scalar(select(func.count(Photo.id)).where(*siblings)) >= MAX_PHOTOS:
        raise Invalid(_no_room())
    photo.position = _next_position(Photo.position, *siblings)
    photo.deleted_at = None
    record(actor, "photo.restore", owner, {"photo": photo.id})
    db.session.commit()


# --- vlog links -----------------------------------------------------------------------------


def list_vlogs(vendor: Vendor) -> list[VlogLink]:
    """Live links of the stall and of its live products: the stall's first, then by product."""
    return list(
        db.session.scalars(
            select(VlogLink)
            .outerjoin(Product, Product.id == VlogLink.product_id)
            .where(
                VlogLink.vendor_id == vendor.id,
                VlogLink.deleted_at.is_(None),
                Product.deleted_at.is_(None),
            )
            .options(selectinload(VlogLink.product))
            .order_by(Product.position.is_not(None), Product.position, VlogLink.position)
        )
    )


def deleted_vlogs(vendor: Vendor) -> list[VlogLink]:
    return list(
        db.session.scalars(
            select(VlogLink)
            .where(VlogLink.vendor_id == vendor.id, VlogLink.deleted_at.is_not(None))
            .options(selectinload(VlogLink.product))
            .order_by(VlogLink.deleted_at.desc())
            .limit(MAX_VLOGS)
        )
    )


def _too_many_links() -> str:
    return str(_l("There are already %(max)d links.", max=MAX_VLOGS))


def _live_vlog_count(vendor_id: int) -> int:
    return db.session.scalar(
        select(func.count(VlogLink.id)).where(
            VlogLink.vendor_id == vendor_id, VlogLink.deleted_at.is_(None)
        )
    )


def add_vlog(
    vendor: Vendor,
    url: str,
    *,
    actor: User,
    product_id: int | None = None,
    title: str = "",
) -> VlogLink:
    """Attach a link to one of the vendor's own videos, to the stall or to one product.

    The link is checked and recognised by parse_vlog_url; a refused link raises Invalid."""
    _check_live_vendor(vendor)
    product = None
    if product_id is not None:
        product = db.session.get(Product, product_id)
        if product is None or product.vendor_id != vendor.id or product.deleted_at is not None:
            raise Invalid(_l("Choose the stall or one of its products."))
    title = _one_line(title)
    if len(title) > MAX_VLOG_TITLE:
        raise Invalid(_too_long(MAX_VLOG_TITLE, len(title)))
    try:
        parsed = parse_vlog_url(url)
    except VlogRejected as exc:
        raise Invalid(exc.message) from None
    same_target = VlogLink.product_id == product_id if product_id else VlogLink.product_id.is_(None)
    duplicate = db.session.scalar(
        select(VlogLink.id).where(
            VlogLink.vendor_id == vendor.id,
            same_target,
            VlogLink.url == parsed.url,
            VlogLink.deleted_at.is_(None),
        )
    )
    if duplicate is not None:
        raise Invalid(_l("This link is already there."))
    if _live_vlog_count(vendor.id) >= MAX_VLOGS:
        raise Invalid(_too_many_links())
    vlog = VlogLink(
        vendor_id=vendor.id,
        product_id=product_id,
        url=parsed.url,
        platform=VlogPlatform(parsed.platform),
        video_id=parsed.video_id,
        title=title,
        position=_next_position(VlogLink.position, VlogLink.vendor_id == vendor.id, same_target),
    )
    db.session.add(vlog)
    db.session.flush()
    record(
        actor,
        "vlog.add",
        product or vendor,
        {"vlog": vlog.id, "url": [None, vlog.url], "platform": [None, vlog.platform]},
    )
    db.session.commit()
    return vlog


def vlog_vendor(vlog: VlogLink) -> Vendor:
    return db.session.get(Vendor, vlog.vendor_id)


def delete_vlog(vlog: VlogLink, *, actor: User) -> None:
    vendor = vlog_vendor(vlog)
    _check_live_vendor(vendor)
    if vlog.deleted_at is not None:
        return
    vlog.deleted_at = utcnow()
    record(actor, "vlog.delete", vlog.product or vendor, {"vlog": vlog.id, "url": vlog.url})
    db.session.commit()


def restore_vlog(vlog: VlogLink, *, actor: User) -> None:
    vendor = vlog_vendor(vlog)
    _check_live_vendor(vendor)
    if vlog.deleted_at is None:
        return
    if _live_vlog_count(vendor.id) >= MAX_VLOGS:
        raise Invalid(_too_many_links())
    vlog.deleted_at = None
    record(actor, "vlog.restore", vlog.product or vendor, {"vlog": vlog.id, "url": vlog.url})
    db.session.commit()


# --- the QRIS payment code --------------------------------------------------------------


def get_qris(vendor: Vendor) -> QrisCode | None:
    return db.session.scalar(
        select(QrisCode)
        .where(QrisCode.vendor_id == vendor.id)
        .options(selectinload(QrisCode.photo), selectinload(QrisCode.verified_by))
    )


def save_qris(
    vendor: Vendor, *, actor: User, merchant_name: str, upload: Upload | None = None
) -> QrisCode:
    """Add or replace the photo of the vendor's QRIS sticker, or correct the merchant name.

    Any change clears the verification: staff must look at the new sticker again."""
    _check_live_vendor(vendor)
    name = _one_line(merchant_name)
    if not name:
        raise Invalid(_l("Type the merchant name exactly as printed on the sticker."))
    if len(name) > MAX_NAME:
        raise Invalid(_too_long(MAX_NAME, len(name)))
    qris = get_qris(vendor)
    if upload is None and qris is None:
        raise Invalid(_l("Choose a photo of the QRIS sticker."))
    photo = None
    if upload is not None:
        accepted, refused = _process_uploads([upload], taken=set(), room=1)
        if refused:
            raise Invalid(refused[0].message)
        qris = get_qris(vendor)  # reloaded: the pipeline ended the transaction
        if qris is None or qris.photo.content_hash != accepted[0].content_hash:
            # Neither a stall nor a product photo: it must not show up among the stall's.
            photo = store_photo(accepted[0], alt_text=name)
            db.session.flush()
    changes: dict[str, Any] = {}
    if qris is None:
        qris = QrisCode(vendor_id=vendor.id, merchant_name=name, photo=photo)
        db.session.add(qris)
        changes = {"merchant_name": [None, name], "photo": [None, photo.id]}
    else:
        if name != qris.merchant_name:
            changes["merchant_name"] = [qris.merchant_name, name]
            qris.merchant_name = name
        if photo is not None:
            changes["photo"] = [qris.photo_id, photo.id]
            qris.photo.deleted_at = utcnow()
            qris.photo = photo
    if not changes:
        return qris
    if qris.verified_at is not None:
        changes["verified_at"] = [qris.verified_at, None]
    qris.verified_at = None
    qris.verified_by_id = None
    record(actor, "qris.save", vendor, changes)
    db.session.commit()
    return qris


def verify_qris(vendor: Vendor, *, actor: User, photo_id: int, merchant_name: str) -> None:
    """Staff confirm that the photo and the name match the sticker at the stall.

    ``photo_id`` and ``merchant_name`` are what the verifier saw: if the code was replaced in
    the meantime, Conflict is raised rather than verifying something nobody looked at."""
    _check_live_vendor(vendor)
    if not can_publish_vendor(actor, vendor):
        raise Forbidden(_l("Only a volunteer or coordinator of the market can verify a QRIS code."))
    qris = get_qris(vendor)
    if qris is None or qris.photo_id != photo_id or qris.merchant_name != merchant_name:
        raise Conflict(
            str(_l("The QRIS code was changed since you opened the page. Check it again."))
        )
    if qris.verified_at is not None:
        return
    qris.verified_at = utcnow()
    qris.verified_by_id = actor.id
    record(actor, "qris.verify", vendor, {"verified_at": [None, qris.verified_at]})
    db.session.commit()


def unverify_qris(vendor: Vendor, *, actor: User, reason: str = "") -> None:
    """Stop showing the QRIS code to shoppers until it is verified again."""
    _check_live_vendor(vendor)
    qris = get_qris(vendor)
    if qris is None or qris.verified_at is None:
        return
    record(actor, "qris.unverify", vendor, {"verified_at": [qris.verified_at, None]}, reason)
    qris.verified_at = None
    qris.verified_by_id = None
    db.session.commit()
