"""A market's opening hours per day: the coordinator's form, the checks, the public pages."""

import json
import re

import pytest

from market.extensions import db
from market.models import Role
from market.services import hours
from market.services.markets import update_market
from market.services.vendors import InvalidFields
from tests.factories import make_market, make_user, make_world
from tests.pages import csrf_token, login

WEEKDAYS = {"opens": "07:00", "closes": "17:00"}


def week_form(rows: dict[int, dict]) -> dict[str, str]:
    """The form's fields: one row per day, Monday first; days not given are left empty."""
    data = {}
    for day in range(7):
        for key, value in rows.get(day, {}).items():
            data[f"hours-{day}-{key}"] = "y" if value is True else value
    return data


def edit(client, market, rows: dict[int, dict], lang: str = "en", **fields):
    page = f"/admin/markets/{market.id}/edit?lang={lang}"
    data = {
        "name": market.name,
        "city": market.city,
        "province": market.province,
        "timezone": "Asia/Makassar",
        "published": "y",
        **week_form(rows),
        **fields,
        "csrf_token": csrf_token(client, page),
    }
    return client.post(page, data=data)


def test_read_week_accepts_what_phones_and_people_type(ctx):
    errors = {}
    rows = [{"opens": "7.00", "closes": "17:30"}] * 6 + [{"closed": True}]
    week = hours.read_week(rows, errors)
    assert errors == {}
    assert week == [{"opens": "07:00", "closes": "17:30"}] * 6 + [None]


def test_read_week_empty_means_not_given(ctx):
    errors = {}
    assert hours.read_week([{"opens": "", "closes": "", "closed": False}] * 7, errors) is None
    assert errors == {}


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ({"opens": "07:00", "closes": ""}, "Give the opening and closing time, or tick Closed."),
        ({"opens": "", "closes": ""}, "Give the opening and closing time, or tick Closed."),
        ({"opens": "25:00", "closes": "26:00"}, "Give a time such as 07.00."),
        ({"opens": "pagi", "closes": "17:00"}, "Give a time such as 07.00."),
        ({"opens": "17:00", "closes": "07:00"}, "The closing time must be after the opening time."),
        ({"opens": "07:00", "closes": "07:00"}, "The closing time must be after the opening time."),
    ],
)
def test_read_week_names_the_day_that_is_wrong(en, row, message):
    errors = {}
    hours.read_week([WEEKDAYS] * 3 + [row] + [WEEKDAYS] * 3, errors)
    assert errors == {"hours-3": message}


def test_summary_joins_neighbouring_days(ctx):
    week = [WEEKDAYS] * 5 + [{"opens": "07:00", "closes": "12:00"}, None]
    assert hours.week_summary(week) == [
        ("Sen–Jum", "07.00–17.00"),
        ("Sab", "07.00–12.00"),
        ("Min", "tutup"),
    ]
    assert hours.week_summary(None) == []


def test_coordinator_saves_the_week_and_the_page_shows_it(client):
    world = make_world()
    login(client, world.people["coordinator"].email)
    rows = {day: WEEKDAYS for day in range(6)} | {6: {"closed": True}}
    response = edit(client, world.market, rows, opening_hours="Jumat tutup 11.30–13.30")
    assert response.status_code == 302, response.get_data(as_text=True)
    assert response.headers["Location"] == f"/admin/markets/{world.market.id}"
    db.session.rollback()  # a new transaction sees what the request committed
    assert world.market.weekly_hours == [WEEKDAYS] * 6 + [None]
    assert world.market.opening_hours == "Jumat tutup 11.30–13.30"
    form = client.get(f"/admin/markets/{world.market.id}/edit?lang=en").get_data(as_text=True)
    assert 'name="hours-0-opens" type="time" value="07:00"' in form
    assert '<input checked id="hours-6-closed"' in form
    client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/auth/login")})
    english = client.get(f"/pasar/{world.market.slug}/?lang=en").get_data(as_text=True)
    assert "Mon–Sat 07:00–17:00" in english and "Sun closed" in english
    html = client.get(f"/pasar/{world.market.slug}/?lang=id").get_data(as_text=True)
    assert "Sen–Sab 07.00–17.00" in html and "Min tutup" in html
    assert "Jumat tutup 11.30–13.30" in html
    data = json.loads(re.search(r"data-open-now='([^']*)'", html)[1])
    assert data["week"] == [["07:00", "17:00"]] * 6 + [None]
    assert data["timezone"] == "Asia/Makassar"
    assert data["open"] == "Buka sekarang — tutup pukul %(time)s"
    assert '"dayOfWeek": "https://schema.org/Saturday", "opens": "07:00"' in html
    assert "schema.org/Sunday" not in html


def test_wrong_hours_are_refused_with_the_day_named_and_nothing_changes(client):
    world = make_world()
    login(client, world.people["coordinator"].email)
    rows = {day: WEEKDAYS for day in range(7)} | {2: {"opens": "17:00", "closes": "08:00"}}
    response = edit(client, world.market, rows, name="Pasar Lain")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'id="hours-2-opens-error">The closing time must be after the opening time.' in html
    assert 'value="17:00"' in html  # what was typed stays in the form
    db.session.rollback()  # a new transaction sees what the request committed
    assert world.market.weekly_hours is None and world.market.name != "Pasar Lain"


def test_errors_are_translated(client):
    world = make_world()
    login(client, world.people["coordinator"].email)
    html = edit(client, world.market, {0: {"opens": "07:00"}}, lang="id").get_data(as_text=True)
    assert "Isi jam buka dan jam tutup, atau centang Tutup." in html


def test_an_unknown_time_zone_is_refused(client):
    world = make_world()
    login(client, world.people["coordinator"].email)
    html = edit(client, world.market, {}, timezone="Europe/Paris").get_data(as_text=True)
    assert "Not a valid choice." in html
    db.session.rollback()  # a new transaction sees what the request committed
    assert world.market.timezone == "Asia/Makassar"


def test_a_market_without_weekly_hours_shows_only_its_note(client):
    market = make_market(opening_hours="Setiap hari pagi", published=True)
    html = client.get(f"/pasar/{market.slug}/").get_data(as_text=True)
    assert "Setiap hari pagi" in html and "data-open-now" not in html


def test_the_service_refuses_a_zone_outside_indonesia_and_a_short_week(en):
    market = make_market()
    coordinator = make_user(Role.ADMIN)
    raw = {"name": market.name, "city": market.city, "province": market.province}
    with pytest.raises(InvalidFields) as refused:
        update_market(
            market, {**raw, "timezone": "Europe/Paris", "hours": [WEEKDAYS] * 6}, actor=coordinator
        )
    assert refused.value.errors == {
        "timezone": "Choose one of the listed time zones.",
        "hours": "Give the hours of all seven days.",
    }
    # Without the week and the zone (an import, a script), both stay as they were.
    update_market(market, {**raw, "address": "Jl. Baru"}, actor=coordinator)
    assert market.timezone == "Asia/Makassar" and market.address == "Jl. Baru"
