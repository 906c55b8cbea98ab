"""The audit trail: every change is recorded with who made it, on what, and what changed."""

import logging
from typing import Any

from market.extensions import db
from market.models import AuditEvent, Market, Product, User, Vendor, utcnow

security_log = logging.getLogger("market.security")

MAX_REASON = 255  # the AuditEvent.reason column


def _market_id(record: Any) -> int | None:
    if isinstance(record, Market):
        return record.id
    if isinstance(record, Vendor):
        return record.market_id
    if isinstance(record, Product):
        return record.vendor.market_id
    return getattr(record, "market_id", None)


def record(
    actor: User | None,
    action: str,
    target: Any,
    changes: dict | None = None,
    reason: str = "",
) -> AuditEvent:
    """Add an audit event to the session; the calling service commits it with the change."""
    if getattr(target, "id", None) is None:
        db.session.flush()
    event = AuditEvent(
        actor_id=actor.id if actor is not None and actor.is_authenticated else None,
        action=action,
        record_type=type(target).__name__.lower(),
        record_id=target.id,
        market_id=_market_id(target),
        changes=_jsonable(changes or {}),
        reason=reason,
    )
    db.session.add(event)
    return event


def changes_of(record: Any, new_values: dict) -> dict:
    """The fields whose value differs, as {field: [old, new]}."""
    changed = {}
    for field, new in new_values.items():
        old = getattr(record, field)
        if old != new:
            changed[field] = [old, new]
    return changed


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def security_event(event: str, actor: User | None = None, **fields: Any) -> None:
    """Log a security event with its actor and UTC time. Values are repr()'d so CR/LF in input
    cannot forge log lines; callers pass record ids, never names, phone numbers or tokens."""
    details = " ".join(f"{key}={value!r}" for key, value in sorted(fields.items()))
    actor_id = actor.id if actor is not None else None
    at = utcnow().strftime("%Y-%m-%dT%H:%M:%SZ")
    security_log.info("%s actor=%s at=%s %s", event, actor_id, at, details)
