"""What the public may see, and the read queries of the public pages.

A vendor is public when published, with consent, and not deleted; a product when its vendor is
public and it is neither deleted nor hidden. Every public page, the sitemap and the API ask here.
"""

from sqlalchemy import Select, and_, func, select
from sqlalchemy.orm import selectinload

from market.extensions import db
from market.models import Category, Market, Product, Vendor, VendorStatus
from market.models.vendor import vendor_category


def public_vendor_filter():
    return and_(
        Vendor.status == VendorStatus.PUBLISHED,
        Vendor.consent_at.is_not(None),
        Vendor.deleted_at.is_(None),
    )


def public_product_filter():
    return and_(Product.deleted_at.is_(None), Product.hidden_at.is_(None))


def stall_order():
    """Walking order: block, then stall number as a number (2 before 10), then name."""
    return (
        Vendor.stall_block,
        func.length(Vendor.stall_number),
        Vendor.stall_number,
        Vendor.business_name,
    )


def published_markets() -> list[tuple[Market, int, int]]:
    """Published markets with their count of public vendors and products."""
    vendor_counts = (
        select(Vendor.market_id, func.count(Vendor.id).label("n"))
        .where(public_vendor_filter())
        .group_by(Vendor.market_id)
        .subquery()
    )
    product_counts = (
        select(Vendor.market_id, func.count(Product.id).label("n"))
        .join(Product, Product.vendor_id == Vendor.id)
        .where(public_vendor_filter(), public_product_filter())
        .group_by(Vendor.market_id)
        .subquery()
    )
    rows = db.session.execute(
        select(
            Market,
            func.coalesce(vendor_counts.c.n, 0),
            func.coalesce(product_counts.c.n, 0),
        )
        .outerjoin(vendor_counts, vendor_counts.c.market_id == Market.id)
        .outerjoin(product_counts, product_counts.c.market_id == Market.id)
        .options(selectinload(Market.cover_photo))
        .where(Market.published.is_(True))
        .order_by(Market.name)
    )
    return [tuple(row) for row in rows]


def get_public_market(slug: str) -> Market | None:
    return db.session.scalar(select(Market).where(Market.slug == slug, Market.published.is_(True)))


def get_public_vendor(market: Market, slug: str) -> Vendor | None:
    return db.session.scalar(
        select(Vendor)
        .where(Vendor.market_id == market.id, Vendor.slug == slug, public_vendor_filter())
        .options(selectinload(Vendor.categories), selectinload(Vendor.photos))
    )


def public_vendors_query(market: Market, category: Category | None = None) -> Select:
    query = (
        select(Vendor)
        .where(Vendor.market_id == market.id, public_vendor_filter())
        .options(selectinload(Vendor.categories), selectinload(Vendor.photos))
        .order_by(*stall_order())
    )
    if category is not None:
        query = query.where(
            Vendor.id.in_(
                select(vendor_category.c.vendor_id).where(
                    vendor_category.c.category_id == category.id
                )
            )
        )
    return query


def categories_in_market(market: Market) -> list[Category]:
    """Categories that at least one public vendor of the market has, for the filter chips."""
    return list(
        db.session.scalars(
            select(Category)
            .where(
                Category.id.in_(
                    select(vendor_category.c.category_id)
                    .join(Vendor, Vendor.id == vendor_category.c.vendor_id)
                    .where(Vendor.market_id == market.id, public_vendor_filter())
                )
            )
            .order_by(Category.position)
        )
    )


def get_category(slug: str) -> Category | None:
    return db.session.scalar(select(Category).where(Category.slug == slug))
