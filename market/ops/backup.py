"""Online backup and restore: a consistent copy of the database plus every stored photo file.

SQLite is copied with its online backup API, so the app keeps serving (and writing) meanwhile.
PostgreSQL is backed up with pg_dump, which this module does not wrap (see docs/DEPLOY.md).
"""

import json
import shutil
import sqlite3
from dataclasses import asdict, dataclass
from pathlib import Path

from alembic.migration import MigrationContext
from flask import current_app
from sqlalchemy import func, select

from market.extensions import db
from market.services.errors import Invalid

DATABASE_FILE = "market.sqlite3"
UPLOADS_DIR = "uploads"
MANIFEST = "manifest.json"


@dataclass
class Manifest:
    revision: str | None
    rows: dict[str, int]
    files: int


def _sqlite_path() -> Path:
    url = db.engine.url
    if url.get_backend_name() != "sqlite" or not url.database:
        raise Invalid(
            "This command backs up SQLite databases. For PostgreSQL use "
            "`pg_dump --format=custom` (see docs/DEPLOY.md); photos: copy the bucket."
        )
    return Path(url.database)


def row_counts() -> dict[str, int]:
    return {
        table.name: db.session.scalar(select(func.count()).select_from(table))
        for table in db.metadata.sorted_tables
    }


def current_revision() -> str | None:
    with db.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def backup(target: Path) -> Manifest:
    """Copy the database and the photo files into an empty or new folder."""
    source = _sqlite_path()
    target.mkdir(parents=True, exist_ok=True)
    if any(target.iterdir()):
        raise Invalid(f"{target} is not empty; back up into a new folder.")
    copy = sqlite3.connect(target / DATABASE_FILE)
    original = sqlite3.connect(source)
    try:
        # Pages are copied in steps; writers are not blocked between steps, and the backup
        # restarts itself if the source changes, so the result is one consistent snapshot.
        original.backup(copy, pages=1024)
    finally:
        original.close()
        copy.close()
    # Rows and revision are read from the copy, so the manifest describes exactly what was saved.
    snapshot = sqlite3.connect(target / DATABASE_FILE)
    try:
        rows = {
            table.name: snapshot.execute(f'SELECT count(*) FROM "{table.name}"').fetchone()[0]  # noqa: S608 - table names come from our metadata
            for table in db.metadata.sorted_tables
        }
        revision = snapshot.execute("SELECT version_num FROM alembic_version").fetchone()[0]
    finally:
        snapshot.close()
    storage = current_app.extensions["market_storage"]
    files = 0
    for key in storage.keys(prefix=""):
        destination = target / UPLOADS_DIR / key
        destination.parent.mkdir(parents=True, exist_ok=True)
        destination.write_bytes(storage.open(key))
        files += 1
    manifest = Manifest(revision=revision, rows=rows, files=files)
    (target / MANIFEST).write_text(json.dumps(asdict(manifest), indent=2))
    return manifest


def read_manifest(source: Path) -> Manifest:
    try:
        return Manifest(**json.loads((source / MANIFEST).read_text()))
    except (OSError, ValueError, TypeError):
        raise Invalid(f"{source} does not hold a Pasar backup (no readable {MANIFEST}).") from None


def restore(source: Path) -> Manifest:
    """Put a backup in place of the current database and add its photo files to the storage.

    Run it with the app stopped; afterwards `flask db upgrade` brings an older backup up to date.
    """
    manifest = read_manifest(source)
    target = _sqlite_path()
    db.session.remove()
    db.engine.dispose()
    for suffix in ("-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(source / DATABASE_FILE, target)
    storage = current_app.extensions["market_storage"]
    uploads = source / UPLOADS_DIR
    for path in sorted(uploads.rglob("*")) if uploads.is_dir() else []:
        if path.is_file():
            storage.save(path.relative_to(uploads).as_posix(), path.read_bytes(), "image/webp")
    restored = row_counts()
    if restored != manifest.rows:
        raise Invalid(f"The restored database differs from the backup's manifest: {restored}")
    return manifest
