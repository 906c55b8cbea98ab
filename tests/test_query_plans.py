"""Every query the public pages make uses an index (SQLite's EXPLAIN QUERY PLAN)."""

import re

import pytest
from sqlalchemy import event

from market.extensions import db
from tests.factories import make_catalogue, make_market

# Tables small by nature (a shared list, a handful of markets): a scan is the right plan.
SMALL_TABLES = {"category", "market"}
# "SCAN t" reads the whole table; "SCAN t USING (COVERING) INDEX" walks an index, "SEARCH"
# seeks in one, and FTS5 virtual tables and constant rows are no table scans.
FULL_SCAN = re.compile(r"^SCAN (\w+)$")


@pytest.fixture
def statements(app):
    captured = []

    def remember(_conn, _cursor, statement, parameters, _context, _many):
        if statement.lstrip().upper().startswith("SELECT"):
            captured.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", remember)
    yield captured
    event.remove(db.engine, "before_cursor_execute", remember)


def test_public_pages_use_indexes(app, client, statements):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("plans are checked on SQLite; PostgreSQL's planner scans small test tables")
    app.config["MARKET_PAGE_CACHE"] = False
    try:
        market = make_market()
        vendors = make_catalogue(market, 3, 3)
        vendor = vendors[0]
        product = vendor.products[0]
        paths = [
            "/",
            f"/pasar/{market.slug}/",
            f"/pasar/{market.slug}/?kategori=kerajinan",
            f"/pasar/{market.slug}/lapak/{vendor.slug}/",
            f"/pasar/{market.slug}/lapak/{vendor.slug}/{product.slug}",
            f"/pasar/{market.slug}/cari?q=produk",
            f"/pasar/{market.slug}/cari?q=prodk&urut=termurah&halal=1",
            "/cari?q=produk&kategori=kerajinan",
            f"/api/v1/markets/{market.slug}/vendors",
            f"/api/v1/markets/{market.slug}/products",
            f"/api/v1/markets/{market.slug}/products?q=produk",
        ]
        statements.clear()
        for path in paths:
            assert client.get(path).status_code in (200, 404), path
    finally:
        app.config["MARKET_PAGE_CACHE"] = True
    assert statements
    scans = []
    with db.engine.connect() as connection:
        for statement, parameters in statements:
            plan = connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)
            for row in plan:
                match = FULL_SCAN.match(row[-1])
                # anon_N are subquery results, whose own plan rows are checked too.
                name = match.group(1) if match else ""
                if match and name not in SMALL_TABLES and not name.startswith("anon_"):
                    scans.append((row[-1], statement[:300]))
    assert not scans, "\n\n".join(f"{detail}\n{sql}" for detail, sql in scans)


def test_postgresql_plans_for_reads_from_ssd_or_memory(app):
    """Every pooled connection asks PostgreSQL to cost a random read as on SSD: at the default
    for spinning disks, a search across markets read partitions of the index row by row."""
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("a PostgreSQL planner setting")
        db.engine.dispose()  # connections made from here on, as a fresh worker's are
        with db.engine.connect() as connection:
            cost = connection.exec_driver_sql("SHOW random_page_cost").scalar()
            connection.rollback()
            still = connection.exec_driver_sql("SHOW random_page_cost").scalar()
    assert (cost, still) == ("1.1", "1.1")
