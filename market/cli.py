"""Flask commands: create-user, seed-demo, import-vendors, export-vendors, backup, restore,
collect-garbage, flush-counters, photo-masters, seed-bench."""

from datetime import timedelta
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from flask_babel import force_locale
from sqlalchemy import func, select

from market.extensions import db
from market.models import Market, Role, User
from market.ops import backup, housekeeping, masters
from market.seed import demo, synthetic
from market.services import accounts, exports, imports, spreadsheets, stats
from market.services.errors import DomainError, Invalid


@click.command("create-user")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--email", default=None, help="Login of staff.")
@click.option("--phone", default=None, help="Login of vendors (WhatsApp number).")
@click.option("--name", default=None, help="Display name (defaults to the login).")
@click.option("--market", "market_slug", default=None, help="Assign to this market as staff.")
@click.password_option(prompt="Password", help="Asked for when not given.")
@with_appcontext
def create_user(role, email, phone, name, market_slug, password):
    """Create an account that logs in by email or phone number."""
    if bool(email) == bool(phone):
        raise click.UsageError("Give exactly one of --email or --phone.")
    market = None
    if market_slug:
        market = db.session.scalar(select(Market).where(Market.slug == market_slug))
        if market is None:
            raise click.BadParameter(f"no market with slug {market_slug!r}", param_hint="--market")
    try:
        accounts.check_password_policy(password)
        user = accounts.create_user(
            role=Role(role),
            name=name or email or phone,
            email=email,
            phone=phone,
            password=password,
            market=market,
        )
    except Invalid as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Created {user.role} {user.login}")


@click.command("seed-demo")
@click.option("--if-empty", is_flag=True, help="Do nothing when the database has accounts already.")
@with_appcontext
def seed_demo(if_empty):
    """Load the demo market, its vendors, products, photos and demo accounts."""
    if db.session.scalar(select(func.count(User.id))):
        if if_empty:
            click.echo("The database has data already; demo not loaded.")
            return
        raise click.ClickException("The database has data already; the demo needs an empty one.")
    market = demo.seed_demo()
    click.echo(f"Demo market loaded: /pasar/{market.slug}/")


def _market_or_fail(slug: str) -> Market:
    market = db.session.scalar(select(Market).where(Market.slug == slug))
    if market is None:
        raise click.BadParameter(f"no market with slug {slug!r}", param_hint="MARKET_SLUG")
    return market


@click.command("import-vendors")
@click.argument("market_slug")
@click.argument("csv_file", type=click.File("rb"))
@click.option("--dry-run", is_flag=True, help="Check every row; change nothing.")
@click.option("--by", "actor_email", default=None, help="Email of the person importing (audit).")
@with_appcontext
def import_vendors(market_slug, csv_file, dry_run, actor_email):
    """Import vendors from a CSV file: all rows or none; rows already in the market are kept."""
    with force_locale("en"):
        _import_vendors(_market_or_fail(market_slug), csv_file, dry_run, actor_email)


def _import_vendors(market, csv_file, dry_run, actor_email):
    actor = _actor(actor_email)
    data = csv_file.read(imports.MAX_IMPORT_BYTES + 1)
    try:
        preview = imports.preview_import(market, data)
    except DomainError as error:
        raise click.ClickException(str(error)) from None
    for row in preview.error_rows:
        for problem in row.errors:
            click.echo(f"row {row.number}: {problem}", err=True)
    if preview.ignored_columns:
        click.echo("ignored columns: " + ", ".join(preview.ignored_columns))
    summary = (
        f"{len(preview.new_rows)} new, {len(preview.existing_rows)} already in the market, "
        f"{len(preview.error_rows)} with problems"
    )
    if preview.error_rows:
        raise click.ClickException(f"{summary}: nothing imported.")
    if dry_run:
        click.echo(f"{summary} (dry run: nothing imported).")
        return
    try:
        result = imports.commit_import(market, data, actor=actor)
    except DomainError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Imported {result.created} vendors; {result.existing} were already there.")


@click.command("update-from-sheet")
@click.argument("market_slug")
@click.argument("kind", type=click.Choice(spreadsheets.KINDS))
@click.argument("csv_file", type=click.File("rb"))
@click.option("--dry-run", is_flag=True, help="List every change; change nothing.")
@click.option("--by", "actor_email", default=None, help="Email of the person importing (audit).")
@with_appcontext
def update_from_sheet(market_slug, kind, csv_file, dry_run, actor_email):
    """Update a market's vendors or products from an edited export, by id: all rows or none."""
    with force_locale("en"):
        market = _market_or_fail(market_slug)
        actor = _actor(actor_email)
        data = csv_file.read(imports.MAX_IMPORT_BYTES + 1)
        try:
            preview = spreadsheets.preview_sheet(kind, market, data, actor=actor)
        except DomainError as error:
            raise click.ClickException(str(error)) from None
        for row in preview.error_rows:
            for problem in row.errors:
                click.echo(f"row {row.number}: {problem}", err=True)
        for row in preview.update_rows + preview.create_rows:
            for change in row.changes:
                old = f"{change.old_text} → " if row.record is not None else ""
                click.echo(f"row {row.number}: {change.label}: {old}{change.new_text}")
        summary = (
            f"{len(preview.update_rows)} changed, {len(preview.create_rows)} new, "
            f"{len(preview.same_rows)} the same, {len(preview.error_rows)} with problems"
        )
        if preview.error_rows:
            raise click.ClickException(f"{summary}: nothing changed.")
        if dry_run:
            click.echo(f"{summary} (dry run: nothing changed).")
            return
        try:
            spreadsheets.apply_sheet(kind, market, data, preview.fingerprint, actor=actor)
        except DomainError as error:
            raise click.ClickException(str(error)) from None
        click.echo(f"{summary}: applied.")


def _actor(actor_email: str | None) -> User | None:
    if not actor_email:
        return None
    actor = accounts.find_by_login(actor_email)
    if actor is None:
        raise click.BadParameter(f"no account {actor_email!r}", param_hint="--by")
    return actor


@click.command("export-vendors")
@click.argument("market_slug")
@click.argument("csv_file", type=click.File("wb"))
@click.option("--products", is_flag=True, help="Export the products instead of the vendors.")
@click.option("--semicolon", is_flag=True, help="Separate with ';' (Excel, Indonesian settings).")
@with_appcontext
def export_vendors(market_slug, csv_file, products, semicolon):
    """Export a market's vendors (or products) as CSV for Excel and LibreOffice."""
    market = _market_or_fail(market_slug)
    export = exports.export_products if products else exports.export_vendors
    csv_file.write(export(market, ";" if semicolon else ","))


@click.command("backup")
@click.argument("path", type=click.Path(file_okay=False, path_type=Path))
@with_appcontext
def backup_command(path):
    """Copy the database (online, consistent) and every photo file into a new folder PATH."""
    try:
        manifest = backup.backup(path)
    except Invalid as error:
        raise click.ClickException(str(error)) from None
    rows = sum(manifest.rows.values())
    click.echo(f"Backed up {rows} rows and {manifest.files} files at revision {manifest.revision}")


@click.command("restore")
@click.argument("path", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.confirmation_option(prompt="This replaces the current database. Continue?")
@with_appcontext
def restore_command(path):
    """Replace the database with the backup in PATH (stop the app first); then run db upgrade."""
    try:
        manifest = backup.restore(path)
    except Invalid as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Restored revision {manifest.revision}; row counts match the backup.")


@click.command("collect-garbage")
@click.option(
    "--grace-minutes",
    default=int(housekeeping.DEFAULT_GRACE.total_seconds() // 60),
    show_default=True,
    type=click.IntRange(min=0),
    help="Spare files saved more recently than this (uploads in progress).",
)
@click.option("--dry-run", is_flag=True, help="List what would be removed; remove nothing.")
@with_appcontext
def collect_garbage(grace_minutes, dry_run):
    """Remove photo files that no photo uses (left by crashes, full disks and erasures), and
    forget the outbox's idempotency keys older than 30 days."""
    report = housekeeping.collect_garbage(timedelta(minutes=grace_minutes), dry_run=dry_run)
    if not dry_run:
        click.echo(f"{housekeeping.forget_old_keys()} old idempotency keys forgotten")
        click.echo(f"{stats.flush(current_app)} page views added")
    for key in report.removed:
        click.echo(f"{'would remove' if dry_run else 'removed'} {key}")
    click.echo(
        f"{len(report.removed)} unused photo files {'found' if dry_run else 'removed'}, "
        f"{report.incomplete} incomplete files removed, {report.kept} kept"
    )


@click.command("flush-counters")
@with_appcontext
def flush_counters():
    """Add the page views counted since the last run to the database (collect-garbage does
    this too)."""
    click.echo(f"{stats.flush(current_app)} page views added")


@click.command("photo-masters")
@with_appcontext
def photo_masters():
    """Make the JPEG master of every photo that has none yet (migration 0008 does this too)."""
    with db.engine.begin() as connection:
        made, failed = masters.add_missing_masters(
            connection, current_app.extensions["market_storage"]
        )
    click.echo(f"{made} photo masters made, {failed} failed")


@click.command("seed-bench")
@click.option("--markets", default=50, show_default=True)
@click.option("--vendors", default=400, show_default=True, help="Per market.")
@click.option("--products", default=50, show_default=True, help="Per vendor.")
@with_appcontext
def seed_bench(markets, vendors, products):
    """Add a synthetic catalogue for benchmarks (bulk inserts, shared photo files)."""
    counts = synthetic.seed_bench(markets, vendors, products, report=click.echo)
    click.echo(
        f"Added {counts['markets']} markets, {counts['vendors']:,} vendors, "
        f"{counts['products']:,} products"
    )


commands = [
    create_user,
    seed_demo,
    import_vendors,
    update_from_sheet,
    export_vendors,
    backup_command,
    restore_command,
    collect_garbage,
    flush_counters,
    photo_masters,
    seed_bench,
]
