"""Search index: FTS5 tables on SQLite, weighted tsvectors with GIN indexes on PostgreSQL.

The tables are not described by the models (see market.services.search, which fills them and
keeps them current); migrations/env.py leaves them out of autogenerate.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01 10:00:00

"""
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

KINDS = ("vendor", "product")


def upgrade():
    bind = op.get_bind()
    for kind in KINDS:
        if bind.dialect.name == "postgresql":
            op.execute(
                f"CREATE TABLE search_{kind} ("
                f"id INTEGER PRIMARY KEY REFERENCES {kind} (id) ON DELETE CASCADE, "
                "document TSVECTOR NOT NULL)"
            )
            op.execute(f"CREATE INDEX ix_search_{kind}_document ON search_{kind} USING gin (document)")
        else:
            op.execute(
                f"CREATE VIRTUAL TABLE search_{kind} USING fts5(scope, name, tags, body, "
                "tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3')"
            )
    # Index what is there already (an installation upgraded with data in it).
    from market.services.search import rebuild_index

    rebuild_index(bind)


def downgrade():
    for kind in KINDS:
        op.execute(f"DROP TABLE search_{kind}")
