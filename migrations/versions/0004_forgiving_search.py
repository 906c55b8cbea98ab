"""Forgiving search: a synonym table seeded with spelling variants and English words, and the
vocabulary of the search index (trigram-indexed on PostgreSQL) for "did you mean".

Revision ID: 0004_forgiving_search
Revises: 0003_idempotency
Create Date: 2027-01-10 09:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0004_forgiving_search"
down_revision = "0003_idempotency"
branch_labels = None
depends_on = None

VARIANTS = [  # spellings heard in the same market, searched both ways
    ("kripik", "keripik"),
    ("krupuk", "kerupuk"),
    ("sambel", "sambal"),
    ("tri", "teri"),
    ("kaus", "kaos"),
    ("suvenir", "souvenir"),
    ("ole ole", "oleh oleh"),
    ("manik manik", "manik"),
]
ENGLISH = [  # what a visitor types -> the words on the stalls
    ("beads", "manik"),
    ("bead", "manik"),
    ("beadwork", "manik"),
    ("bracelet", "gelang"),
    ("necklace", "kalung"),
    ("earrings", "anting"),
    ("ring", "cincin"),
    ("pearl", "mutiara"),
    ("pearls", "mutiara"),
    ("agate", "akik"),
    ("honey", "madu"),
    ("coffee", "kopi"),
    ("tea", "teh"),
    ("palm sugar", "gula aren"),
    ("woven rattan", "anyaman rotan"),
    ("rattan", "rotan"),
    ("basket", "keranjang"),
    ("hat", "topi"),
    ("mat", "tikar"),
    ("dried fish", "ikan asin"),
    ("salted fish", "ikan asin"),
    ("anchovy", "teri"),
    ("anchovies", "teri"),
    ("shrimp", "udang"),
    ("prawn", "udang"),
    ("dried shrimp", "udang kering"),
    ("shrimp paste", "terasi"),
    ("squid", "cumi"),
    ("crab", "kepiting"),
    ("fish crackers", "amplang"),
    ("crackers", "kerupuk"),
    ("chips", "keripik"),
    ("souvenir", "oleh oleh"),
    ("souvenirs", "oleh oleh"),
    ("gift", "oleh oleh"),
    ("sarong", "sarung"),
    ("shirt", "kemeja"),
    ("t shirt", "kaos"),
    ("mask", "topeng"),
    ("carving", "ukir"),
    ("keychain", "gantungan kunci"),
    ("banana", "pisang"),
    ("cassava", "singkong"),
    ("cake", "kue"),
    ("fruit", "buah"),
    ("vegetables", "sayur"),
    ("spicy", "pedas"),
]


def upgrade():
    synonym = op.create_table(
        "synonym",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("phrase", sa.String(length=80), nullable=False),
        sa.Column("means", sa.String(length=80), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_synonym")),
        sa.UniqueConstraint("phrase", "means", name=op.f("uq_synonym_phrase_means")),
    )
    op.create_index(op.f("ix_synonym_phrase"), "synonym", ["phrase"])
    rows = [(a, b) for a, b in VARIANTS] + [(b, a) for a, b in VARIANTS] + ENGLISH
    op.bulk_insert(synonym, [{"phrase": a, "means": b} for a, b in rows])

    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        # Byte order ("C") lets a prefix range use the primary key; trigrams find near words.
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.execute('CREATE TABLE search_word (word VARCHAR(40) COLLATE "C" PRIMARY KEY)')
        op.execute("CREATE INDEX ix_search_word_trgm ON search_word USING gin (word gin_trgm_ops)")
    else:
        op.execute("CREATE TABLE search_word (word VARCHAR(40) PRIMARY KEY) WITHOUT ROWID")
    # Documents gain words (stall codes such as "b12", "halal") and the vocabulary its rows.
    from market.services.search import rebuild_index

    rebuild_index(bind)


def downgrade():
    op.execute("DROP TABLE search_word")
    op.drop_index(op.f("ix_synonym_phrase"), table_name="synonym")
    op.drop_table("synonym")
