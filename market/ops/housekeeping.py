"""Housekeeping: remove photo files that no Photo row uses, left by crashes and erasures; forget
the idempotency keys of outbox submissions too old to be sent again.

A photo's files are written before the row that names them is committed (the other order would
let a crash leave rows pointing at nothing). A worker killed in between, a full disk halfway
through the variants, or a crash after an erasure's commit leaves files nobody uses; this is the
one place that removes them. Files younger than the grace period are spared, since an upload in
progress has written its files and not yet committed its row; saving a file that exists marks it
as saved now (see Storage.save), so an upload that reuses an old unused file is spared too.
"""

from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, select

from market.extensions import db
from market.models import IdempotencyKey, Photo, utcnow
from market.services.imaging import master_key, variant_key

PHOTO_PREFIX = "photos/"
# Far longer than any upload takes (gunicorn kills a request after 60 s).
DEFAULT_GRACE = timedelta(hours=1)
# A phone's outbox resends within days; a key older than this guards nothing any more.
KEY_LIFETIME = timedelta(days=30)


@dataclass
class GarbageReport:
    removed: list[str]  # keys of unused photo files removed (or, in a dry run, to remove)
    incomplete: int  # half-written temporary files removed
    kept: int  # photo files in use, or too young to judge


def referenced_keys() -> set[str]:
    """Every file a Photo row names, deleted photos included (they can be restored)."""
    keys = set()
    for content_hash, widths, master_width in db.session.execute(
        select(Photo.content_hash, Photo.variants, Photo.master_width)
    ):
        keys.update(variant_key(content_hash, width) for width in widths)
        if master_width is not None:
            keys.add(master_key(content_hash, master_width))
    return keys


def collect_garbage(grace: timedelta = DEFAULT_GRACE, *, dry_run: bool = False) -> GarbageReport:
    """Remove photo files that no row names and that were last saved more than ``grace`` ago."""
    storage = current_app.extensions["market_storage"]
    cutoff = utcnow() - grace
    incomplete = 0 if dry_run else storage.purge_incomplete(cutoff)
    listed = list(storage.listing(PHOTO_PREFIX))
    # Rows are read after the files are listed: a row committed meanwhile is seen.
    used = referenced_keys()
    db.session.rollback()
    removed = []
    for key, saved in listed:
        if key in used or saved >= cutoff:
            continue
        # Asked again just before removing: an upload may have reused the file since the listing.
        saved = storage.saved_at(key)
        if saved is None or saved >= cutoff:
            continue
        if not dry_run:
            storage.delete(key)
        removed.append(key)
    return GarbageReport(removed=removed, incomplete=incomplete, kept=len(listed) - len(removed))


def forget_old_keys(lifetime: timedelta = KEY_LIFETIME) -> int:
    """Delete the idempotency keys applied more than ``lifetime`` ago; how many were deleted."""
    result = db.session.execute(
        delete(IdempotencyKey).where(IdempotencyKey.created_at < utcnow() - lifetime)
    )
    db.session.commit()
    return result.rowcount
