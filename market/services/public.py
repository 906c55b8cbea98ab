"""What the public may see, and the read queries of the public pages.

A vendor is public when published, with consent, and not deleted (Vendor.is_public); a product
when its vendor is public and it is neither deleted nor hidden (Product.is_listed); and only in a
published market. Every public page, the sitemap and the API ask here.

Each page's data comes in a bounded number of queries, whatever the size of the catalogue; the
lookups that start a page also return a *version* (the latest updated_at of everything the page
shows), which the views turn into an ETag so an unchanged page costs one query and a 304.
"""

import math
from collections import defaultdict
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import Select, and_, exists, func, inspect, or_, select
from sqlalchemy.orm import Session, contains_eager, joinedload, selectinload, with_parent
from sqlalchemy.orm.attributes import set_committed_value

from market.extensions import db
from market.models import (
    Availability,
    Category,
    Market,
    Photo,
    Product,
    QrisCode,
    Vendor,
    VlogLink,
    utcnow,
)
from market.models.product import product_category
from market.models.vendor import vendor_category
from market.services.errors import NotFound
from market.services.prices import price_label
from market.services.vlog_links import SHOWN_TO_SHOPPERS
from market.services.whatsapp import chat_link

SELECTION_SIZE = 8
# Between the block names of one row; a unit separator no one types into a block name.
BLOCK_SEPARATOR = "\x1f"
MAX_PER_PAGE = 100


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
        .where(Vendor.is_public)
        .group_by(Vendor.market_id)
        .subquery()
    )
    product_counts = (
        select(Vendor.market_id, func.count(Product.id).label("n"))
        .join(Product, Product.vendor_id == Vendor.id)
        .where(Vendor.is_public, Product.is_listed)
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


def top_categories(per_market: int = 3) -> dict[int, list[Category]]:
    """What each published market is known for: its categories with the most public stalls,
    at most ``per_market`` each, in one query."""
    rows = db.session.execute(
        select(Vendor.market_id, Category, func.count(Vendor.id).label("stalls"))
        .join(vendor_category, vendor_category.c.vendor_id == Vendor.id)
        .join(Category, Category.id == vendor_category.c.category_id)
        .join(Market, Market.id == Vendor.market_id)
        .where(Vendor.is_public, Market.published.is_(True))
        .group_by(Vendor.market_id, Category.id)
        .order_by(Vendor.market_id, func.count(Vendor.id).desc(), Category.position)
    )
    known: dict[int, list[Category]] = {}
    for market_id, category, _stalls in rows:
        if len(known.setdefault(market_id, [])) < per_market:
            known[market_id].append(category)
    return known


def public_vendors_query(market: Market, category: Category | None = None) -> Select:
    query = (
        select(Vendor)
        .where(Vendor.market_id == market.id, Vendor.is_public)
        .options(selectinload(Vendor.categories))
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


# --- paging ------------------------------------------------------------------------------


@dataclass
class Page:
    """One page of a listing; the attributes are those macros/pagination.html reads."""

    items: list
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def prev_num(self) -> int:
        return self.page - 1

    @property
    def next_num(self) -> int:
        return self.page + 1


def paginate(query: Select, page: int, per_page: int) -> Page:
    """A page of an ORM query and the total count in one statement (a window count).

    Raises NotFound for a page past the end, except the first (an empty listing)."""
    page = max(1, page)
    per_page = max(1, min(per_page, MAX_PER_PAGE))
    rows = db.session.execute(
        query.add_columns(func.count().over().label("total"))
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    if not rows and page > 1:
        raise NotFound(page)
    return Page([row[0] for row in rows], page, per_page, rows[0].total if rows else 0)


def find_market(slug: str) -> Market | None:
    """A published market, with its cover photo."""
    return db.session.scalar(
        select(Market)
        .where(Market.slug == slug, Market.published.is_(True))
        .options(joinedload(Market.cover_photo))
    )


def _public_vendor_query(market_slug: str, vendor_slug: str) -> Select:
    return (
        select(Vendor)
        .join(Vendor.market)
        .where(
            Market.slug == market_slug,
            Market.published.is_(True),
            Vendor.slug == vendor_slug,
            Vendor.is_public,
        )
        .options(contains_eager(Vendor.market))
    )


def find_vendor(market_slug: str, vendor_slug: str) -> Vendor | None:
    """A public vendor, with its market and QRIS code."""
    return db.session.scalar(
        _public_vendor_query(market_slug, vendor_slug).options(
            joinedload(Vendor.qris).joinedload(QrisCode.photo)
        )
    )


def find_product(market_slug: str, vendor_slug: str, product_slug: str) -> Product | None:
    """A public product, with its vendor and market."""
    return db.session.scalar(
        select(Product)
        .join(Product.vendor)
        .join(Vendor.market)
        .where(
            Market.slug == market_slug,
            Market.published.is_(True),
            Vendor.slug == vendor_slug,
            Vendor.is_public,
            Product.slug == product_slug,
            Product.is_listed,
        )
        .options(contains_eager(Product.vendor).contains_eager(Vendor.market))
    )


# --- what the pages show -------------------------------------------------------------------


def attach_photos(vendors: list[Vendor] = (), products: list[Product] = ()) -> None:
    """Load the live photos of these stalls and products in one query, as if by their
    relationships (``vendor.photos``, ``product.photos``)."""
    vendor_ids = {vendor.id for vendor in vendors}
    product_ids = {product.id for product in products}
    if not (vendor_ids or product_ids):
        return
    photos = db.session.scalars(
        select(Photo)
        .where(
            Photo.deleted_at.is_(None),
            or_(
                and_(Photo.vendor_id.in_(vendor_ids), Photo.product_id.is_(None)),
                Photo.product_id.in_(product_ids),
            ),
        )
        .order_by(Photo.position, Photo.id)
    ).all()
    # One pass over the photos, not one per card: a stall page has 48 products.
    of_vendor: dict[int, list[Photo]] = defaultdict(list)
    of_product: dict[int, list[Photo]] = defaultdict(list)
    for photo in photos:
        if photo.product_id:
            of_product[photo.product_id].append(photo)
        else:
            of_vendor[photo.vendor_id].append(photo)
    for vendor in vendors:
        set_committed_value(vendor, "photos", of_vendor.get(vendor.id, []))
    for product in products:
        set_committed_value(product, "photos", of_product.get(product.id, []))


def _categories_query(market: Market | None) -> Select:
    where = [vendor_category.c.category_id == Category.id, Vendor.is_public]
    if market is not None:
        where.append(Vendor.market_id == market.id)
    else:
        where.append(Vendor.market_id.in_(select(Market.id).where(Market.published.is_(True))))
    present = exists(
        select(vendor_category.c.vendor_id)
        .join(Vendor, Vendor.id == vendor_category.c.vendor_id)
        .where(*where)
    )
    return select(Category, present).order_by(Category.position)


def market_categories(market: Market | None) -> list[tuple[Category, bool]]:
    """Every category, each with whether a public vendor of the market (of any published
    market, without one) has it."""
    rows = db.session.execute(_categories_query(market))
    return [(category, bool(here)) for category, here in rows]


def _blocks_column(market: Market):
    """The market's blocks with a public stall, joined by BLOCK_SEPARATOR: a column that rides
    along with the categories' query, so the block filter costs the page no query of its own."""
    blocks = (
        select(Vendor.stall_block)
        .where(Vendor.market_id == market.id, Vendor.is_public, Vendor.stall_block != "")
        .distinct()
        .subquery()
    )
    return select(func.aggregate_strings(blocks.c.stall_block, BLOCK_SEPARATOR)).scalar_subquery()


def market_choices() -> list[Market]:
    """The published markets by name, for a choice of market (no counts, no photos)."""
    return list(
        db.session.scalars(select(Market).where(Market.published.is_(True)).order_by(Market.name))
    )


@dataclass
class MarketPage:
    market: Market
    categories: list[Category]  # those present in the market, for the chips
    category: Category | None
    blocks: list[str]  # those with a public stall, in walking order
    block: str | None
    vendors: Page
    products: list[Product]


def _category_by_slug(categories: list[tuple[Category, bool]], slug: str | None):
    if not slug:
        return None
    category = next((c for c, _here in categories if c.slug == slug), None)
    if category is None:
        raise NotFound(slug)
    return category


def market_page(
    market: Market, category_slug: str | None, page: int, per_page: int, block: str | None = None
) -> MarketPage:
    """A market's storefront: category chips, block links, a page of stalls in walking order
    (of one category, one block, or both), and a product from each of the first stalls.
    Raises NotFound for an unknown category, block or page."""
    rows = db.session.execute(_categories_query(market).add_columns(_blocks_column(market))).all()
    categories = [(category, bool(here)) for category, here, _blocks in rows]
    blocks = sorted(set((rows[0][2] or "").split(BLOCK_SEPARATOR)) - {""})
    category = _category_by_slug(categories, category_slug)
    if block is not None:
        block = next((known for known in blocks if known.casefold() == block.casefold()), None)
        if block is None:
            raise NotFound("block")
    query = public_vendors_query(market, category)
    if block is not None:
        query = query.where(Vendor.stall_block == block)
    vendors = paginate(query, page, per_page)
    products = stall_selection(vendors.items, category)
    attach_photos(vendors.items, products)
    return MarketPage(
        market, [c for c, here in categories if here], category, blocks, block, vendors, products
    )


def market_vendors(market: Market, category_slug: str | None, page: int, per_page: int) -> Page:
    """A page of a market's public stalls in walking order, with categories and photos."""
    category = _category_by_slug(market_categories(market), category_slug)
    vendors = paginate(public_vendors_query(market, category), page, per_page)
    attach_photos(vendors.items)
    return vendors


def market_products(
    market: Market,
    category_slug: str | None,
    vendor_slug: str | None,
    page: int,
    per_page: int,
) -> Page:
    """A page of a market's public products (by stall, then position), with their photos."""
    query = (
        select(Product)
        .join(Product.vendor)
        .where(Vendor.market_id == market.id, Vendor.is_public, Product.is_listed)
        .options(contains_eager(Product.vendor))
        .order_by(*stall_order(), Product.position, Product.id)
    )
    if category_slug:
        category = _category_by_slug(market_categories(market), category_slug)
        query = query.where(
            Product.id.in_(
                select(product_category.c.product_id).where(
                    product_category.c.category_id == category.id
                )
            )
        )
    if vendor_slug:
        query = query.where(Vendor.slug == vendor_slug)
    products = paginate(query, page, per_page)
    for product in products.items:
        set_committed_value(product.vendor, "market", market)
    attach_photos([], products.items)
    return products


def stall_selection(vendors: list[Vendor], category: Category | None = None) -> list[Product]:
    """One product from each of these stalls (the first in stock, else the first), at most
    SELECTION_SIZE: a taste of the market that costs the same whatever its size."""
    if not vendors:
        return []
    by_vendor = {vendor.id: vendor for vendor in vendors}
    # Each stall's pick by a seek in its own goods (LIMIT 1 per stall), not by numbering the
    # goods of every stall on the page and keeping the firsts.
    first = (
        select(Product.id)
        .where(Product.vendor_id == Vendor.id, Product.is_listed)
        .order_by(Product.availability == Availability.SOLD_OUT, Product.position, Product.id)
        .limit(1)
        .correlate(Vendor)
    )
    if category is not None:
        first = first.where(
            Product.id.in_(
                select(product_category.c.product_id).where(
                    product_category.c.category_id == category.id
                )
            )
        )
    picks = select(first.scalar_subquery()).where(Vendor.id.in_(by_vendor))
    products = db.session.scalars(select(Product).where(Product.id.in_(picks))).all()
    for product in products:
        set_committed_value(product, "vendor", by_vendor[product.vendor_id])
    order = list(by_vendor)
    return sorted(products, key=lambda p: order.index(p.vendor_id))[:SELECTION_SIZE]


def public_products_query(vendor: Vendor) -> Select:
    return (
        select(Product)
        .where(Product.vendor_id == vendor.id, Product.is_listed)
        .order_by(Product.position, Product.id)
    )


def _load_related(instance, model, relationship, order, *conditions) -> None:
    # One plain query per relationship, without re-selecting the instance as options would.
    items = db.session.scalars(
        select(model).where(with_parent(instance, relationship), *conditions).order_by(order)
    )
    set_committed_value(instance, relationship.key, list(items))


@dataclass
class VendorPage:
    vendor: Vendor
    products: Page


@dataclass
class WalkStep:
    """Where walking on from a stall leads: the next (or previous) stall in the market
    directory, or None at the end of the row."""

    stall_block: str
    neighbour_slug: str | None


def walk_from(market_slug: str, vendor_slug: str, step: int) -> WalkStep | None:
    """The stall one step (1 forward, -1 back) from a public stall in walking order, in one
    query; None when there is no such public stall. Asked when the shopper taps, not when the
    stall page is drawn: the cached stall page then shows nothing of other stalls, and a stall
    opened or hidden since is never skipped or shown."""
    shift = func.lead if step > 0 else func.lag
    around = (
        select(
            Vendor.slug,
            Vendor.stall_block,
            shift(Vendor.slug).over(order_by=stall_order()).label("neighbour"),
        )
        .join(Vendor.market)
        .where(Market.slug == market_slug, Market.published.is_(True), Vendor.is_public)
        .subquery()
    )
    row = db.session.execute(
        select(around.c.stall_block, around.c.neighbour).where(around.c.slug == vendor_slug)
    ).one_or_none()
    return None if row is None else WalkStep(row.stall_block, row.neighbour)


def vendor_details(vendor: Vendor) -> None:
    """Load a stall's categories and stall photos."""
    _load_related(vendor, Category, Vendor.categories, Category.position)
    attach_photos([vendor])


def vendor_page(vendor: Vendor, page: int, per_page: int) -> VendorPage:
    """A stall: its categories, vlogs, photos and a page of its products."""
    _load_related(vendor, Category, Vendor.categories, Category.position)
    _load_related(vendor, VlogLink, Vendor.vlogs, VlogLink.position, SHOWN_TO_SHOPPERS)
    products = paginate(public_products_query(vendor), page, per_page)
    for product in products.items:
        set_committed_value(product, "vendor", vendor)
    attach_photos([vendor], products.items)
    return VendorPage(vendor, products)


@dataclass
class ProductPage:
    product: Product
    more: list[Product]


def product_page(product: Product, more: int = 4) -> ProductPage:
    """A product with its categories, vlogs and photos, and a few others of the same stall."""
    _load_related(product, Category, Product.categories, Category.position)
    _load_related(product, VlogLink, Product.vlogs, VlogLink.position, SHOWN_TO_SHOPPERS)
    others = []
    if more:
        others = db.session.scalars(
            public_products_query(product.vendor).where(Product.id != product.id).limit(more)
        ).all()
    for other in others:
        set_committed_value(other, "vendor", product.vendor)
    attach_photos([], [product, *others])
    return ProductPage(product, list(others))


# --- words shown for a product, and the WhatsApp message -----------------------------------


def whatsapp_url(vendor: Vendor, product: Product | None = None, page_url: str = "") -> str:
    """The link that opens a WhatsApp chat with the vendor, greeting them in the shopper's
    language by name and market, and naming the product, its price and its page."""
    if not vendor.whatsapp:
        raise NotFound(vendor.id)
    names = {"vendor": vendor.business_name, "market": vendor.market.name}
    if product is None:
        message = _(
            "Hello %(vendor)s, I found your stall at %(market)s on Pasar. "
            "I would like to ask about your goods.",
            **names,
        )
    elif product.price_idr is None:
        message = _(
            "Hello %(vendor)s, I saw %(product)s at %(market)s on Pasar. "
            "What is the price, and is it available?",
            product=product.name,
            **names,
        )
    else:
        message = _(
            "Hello %(vendor)s, I am interested in %(product)s (%(price)s) at %(market)s, "
            "which I saw on Pasar. Is it still available?",
            product=product.name,
            price=price_label(product),
            **names,
        )
    if page_url:
        message = f"{message}\n{page_url}"
    return chat_link(vendor.whatsapp, message)


# --- sitemap -----------------------------------------------------------------------------


def sitemap_vendors(market: Market, page: int, per_page: int) -> list[Vendor]:
    return list(
        db.session.scalars(
            select(Vendor)
            .where(Vendor.market_id == market.id, Vendor.is_public)
            .order_by(Vendor.id)
            .limit(per_page)
            .offset((page - 1) * per_page)
        )
    )


def sitemap_products(market: Market, page: int, per_page: int) -> list[Product]:
    return list(
        db.session.scalars(
            select(Product)
            .join(Product.vendor)
            .where(Vendor.market_id == market.id, Vendor.is_public, Product.is_listed)
            .options(contains_eager(Product.vendor))
            .order_by(Product.id)
            .limit(per_page)
            .offset((page - 1) * per_page)
        )
    )


def touch_on_category_change(session: Session, _context, _instances) -> None:
    """A change of categories alone writes only the link table, so the vendor's or product's
    updated_at - the validator of cached public pages - would not move: touch it."""
    for instance in session.dirty:
        if isinstance(instance, Vendor | Product):
            history = inspect(instance).attrs.categories.history
            if history.added or history.deleted:
                instance.updated_at = utcnow()
