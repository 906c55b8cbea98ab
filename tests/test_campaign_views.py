"""Campaign pages: who may open them, creating a campaign through its form, the volunteer's
banner, charts whose numbers are the table's, and the city's report as a page and a CSV file."""

import csv
import io
import re
from datetime import timedelta
from html.parser import HTMLParser

import pytest
from sqlalchemy import select

from market.extensions import db
from market.models import Campaign, Role, utcnow
from market.services.reports import local_today
from tests.factories import (
    ROLES,
    assign,
    make_campaign,
    make_market,
    make_photo,
    make_product,
    make_user,
    make_vendor,
    make_world,
)
from tests.pages import (
    COORDINATORS,
    Route,
    check_access,
    csrf_token,
    form_values,
    log_in_english,
    login,
    reload,
    routes_of,
)

HERE = frozenset({"coordinator", "admin"})
DAY = timedelta(days=1)


def _campaign_path(suffix: str = ""):
    return lambda w: f"/admin/campaigns/{w.campaign.id}{suffix}"


def _form_fields(w) -> dict:
    return {
        "name": "Gerebek Pasar",
        "starts_on": local_today().isoformat(),
        "ends_on": (local_today() + 9 * DAY).isoformat(),
        "target_kind": "total",
        "markets-0-market_id": str(w.market.id),
        "markets-0-included": "y",
        "markets-0-stalls_target": "12",
        "markets-0-products_target": "40",
    }


ROUTES = [
    Route("campaigns.index", "GET", lambda w: "/admin/campaigns/", COORDINATORS, COORDINATORS),
    Route("campaigns.new", "GET", lambda w: "/admin/campaigns/new", COORDINATORS, COORDINATORS),
    # Another market's coordinator gets the form back: the market is not among their choices.
    Route(
        "campaigns.new",
        "POST",
        lambda w: "/admin/campaigns/new",
        COORDINATORS,
        COORDINATORS,
        data=_form_fields,
    ),
    Route("campaigns.progress", "GET", _campaign_path(), COORDINATORS, HERE),
    Route("campaigns.edit", "GET", _campaign_path("/edit"), COORDINATORS, HERE),
    Route("campaigns.edit", "POST", _campaign_path("/edit"), COORDINATORS, HERE, _form_fields),
    Route("campaigns.report", "GET", _campaign_path("/laporan"), COORDINATORS, HERE),
    Route("campaigns.report_csv", "GET", _campaign_path("/laporan.csv"), COORDINATORS, HERE),
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("route", ROUTES, ids=lambda r: f"{r.method} {r.endpoint}")
def test_who_may_use_each_campaign_route(client, route, role):
    world = make_world()
    world.campaign = make_campaign([world.market], [world.people["volunteer"]])
    check_access(client, world, route, role)


def test_every_campaign_route_is_in_the_matrix(app):
    covered = {(r.endpoint, r.method) for r in ROUTES}
    assert routes_of(app, "campaigns") <= covered, sorted(routes_of(app, "campaigns") - covered)


@pytest.fixture
def team(ctx):
    """A market with its coordinator and two volunteers; another market and its coordinator."""
    market, other = make_market(name="Pasar Inpres"), make_market(name="Pasar Klandasan")
    coordinator, other_coordinator = make_user(Role.COORDINATOR), make_user(Role.COORDINATOR)
    assign(coordinator, market, "coordinator")
    assign(other_coordinator, other, "coordinator")
    sari, budi = make_user(name="Sari"), make_user(name="Budi")
    assign(sari, market)
    assign(budi, market)
    return market, other, coordinator, other_coordinator, sari, budi


def _post_new(client, fields: dict):
    url = "/admin/campaigns/new"
    return client.post(url, data={"csrf_token": csrf_token(client, url)} | fields)


def test_a_coordinator_creates_a_campaign_and_the_team_sees_it_on_their_home(client, team):
    market, _other, coordinator, _oc, sari, budi = team
    assert login(client, coordinator.login).status_code == 302
    page = client.get("/admin/campaigns/new").get_data(as_text=True)
    fields = form_values(page, "")
    assert fields["markets-0-market_id"] == str(market.id)
    fields |= {
        "name": "Gerebek Pasar Balikpapan",
        "starts_on": (local_today() - 2 * DAY).isoformat(),
        "ends_on": (local_today() + 7 * DAY).isoformat(),
        "target_kind": "per_day",
        "markets-0-included": "y",
        "markets-0-stalls_target": "12",
        "markets-0-products_target": "40",
        "volunteers": str(sari.id),
    }
    response = _post_new(client, fields)
    assert response.status_code == 302
    reload()
    campaign = db.session.scalars(select(Campaign)).one()
    assert response.headers["Location"] == f"/admin/campaigns/{campaign.id}"
    assert (campaign.name, campaign.days, campaign.volunteers) == (
        "Gerebek Pasar Balikpapan",
        10,
        [sari],
    )
    now = utcnow()
    for _ in range(7):
        make_vendor(market, published_at=now)
    make_vendor(market, published_at=now - DAY)

    client.get("/auth/logout")
    assert login(client, sari.login).status_code == 302
    home = client.get("/manage/").get_data(as_text=True)
    assert "Kampanye: Gerebek Pasar Balikpapan" in home
    assert "hari ke-3 dari 10, target hari ini 12 lapak, sudah 7" in home
    client.get("/auth/logout")
    assert login(client, budi.login).status_code == 302  # not in the team
    assert "Kampanye" not in client.get("/manage/").get_data(as_text=True)


def test_bad_input_comes_back_with_messages_and_what_was_typed(client, team):
    _market, other, coordinator, *_rest = team
    log_in_english(client, coordinator)
    response = _post_new(
        client,
        {
            "name": "Gerebek Pasar",
            "starts_on": "2027-13-45",
            "ends_on": "",
            "markets-0-market_id": str(other.id),  # not theirs
            "markets-0-included": "y",
            "markets-0-stalls_target": "-3",
        },
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Not a valid date value." in page
    assert "A target cannot be negative." in page
    assert 'value="Gerebek Pasar"' in page
    assert db.session.scalars(select(Campaign)).all() == []
    # A market that is not theirs, with a valid target: refused by the rules, not the form.
    fields = {
        "name": "Gerebek Pasar",
        "starts_on": local_today().isoformat(),
        "ends_on": local_today().isoformat(),
        "markets-0-market_id": str(other.id),
        "markets-0-included": "y",
    }
    page = _post_new(client, fields).get_data(as_text=True)
    assert "Choose only markets you coordinate." in page
    assert "Choose the last day." in _post_new(client, fields | {"ends_on": ""}).get_data(
        as_text=True
    )
    assert db.session.scalars(select(Campaign)).all() == []


def test_a_coordinator_lists_only_campaigns_of_their_markets(client, team):
    market, other, coordinator, _other_coordinator, *_rest = team
    mine = make_campaign([market], name="Kampanye Inpres")
    make_campaign([other], name="Kampanye Klandasan")
    make_campaign([market, other], name="Kampanye Kota")
    assert login(client, coordinator.login).status_code == 302
    page = client.get("/admin/campaigns/").get_data(as_text=True)
    assert "Kampanye Inpres" in page
    assert "Kampanye Klandasan" not in page and "Kampanye Kota" not in page
    assert client.get(f"/admin/campaigns/{mine.id}").status_code == 200


AXIS_Y, PLOT_HEIGHT = 160, 150  # where the charts draw zero, and how tall the tallest bar is


class _Numbers(HTMLParser):
    """The numbers of each chart's bars and of each table's rows, by chart/table and day."""

    def __init__(self):
        super().__init__()
        self.bars: dict[str, dict[str, tuple[int, int]]] = {}
        self.drawn: dict[str, dict[str, list[float]]] = {}  # bar height, target line's height
        self.rows: dict[str, dict[str, dict[str, int]]] = {}
        self.svg_roles: list[str | None] = []
        self._chart = self._table = self._day = self._cell = self._bar = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "svg" and "data-chart" in a:
            self._chart = a["data-chart"]
            self.svg_roles.append(a.get("role"))
        elif tag == "g" and self._chart and "data-day" in a:
            self.bars.setdefault(self._chart, {})[a["data-day"]] = (
                int(a["data-value"]),
                int(a["data-target"]),
            )
            self._bar = self.drawn.setdefault(self._chart, {})[a["data-day"]] = []
        elif tag == "rect" and self._bar is not None:
            self._bar.append(float(a["height"]))
        elif tag == "line" and self._bar is not None:
            self._bar.append(AXIS_Y - float(a["y1"]))
        elif tag == "table" and "data-table" in a:
            self._table = a["data-table"]
        elif tag == "tr" and self._table and "data-day" in a:
            self._day = a["data-day"]
            self.rows.setdefault(self._table, {})[self._day] = {}
        elif tag == "td" and self._day:
            self._cell = next((k for k in a if k.startswith("data-")), None)

    def handle_data(self, data):
        if self._cell and data.strip():
            self.rows[self._table][self._day][self._cell.removeprefix("data-")] = int(data)

    def handle_endtag(self, tag):
        if tag == "svg":
            self._chart = None
        elif tag == "g":
            self._bar = None
        elif tag == "table":
            self._table = None
        elif tag == "tr":
            self._day = None
        elif tag == "td":
            self._cell = None


def test_the_charts_show_the_tables_numbers_counted_from_real_rows(client, team):
    market, other, coordinator, *_rest = team
    assign(coordinator, other, "coordinator")
    campaign = make_campaign([market, other], targets=[(10, 20), (5, 0)])
    now = utcnow()
    for _ in range(3):
        make_vendor(market, published_at=now)
    make_vendor(other, published_at=now - DAY)
    vendor = make_vendor(market, published_at=now - 2 * DAY)
    for _ in range(4):
        make_photo(vendor, make_product(vendor))

    assert login(client, coordinator.login).status_code == 302
    page = client.get(f"/admin/campaigns/{campaign.id}").get_data(as_text=True)
    numbers = _Numbers()
    numbers.feed(page)

    today = local_today()
    stalls = numbers.bars["all-stalls"]
    assert stalls[today.isoformat()][0] == 3
    assert stalls[(today - DAY).isoformat()][0] == 1
    assert stalls[(today - 2 * DAY).isoformat()][0] == 1
    assert numbers.bars["all-products"][today.isoformat()][0] == 4
    assert numbers.bars[f"market-{other.id}-stalls"][(today - DAY).isoformat()][0] == 1
    assert set(numbers.svg_roles) == {"img"}
    # Every bar and target line of every chart stands in its table.
    for chart, bars in numbers.bars.items():
        table, kind = chart.rsplit("-", 1)
        for day, (value, target) in bars.items():
            row = numbers.rows[table][day]
            assert (row[kind], row[f"{kind}-target"]) == (value, target), (chart, day)
        # What is drawn is what the numbers say, on the chart's scale.
        scale = PLOT_HEIGHT / max(1, *(n for pair in bars.values() for n in pair))
        for day, (height, target_height) in numbers.drawn[chart].items():
            value, target = bars[day]
            assert height == pytest.approx(value * scale, abs=0.1), (chart, day)
            assert target_height == pytest.approx(target * scale, abs=0.1), (chart, day)
    assert len(numbers.bars) == 6 and all(len(b) == 10 for b in numbers.bars.values())
    assert re.search(r"<desc id=\"all-stalls-desc\">5 lapak dari target 15 dalam 10 hari", page)


def test_the_report_speaks_indonesian_or_english(client, team):
    market, _other, coordinator, *_rest = team
    campaign = make_campaign([market], name="Gerebek Pasar")
    make_vendor(market, published_at=utcnow())
    assert login(client, coordinator.login).status_code == 302
    page = client.get(f"/admin/campaigns/{campaign.id}/laporan").get_data(as_text=True)
    assert "Laporan kampanye" in page and "Total per pasar" in page
    assert 'role="img"' in page
    client.get("/?lang=en")
    page = client.get(f"/admin/campaigns/{campaign.id}/laporan").get_data(as_text=True)
    assert "Campaign report" in page and "Totals per market" in page


def test_the_report_csv_downloads_in_the_readers_language(client, team):
    market, _other, coordinator, *_rest = team
    campaign = make_campaign([market], days=2, days_before=0, targets=[(4, 0)])
    make_vendor(market, published_at=utcnow())
    assert login(client, coordinator.login).status_code == 302
    response = client.get(f"/admin/campaigns/{campaign.id}/laporan.csv?delimiter=semicolon")
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="kampanye-')
    rows = list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:3] == ["Pasar", "Hari", "Lapak terbit"]
    assert rows[1][:4] == [market.name, local_today().isoformat(), "1", "2"]
    assert rows[-1][:4] == ["Semua pasar", "Total", "1", "4"]
