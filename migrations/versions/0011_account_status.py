"""Accounts a coordinator or admin switched off (when, why, by whom); single-use links that let
a new volunteer or coordinator join a market, or anyone set a new password; and a stall's
"closed until" date with a note for shoppers.

Revision ID: 0011_account_status
Revises: 0010_campaigns
Create Date: 2027-02-01 09:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0011_account_status"
down_revision = "0010_campaigns"
branch_labels = None
depends_on = None

ROLES = ("admin", "coordinator", "volunteer", "vendor")


def upgrade():
    with op.batch_alter_table("user") as batch:
        batch.add_column(sa.Column("deactivated_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(
            sa.Column("deactivated_reason", sa.String(255), nullable=False, server_default="")
        )
        batch.add_column(sa.Column("deactivated_by_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            "fk_user_deactivated_by_id_user", "user", ["deactivated_by_id"], ["id"]
        )
    with op.batch_alter_table("vendor") as batch:
        batch.add_column(sa.Column("closed_until", sa.Date(), nullable=True))
        batch.add_column(sa.Column("closed_note", sa.String(160), nullable=False, server_default=""))
    op.create_table(
        "account_link",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "purpose",
            sa.Enum(
                "join",
                "reset",
                name="linkpurpose",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column(
            "role",
            sa.Enum(*ROLES, name="role", native_enum=False, create_constraint=True, length=20),
            nullable=True,
        ),
        sa.Column("market_id", sa.Integer(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user.id"], name=op.f("fk_account_link_user_id_user")
        ),
        sa.ForeignKeyConstraint(
            ["market_id"], ["market.id"], name=op.f("fk_account_link_market_id_market")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["user.id"], name=op.f("fk_account_link_created_by_id_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_link")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_account_link_token_hash")),
    )
    with op.batch_alter_table("account_link") as batch:
        batch.create_index(batch.f("ix_account_link_user_id"), ["user_id"], unique=False)


def downgrade():
    with op.batch_alter_table("account_link") as batch:
        batch.drop_index(batch.f("ix_account_link_user_id"))
    op.drop_table("account_link")
    with op.batch_alter_table("vendor") as batch:
        batch.drop_column("closed_note")
        batch.drop_column("closed_until")
    with op.batch_alter_table("user") as batch:
        batch.drop_constraint("fk_user_deactivated_by_id_user", type_="foreignkey")
        batch.drop_column("deactivated_by_id")
        batch.drop_column("deactivated_reason")
        batch.drop_column("deactivated_at")
