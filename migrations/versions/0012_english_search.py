"""Search finds stalls and products by their English names and descriptions too: the index
documents are rewritten with the English text (and the words join the vocabulary that "did you
mean" draws on). No schema change.

Revision ID: 0012_english_search
Revises: 0011_account_status
Create Date: 2027-01-27 09:00:00

"""

from alembic import op

revision = "0012_english_search"
down_revision = "0011_account_status"
branch_labels = None
depends_on = None


def upgrade():
    from market.services.search import rebuild_index

    rebuild_index(op.get_bind())


def downgrade():
    # Documents with English words do no harm to the code before this revision, and the
    # vocabulary is never pruned anyway (see market.services.search).
    pass
