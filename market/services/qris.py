"""The vendor's QRIS payment code: the photo of the sticker, its merchant name, and the staff
check that both match the sticker at the stall before shoppers see it."""

from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from market import text
from market.extensions import db
from market.models import QrisCode, User, Vendor, utcnow
from market.permissions import can_publish_vendor
from market.services.audit import record
from market.services.errors import Conflict, Forbidden, Invalid
from market.services.fields import too_long
from market.services.photos import Upload, process_uploads, store_photo
from market.services.soft_delete import check_live_vendor

MAX_MERCHANT_NAME = 120


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
    check_live_vendor(vendor)
    name = text.name(merchant_name)
    if not name:
        raise Invalid(_l("Type the merchant name exactly as printed on the sticker."))
    if len(name) > MAX_MERCHANT_NAME:
        raise Invalid(too_long(MAX_MERCHANT_NAME, len(name)))
    qris = get_qris(vendor)
    if upload is None and qris is None:
        raise Invalid(_l("Choose a photo of the QRIS sticker."))
    photo = None
    if upload is not None:
        accepted, refused = process_uploads([upload], taken=set(), room=1)
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
    check_live_vendor(vendor)
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
    check_live_vendor(vendor)
    qris = get_qris(vendor)
    if qris is None or qris.verified_at is None:
        return
    record(actor, "qris.unverify", vendor, {"verified_at": [qris.verified_at, None]}, reason)
    qris.verified_at = None
    qris.verified_by_id = None
    db.session.commit()
