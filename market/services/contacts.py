"""Shoppers reaching vendors: daily WhatsApp taps per vendor and product, nothing personal."""

from datetime import date, timedelta

from sqlalchemy import func, select, update

from market.extensions import db
from market.models import ContactClick, Product, Vendor
from market.models.base import utcnow


def today() -> date:
    return utcnow().date()


def record_click(vendor: Vendor, product: Product | None = None) -> None:
    """Add one tap to today's count (a row per vendor, product and day)."""
    product_id = product.id if product is not None else None
    day = today()
    matches = (
        ContactClick.vendor_id == vendor.id,
        ContactClick.day == day,
        ContactClick.product_id.is_(None)
        if product_id is None
        else ContactClick.product_id == product_id,
    )
    result = db.session.execute(
        update(ContactClick).where(*matches).values(count=ContactClick.count + 1)
    )
    if result.rowcount == 0:
        db.session.add(ContactClick(vendor_id=vendor.id, product_id=product_id, day=day, count=1))
    db.session.commit()


def clicks_by_vendor(vendor_ids: list[int], days: int = 30) -> dict[int, int]:
    """Taps in the last `days` days, per vendor (product taps included)."""
    if not vendor_ids:
        return {}
    since = today() - timedelta(days=days - 1)
    rows = db.session.execute(
        select(ContactClick.vendor_id, func.sum(ContactClick.count))
        .where(ContactClick.vendor_id.in_(vendor_ids), ContactClick.day >= since)
        .group_by(ContactClick.vendor_id)
    )
    return {vendor_id: int(total) for vendor_id, total in rows}


def clicks_by_product(vendor_id: int, days: int = 30) -> dict[int, int]:
    """Taps in the last `days` days on each product of a vendor."""
    since = today() - timedelta(days=days - 1)
    rows = db.session.execute(
        select(ContactClick.product_id, func.sum(ContactClick.count))
        .where(
            ContactClick.vendor_id == vendor_id,
            ContactClick.product_id.is_not(None),
            ContactClick.day >= since,
        )
        .group_by(ContactClick.product_id)
    )
    return {product_id: int(total) for product_id, total in rows}
