"""A vendor's personal data on request (Indonesia's UU 27/2022): export it all, or erase it.

Erasure is the one deliberate hard delete in Pasar: an admin carries it out when a vendor asks,
and it leaves no trace of them in the database or the photo storage. The audit trail keeps only
that an erasure of record N happened, and who did it.
"""

from flask import current_app
from sqlalchemy import delete, or_, select, update

from market.extensions import db
from market.models import (
    AuditEvent,
    ContactClick,
    Invitation,
    ListSend,
    PageView,
    Photo,
    Product,
    QrisCode,
    User,
    Vendor,
    VlogLink,
)
from market.models.product import product_category
from market.models.vendor import vendor_category
from market.services.audit import record, security_event


def _photo_data(photo: Photo) -> dict:
    return {
        "id": photo.id,
        "files": [photo.key(width) for width in photo.variants],
        "alt_text": photo.alt_text,
        "deleted": photo.deleted_at is not None,
    }


def export_vendor(vendor: Vendor) -> dict:
    """Everything Pasar holds about a vendor, deleted items included, as JSON-ready data."""
    products = db.session.scalars(select(Product).where(Product.vendor_id == vendor.id)).all()
    photos = db.session.scalars(select(Photo).where(Photo.vendor_id == vendor.id)).all()
    vlogs = db.session.scalars(select(VlogLink).where(VlogLink.vendor_id == vendor.id)).all()
    clicks = db.session.scalars(select(ContactClick).where(ContactClick.vendor_id == vendor.id))
    owner = vendor.owner
    return {
        "vendor": {
            "id": vendor.id,
            "market": vendor.market.name,
            "business_name": vendor.business_name,
            "owner_name": vendor.owner_name,
            "stall": vendor.stall_label,
            "whatsapp": vendor.whatsapp,
            "description": vendor.description,
            "opening_hours": vendor.opening_hours,
            "status": str(vendor.status),
            "categories": [c.slug for c in vendor.categories],
            "created_at": vendor.created_at.isoformat(),
            "deleted_at": vendor.deleted_at.isoformat() if vendor.deleted_at else None,
        },
        "consent": {
            "given_at": vendor.consent_at.isoformat() if vendor.consent_at else None,
            "text_version": vendor.consent_version,
            "recorded_by": vendor.consent_by.name if vendor.consent_by else None,
        },
        "account": {"name": owner.name, "phone": owner.phone, "email": owner.email}
        if owner
        else None,
        "products": [
            {
                "id": p.id,
                "name": p.name,
                "description": p.description,
                "price_idr": p.price_idr,
                "price_kind": str(p.price_kind),
                "price_note": p.price_note,
                "availability": str(p.availability),
                "deleted": p.deleted_at is not None,
            }
            for p in products
        ],
        "photos": [_photo_data(photo) for photo in photos],
        "vlogs": [{"url": v.url, "platform": str(v.platform)} for v in vlogs],
        "qris": {"merchant_name": vendor.qris.merchant_name} if vendor.qris else None,
        "whatsapp_taps": [
            {"day": c.day.isoformat(), "product_id": c.product_id, "count": c.count} for c in clicks
        ],
    }


def erase_vendor(vendor: Vendor, *, actor: User) -> None:
    """Delete a vendor and everything about them, photo files included."""
    vendor_id = vendor.id
    product_ids = select(Product.id).where(Product.vendor_id == vendor_id)
    photos = db.session.scalars(select(Photo).where(Photo.vendor_id == vendor_id)).all()
    if vendor.qris is not None:
        photos.append(vendor.qris.photo)
    files = {photo.key(width) for photo in photos for width in photo.variants}
    owner = vendor.owner if vendor.owner and len(vendor.owner.vendors) == 1 else None
    # Audit events about the vendor's records carry their names and numbers in `changes`.
    owned = {
        "vendor": select(Vendor.id).where(Vendor.id == vendor_id),
        "product": product_ids,
        "photo": select(Photo.id).where(Photo.vendor_id == vendor_id),
        "vloglink": select(VlogLink.id).where(VlogLink.vendor_id == vendor_id),
        "qriscode": select(QrisCode.id).where(QrisCode.vendor_id == vendor_id),
        "invitation": select(Invitation.id).where(Invitation.vendor_id == vendor_id),
    }
    db.session.execute(
        delete(AuditEvent).where(
            or_(
                *(
                    (AuditEvent.record_type == kind) & AuditEvent.record_id.in_(ids)
                    for kind, ids in owned.items()
                )
            )
        )
    )
    for counts in (ContactClick, ListSend, PageView):
        db.session.execute(delete(counts).where(counts.vendor_id == vendor_id))
    db.session.execute(delete(Invitation).where(Invitation.vendor_id == vendor_id))
    db.session.execute(delete(QrisCode).where(QrisCode.vendor_id == vendor_id))
    db.session.execute(delete(VlogLink).where(VlogLink.vendor_id == vendor_id))
    db.session.execute(
        delete(product_category).where(product_category.c.product_id.in_(product_ids))
    )
    db.session.execute(delete(vendor_category).where(vendor_category.c.vendor_id == vendor_id))
    for photo in photos:
        db.session.delete(photo)
    for product in db.session.scalars(select(Product).where(Product.vendor_id == vendor_id)):
        db.session.delete(product)
    db.session.flush()
    db.session.delete(vendor)
    if owner is not None:
        db.session.execute(
            update(AuditEvent).where(AuditEvent.actor_id == owner.id).values(actor_id=None)
        )
        db.session.delete(owner)
    db.session.flush()
    record(actor, "vendor.erase", vendor)
    # Files shared with another vendor's identical photo stay for them.
    still_used = {
        photo.key(width)
        for photo in db.session.scalars(
            select(Photo).where(Photo.content_hash.in_({p.content_hash for p in photos}))
        )
        for width in photo.variants
    }
    db.session.commit()
    storage = current_app.extensions["market_storage"]
    for key in files - still_used:
        storage.delete(key)
    security_event("vendor_erased", actor, vendor=vendor_id)
