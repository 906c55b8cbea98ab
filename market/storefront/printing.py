"""The printable kit: what stall posters, hang tags and the market directory list. The QR
codes on them are drawn by market/qr.py."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.attributes import set_committed_value

from market.extensions import db
from market.models import Market, Product, Vendor
from market.services.public import public_products_query, stall_order


def get_market(slug: str) -> Market | None:
    """Any market, published or not: coordinators print before they open a market."""
    return db.session.scalar(select(Market).where(Market.slug == slug))


def vendors_to_print(market: Market, day: date | None, timezone: str) -> tuple[list[Vendor], int]:
    """The public stalls of a market in walking order, or only those registered on one local
    day; and how many stalls of that selection are not public yet (they get no poster)."""
    query = select(Vendor).where(Vendor.market_id == market.id, Vendor.deleted_at.is_(None))
    if day is not None:
        start = datetime.combine(day, time.min, ZoneInfo(timezone)).astimezone(UTC)
        query = query.where(
            Vendor.created_at >= start, Vendor.created_at < start + timedelta(days=1)
        )
    vendors = db.session.scalars(
        query.where(Vendor.is_public)
        .options(selectinload(Vendor.categories))
        .order_by(*stall_order())
    ).all()
    waiting = db.session.scalar(
        select(func.count()).select_from(query.where(~Vendor.is_public).subquery())
    )
    return list(vendors), waiting


def published_between(
    markets: list[Market], first: date, last: date, timezone: str
) -> list[tuple[Vendor, list[Product]]]:
    """The public stalls of these markets first published between two local days (both
    included), market by market in walking order, each with the public products of its hang
    tags."""
    zone = ZoneInfo(timezone)
    start = datetime.combine(first, time.min, zone).astimezone(UTC)
    end = datetime.combine(last + timedelta(days=1), time.min, zone).astimezone(UTC)
    vendors = db.session.scalars(
        select(Vendor)
        .join(Market)
        .where(
            Vendor.market_id.in_([market.id for market in markets]),
            Vendor.is_public,
            Vendor.published_at >= start,
            Vendor.published_at < end,
        )
        .options(selectinload(Vendor.market))
        .order_by(Market.name, *stall_order())
    ).all()
    return [(vendor, tag_products(vendor)) for vendor in vendors]


def directory(market: Market) -> list[tuple[str, list[Vendor]]]:
    """All public stalls of a market in walking order, grouped by block."""
    vendors = db.session.scalars(
        select(Vendor)
        .where(Vendor.market_id == market.id, Vendor.is_public)
        .options(selectinload(Vendor.categories))
        .order_by(*stall_order())
    )
    blocks: dict[str, list[Vendor]] = {}
    for vendor in vendors:
        blocks.setdefault(vendor.stall_block, []).append(vendor)
    return list(blocks.items())


def tag_products(vendor: Vendor) -> list[Product]:
    """The public products of a stall, for its sheet of hang tags."""
    products = db.session.scalars(public_products_query(vendor)).all()
    for product in products:
        set_committed_value(product, "vendor", vendor)
    return list(products)
