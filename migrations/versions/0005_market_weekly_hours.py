"""Markets' opening hours per day of the week and their time zone (WITA by default), beside
the free-text note.

Revision ID: 0005_market_weekly_hours
Revises: 0004_forgiving_search
Create Date: 2027-01-12 09:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0005_market_weekly_hours"
down_revision = "0004_forgiving_search"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("market") as batch:
        batch.add_column(sa.Column("weekly_hours", sa.JSON(), nullable=True))
        batch.add_column(
            sa.Column("timezone", sa.String(40), nullable=False, server_default="Asia/Makassar")
        )


def downgrade():
    with op.batch_alter_table("market") as batch:
        batch.drop_column("timezone")
        batch.drop_column("weekly_hours")
