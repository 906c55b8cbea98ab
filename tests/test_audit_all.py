"""The admins' audit log across markets: readable in the reader's language, filtered by
market, person, kind of change and days (a GET form, paginated), and exported as CSV that a
spreadsheet cannot run."""

import csv
import io
import re
from datetime import timedelta

from sqlalchemy import update

from market.extensions import db
from market.models import AuditEvent, Availability, utcnow
from market.services import accounts
from market.services.products import set_availability
from tests.factories import make_product, make_world
from tests.pages import log_in_english, login, reload


def _done(html: str, label: str) -> int:
    """How many events of the list read "<person> <label>" (the filter's options aside)."""
    return len(re.findall(rf"</strong> {re.escape(label)}", html))


def _csv_rows(response) -> list[list[str]]:
    text = response.get_data().decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


def _busy_world():
    """A sold-out product in the first market, a switched-off volunteer, and a change in the
    other market by its own volunteer."""
    world = make_world()
    product = make_product(world.vendor, name="Amplang kepiting")
    set_availability(product, Availability.SOLD_OUT, actor=world.people["volunteer"])
    accounts.deactivate(
        world.people["volunteer"], actor=world.people["coordinator"], reason="pindah kota"
    )
    other = make_product(world.other_vendor, name="Kain ulap doyo")
    set_availability(other, Availability.PRE_ORDER, actor=world.people["other_volunteer"])
    return world


def test_admins_read_every_market_in_words_not_codes(client):
    world = _busy_world()
    log_in_english(client, world.people["admin"])
    page = client.get("/admin/audit").get_data(as_text=True)
    assert "changed the availability of" in page and "Amplang kepiting" in page
    assert "In stock" in page and "Sold out" in page and "in_stock" not in page
    assert "switched off the account of" in page and "pindah kota" in page
    assert "Kain ulap doyo" in page and world.other_market.name in page

    client.get("/?lang=id")
    indonesian = client.get("/admin/audit").get_data(as_text=True)
    assert "Habis" in indonesian and "Sold out" not in indonesian


def test_filters_by_market_person_kind_and_days(client):
    world = _busy_world()
    log_in_english(client, world.people["admin"])

    def shown(query: str) -> str:
        response = client.get(f"/admin/audit?{query}")
        assert response.status_code == 200
        return response.get_data(as_text=True)

    only_other = shown(f"market={world.other_market.id}")
    assert "Kain ulap doyo" in only_other and "Amplang kepiting" not in only_other
    by_coordinator = shown(f"actor={world.people['coordinator'].id}")
    assert _done(by_coordinator, "switched off the account of") == 1
    assert _done(by_coordinator, "changed the availability of") == 0
    kind = shown("action=product.availability")
    assert "Amplang kepiting" in kind and "Kain ulap doyo" in kind
    assert _done(kind, "switched off the account of") == 0
    # The form keeps what was chosen.
    assert 'selected value="product.availability"' in kind

    # Days: move the availability changes a week back.
    reload()
    db.session.execute(
        update(AuditEvent)
        .where(AuditEvent.action == "product.availability")
        .values(created_at=utcnow() - timedelta(days=7))
    )
    db.session.commit()
    today = utcnow().date()
    recent = shown(f"first={(today - timedelta(days=1)).isoformat()}")
    assert _done(recent, "switched off the account of") == 1
    assert "Amplang kepiting" not in recent
    week = shown(
        f"first={(today - timedelta(days=9)).isoformat()}"
        f"&last={(today - timedelta(days=5)).isoformat()}"
    )
    assert "Amplang kepiting" in week and _done(week, "switched off the account of") == 0


def test_a_refused_filter_says_why_and_keeps_the_rest(client):
    world = _busy_world()
    log_in_english(client, world.people["admin"])
    response = client.get("/admin/audit?first=2026-03-10&last=2026-03-01&action=vendor.hide")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "The last day comes before the first." in html
    assert 'selected value="vendor.hide"' in html and 'value="2026-03-10"' in html
    assert client.get("/admin/audit?market=999999").status_code == 422


def test_the_log_is_paginated(client):
    world = make_world()
    product = make_product(world.vendor)
    for n in range(55):
        state = Availability.SOLD_OUT if n % 2 == 0 else Availability.IN_STOCK
        set_availability(product, state, actor=world.people["volunteer"])
    log_in_english(client, world.people["admin"])
    first = client.get("/admin/audit?action=product.availability").get_data(as_text=True)
    assert _done(first, "changed the availability of") == 50
    assert "Page 1 of 2" in first and "page=2" in first
    second = client.get("/admin/audit?action=product.availability&page=2")
    assert _done(second.get_data(as_text=True), "changed the availability of") == 5


def test_csv_export_is_filtered_readable_and_formula_safe(client):
    world = _busy_world()
    world.people["coordinator"].name = '=HYPERLINK("http://evil")'
    db.session.commit()
    log_in_english(client, world.people["admin"])
    response = client.get("/admin/audit.csv")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    assert response.get_data().startswith(b"\xef\xbb\xbf")  # Excel reads UTF-8
    header, *rows = _csv_rows(response)
    assert header[:5] == ["When", "Market", "Person", "Login", "Change"]
    assert {row[1] for row in rows} == {world.market.name, world.other_market.name, ""}
    # Accounts belong to no market: a market's export has only the market's changes.
    in_market = _csv_rows(client.get(f"/admin/audit.csv?market={world.market.id}"))[1:]
    assert in_market and {row[1] for row in in_market} == {world.market.name}
    availability = next(row for row in rows if row[5] == "Amplang kepiting")
    assert availability[4] == "changed the availability of"
    assert availability[6] == "Availability: In stock → Sold out"
    switched_off = next(row for row in rows if row[4] == "switched off the account of")
    assert switched_off[2].startswith("'=")  # a spreadsheet shows it, never runs it
    assert switched_off[7] == "pindah kota"
    semicolons = client.get("/admin/audit.csv?delimiter=semicolon")
    assert semicolons.get_data().decode("utf-8-sig").splitlines()[0].count(";") == 7


def test_only_admins_read_the_log_of_every_market(client):
    world = _busy_world()
    assert login(client, world.people["coordinator"].login).status_code == 302
    assert client.get("/admin/audit").status_code == 403
    assert client.get("/admin/audit.csv").status_code == 403
