"""Markets: their fields, creating and editing them. Every change is audited."""

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from market import text
from market.extensions import db
from market.models import Market, MarketStaff, Role, StaffRole, User
from market.services import hours
from market.services.audit import changes_of, record
from market.services.fields import read_text, too_long
from market.services.slugs import slugify, unique_slug
from market.services.vendors import MAX_OPENING_HOURS, InvalidFields


def clean_market(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Check a market's fields; raise InvalidFields naming every problem."""
    errors: dict[str, str] = {}
    values: dict[str, Any] = {
        "name": read_text(raw, "name", errors, text.name),
        "city": read_text(raw, "city", errors, text.name),
        "province": read_text(raw, "province", errors, text.name),
        "address": read_text(raw, "address", errors),
        "description": read_text(raw, "description", errors, text.multi_line),
        "opening_hours": read_text(raw, "opening_hours", errors),
        "published": bool(raw.get("published")),
    }
    # The week and the zone come from the market form; an import or a script that does not
    # name them leaves them as they are.
    if "hours" in raw:
        values["weekly_hours"] = hours.read_week(raw["hours"] or [], errors)
    if "timezone" in raw:
        values["timezone"] = raw["timezone"] or hours.DEFAULT_TIMEZONE
        if values["timezone"] not in {zone for zone, _label in hours.TIMEZONES}:
            errors["timezone"] = str(_l("Choose one of the listed time zones."))
    for key, limit in (("name", 120), ("city", 80), ("province", 80), ("address", 255)):
        if len(values[key]) > limit:
            errors[key] = too_long(limit, len(values[key]))
    if len(values["opening_hours"]) > MAX_OPENING_HOURS:
        errors["opening_hours"] = too_long(MAX_OPENING_HOURS, len(values["opening_hours"]))
    if len(values["description"]) > 4000:
        errors["description"] = too_long(4000, len(values["description"]))
    for key in ("name", "city", "province"):
        if not values[key] and key not in errors:
            errors[key] = str(_l("This field is required."))
    for key, bound in (("latitude", 90), ("longitude", 180)):
        typed = read_text(raw, key, errors).replace(",", ".")
        values[key] = None
        if typed:
            try:
                number = Decimal(typed).quantize(Decimal("0.000001"))
            except InvalidOperation:
                number = None
            if number is None or not -bound <= number <= bound:
                errors[key] = str(_l("Give a number between -%(n)d and %(n)d.", n=bound))
            else:
                values[key] = number
    if errors:
        raise InvalidFields(errors)
    return values


def create_market(raw: Mapping[str, Any], *, actor: User) -> Market:
    """A new market; a coordinator who creates one coordinates it."""
    values = clean_market(raw)
    taken = set(db.session.scalars(select(Market.slug)))
    slug = unique_slug(slugify(text.one_line(raw.get("slug")) or values["name"]), taken)
    market = Market(slug=slug, **values)
    db.session.add(market)
    if actor.role == Role.COORDINATOR:
        db.session.add(MarketStaff(market=market, user_id=actor.id, role=StaffRole.COORDINATOR))
    db.session.flush()
    record(actor, "market.create", market, {k: [None, v] for k, v in values.items() if v})
    db.session.commit()
    return market


def update_market(market: Market, raw: Mapping[str, Any], *, actor: User) -> dict:
    """Save a market's fields; the slug stays, so shared links keep working."""
    values = clean_market(raw)
    changes = changes_of(market, values)
    if changes:
        for key, (_old, new) in changes.items():
            setattr(market, key, new)
        record(actor, "market.update", market, changes)
        db.session.commit()
    return changes
