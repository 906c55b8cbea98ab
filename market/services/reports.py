"""What coordinators read: a market's progress, each volunteer's progress, whether onboarded
vendors are still active, what is hidden or deleted. Read-only queries; nothing here changes
data. The audit log is read in audit_log.py."""

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import and_, case, exists, func, select
from sqlalchemy.orm import selectinload

from market.extensions import db
from market.models import (
    AuditEvent,
    Market,
    MarketStaff,
    Photo,
    Product,
    User,
    Vendor,
    VendorStatus,
    utcnow,
)
from market.services.contacts import clicks_by_vendor

ACTIVE_DAYS = 30
FOLLOW_UP_DAYS = 3


def local_today() -> date:
    zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    return utcnow().astimezone(zone).date()


def local_day(moment: datetime) -> date:
    return moment.astimezone(ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])).date()


# --- activity ---------------------------------------------------------------------------------


def active_vendor_ids(market: Market, vendors: list[tuple[int, int | None]]) -> set[int]:
    """Of (vendor id, owner id) pairs, the vendors whose owner changed something in the market,
    or whom shoppers tapped on WhatsApp, in the last ACTIVE_DAYS days."""
    if not vendors:
        return set()
    taps = clicks_by_vendor([vendor_id for vendor_id, _owner in vendors], days=ACTIVE_DAYS)
    owners = {owner_id for _vendor, owner_id in vendors if owner_id is not None}
    busy_owners = set()
    if owners:
        busy_owners = set(
            db.session.scalars(
                select(AuditEvent.actor_id)
                .where(
                    AuditEvent.market_id == market.id,
                    AuditEvent.actor_id.in_(owners),
                    AuditEvent.created_at >= utcnow() - timedelta(days=ACTIVE_DAYS),
                )
                .distinct()
            )
        )
    return {
        vendor_id
        for vendor_id, owner_id in vendors
        if taps.get(vendor_id) or (owner_id is not None and owner_id in busy_owners)
    }


# --- the market -------------------------------------------------------------------------------


@dataclass(frozen=True)
class MarketSummary:
    vendors: int
    draft: int
    published: int
    hidden: int
    deleted: int
    with_consent: int
    with_stall_photo: int
    products: int
    products_with_photo: int
    taps: int
    active: int

    @property
    def percent_published(self) -> int:
        return round(100 * self.published / self.vendors) if self.vendors else 0

    @property
    def percent_products_with_photo(self) -> int:
        return round(100 * self.products_with_photo / self.products) if self.products else 0


def market_summary(market: Market) -> MarketSummary:
    """Vendors by status, consent, photos and products of one market, plus shoppers' taps."""
    live = and_(Vendor.market_id == market.id, Vendor.deleted_at.is_(None))
    statuses = Counter(
        dict(
            db.session.execute(
                select(Vendor.status, func.count(Vendor.id)).where(live).group_by(Vendor.status)
            ).all()
        )
    )
    deleted = db.session.scalar(
        select(func.count(Vendor.id)).where(
            Vendor.market_id == market.id, Vendor.deleted_at.is_not(None)
        )
    )
    with_consent = db.session.scalar(
        select(func.count(Vendor.id)).where(live, Vendor.consent_at.is_not(None))
    )
    with_stall_photo = db.session.scalar(
        select(func.count(Vendor.id)).where(
            live,
            exists().where(
                Photo.vendor_id == Vendor.id,
                Photo.product_id.is_(None),
                Photo.deleted_at.is_(None),
            ),
        )
    )
    has_photo = exists().where(Photo.product_id == Product.id, Photo.deleted_at.is_(None))
    products, products_with_photo = db.session.execute(
        select(func.count(Product.id), func.sum(case((has_photo, 1), else_=0)))
        .join(Vendor)
        .where(live, Product.deleted_at.is_(None))
    ).one()
    pairs = [
        (row.id, row.owner_id)
        for row in db.session.execute(select(Vendor.id, Vendor.owner_id).where(live))
    ]
    taps = clicks_by_vendor([vendor_id for vendor_id, _owner in pairs], days=ACTIVE_DAYS)
    return MarketSummary(
        vendors=sum(statuses.values()),
        draft=statuses[VendorStatus.DRAFT],
        published=statuses[VendorStatus.PUBLISHED],
        hidden=statuses[VendorStatus.HIDDEN],
        deleted=deleted,
        with_consent=with_consent,
        with_stall_photo=with_stall_photo,
        products=products,
        products_with_photo=int(products_with_photo or 0),
        taps=sum(taps.values()),
        active=len(active_vendor_ids(market, pairs)),
    )


def markets_overview(markets: list[Market]) -> dict[int, tuple[int, int]]:
    """Live and published vendors of each market, in one query."""
    if not markets:
        return {}
    rows = db.session.execute(
        select(
            Vendor.market_id,
            func.count(Vendor.id),
            func.sum(case((Vendor.status == VendorStatus.PUBLISHED, 1), else_=0)),
        )
        .where(Vendor.market_id.in_([m.id for m in markets]), Vendor.deleted_at.is_(None))
        .group_by(Vendor.market_id)
    )
    counts = {market_id: (total, int(published or 0)) for market_id, total, published in rows}
    return {m.id: counts.get(m.id, (0, 0)) for m in markets}


def most_tapped(market: Market, limit: int = 10) -> list[tuple[Vendor, int]]:
    """The vendors shoppers tapped most on WhatsApp in the last ACTIVE_DAYS days."""
    ids = list(
        db.session.scalars(
            select(Vendor.id).where(Vendor.market_id == market.id, Vendor.deleted_at.is_(None))
        )
    )
    taps = clicks_by_vendor(ids, days=ACTIVE_DAYS)
    top = sorted(taps.items(), key=lambda item: (-item[1], item[0]))[:limit]
    vendors = {v.id: v for v in db.session.scalars(select(Vendor).where(Vendor.id.in_(dict(top))))}
    return [(vendors[vendor_id], count) for vendor_id, count in top]


def _onboarded(market: Market, since: datetime, user_id: int | None) -> list[datetime]:
    query = select(Vendor.created_at).where(
        Vendor.market_id == market.id, Vendor.deleted_at.is_(None), Vendor.created_at >= since
    )
    if user_id is not None:
        query = query.where(Vendor.onboarded_by_id == user_id)
    return list(db.session.scalars(query))


def onboarded_per_day(
    market: Market, days: int = 14, user_id: int | None = None
) -> list[tuple[date, int]]:
    """Vendors registered on each of the last `days` days (market time), oldest first."""
    today = local_today()
    first = today - timedelta(days=days - 1)
    counts = Counter(
        local_day(moment)
        for moment in _onboarded(market, utcnow() - timedelta(days=days + 1), user_id)
    )
    return [(first + timedelta(days=n), counts[first + timedelta(days=n)]) for n in range(days)]


def onboarded_per_week(
    market: Market, weeks: int = 8, user_id: int | None = None
) -> list[tuple[date, int]]:
    """Vendors registered in each of the last `weeks` weeks, by the Monday that starts it."""
    today = local_today()
    this_monday = today - timedelta(days=today.weekday())
    first = this_monday - timedelta(weeks=weeks - 1)
    counts = Counter(
        local_day(moment) - timedelta(days=local_day(moment).weekday())
        for moment in _onboarded(market, utcnow() - timedelta(weeks=weeks, days=1), user_id)
    )
    return [(first + timedelta(weeks=n), counts[first + timedelta(weeks=n)]) for n in range(weeks)]


# --- the volunteers ---------------------------------------------------------------------------


@dataclass
class VolunteerProgress:
    user: User
    role: str | None
    today: int = 0
    week: int = 0
    total: int = 0
    published: int = 0
    drafts: int = 0
    follow_up: int = 0
    active: int = 0


def volunteer_progress(market: Market) -> list[VolunteerProgress]:
    """One row per staff member (and per former one who onboarded vendors here), busiest first."""
    rows = db.session.execute(
        select(
            Vendor.id,
            Vendor.owner_id,
            Vendor.onboarded_by_id,
            Vendor.status,
            Vendor.created_at,
        ).where(
            Vendor.market_id == market.id,
            Vendor.deleted_at.is_(None),
            Vendor.onboarded_by_id.is_not(None),
        )
    ).all()
    active = active_vendor_ids(market, [(row.id, row.owner_id) for row in rows])
    staff = {
        s.user_id: s
        for s in db.session.scalars(
            select(MarketStaff)
            .where(MarketStaff.market_id == market.id)
            .options(selectinload(MarketStaff.user))
        )
    }
    others = {row.onboarded_by_id for row in rows} - set(staff)
    people = {s.user_id: VolunteerProgress(s.user, s.role.value) for s in staff.values()}
    for user in db.session.scalars(select(User).where(User.id.in_(others))):
        people[user.id] = VolunteerProgress(user, None)
    today = local_today()
    stale = utcnow() - timedelta(days=FOLLOW_UP_DAYS)
    for row in rows:
        person = people[row.onboarded_by_id]
        day = local_day(row.created_at)
        person.total += 1
        person.today += day == today
        person.week += day > today - timedelta(days=7)
        person.published += row.status == VendorStatus.PUBLISHED
        person.drafts += row.status == VendorStatus.DRAFT
        person.follow_up += row.status == VendorStatus.DRAFT and row.created_at < stale
        person.active += row.id in active
    return sorted(people.values(), key=lambda p: (-p.week, -p.total, p.user.name.casefold()))


def follow_ups(market: Market, user_id: int | None = None) -> list[Vendor]:
    """Drafts left open for more than FOLLOW_UP_DAYS days: someone should go back to them."""
    query = (
        select(Vendor)
        .where(
            Vendor.market_id == market.id,
            Vendor.deleted_at.is_(None),
            Vendor.status == VendorStatus.DRAFT,
            Vendor.created_at < utcnow() - timedelta(days=FOLLOW_UP_DAYS),
        )
        .options(selectinload(Vendor.onboarded_by))
        .order_by(Vendor.created_at)
    )
    if user_id is not None:
        query = query.where(Vendor.onboarded_by_id == user_id)
    return list(db.session.scalars(query))


def open_drafts(market: Market, user_id: int) -> list[Vendor]:
    return list(
        db.session.scalars(
            select(Vendor)
            .where(
                Vendor.market_id == market.id,
                Vendor.deleted_at.is_(None),
                Vendor.status == VendorStatus.DRAFT,
                Vendor.onboarded_by_id == user_id,
            )
            .order_by(Vendor.created_at.desc())
        )
    )


# --- moderation -------------------------------------------------------------------------------


def hidden_vendors(market: Market) -> list[Vendor]:
    return list(
        db.session.scalars(
            select(Vendor)
            .where(
                Vendor.market_id == market.id,
                Vendor.deleted_at.is_(None),
                Vendor.status == VendorStatus.HIDDEN,
            )
            .order_by(Vendor.updated_at.desc())
        )
    )


def hidden_products(market: Market) -> list[Product]:
    return list(
        db.session.scalars(
            select(Product)
            .join(Vendor)
            .where(
                Vendor.market_id == market.id,
                Product.deleted_at.is_(None),
                Product.hidden_at.is_not(None),
            )
            .options(selectinload(Product.vendor))
            .order_by(Product.hidden_at.desc())
        )
    )


def deleted_vendors(market: Market) -> list[Vendor]:
    return list(
        db.session.scalars(
            select(Vendor)
            .where(Vendor.market_id == market.id, Vendor.deleted_at.is_not(None))
            .order_by(Vendor.deleted_at.desc())
        )
    )


def live_products(vendor: Vendor) -> list[Product]:
    return list(
        db.session.scalars(
            select(Product)
            .where(Product.vendor_id == vendor.id, Product.deleted_at.is_(None))
            .order_by(Product.position, Product.id)
        )
    )
