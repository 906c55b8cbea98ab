"""Photos of stalls and products: upload, order, describe, delete and restore.

Each file goes through the pipeline in imaging.py; the variants are stored once per content
hash. Every change is audited in the same commit as the change itself.
"""

import hashlib
import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from market import text
from market.extensions import db
from market.models import Photo, Product, User, Vendor, utcnow
from market.services.audit import record
from market.services.errors import Busy, Invalid
from market.services.fields import too_long
from market.services.imaging import (
    DecodeBusy,
    PhotoRejected,
    ProcessedPhoto,
    decode_cost,
    master_key,
    process_photo,
    variant_key,
)
from market.services.ordering import move, next_position
from market.services.soft_delete import check_live_product, check_live_vendor

MAX_ALT_TEXT = 200
# A stall page with more photos than this is slow on a phone and no clearer.
MAX_PHOTOS = 12
MAX_FILENAME_SHOWN = 60

log = logging.getLogger(__name__)


def process_upload(data: bytes) -> ProcessedPhoto:
    """Run the photo pipeline with the limits of this installation."""
    return process_photo(
        data,
        max_bytes=current_app.config["MARKET_PHOTO_MAX_BYTES"],
        max_pixels=current_app.config["MARKET_PHOTO_MAX_PIXELS"],
        max_memory=current_app.extensions["market_decode_budget"].limit,
    )


@contextmanager
def _room_to_decode(uploads: list["Upload"]) -> Iterator[None]:
    """Reserve the worker's memory for decoding ``uploads`` one after the other; Busy when
    none comes free within a moment. Nothing has been saved when Busy is raised."""
    budget = current_app.extensions["market_decode_budget"]
    # A file costing more than the whole budget is refused unread by the pipeline.
    costs = [cost for upload in uploads if (cost := decode_cost(upload.data)) <= budget.limit]
    wait = current_app.config["MARKET_PHOTO_BUSY_SECONDS"]
    try:
        with budget.reserve(max(costs, default=0), wait=wait):
            yield
    except DecodeBusy:
        log.warning("photo upload answered busy: no decoding room within %s s", wait)
        raise Busy(
            str(_l("Many photos are being processed right now. Try again in a moment.")),
            retry_after=max(1, wait),
        ) from None


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
    """Save the variants and the master (once per content hash) and add the Photo row to the
    session.

    Raises PhotoNotStored, after rolling the session back, when the storage fails; variants
    saved before the failure are left to housekeeping.collect_garbage."""
    storage = current_app.extensions["market_storage"]
    try:
        for width, data in processed.variants.items():
            storage.save(variant_key(processed.content_hash, width), data, "image/webp")
        master = master_key(processed.content_hash, processed.master_width)
        storage.save(master, processed.master, "image/jpeg")
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
        master_width=processed.master_width,
        alt_text=alt_text[:MAX_ALT_TEXT],
        position=position,
    )
    db.session.add(photo)
    return photo


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
    # Echoed in the refusal: no control, direction or invisible character of the sender's.
    name = text.displayable(filename.replace("\\", "/").rsplit("/", 1)[-1]) or str(_l("(no name)"))
    return name if len(name) <= MAX_FILENAME_SHOWN else name[: MAX_FILENAME_SHOWN - 1] + "…"


def process_uploads(
    uploads: Iterable[Upload], *, taken: set[str], room: int
) -> tuple[list[ProcessedPhoto], list[Refusal]]:
    """Run each file through the pipeline; nothing is stored yet. Raises Busy when the
    worker has no memory free to decode them in.

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
    with _room_to_decode(uploads):
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
        check_live_product(owner)
    else:
        check_live_vendor(owner)


def _default_alt(owner: Vendor | Product) -> str:
    return owner.name if isinstance(owner, Product) else owner.business_name


def store_accepted(
    owner: Vendor | Product, accepted: list[ProcessedPhoto], *, actor: User
) -> list[Photo]:
    if not accepted:
        return []
    vendor_id, product_id = _owner_ids(owner)
    position = next_position(Photo.position, *_photo_siblings(vendor_id, product_id))
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
    accepted, refused = process_uploads(
        uploads, taken=set(live), room=max(0, MAX_PHOTOS - len(live))
    )
    photos = store_accepted(owner, accepted, actor=actor)
    db.session.commit()
    return photos, refused


def _photo_owner(photo: Photo) -> Vendor | Product:
    if photo.product_id is not None:
        return photo.product
    vendor = photo.vendor
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
    moved = move(siblings, photo, direction)
    if photo not in moved:
        return False
    record(actor, "photo.move", owner, {"photo": photo.id, "position": list(moved[photo])})
    db.session.commit()
    return True


def set_alt_text(photo: Photo, typed: str, *, actor: User) -> bool:
    """What a screen reader says for the photo; empty means the product or stall name."""
    owner = _check_photo_editable(photo)
    alt_text = text.one_line(typed) or _default_alt(owner)
    if len(alt_text) > MAX_ALT_TEXT:
        raise Invalid(too_long(MAX_ALT_TEXT, len(alt_text)))
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
    photo.position = next_position(Photo.position, *siblings)
    photo.deleted_at = None
    record(actor, "photo.restore", owner, {"photo": photo.id})
    db.session.commit()
