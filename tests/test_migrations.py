"""Migrations and models agree, and there is one head."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import current_app

from market.extensions import db
from market.models import Category
from market.services.search import include_in_migrations


def test_migrated_schema_matches_the_models(ctx):
    with db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection,
            opts={
                "compare_type": True,
                "render_as_batch": True,
                "include_name": include_in_migrations,
            },
        )
        differences = compare_metadata(context, db.metadata)
    assert differences == []


def test_there_is_a_single_head(ctx):
    config = current_app.extensions["migrate"].migrate.get_config()
    assert len(ScriptDirectory.from_config(config).get_heads()) == 1


def test_migration_creates_the_shared_categories(ctx):
    names = {c.slug: c.name_en for c in db.session.query(Category)}
    assert names["kerajinan"] == "Crafts"
    assert len(names) >= 8
