"""The search synonyms coordinators keep: what shoppers type (a regional spelling, a common
typo, an English word) and the words the stalls use for it.

Search reads the table on every query (market.services.search), so a change counts at once;
the page cache forgets the pages with search results when a synonym changes
(market.pagecache). Every change is audited; a removed pair can be added back from the list
of recent removals, which the audit trail keeps.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from market.extensions import db
from market.models import AuditEvent, Synonym, User
from market.services import search
from market.services.audit import record
from market.services.errors import Invalid
from market.services.fields import read_text, too_long

MAX_LENGTH = 80  # the column's width
RECENT_REMOVALS = 10


class InvalidSynonym(Invalid):
    """Some fields are wrong; ``errors`` maps each field name to a message fit to show."""

    def __init__(self, errors: Mapping[str, Any]):
        self.errors = dict(errors)
        super().__init__("; ".join(f"{k}: {v}" for k, v in self.errors.items()))


def list_synonyms() -> list[Synonym]:
    return list(db.session.scalars(select(Synonym).order_by(Synonym.phrase, Synonym.means)))


def _read(raw: Mapping[str, Any], key: str, errors: dict[str, str], empty: str) -> str:
    typed = read_text(raw, key, errors)
    # Stored as search compares it: lower case, no accents or punctuation ("Oleh-oleh" is
    # "oleh oleh"), so what a coordinator types matches what a shopper types.
    value = search.normalise(typed)
    if key in errors:
        return ""
    if not value:
        errors[key] = str(empty)
    elif len(value) > MAX_LENGTH:
        errors[key] = too_long(MAX_LENGTH, len(value))
    return value


def add_synonym(raw: Mapping[str, Any], *, actor: User) -> list[Synonym]:
    """Add a pair from typed ``phrase`` and ``means`` (both ways when ``both_ways``, as for two
    spellings of one word); return the rows added. Raise InvalidSynonym naming each problem."""
    errors: dict[str, str] = {}
    phrase = _read(raw, "phrase", errors, _l("Type what shoppers search for."))
    means = _read(raw, "means", errors, _l("Type the word the stalls use."))
    # Search looks up phrases of up to this many words; a longer one would never match.
    if len(phrase.split()) > search._MAX_PHRASE:
        errors["phrase"] = str(_l("At most %(num)d words.", num=search._MAX_PHRASE))
    if phrase and phrase == means:
        errors["means"] = str(_l("That is the same word; search finds it already."))
    if errors:
        raise InvalidSynonym(errors)
    pairs = [(phrase, means)] + ([(means, phrase)] if raw.get("both_ways") else [])
    known = {tuple(row) for row in db.session.execute(select(Synonym.phrase, Synonym.means))}
    wanted = [pair for pair in pairs if pair not in known]
    if not wanted:
        raise InvalidSynonym({"phrase": _l("This pair is in the list already.")})
    added = []
    for one, other in wanted:
        synonym = Synonym(phrase=one, means=other)
        db.session.add(synonym)
        record(actor, "synonym.add", synonym, {"phrase": [None, one], "means": [None, other]})
        added.append(synonym)
    db.session.commit()
    return added


def remove_synonym(synonym: Synonym, *, actor: User) -> None:
    """Take a pair out of search; the audit trail keeps it, to be added back."""
    record(
        actor,
        "synonym.remove",
        synonym,
        {"phrase": [synonym.phrase, None], "means": [synonym.means, None]},
    )
    db.session.delete(synonym)
    db.session.commit()


@dataclass
class Removal:
    phrase: str
    means: str
    at: datetime
    by: User | None


def recent_removals(limit: int = RECENT_REMOVALS) -> list[Removal]:
    """The pairs removed lately and not added back since, newest first."""
    known = {tuple(row) for row in db.session.execute(select(Synonym.phrase, Synonym.means))}
    events = db.session.scalars(
        select(AuditEvent)
        .where(AuditEvent.action == "synonym.remove")
        .options(selectinload(AuditEvent.actor))
        .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
        .limit(limit * 3)
    )
    removals, seen = [], set()
    for event in events:
        pair = (event.changes["phrase"][0], event.changes["means"][0])
        if pair in known or pair in seen:
            continue
        seen.add(pair)
        removals.append(Removal(*pair, at=event.created_at, by=event.actor))
    return removals[:limit]
