"""English names and descriptions for stalls and products (shown on the English pages and
searched by English words), and a product's weight in grams and stock count, which the
marketplaces' bulk-upload templates ask for. All optional: existing rows keep empty English
text and no weight or stock. Plain column additions: SQLite adds them
in place, without rebuilding the product table that other tables point at.

Revision ID: 0006_goods_for_channels
Revises: 0005_market_weekly_hours
Create Date: 2027-01-20 09:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0006_goods_for_channels"
down_revision = "0005_market_weekly_hours"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("vendor") as batch:
        batch.add_column(sa.Column("name_en", sa.String(120), nullable=False, server_default=""))
        batch.add_column(sa.Column("description_en", sa.Text(), nullable=False, server_default=""))
    with op.batch_alter_table("product") as batch:
        batch.add_column(sa.Column("name_en", sa.String(120), nullable=False, server_default=""))
        batch.add_column(sa.Column("description_en", sa.Text(), nullable=False, server_default=""))
        batch.add_column(sa.Column("weight_grams", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("stock_count", sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table("product") as batch:
        batch.drop_column("stock_count")
        batch.drop_column("weight_grams")
        batch.drop_column("description_en")
        batch.drop_column("name_en")
    with op.batch_alter_table("vendor") as batch:
        batch.drop_column("description_en")
        batch.drop_column("name_en")
