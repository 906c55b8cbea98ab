"""Campaigns: a city's go-digital drive through some markets. Creating and editing them, the
targets of each day, what the team achieved (counted from the stalls, products, photos and
consent records themselves, never kept as a second copy), the volunteers' contributions, the
drafts that need a call, and the report the city files."""

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from math import ceil
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from market.extensions import db
from market.models import (
    AuditEvent,
    Campaign,
    CampaignMarket,
    ContactClick,
    Market,
    MarketStaff,
    Photo,
    Product,
    Role,
    StaffRole,
    TargetKind,
    User,
    Vendor,
    VendorStatus,
)
from market.models.campaign import campaign_volunteer
from market.permissions import can_manage_campaign, manageable_markets
from market.services.audit import changes_of, record
from market.services.exports import csv_bytes
from market.services.reports import follow_ups, local_day, local_today
from market.services.vendors import InvalidFields
from market.services.whatsapp import chat_link

MAX_DAYS = 92  # a drive lasts days or weeks; a quarter is the longest a city plans one
MAX_TARGET = 100_000


# --- creating and editing ---------------------------------------------------------------------


def campaign_volunteer_choices(markets: Iterable[Market]) -> list[User]:
    """The volunteers assigned to any of these markets, by name: the people a team is made of."""
    ids = [m.id for m in markets]
    if not ids:
        return []
    return list(
        db.session.scalars(
            select(User)
            .join(MarketStaff, MarketStaff.user_id == User.id)
            .where(MarketStaff.market_id.in_(ids), MarketStaff.role == StaffRole.VOLUNTEER)
            .distinct()
            .order_by(User.name, User.id)
        )
    )


def _clean(values: Mapping[str, Any], actor: User) -> dict[str, Any]:
    """Check a campaign's fields; raises InvalidFields naming each wrong one."""
    errors: dict[str, Any] = {}
    name = " ".join((values.get("name") or "").split())
    if not name:
        errors["name"] = _l("Give the campaign a name, e.g. Gerebek Pasar Balikpapan.")
    starts_on, ends_on = values.get("starts_on"), values.get("ends_on")
    if starts_on is None:
        errors["starts_on"] = _l("Choose the first day.")
    if ends_on is None:
        errors["ends_on"] = _l("Choose the last day.")
    if starts_on and ends_on:
        if ends_on < starts_on:
            errors["ends_on"] = _l("The last day cannot be before the first.")
        elif (ends_on - starts_on).days + 1 > MAX_DAYS:
            errors["ends_on"] = _l("A campaign lasts at most %(num)d days.", num=MAX_DAYS)
    allowed = {m.id: m for m in manageable_markets(actor)}
    targets: dict[int, tuple[int, int]] = {}
    for market_id, (stalls, products) in (values.get("targets") or {}).items():
        if market_id not in allowed:
            errors["markets"] = _l("Choose only markets you coordinate.")
            continue
        if not (0 <= stalls <= MAX_TARGET and 0 <= products <= MAX_TARGET):
            errors["markets"] = _l("A target is a whole number from 0 to %(num)d.", num=MAX_TARGET)
            continue
        targets[market_id] = (stalls, products)
    if not targets and "markets" not in errors:
        errors["markets"] = _l("Choose at least one market.")
    team = campaign_volunteer_choices([allowed[i] for i in targets])
    chosen = set(values.get("volunteer_ids") or [])
    if chosen - {u.id for u in team}:
        errors["volunteers"] = _l("Choose volunteers assigned to the campaign's markets.")
    if errors:
        raise InvalidFields(errors)
    return {
        "name": name,
        "starts_on": starts_on,
        "ends_on": ends_on,
        "target_kind": TargetKind(values.get("target_kind") or TargetKind.TOTAL),
        "targets": targets,
        "markets": allowed,
        "volunteers": [u for u in team if u.id in chosen],
    }


def save_campaign(campaign: Campaign | None, values: Mapping[str, Any], *, actor: User) -> Campaign:
    """Create a campaign (campaign None) or change one. `values`: name, starts_on, ends_on,
    target_kind, targets ({market id: (stalls, products)}) and volunteer_ids."""
    clean = _clean(values, actor)
    creating = campaign is None
    if campaign is None:
        campaign = Campaign(created_by_id=actor.id)
        db.session.add(campaign)
    fields = {k: clean[k] for k in ("name", "starts_on", "ends_on", "target_kind")}
    changes = changes_of(campaign, fields)
    for key, value in fields.items():
        setattr(campaign, key, value)
    existing = {t.market_id: t for t in campaign.targets}
    for market_id, (stalls, products) in clean["targets"].items():
        target = existing.pop(market_id, None) or CampaignMarket(market=clean["markets"][market_id])
        target.stalls_target, target.products_target = stalls, products
        if target not in campaign.targets:
            campaign.targets.append(target)
    for dropped in existing.values():
        campaign.targets.remove(dropped)
    campaign.volunteers = clean["volunteers"]
    changes["targets"] = [None, {str(k): list(v) for k, v in clean["targets"].items()}]
    changes["volunteers"] = [None, [u.id for u in clean["volunteers"]]]
    record(actor, "campaign.create" if creating else "campaign.update", campaign, changes)
    db.session.commit()
    return campaign


def visible_campaigns(user: User) -> list[Campaign]:
    """The campaigns a coordinator may open (every market of it theirs), newest first."""
    campaigns = db.session.scalars(
        select(Campaign)
        .options(selectinload(Campaign.targets).selectinload(CampaignMarket.market))
        .order_by(Campaign.starts_on.desc(), Campaign.id.desc())
    )
    return [c for c in campaigns if can_manage_campaign(user, c)]


# --- days and targets -------------------------------------------------------------------------


def campaign_days(campaign: Campaign) -> list[date]:
    return [campaign.starts_on + timedelta(days=n) for n in range(campaign.days)]


def day_targets(target: int, kind: TargetKind, days: int) -> list[int]:
    """Each day's share of a target. A total is spread evenly, the odd ones on the first days
    (ahead of schedule rather than behind), so that the days add up to the total exactly."""
    if kind == TargetKind.PER_DAY:
        return [target] * days
    reached = [ceil(target * n / days) for n in range(days + 1)]
    return [reached[n + 1] - reached[n] for n in range(days)]


# --- what was achieved ------------------------------------------------------------------------


@dataclass
class Day:
    day: date
    stalls: int = 0
    stalls_target: int = 0
    products: int = 0
    products_target: int = 0
    consents: int = 0


@dataclass
class MarketProgress:
    market: Market
    days: list[Day]
    contacts: int = 0  # WhatsApp taps on the campaign's stalls since they were registered

    def total(self, name: str) -> int:
        return sum(getattr(day, name) for day in self.days)


@dataclass
class Progress:
    campaign: Campaign
    markets: list[MarketProgress]
    today: date
    days: list[Day] = field(default_factory=list)  # all markets together

    def total(self, name: str) -> int:
        return sum(getattr(day, name) for day in self.days)

    @property
    def contacts(self) -> int:
        return sum(m.contacts for m in self.markets)


def _zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])


def _window_start(campaign: Campaign) -> datetime:
    return datetime.combine(campaign.starts_on, time(), _zone())


def _in_window(campaign: Campaign, moment: datetime | None) -> date | None:
    """The campaign day (market time) of a moment, or None outside the campaign."""
    if moment is None:
        return None
    day = local_day(moment)
    return day if campaign.starts_on <= day <= campaign.ends_on else None


def progress(campaign: Campaign) -> Progress:
    """Per market and day: stalls published, products that got their first photo and consent
    recorded, against the day's targets; and the WhatsApp taps the stalls published during the
    campaign received since they were registered."""
    ids = [t.market_id for t in campaign.targets]
    since = _window_start(campaign)
    days = campaign_days(campaign)
    live = (Vendor.market_id.in_(ids), Vendor.deleted_at.is_(None))
    stalls = Counter()
    published: dict[int, date] = {}
    for vendor_id, market_id, moment, registered in db.session.execute(
        select(Vendor.id, Vendor.market_id, Vendor.published_at, Vendor.created_at).where(
            *live, Vendor.status == VendorStatus.PUBLISHED, Vendor.published_at >= since
        )
    ):
        if day := _in_window(campaign, moment):
            stalls[market_id, day] += 1
            # Taps are counted per UTC day (contacts.record_click), so is the registration.
            published[vendor_id] = registered.astimezone(UTC).date()
    consents = Counter()
    for market_id, moment in db.session.execute(
        select(Vendor.market_id, Vendor.consent_at).where(*live, Vendor.consent_at >= since)
    ):
        if day := _in_window(campaign, moment):
            consents[market_id, day] += 1
    products = Counter()
    for market_id, first_photo in db.session.execute(
        select(Vendor.market_id, func.min(Photo.created_at))
        .select_from(Product)
        .join(Vendor, Vendor.id == Product.vendor_id)
        .join(Photo, Photo.product_id == Product.id)
        .where(*live, Product.deleted_at.is_(None), Photo.deleted_at.is_(None))
        .group_by(Product.id, Vendor.market_id)
    ):
        if day := _in_window(campaign, first_photo):
            products[market_id, day] += 1
    contacts = Counter()
    if published:
        earliest = min(published.values())
        for vendor_id, market_id, day, count in db.session.execute(
            select(ContactClick.vendor_id, Vendor.market_id, ContactClick.day, ContactClick.count)
            .join(Vendor, Vendor.id == ContactClick.vendor_id)
            .where(ContactClick.vendor_id.in_(published), ContactClick.day >= earliest)
        ):
            if day >= published[vendor_id]:
                contacts[market_id] += count
    markets = []
    for target in campaign.targets:
        stall_targets = day_targets(target.stalls_target, campaign.target_kind, len(days))
        product_targets = day_targets(target.products_target, campaign.target_kind, len(days))
        key = target.market_id
        markets.append(
            MarketProgress(
                target.market,
                [
                    Day(
                        day,
                        stalls[key, day],
                        stall_targets[n],
                        products[key, day],
                        product_targets[n],
                        consents[key, day],
                    )
                    for n, day in enumerate(days)
                ],
                contacts[key],
            )
        )
    together = [
        Day(
            day,
            *(
                sum(getattr(m.days[n], name) for m in markets)
                for name in ("stalls", "stalls_target", "products", "products_target", "consents")
            ),
        )
        for n, day in enumerate(days)
    ]
    return Progress(campaign, markets, local_today(), together)


# --- the team ---------------------------------------------------------------------------------


@dataclass
class Contribution:
    user: User
    stalls: int = 0
    products: int = 0
    photos: int = 0
    consents: int = 0

    @property
    def total(self) -> int:
        return self.stalls + self.products + self.photos + self.consents


def leaderboard(campaign: Campaign) -> list[Contribution]:
    """What each person did in the campaign's markets during the campaign: stalls registered,
    products added, photos taken, consent recorded. Only people with something to their name,
    in alphabetical order: a thank-you list, not a ranking with a last place. Vendors' own
    edits are theirs, not the team's."""
    ids = [t.market_id for t in campaign.targets]
    since = _window_start(campaign)
    people: dict[int, Contribution] = {}
    counts: dict[str, Counter] = defaultdict(Counter)
    for who, moment in db.session.execute(
        select(Vendor.onboarded_by_id, Vendor.created_at).where(
            Vendor.market_id.in_(ids), Vendor.deleted_at.is_(None), Vendor.created_at >= since
        )
    ):
        if who is not None and _in_window(campaign, moment):
            counts["stalls"][who] += 1
    for who, moment in db.session.execute(
        select(Vendor.consent_by_id, Vendor.consent_at).where(
            Vendor.market_id.in_(ids), Vendor.deleted_at.is_(None), Vendor.consent_at >= since
        )
    ):
        if who is not None and _in_window(campaign, moment):
            counts["consents"][who] += 1
    for who, action, changes, moment in db.session.execute(
        select(
            AuditEvent.actor_id, AuditEvent.action, AuditEvent.changes, AuditEvent.created_at
        ).where(
            AuditEvent.market_id.in_(ids),
            AuditEvent.action.in_(("product.create", "photo.add")),
            AuditEvent.created_at >= since,
            AuditEvent.actor_id.is_not(None),
        )
    ):
        if not _in_window(campaign, moment):
            continue
        if action == "product.create":
            counts["products"][who] += 1
        else:
            counts["photos"][who] += len((changes.get("photos") or [None, []])[1] or [])
    everyone = set().union(*(c.keys() for c in counts.values())) if counts else set()
    if not everyone:
        return []
    for user in db.session.scalars(
        select(User).where(User.id.in_(everyone), User.role != Role.VENDOR)
    ):
        people[user.id] = Contribution(
            user, *(counts[name][user.id] for name in ("stalls", "products", "photos", "consents"))
        )
    return sorted(people.values(), key=lambda p: (p.user.name.casefold(), p.user.id))


@dataclass(frozen=True)
class StuckDraft:
    vendor: Vendor
    whatsapp: str  # a chat with the vendor, the message typed in; empty without a number


def stuck_drafts(campaign: Campaign) -> list[StuckDraft]:
    """Drafts in the campaign's markets left open for more than three days, oldest first, with
    who to call: the volunteer who registered them (vendor.onboarded_by) and the vendor on
    WhatsApp. The message is Indonesian, the vendors' language, whatever the screen shows."""
    drafts = sorted(
        (vendor for t in campaign.targets for vendor in follow_ups(t.market)),
        key=lambda v: (v.created_at, v.id),
    )
    return [
        StuckDraft(
            vendor,
            chat_link(
                vendor.whatsapp,
                f"Halo {vendor.owner_name or vendor.business_name}, kami dari tim Pasar. "
                f"Halaman lapak {vendor.business_name} hampir siap: kapan kami bisa mampir "
                "untuk melengkapinya?",
            )
            if vendor.whatsapp
            else "",
        )
        for vendor in drafts
    ]


# --- the volunteer's banner -------------------------------------------------------------------


@dataclass(frozen=True)
class Banner:
    campaign: Campaign
    day: int
    days: int
    target_today: int
    done_today: int


def campaign_banners(user: User) -> list[Banner]:
    """The running campaigns whose team the user is in, with today's stall target (all its
    markets) and the stalls published there today."""
    if not user.is_authenticated:
        return []
    today = local_today()
    campaigns = db.session.scalars(
        select(Campaign)
        .join(campaign_volunteer, campaign_volunteer.c.campaign_id == Campaign.id)
        .where(
            campaign_volunteer.c.user_id == user.id,
            Campaign.starts_on <= today,
            Campaign.ends_on >= today,
        )
        .options(selectinload(Campaign.targets))
        .order_by(Campaign.starts_on)
    ).all()
    banners = []
    for campaign in campaigns:
        n = (today - campaign.starts_on).days
        target = sum(
            day_targets(t.stalls_target, campaign.target_kind, campaign.days)[n]
            for t in campaign.targets
        )
        start = datetime.combine(today, time(), _zone())
        done = sum(
            local_day(moment) == today
            for moment in db.session.scalars(
                select(Vendor.published_at).where(
                    Vendor.market_id.in_([t.market_id for t in campaign.targets]),
                    Vendor.deleted_at.is_(None),
                    Vendor.status == VendorStatus.PUBLISHED,
                    Vendor.published_at >= start,
                )
            )
        )
        banners.append(Banner(campaign, n + 1, campaign.days, target, done))
    return banners


# --- the report for the city ------------------------------------------------------------------


def report_csv(report: Progress, delimiter: str = ",") -> bytes:
    """The campaign's figures per market and day, then each market's totals and the grand
    total, with translated column names: a file for the city's office, not for re-import."""
    header = [
        str(_l("Market")),
        str(_l("Day")),
        str(_l("Stalls published")),
        str(_l("Stall target")),
        str(_l("Products with a photo")),
        str(_l("Product target")),
        str(_l("Vendors with consent")),
        str(_l("WhatsApp contacts since registration")),
    ]
    total = str(_l("Total"))
    rows: list[list] = []
    for market in report.markets:
        for day in market.days:
            rows.append(
                [
                    market.market.name,
                    day.day.isoformat(),
                    day.stalls,
                    day.stalls_target,
                    day.products,
                    day.products_target,
                    day.consents,
                    "",
                ]
            )
    for market in report.markets:
        rows.append(
            [market.market.name, total]
            + [
                market.total(name)
                for name in ("stalls", "stalls_target", "products", "products_target", "consents")
            ]
            + [market.contacts]
        )
    rows.append(
        [str(_l("All markets")), total]
        + [
            report.total(name)
            for name in ("stalls", "stalls_target", "products", "products_target", "consents")
        ]
        + [report.contacts]
    )
    return csv_bytes(header, rows, delimiter)
