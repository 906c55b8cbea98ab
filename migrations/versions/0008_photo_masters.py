"""A JPEG master beside each photo's WebP variants, for the product feeds and marketplace
uploads (not every channel reads WebP): photo.master_width names it.

Existing photos get their master here, made from their largest kept WebP variant (the original
upload was never kept), by market.ops.masters.add_missing_masters with the installation's photo
storage. Where this migration runs without the app (offline SQL) or a file cannot be read, run
`flask --app market photo-masters` afterwards; until then those photos' feeds carry the largest
WebP variant.

Revision ID: 0008_photo_masters
Revises: 0006_goods_for_channels
Create Date: 2027-01-22 09:00:00

"""

import sqlalchemy as sa
from alembic import context, op

revision = "0008_photo_masters"
down_revision = "0006_goods_for_channels"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("photo") as batch:
        batch.add_column(sa.Column("master_width", sa.Integer(), nullable=True))
    if context.is_offline_mode():
        return
    from flask import current_app

    from market.ops.masters import add_missing_masters

    add_missing_masters(op.get_bind(), current_app.extensions["market_storage"])


def downgrade():
    # The master files stay; housekeeping removes them once no row names them.
    with op.batch_alter_table("photo") as batch:
        batch.drop_column("master_width")
