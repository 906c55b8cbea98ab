"""Vendors: the profile a volunteer types in, duplicates in the market, registering and editing,
soft delete and restore. Every change is audited in the same commit."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.exc import StaleDataError

from market import text
from market.extensions import db
from market.models import Category, Market, User, Vendor, VendorStatus, utcnow
from market.services import accounts
from market.services.audit import changes_of, record
from market.services.categories import all_categories
from market.services.errors import Conflict, Invalid
from market.services.fields import english_texts, read_text, too_long
from market.services.invitations import revoke_open
from market.services.reports import local_today
from market.services.slugs import slugify, unique_slug
from market.services.soft_delete import check_live_vendor

MAX_NAME = 120
MAX_STALL = 10
# Typed profile fields: names must show a letter or digit; the others are one line of text.
NAMES = ("business_name", "owner_name")
LINES = ("stall_block", "stall_number", "opening_hours")
MAX_DESCRIPTION = 1000
MAX_OPENING_HOURS = 255


STALE_MESSAGE = _l("Someone else changed this vendor in the meantime. Check it and try again.")

PROFILE_LABELS = {
    "business_name": _l("Business name"),
    "owner_name": _l("Owner's name"),
    "stall_block": _l("Block"),
    "stall_number": _l("Stall number"),
    "whatsapp": _l("WhatsApp number"),
    "description": _l("Short description"),
    "opening_hours": _l("Opening hours"),
    "name_en": _l("Name in English"),
    "description_en": _l("Description in English"),
    "categories": _l("Categories"),
}


class InvalidFields(Invalid):
    """Some fields are wrong; ``errors`` maps each field name to a message fit to show."""

    def __init__(self, errors: Mapping[str, Any]):
        self.errors = dict(errors)
        super().__init__(
            "; ".join(f"{PROFILE_LABELS.get(k, k)}: {v}" for k, v in self.errors.items())
        )


class DuplicateVendor(Conflict):
    """The market already has a vendor with this WhatsApp number or stall."""

    def __init__(self, vendors: list[Vendor]):
        self.vendors = vendors
        super().__init__(str(_l("This market already has a vendor with this number or stall.")))


@dataclass
class Profile:
    """A vendor's checked and normalised profile fields."""

    business_name: str
    owner_name: str = ""
    stall_block: str = ""
    stall_number: str = ""
    whatsapp: str | None = None
    description: str = ""
    opening_hours: str = ""
    name_en: str = ""
    description_en: str = ""
    categories: list[Category] = field(default_factory=list)

    def values(self) -> dict[str, Any]:
        """The plain column values, for comparing with a vendor and for the audit trail."""
        return {
            "business_name": self.business_name,
            "owner_name": self.owner_name,
            "stall_block": self.stall_block,
            "stall_number": self.stall_number,
            "whatsapp": self.whatsapp,
            "description": self.description,
            "opening_hours": self.opening_hours,
            "name_en": self.name_en,
            "description_en": self.description_en,
        }


def clean_profile(raw: Mapping[str, Any], categories: Iterable[Category] | None = None) -> Profile:
    """Check and normalise typed profile fields; raise InvalidFields naming every problem.

    ``raw`` holds strings (as typed in a form or a CSV cell) and ``category_ids``. The stall
    block is upper-cased ("b" → "B") so that duplicates are found whatever was typed.
    ``categories``, the categories to choose from, saves a query per row to a caller that has
    them already (an import).
    """
    errors: dict[str, str] = {}
    values = {key: read_text(raw, key, errors, text.name) for key in NAMES}
    values |= {key: read_text(raw, key, errors) for key in LINES}
    values["stall_block"] = values["stall_block"].upper()
    description = read_text(raw, "description", errors, text.multi_line)
    values |= english_texts(raw, errors, MAX_NAME, MAX_DESCRIPTION)
    limits = {
        "business_name": MAX_NAME,
        "owner_name": MAX_NAME,
        "stall_block": MAX_STALL,
        "stall_number": MAX_STALL,
        "opening_hours": MAX_OPENING_HOURS,
    }
    for key, limit in limits.items():
        if len(values[key]) > limit:
            errors[key] = too_long(limit, len(values[key]))
    if len(description) > MAX_DESCRIPTION:
        errors["description"] = too_long(MAX_DESCRIPTION, len(description))
    if not values["business_name"] and "business_name" not in errors:
        errors["business_name"] = str(_l("Give the name of the business or stall."))
    whatsapp = None
    typed_phone = read_text(raw, "whatsapp", errors)
    if typed_phone:
        try:
            whatsapp = accounts.normalise_phone(typed_phone)
        except Invalid:
            errors["whatsapp"] = str(
                _l(
                    "“%(number)s” is not a valid phone number. Type it as the vendor says it, "
                    "e.g. 0812-3456-7890.",
                    number=typed_phone[:40],
                )
            )
    wanted = set(raw.get("category_ids") or ())
    known = all_categories() if categories is None else categories
    categories = list({c.id: c for c in known if c.id in wanted}.values())
    if len(categories) != len(wanted):
        errors["categories"] = str(_l("Choose categories from the list."))
    if errors:
        raise InvalidFields(errors)
    return Profile(description=description, whatsapp=whatsapp, categories=categories, **values)


def find_duplicates(
    market: Market,
    *,
    whatsapp: str | None,
    stall_block: str,
    stall_number: str,
    exclude_id: int | None = None,
) -> list[Vendor]:
    """Live vendors of the market with this WhatsApp number or this stall."""
    matches = []
    if whatsapp:
        matches.append(Vendor.whatsapp == whatsapp)
    if stall_number:
        matches.append(and_(Vendor.stall_block == stall_block, Vendor.stall_number == stall_number))
    if not matches:
        return []
    query = select(Vendor).where(
        Vendor.market_id == market.id, Vendor.deleted_at.is_(None), or_(*matches)
    )
    if exclude_id is not None:
        query = query.where(Vendor.id != exclude_id)
    return list(db.session.scalars(query.order_by(Vendor.id)))


def owned_stalls(owner: User) -> list[Vendor]:
    """The live stalls a vendor's account owns, with their markets."""
    return list(
        db.session.scalars(
            select(Vendor)
            .where(Vendor.owner_id == owner.id, Vendor.deleted_at.is_(None))
            .options(selectinload(Vendor.market))
        )
    )


def market_slugs(market: Market) -> set[str]:
    """Every slug used in the market, deleted vendors included (the column is unique)."""
    return set(db.session.scalars(select(Vendor.slug).where(Vendor.market_id == market.id)))


def claim_clean_address(vendor: Vendor, *, actor: User) -> dict[str, list[str]]:
    """At its first publication a stall takes the address its name gives it, even from a draft
    of the same market that holds it (an abandoned duplicate, say): a draft's address is
    public nowhere yet, while the published stall's goes on printed posters. A stall that is
    or was public keeps its address. Returns the vendor's slug change, if any."""
    clean = slugify(vendor.business_name)
    if vendor.published_at is not None or vendor.slug == clean:
        return {}
    holder = db.session.scalar(
        select(Vendor).where(Vendor.market_id == vendor.market_id, Vendor.slug == clean)
    )
    if holder is not None:
        was_public = holder.status == VendorStatus.PUBLISHED or holder.published_at is not None
        if was_public and holder.deleted_at is None:
            return {}
        moved = unique_slug(clean, market_slugs(vendor.market))
        record(actor, "vendor.update", holder, {"slug": [holder.slug, moved]})
        holder.slug = moved
        # The unique (market, slug) pair: the holder lets go before the vendor takes it.
        db.session.flush()
    change = {"slug": [vendor.slug, clean]}
    vendor.slug = clean
    return change


def register_vendor(
    market: Market, raw: Mapping[str, Any], *, actor: User, allow_duplicate: bool = False
) -> Vendor:
    """Save a new vendor as a draft at once; raise InvalidFields for bad input and
    DuplicateVendor (unless allowed) when the number or stall is taken in the market."""
    vendor = add_vendor(market, clean_profile(raw), actor=actor, allow_duplicate=allow_duplicate)
    db.session.commit()
    return vendor


def add_vendor(market: Market, profile: Profile, *, actor: User, allow_duplicate: bool) -> Vendor:
    """A new draft vendor in the session: flushed and audited, not committed."""
    if not allow_duplicate:
        duplicates = find_duplicates(
            market,
            whatsapp=profile.whatsapp,
            stall_block=profile.stall_block,
            stall_number=profile.stall_number,
        )
        if duplicates:
            raise DuplicateVendor(duplicates)
    # Two volunteers registering "Toko Sari" at the same moment may pick the same slug; the
    # unique constraint catches it and the next attempt sees the other one.
    for attempt in range(3):
        vendor = Vendor(
            market_id=market.id,
            slug=unique_slug(profile.business_name, market_slugs(market)),
            status=VendorStatus.DRAFT,
            onboarded_by_id=actor.id,
            categories=profile.categories,
            **profile.values(),
        )
        try:
            # A savepoint: a clash undoes this vendor alone, not what the request did before
            # (the outbox's idempotency claim, for one).
            with db.session.begin_nested():
                db.session.add(vendor)
            break
        except IntegrityError:
            if attempt == 2:
                raise
    created = {k: [None, v] for k, v in profile.values().items() if v}
    if profile.categories:
        created["categories"] = [None, [c.slug for c in profile.categories]]
    record(actor, "vendor.create", vendor, created)
    return vendor


def update_vendor(
    vendor: Vendor,
    raw: Mapping[str, Any],
    *,
    actor: User,
    version: int | None,
    allow_duplicate: bool = False,
) -> dict:
    """Save an edited profile; raise Conflict if someone saved it since the form was opened.

    The slug stays as it is, so links that were already shared keep working."""
    check_live_vendor(vendor)
    profile = clean_profile(raw)
    if version is not None and version != vendor.version:
        raise Conflict(str(STALE_MESSAGE))
    if not allow_duplicate and (
        profile.whatsapp != vendor.whatsapp
        or (profile.stall_block, profile.stall_number) != (vendor.stall_block, vendor.stall_number)
    ):
        duplicates = find_duplicates(
            vendor.market,
            whatsapp=profile.whatsapp,
            stall_block=profile.stall_block,
            stall_number=profile.stall_number,
            exclude_id=vendor.id,
        )
        if duplicates:
            raise DuplicateVendor(duplicates)
    changes = changes_of(vendor, profile.values())
    old_categories = [c.slug for c in vendor.categories]
    new_categories = [c.slug for c in profile.categories]
    if sorted(old_categories) != sorted(new_categories):
        changes["categories"] = [old_categories, new_categories]
        vendor.categories = profile.categories
    if not changes:
        return {}
    for key, (_old, new) in changes.items():
        if key != "categories":
            setattr(vendor, key, new)
    record(actor, "vendor.update", vendor, changes)
    commit_versioned()
    return changes


def commit_versioned() -> None:
    try:
        db.session.commit()
    except StaleDataError:
        db.session.rollback()
        raise Conflict(str(STALE_MESSAGE)) from None


def delete_vendor(vendor: Vendor, *, actor: User, reason: str = "") -> None:
    """Soft delete: gone from every page and list, kept for restore; open invitations end."""
    if vendor.deleted_at is not None:
        return
    now = utcnow()
    vendor.deleted_at = now
    revoke_open(vendor, now)
    record(actor, "vendor.delete", vendor, {"deleted_at": [None, now]}, reason=reason)
    commit_versioned()


def restore_vendor(vendor: Vendor, *, actor: User) -> None:
    if vendor.deleted_at is None:
        return
    record(actor, "vendor.restore", vendor, {"deleted_at": [vendor.deleted_at, None]})
    vendor.deleted_at = None
    commit_versioned()


# A stall closes for a day, a holiday or Lebaran: longer than that, a volunteer hides it.
MAX_CLOSED_DAYS = 60
MAX_CLOSED_NOTE = 160


def close_stall(vendor: Vendor, *, actor: User, until: date | None, note: str = "") -> None:
    """Tell shoppers the stall is closed up to and including ``until`` (today when None),
    with an optional note; the stall, market and product pages say so until that day ends."""
    check_live_vendor(vendor)
    today = local_today()
    until = until or today
    errors = {}
    if until < today:
        errors["until"] = _l("Choose today or a later day.")
    elif until > today + timedelta(days=MAX_CLOSED_DAYS):
        errors["until"] = _l("At most %(n)d days ahead.", n=MAX_CLOSED_DAYS)
    note = read_text({"note": note}, "note", errors)
    if len(note) > MAX_CLOSED_NOTE:
        errors["note"] = too_long(MAX_CLOSED_NOTE, len(note))
    if errors:
        raise InvalidFields(errors)
    changes = changes_of(vendor, {"closed_until": until, "closed_note": note})
    if not changes:
        return
    vendor.closed_until, vendor.closed_note = until, note
    record(actor, "vendor.close", vendor, changes)
    db.session.commit()


def reopen_stall(vendor: Vendor, *, actor: User) -> None:
    """Open again before the day set: the notice goes at once."""
    if vendor.closed_until is None:
        return
    record(actor, "vendor.reopen", vendor, {"closed_until": [vendor.closed_until, None]})
    vendor.closed_until, vendor.closed_note = None, ""
    db.session.commit()
