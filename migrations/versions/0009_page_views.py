"""Daily counts for a stall's figures: shopping lists sent to it (per product) and views of its
pages (the stall's page, or one product's), beside the WhatsApp taps already counted.

Revision ID: 0009_page_views
Revises: 0008_photo_masters
Create Date: 2027-02-01 09:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0009_page_views"
down_revision = "0008_photo_masters"
branch_labels = None
depends_on = None


def _daily_count(table: str, product_nullable: bool) -> None:
    op.create_table(
        table,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("vendor_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=product_nullable),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"], ["product.id"], name=op.f(f"fk_{table}_product_id_product")
        ),
        sa.ForeignKeyConstraint(
            ["vendor_id"], ["vendor.id"], name=op.f(f"fk_{table}_vendor_id_vendor")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
    )
    with op.batch_alter_table(table) as batch:
        batch.create_index(f"ix_{table}_vendor_day", ["vendor_id", "day", "product_id"])


def upgrade():
    _daily_count("list_send", product_nullable=False)
    _daily_count("page_view", product_nullable=True)


def downgrade():
    for table in ("page_view", "list_send"):
        with op.batch_alter_table(table) as batch:
            batch.drop_index(f"ix_{table}_vendor_day")
        op.drop_table(table)
