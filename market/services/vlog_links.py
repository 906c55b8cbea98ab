"""Vlog links: the vendor's own videos, attached to the stall or to one product.

What a link may be, and how each platform's addresses are read, is in vlogs.py.
Every change is audited in the same commit as the change itself.
"""

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from market import text
from market.extensions import db
from market.models import Product, User, Vendor, VlogLink, VlogPlatform, utcnow
from market.services.audit import record
from market.services.errors import Invalid
from market.services.fields import too_long
from market.services.ordering import next_position
from market.services.soft_delete import check_live_vendor
from market.services.vlogs import VlogRejected, parse_vlog_url

MAX_VLOG_TITLE = 120
MAX_VLOGS = 20
# Links to other sites were accepted before only the known platforms were; they stay in the
# back office, marked for a volunteer to replace, but shoppers never see them.
SHOWN_TO_SHOPPERS = VlogLink.platform != VlogPlatform.OTHER


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
    check_live_vendor(vendor)
    product = None
    if product_id is not None:
        product = db.session.get(Product, product_id)
        if product is None or product.vendor_id != vendor.id or product.deleted_at is not None:
            raise Invalid(_l("Choose the stall or one of its products."))
    title = text.one_line(title)
    if len(title) > MAX_VLOG_TITLE:
        raise Invalid(too_long(MAX_VLOG_TITLE, len(title)))
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
        position=next_position(VlogLink.position, VlogLink.vendor_id == vendor.id, same_target),
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


def delete_vlog(vlog: VlogLink, *, actor: User) -> None:
    vendor = vlog.vendor
    check_live_vendor(vendor)
    if vlog.deleted_at is not None:
        return
    vlog.deleted_at = utcnow()
    record(actor, "vlog.delete", vlog.product or vendor, {"vlog": vlog.id, "url": vlog.url})
    db.session.commit()


def restore_vlog(vlog: VlogLink, *, actor: User) -> None:
    vendor = vlog.vendor
    check_live_vendor(vendor)
    if vlog.deleted_at is None:
        return
    if _live_vlog_count(vendor.id) >= MAX_VLOGS:
        raise Invalid(_too_many_links())
    vlog.deleted_at = None
    record(actor, "vlog.restore", vlog.product or vendor, {"vlog": vlog.id, "url": vlog.url})
    db.session.commit()
