"""Shoppers reaching vendors: daily WhatsApp taps and shopping-list sends per vendor and
product, nothing personal."""

from datetime import date, timedelta

from sqlalchemy import func, select, update

from market.extensions import db
from market.models import ContactClick, ListSend, Product, Vendor
from market.models.base import utcnow


def today() -> date:
    return utcnow().date()


def bump(counts, vendor_id: int, product_id: int | None, day: date, amount: int = 1) -> None:
    """Add to the day's row of a daily count (a row per vendor, product and day)."""
    matches = (
        counts.vendor_id == vendor_id,
        counts.day == day,
        counts.product_id.is_(None) if product_id is None else counts.product_id == product_id,
    )
    result = db.session.execute(update(counts).where(*matches).values(count=counts.count + amount))
    if result.rowcount == 0:
        db.session.add(counts(vendor_id=vendor_id, product_id=product_id, day=day, count=amount))


def record_click(vendor: Vendor, product: Product | None = None) -> None:
    """Add one tap to today's count."""
    bump(ContactClick, vendor.id, product.id if product is not None else None, today())
    db.session.commit()


def record_list_send(vendor: Vendor, products: list[Product]) -> None:
    """A shopping list sent to a stall: a WhatsApp contact about each product in it, and one
    list send each, counted apart so that the stall sees which goods people order together."""
    day = today()
    for product in products:
        bump(ContactClick, vendor.id, product.id, day)
        bump(ListSend, vendor.id, product.id, day)
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
