"""The audit log as coordinators read it: a market's events, filtered by person or record,
with readable names for actions, fields and records; and as admins read it, across markets,
filtered by market, person, kind of change and days. The writer is audit.record()."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, and_, or_, select
from sqlalchemy.orm import selectinload

from market.extensions import db
from market.models import (
    AuditEvent,
    Availability,
    Market,
    Photo,
    PriceKind,
    Product,
    Role,
    User,
    Vendor,
    VendorStatus,
    VlogLink,
)
from market.services.vendors import PROFILE_LABELS

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
    "market.import": _l("imported a spreadsheet into"),
    "staff.assign": _l("assigned to the market"),
    "staff.remove": _l("removed from the market"),
    "user.create": _l("created the account"),
    "user.deactivate": _l("switched off the account of"),
    "user.reactivate": _l("switched on again the account of"),
    "user.reset_link": _l("made a new-password link for"),
    "user.reset_password": _l("set a new password with a link:"),
    "staff.invite": _l("made a join link for"),
    "vendor.close": _l("marked as closed"),
    "vendor.reopen": _l("marked as open again"),
    "synonym.add": _l("added the search synonym"),
    "synonym.remove": _l("removed the search synonym"),
}
RECORD_TYPES = ("vendor", "product", "market", "marketstaff", "user")

# How the audit log names changed fields, per kind of record (a market's "name" is not a
# product's): the words of the forms people changed them with.
_PRODUCT_FIELDS = {
    "name": _l("Product name"),
    "description": _l("Description"),
    "price_idr": _l("Price (Rp)"),
    "price_kind": _l("How the price works"),
    "price_note": _l("Price note"),
    "availability": _l("Availability"),
    "halal": _l("Halal"),
    "permit_number": _l("PIRT or BPOM number"),
    "material": _l("Material or motif"),
    "name_en": _l("Name in English"),
    "description_en": _l("Description in English"),
    "categories": _l("Categories"),
    "weight_grams": _l("Weight (grams)"),
    "stock_count": _l("Stock (pieces)"),
}
FIELD_LABELS = {
    "vendor": PROFILE_LABELS,
    "product": _PRODUCT_FIELDS,
    "market": {
        "name": _l("Name"),
        "slug": _l("Web address"),
        "city": _l("City"),
        "province": _l("Province"),
        "address": _l("Address"),
        "description": _l("Description"),
        "opening_hours": _l("Opening hours"),
        "weekly_hours": _l("Opening hours per day"),
        "timezone": _l("Time zone"),
        "latitude": _l("Latitude"),
        "longitude": _l("Longitude"),
        "published": _l("Shown on the public site"),
    },
    "user": {"name": _l("Name"), "email": _l("Email"), "phone": _l("WhatsApp number")},
}
# Fields that mean the same on every kind of record.
COMMON_FIELD_LABELS = {
    "slug": _l("Web address"),
    "status": _l("Status"),
    "role": _l("Role"),
    "user": _l("Person"),
    "deleted_at": _l("Deleted"),
    "verified_at": _l("Verified"),
    "reason": _l("Reason"),
    "active": _l("Can log in"),
    "closed_until": _l("Closed until"),
    "closed_note": _l("Note for shoppers"),
    "expires_at": _l("Link works until"),
    "login": _l("Login"),
    "invitation": _l("Invitation"),
}
# Stored values in the words the pages use for them ("in_stock" reads "In stock").
VALUE_LABELS = {
    "availability": {
        Availability.IN_STOCK.value: _l("In stock"),
        Availability.SOLD_OUT.value: _l("Sold out"),
        Availability.PRE_ORDER.value: _l("Pre-order"),
    },
    "price_kind": {
        PriceKind.FIXED.value: _l("Fixed price"),
        PriceKind.FROM.value: _l("From this price (mulai)"),
        PriceKind.NEGOTIABLE.value: _l("Negotiable (nego)"),
    },
    "status": {
        VendorStatus.DRAFT.value: _l("Draft"),
        VendorStatus.PUBLISHED.value: _l("Published"),
        VendorStatus.HIDDEN.value: _l("Hidden"),
    },
    "role": {
        Role.VOLUNTEER.value: _l("Volunteer"),
        Role.COORDINATOR.value: _l("Coordinator"),
        Role.VENDOR.value: _l("Vendor"),
        Role.ADMIN.value: _l("Administrator"),
    },
}
_YES_NO = {True: _l("Yes"), False: _l("No")}


@dataclass(frozen=True)
class Change:
    """One changed field of an event as people read it; ``old`` is None for a plain value."""

    label: Any
    old: Any
    new: Any
    pair: bool


def readable_value(field: str, value: Any) -> Any:
    # Plain str, not a lazy string: the page tells text from lists by it.
    if isinstance(value, bool):
        return str(_YES_NO[value])
    if isinstance(value, str):
        return str(VALUE_LABELS.get(field, {}).get(value, value))
    return value


def readable_changes(event: AuditEvent) -> list[Change]:
    """The event's changed fields, labelled for its kind of record, values in words."""
    labels = FIELD_LABELS.get(event.record_type, {})
    changes = []
    for field, change in (event.changes or {}).items():
        label = labels.get(field) or COMMON_FIELD_LABELS.get(field) or field
        if isinstance(change, list) and len(change) == 2:
            old, new = change
            changes.append(
                Change(label, readable_value(field, old), readable_value(field, new), True)
            )
        else:
            changes.append(Change(label, None, readable_value(field, change), False))
    return changes


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


# --- across markets, for admins -----------------------------------------------------------------


@dataclass(frozen=True)
class AuditFilters:
    """What an admin narrows the log to; None means any."""

    market_id: int | None = None
    actor_id: int | None = None
    action: str | None = None
    first: date | None = None
    last: date | None = None


def _utc_start(day: date, timezone: str) -> datetime:
    return datetime.combine(day, time.min, ZoneInfo(timezone)).astimezone(UTC)


def all_markets_query(filters: AuditFilters, timezone: str) -> Select:
    """Events of every market (and those of no market: accounts), newest first."""
    query = (
        select(AuditEvent)
        .options(selectinload(AuditEvent.actor))
        .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
    )
    if filters.market_id is not None:
        query = query.where(AuditEvent.market_id == filters.market_id)
    if filters.actor_id is not None:
        query = query.where(AuditEvent.actor_id == filters.actor_id)
    if filters.action is not None:
        query = query.where(AuditEvent.action == filters.action)
    if filters.first is not None:
        query = query.where(AuditEvent.created_at >= _utc_start(filters.first, timezone))
    if filters.last is not None:
        end = _utc_start(filters.last + timedelta(days=1), timezone)
        query = query.where(AuditEvent.created_at < end)
    return query


@dataclass(frozen=True)
class AllMarketsPage:
    page: Any  # flask_sqlalchemy.pagination.Pagination of AuditEvent
    names: dict[tuple[str, int], str]
    markets: dict[int, str]


def all_markets_page(
    filters: AuditFilters, *, timezone: str, page: int, per_page: int
) -> AllMarketsPage:
    pagination = db.paginate(
        all_markets_query(filters, timezone),
        page=max(page, 1),
        per_page=per_page,
        max_per_page=per_page,
        error_out=False,
    )
    events = list(pagination.items)
    return AllMarketsPage(pagination, record_names(events), market_names(events))


def market_names(events: list[AuditEvent]) -> dict[int, str]:
    ids = {event.market_id for event in events if event.market_id is not None}
    if not ids:
        return {}
    return dict(db.session.execute(select(Market.id, Market.name).where(Market.id.in_(ids))).all())


def all_actors() -> list[User]:
    """Everyone who ever changed something, for the person filter."""
    return list(
        db.session.scalars(
            select(User)
            .where(User.id.in_(select(AuditEvent.actor_id).where(AuditEvent.actor_id.is_not(None))))
            .order_by(User.name)
        )
    )


def describe_change(change: Change) -> str:
    """One change in a line of text, as the page shows it: "Availability: In stock → Sold out"."""

    def text(value: Any) -> str:
        if value is None or value == "":
            return "—"
        if isinstance(value, list):
            return ", ".join(map(str, value)) or "—"
        return str(value)

    if change.pair:
        return f"{change.label}: {text(change.old)} → {text(change.new)}"
    return f"{change.label}: {text(change.new)}"
