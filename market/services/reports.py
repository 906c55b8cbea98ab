"""What coordinators read: a market's progress, each volunteer's progress, whether onboarded
vendors are still active, and the audit log. Read-only queries; nothing here changes data."""

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, and_, case, exists, func, or_, select
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
    VlogLink,
    utcnow,
)
from market.services.contacts import clicks_by_vendor
from market.services.onboarding import PROFILE_LABELS

ACTIVE_DAYS = 30
FOLLOW_UP_DAYS = 3
AUDIT_PAGE_SIZE = 50


def local_today() -> date:
    zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    return utcnow().astimezone(zone).date()


def _local_day(moment: datetime) -> date:
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
        _local_day(moment)
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
        _local_day(moment) - timedelta(days=_local_day(moment).weekday())
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
        day = _local_day(row.created_at)
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


# --- the audit log ----------------------------------------------------------------------------

ACTION_LABELS = {
    "vendor.create": _l("registered the vendor"),
    "vendor.update": _l("edited the profile"),
    "vendor.consent": _l("recorded consent"),
    "vendor.consent_withdraw": _l("withdrew consent"),
    "vendor.publish": _l("published"),
    "vendor.unpublish": _l("unpublished"),
    "vendor.hide": _l("hid"),
    "vendor.delete": _l("deleted"),
    "vendor.restore": _l("restored"),
    "vendor.invite": _l("made an invitation link"),
    "vendor.claim": _l("claimed the account"),
    "vendor.erase": _l("erased all the data of"),
    "product.create": _l("added the product"),
    "product.update": _l("edited the product"),
    "product.availability": _l("changed the availability of"),
    "product.move": _l("moved the product"),
    "product.delete": _l("deleted the product"),
    "product.restore": _l("restored the product"),
    "product.hide": _l("hid the product"),
    "product.unhide": _l("showed the product again"),
    "photo.add": _l("added photos to"),
    "photo.move": _l("reordered the photos of"),
    "photo.alt_text": _l("described a photo of"),
    "photo.delete": _l("deleted a photo of"),
    "photo.restore": _l("restored a photo of"),
    "vlog.add": _l("added a vlog link to"),
    "vlog.delete": _l("deleted a vlog link of"),
    "vlog.restore": _l("restored a vlog link of"),
    "qris.save": _l("saved the QRIS code of"),
    "qris.verify": _l("verified the QRIS code of"),
    "qris.unverify": _l("stopped showing the QRIS code of"),
    "market.create": _l("created the market"),
    "market.update": _l("edited the market"),
    "market.import": _l("imported vendors from CSV"),
    "staff.assign": _l("assigned to the market"),
    "staff.remove": _l("removed from the market"),
    "user.create": _l("created the account"),
}
RECORD_TYPES = ("vendor", "product", "market", "marketstaff", "user")

# How the audit log names changed fields: the words of the forms people changed them with.
FIELD_LABELS = {
    **PROFILE_LABELS,
    "name": _l("Product name"),
    "price_idr": _l("Price (Rp)"),
    "price_kind": _l("How the price works"),
    "price_note": _l("Price note"),
    "availability": _l("Availability"),
    "halal": _l("Halal"),
    "permit_number": _l("PIRT or BPOM number"),
    "material": _l("Material or motif"),
}


def audit_query(
    market: Market,
    *,
    actor_id: int | None = None,
    record_type: str | None = None,
    record_id: int | None = None,
) -> Select:
    """The market's events, newest first. A vendor's record includes its products, photos and
    vlog links, so its whole history reads in one list."""
    query = (
        select(AuditEvent)
        .where(AuditEvent.market_id == market.id)
        .options(selectinload(AuditEvent.actor))
        .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
    )
    if actor_id is not None:
        query = query.where(AuditEvent.actor_id == actor_id)
    if record_type == "vendor" and record_id is not None:
        query = query.where(
            or_(
                and_(AuditEvent.record_type == "vendor", AuditEvent.record_id == record_id),
                and_(
                    AuditEvent.record_type == "product",
                    AuditEvent.record_id.in_(
                        select(Product.id).where(Product.vendor_id == record_id)
                    ),
                ),
                and_(
                    AuditEvent.record_type == "photo",
                    AuditEvent.record_id.in_(select(Photo.id).where(Photo.vendor_id == record_id)),
                ),
                and_(
                    AuditEvent.record_type == "vloglink",
                    AuditEvent.record_id.in_(
                        select(VlogLink.id).where(VlogLink.vendor_id == record_id)
                    ),
                ),
            )
        )
    elif record_type and record_id is not None:
        query = query.where(
            AuditEvent.record_type == record_type, AuditEvent.record_id == record_id
        )
    return query


@dataclass(frozen=True)
class AuditPage:
    page: Any  # flask_sqlalchemy.pagination.Pagination of AuditEvent
    names: dict[tuple[str, int], str]
    product_vendors: dict[int, int]
    actors: list[User]


def audit_page(
    market: Market,
    *,
    actor_id: int | None,
    record_type: str | None,
    record_id: int | None,
    page: int,
    per_page: int,
) -> AuditPage:
    """One page of the market's audit log, with the names its rows need and the people to
    filter by."""
    if record_type not in RECORD_TYPES:
        record_type = record_id = None
    pagination = db.paginate(
        audit_query(market, actor_id=actor_id, record_type=record_type, record_id=record_id),
        page=max(page, 1),
        per_page=per_page,
        max_per_page=per_page,
        error_out=False,
    )
    events = list(pagination.items)
    return AuditPage(
        pagination, record_names(events), vendor_of_products(events), audit_actors(market)
    )


def audit_actors(market: Market) -> list[User]:
    """Everyone who changed something in the market, for the person filter."""
    return list(
        db.session.scalars(
            select(User)
            .where(
                User.id.in_(
                    select(AuditEvent.actor_id).where(
                        AuditEvent.market_id == market.id, AuditEvent.actor_id.is_not(None)
                    )
                )
            )
            .order_by(User.name)
        )
    )


def record_names(events: list[AuditEvent]) -> dict[tuple[str, int], str]:
    """A readable name for each record the events point at, a query per record type."""
    wanted: dict[str, set[int]] = {}
    for event in events:
        wanted.setdefault(event.record_type, set()).add(event.record_id)
    names: dict[tuple[str, int], str] = {}
    models = {
        "vendor": (Vendor, Vendor.business_name),
        "product": (Product, Product.name),
        "market": (Market, Market.name),
        "user": (User, User.name),
    }
    for record_type, (model, column) in models.items():
        if wanted.get(record_type):
            for record_id, name in db.session.execute(
                select(model.id, column).where(model.id.in_(wanted[record_type]))
            ):
                names[(record_type, record_id)] = name
    for event in events:
        if event.record_type == "marketstaff":
            old, new = event.changes.get("user") or (None, None)
            names[("marketstaff", event.record_id)] = old or new or ""

    return names


def vendor_of_products(events: list[AuditEvent]) -> dict[int, int]:
    """Product id → vendor id for the product events, to link them to their stall."""
    ids = {e.record_id for e in events if e.record_type == "product"}
    if not ids:
        return {}
    return dict(
        db.session.execute(select(Product.id, Product.vendor_id).where(Product.id.in_(ids))).all()
    )
