"""A market's opening hours per day of the week: reading them from the coordinator's form and
summarising them for the public pages.

They are kept as a list of seven entries, Monday first: ``{"opens": "07:00", "closes": "17:00"}``
for a day the market opens, None for a day it is closed. A market without them (None) shows only
its free-text note. Whether the market is open *now* is worked out in the visitor's browser
(static/js/storefront.js), never on the server: see ``open_now_data``.
"""

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import get_day_names
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

DAYS = 7
DEFAULT_TIMEZONE = "Asia/Makassar"
# Indonesia's three zones, the ones a market here can be in.
TIMEZONES = (
    ("Asia/Jakarta", _l("WIB (Western Indonesia)")),
    ("Asia/Makassar", _l("WITA (Central Indonesia, e.g. Balikpapan)")),
    ("Asia/Jayapura", _l("WIT (Eastern Indonesia)")),
)
_TIME = re.compile(r"^([01]?\d|2[0-3])[.:]([0-5]\d)$")

WeekHours = list[dict[str, str] | None]


def _read_time(value: Any) -> str | None:
    """ "07:00" from 07:00, 7.00 or 7:00 (what a phone's time input or a person types)."""
    match = _TIME.match(str(value or "").strip())
    return f"{int(match[1]):02d}:{match[2]}" if match else None


def read_week(rows: Sequence[Mapping[str, Any]], errors: dict[str, str]) -> WeekHours | None:
    """The hours from one form row per day (opens, closes, closed), Monday first. Rows left
    empty on every day mean "not given" (None); otherwise each day is either closed or has
    both times, closing after opening. Problems go to ``errors`` under ``hours-<day>``."""
    if len(rows) != DAYS:
        errors["hours"] = str(_l("Give the hours of all seven days."))
        return None
    if all(not (row.get("opens") or row.get("closes") or row.get("closed")) for row in rows):
        return None
    week: WeekHours = []
    for day, row in enumerate(rows):
        key = f"hours-{day}"
        if row.get("closed"):
            week.append(None)
            continue
        typed = (row.get("opens") or "", row.get("closes") or "")
        opens, closes = (_read_time(value) for value in typed)
        if not all(typed):
            errors[key] = str(_l("Give the opening and closing time, or tick Closed."))
        elif opens is None or closes is None:
            errors[key] = str(_l("Give a time such as 07.00."))
        elif closes <= opens:
            errors[key] = str(_l("The closing time must be after the opening time."))
        week.append({"opens": opens or "", "closes": closes or ""})
    return week


def form_rows(week: WeekHours | None) -> list[dict[str, Any]]:
    """The form's seven rows for stored hours."""
    if not week:
        return [{"opens": "", "closes": "", "closed": False} for _ in range(DAYS)]
    return [
        {"opens": "", "closes": "", "closed": True} if day is None else {**day, "closed": False}
        for day in week
    ]


def _clock(time: str) -> str:
    # Indonesian writes 07.00; English 07:00.
    return time.replace(":", ".") if str(get_locale()) == "id" else time


def day_names(width: str = "wide") -> list[str]:
    """Monday first, in the page's language."""
    names = get_day_names(width, locale=str(get_locale()))
    return [names[day] for day in range(DAYS)]


def week_summary(week: WeekHours | None) -> list[tuple[str, str]]:
    """(days, hours) lines with neighbouring days of the same hours joined: Sen-Sab
    07.00-17.00, Min tutup. The same at any time of day, so a cached page can hold it."""
    if not week:
        return []
    names = day_names("abbreviated")
    lines: list[tuple[str, str]] = []
    start = 0
    for day in range(1, DAYS + 1):
        if day < DAYS and week[day] == week[start]:
            continue
        days = names[start] if day - 1 == start else f"{names[start]}–{names[day - 1]}"
        hours = week[start]
        lines.append(
            (
                days,
                f"{_clock(hours['opens'])}–{_clock(hours['closes'])}"
                if hours
                else str(_l("closed")),
            )
        )
        start = day
    return lines


def open_now_data(week: WeekHours | None, timezone: str) -> dict[str, Any] | None:
    """What the browser needs to say "Buka sekarang" or "Tutup — buka lagi Senin 07.00".

    Public pages are cached for every visitor and kept until the market changes, so a label
    computed here would go on saying "open" after closing time. The page carries the week and
    the words instead, and a small script picks the label from the visitor's clock in the
    market's time zone; without JavaScript the page shows the week's hours, which never go
    stale."""
    if not week:
        return None
    return {
        "week": [[day["opens"], day["closes"]] if day else None for day in week],
        "timezone": timezone or DEFAULT_TIMEZONE,
        "days": day_names(),
        "clock": "." if str(get_locale()) == "id" else ":",
        "open": str(_l("Open now — closes at %(time)s")),
        "later": str(_l("Closed — opens again at %(time)s")),
        "closed": str(_l("Closed — opens again %(day)s %(time)s")),
    }


@dataclass(frozen=True)
class OpenState:
    """Whether a market is open at a moment, and when that next changes (None: never, as for
    a market closed every day)."""

    open: bool
    changes_at: datetime | None


def open_state(week: WeekHours | None, timezone: str, now: datetime) -> OpenState | None:
    """The state at ``now`` (aware) by the browser's rule (static/js/storefront.js): open from
    a day's opening time until its closing time, in the market's time zone. None without
    hours. For the API, which answers with a state rather than words for a script."""
    if not week:
        return None
    zone = ZoneInfo(timezone or DEFAULT_TIMEZONE)
    local = now.astimezone(zone)
    for ahead in range(DAYS + 1):
        day: date = local.date() + timedelta(days=ahead)
        hours = week[day.weekday()]
        if not hours:
            continue
        opens, closes = (
            datetime.combine(day, time.fromisoformat(hours[key]), zone)
            for key in ("opens", "closes")
        )
        if local < opens:
            return OpenState(False, opens)
        if local < closes:
            return OpenState(True, closes)
    return OpenState(False, None)
