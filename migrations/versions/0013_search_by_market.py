"""On PostgreSQL the search index is split by market: each document row carries its market and
lives in one of 16 hash partitions of it. A search within a market reads one partition; a
search across markets that stops at its candidate limit (market.services.search.CANDIDATES)
reads partitions one by one and usually stops in the first, instead of building the match
bitmap of the whole catalogue, which GIN always builds in full (130,000 entries for
"kain batik" over a million goods). SQLite's FTS5 tables are unchanged.

Revision ID: 0013_search_by_market
Revises: 0012_english_search
Create Date: 2027-02-10 09:00:00

"""

from alembic import op

revision = "0013_search_by_market"
down_revision = "0012_english_search"
branch_labels = None
depends_on = None

KINDS = ("vendor", "product")
PARTITIONS = 16
# The market of each indexed row, as the index needs it to pick the partition.
MARKETS = {
    "vendor": "SELECT s.id, v.market_id, s.document FROM search_vendor_old s "
    "JOIN vendor v ON v.id = s.id",
    "product": "SELECT s.id, v.market_id, s.document FROM search_product_old s "
    "JOIN product p ON p.id = s.id JOIN vendor v ON v.id = p.vendor_id",
}


def _rebuild(kind: str, create: list[str], copy: str, indexes: list[str]) -> None:
    """Make search_<kind> anew with the ``create`` statements, fill it with ``copy`` (a query
    over the former table, search_<kind>_old), then index it."""
    op.execute(f"ALTER TABLE search_{kind} RENAME TO search_{kind}_old")
    for statement in create:
        op.execute(statement)
    op.execute(f"INSERT INTO search_{kind} {copy}")
    op.execute(f"DROP TABLE search_{kind}_old")
    for statement in indexes:
        op.execute(statement)


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    for kind in KINDS:
        table = (
            f"CREATE TABLE search_{kind} ("
            f"id INTEGER NOT NULL REFERENCES {kind} (id) ON DELETE CASCADE, "
            "market_id INTEGER NOT NULL, document TSVECTOR NOT NULL, "
            f"CONSTRAINT pk_search_{kind} PRIMARY KEY (market_id, id)) "
            "PARTITION BY HASH (market_id)"
        )
        partitions = [
            f"CREATE TABLE search_{kind}_{remainder} PARTITION OF search_{kind} "
            f"FOR VALUES WITH (MODULUS {PARTITIONS}, REMAINDER {remainder})"
            for remainder in range(PARTITIONS)
        ]
        indexes = [
            # Rows are rewritten by id alone (market.services.search._write).
            f"CREATE INDEX ix_search_{kind}_id ON search_{kind} (id)",
            f"CREATE INDEX ix_search_{kind}_document ON search_{kind} USING gin (document)",
        ]
        _rebuild(kind, [table, *partitions], f"(id, market_id, document) {MARKETS[kind]}", indexes)


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    for kind in KINDS:
        table = (
            f"CREATE TABLE search_{kind} ("
            f"id INTEGER PRIMARY KEY REFERENCES {kind} (id) ON DELETE CASCADE, "
            "document TSVECTOR NOT NULL)"
        )
        copy = f"(id, document) SELECT id, document FROM search_{kind}_old"  # noqa: S608
        index = f"CREATE INDEX ix_search_{kind}_document ON search_{kind} USING gin (document)"
        _rebuild(kind, [table], copy, [index])
