"""The API's markets carry their weekly hours, time zone and whether they are open now; a
response says until when that holds, and no cache keeps it longer."""

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import pytest

from market.services.hours import OpenState, open_state
from tests.factories import make_market
from tests.test_api import _checked

# Closed on Mondays, 06.00–18.00 the other days (as the Klandasan demo market).
WEEK = [None] + [{"opens": "06:00", "closes": "18:00"}] * 6
WITA = "Asia/Makassar"  # UTC+8


def _utc(day: int, hour: int, minute: int = 0) -> datetime:
    """A moment of the week of Monday 7 December 2026, in UTC."""
    return datetime(2026, 12, day, hour, minute, tzinfo=UTC)


@pytest.mark.parametrize(
    ("now", "state"),
    [
        # Monday 10.00 WITA: closed all day, opens Tuesday 06.00 WITA.
        (_utc(7, 2), OpenState(False, _utc(7, 22))),
        # Tuesday 06.00 WITA sharp: open until 18.00.
        (_utc(7, 22), OpenState(True, _utc(8, 10))),
        # Tuesday 17.59: still open; 18.00: closed until Wednesday 06.00.
        (_utc(8, 9, 59), OpenState(True, _utc(8, 10))),
        (_utc(8, 10), OpenState(False, _utc(8, 22))),
        # Sunday 23.00 WITA: the next opening is after the closed Monday.
        (_utc(13, 15), OpenState(False, _utc(14, 22))),
    ],
)
def test_open_state_in_the_markets_time_zone(now, state):
    assert open_state(WEEK, WITA, now) == state


def test_the_same_hours_in_another_zone_and_weeks_without_hours():
    # 10.00 UTC is 17.00 in Jakarta (open) and 19.00 in Jayapura (closed).
    assert open_state(WEEK, "Asia/Jakarta", _utc(8, 10)).open is True
    assert open_state(WEEK, "Asia/Jayapura", _utc(8, 10)).open is False
    assert open_state([None] * 7, WITA, _utc(8, 10)) == OpenState(False, None)
    assert open_state(None, WITA, _utc(8, 10)) is None


def test_the_api_gives_hours_time_zone_and_the_state_until_it_changes(client, monkeypatch):
    market = make_market(weekly_hours=WEEK, timezone=WITA)
    without = make_market()
    monkeypatch.setattr("market.api.views.utcnow", lambda: _utc(8, 9, 30))
    data = _checked(client, f"/api/v1/markets/{market.slug}")
    assert (data["weekly_hours"], data["timezone"]) == (WEEK, WITA)
    assert (data["open_now"], data["open_now_changes_at"]) == (True, "2026-12-08T18:00:00+08:00")
    listed = {m["slug"]: m for m in _checked(client, "/api/v1/markets")["items"]}
    assert listed[market.slug]["open_now"] is True
    assert (listed[without.slug]["weekly_hours"], listed[without.slug]["open_now"]) == (None, None)
    assert listed[without.slug]["open_now_changes_at"] is None


def test_no_cache_keeps_the_state_past_its_change(app, client, monkeypatch):
    market = make_market(weekly_hours=WEEK, timezone=WITA)
    path = f"/api/v1/markets/{market.slug}"
    clock = {"now": _utc(8, 9, 30)}  # Tuesday 17.30 WITA
    monkeypatch.setattr("market.api.views.utcnow", lambda: clock["now"])
    monkeypatch.setattr("market.pagecache.utcnow", lambda: clock["now"])
    monkeypatch.setitem(app.config, "MARKET_SHARED_CACHE_SECONDS", 3600)
    monkeypatch.setitem(app.config, "MARKET_STALE_SECONDS", 30)
    app.config["MARKET_CACHE_DEBUG_HEADER"] = True
    try:
        first = client.get(path)
        assert parsedate_to_datetime(first.headers["Expires"]) == _utc(8, 10)
        # Half an hour to go: shared caches keep it that long rather than an hour, never stale.
        assert first.cache_control.s_maxage == 1800
        assert first.cache_control.stale_while_revalidate is None
        again = client.get(path)
        assert (again.headers["X-Cache"], again.get_json()["open_now"]) == ("HIT", True)

        clock["now"] = _utc(8, 10, 1)  # 18.01: closed
        later = client.get(path)
        assert later.headers["X-Cache"] == "MISS"
        assert later.get_json()["open_now"] is False
        assert later.get_json()["open_now_changes_at"] == "2026-12-09T06:00:00+08:00"
    finally:
        app.config["MARKET_CACHE_DEBUG_HEADER"] = False
