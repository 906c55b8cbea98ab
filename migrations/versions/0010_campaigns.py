"""Campaigns: a go-digital drive through some markets, with a target per market (stalls
published, products with a photo) and the volunteers of its team.

Revision ID: 0010_campaigns
Revises: 0009_page_views
Create Date: 2027-01-27 09:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0010_campaigns"
down_revision = "0009_page_views"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "campaign",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column(
            "target_kind",
            sa.Enum(
                "total",
                "per_day",
                name="targetkind",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("ends_on >= starts_on", name=op.f("ck_campaign_ends_after_start")),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["user.id"], name=op.f("fk_campaign_created_by_id_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign")),
    )
    with op.batch_alter_table("campaign") as batch:
        batch.create_index(batch.f("ix_campaign_ends_on"), ["ends_on"])
        batch.create_index(batch.f("ix_campaign_starts_on"), ["starts_on"])

    op.create_table(
        "campaign_market",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("market_id", sa.Integer(), nullable=False),
        sa.Column("stalls_target", sa.Integer(), nullable=False),
        sa.Column("products_target", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "products_target >= 0", name=op.f("ck_campaign_market_products_target_not_negative")
        ),
        sa.CheckConstraint(
            "stalls_target >= 0", name=op.f("ck_campaign_market_stalls_target_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaign.id"], name=op.f("fk_campaign_market_campaign_id_campaign")
        ),
        sa.ForeignKeyConstraint(
            ["market_id"], ["market.id"], name=op.f("fk_campaign_market_market_id_market")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_market")),
        sa.UniqueConstraint(
            "campaign_id", "market_id", name=op.f("uq_campaign_market_campaign_id_market_id")
        ),
    )
    with op.batch_alter_table("campaign_market") as batch:
        batch.create_index(batch.f("ix_campaign_market_market_id"), ["market_id"])

    op.create_table(
        "campaign_volunteer",
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaign.id"],
            name=op.f("fk_campaign_volunteer_campaign_id_campaign"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user.id"], name=op.f("fk_campaign_volunteer_user_id_user")
        ),
        sa.PrimaryKeyConstraint("campaign_id", "user_id", name=op.f("pk_campaign_volunteer")),
    )
    with op.batch_alter_table("campaign_volunteer") as batch:
        batch.create_index(batch.f("ix_campaign_volunteer_user_id"), ["user_id"])


def downgrade():
    op.drop_table("campaign_volunteer")
    op.drop_table("campaign_market")
    op.drop_table("campaign")
