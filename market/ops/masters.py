"""JPEG masters for photos stored before masters were kept: made from the largest WebP variant
(the original upload was never kept), so such a master is as large as that variant and no
larger. Run by migration 0008_photo_masters, and by `flask photo-masters` where the migration
ran without the photo storage at hand (offline SQL) or a file could not be read."""

import io
import logging

import sqlalchemy as sa
from PIL import Image

from market.services.imaging import encode_jpeg, master_key, variant_key
from market.storage import Storage

log = logging.getLogger("market.ops")

# The columns this needs, by name: the migration runs it against the schema of its own time.
_photo = sa.table(
    "photo",
    sa.column("id", sa.Integer),
    sa.column("content_hash", sa.String),
    sa.column("variants", sa.JSON),
    sa.column("master_width", sa.Integer),
)


def add_missing_masters(connection: sa.Connection, storage: Storage) -> tuple[int, int]:
    """Make the master of every photo row without one; (made, failed). Each content hash is
    decoded once; a variant file that cannot be read leaves its rows without a master (their
    feeds keep the WebP variant) and is logged."""
    rows = connection.execute(
        sa.select(_photo.c.id, _photo.c.content_hash, _photo.c.variants).where(
            _photo.c.master_width.is_(None)
        )
    ).all()
    by_hash: dict[str, list[int]] = {}
    widths: dict[str, int] = {}
    for photo_id, content_hash, variants in rows:
        by_hash.setdefault(content_hash, []).append(photo_id)
        widths[content_hash] = max(variants)
    made = failed = 0
    for content_hash, ids in by_hash.items():
        width = widths[content_hash]
        try:
            # Our own WebP, at most the widest variant: small, and already checked on upload.
            with Image.open(io.BytesIO(storage.open(variant_key(content_hash, width)))) as im:
                data = encode_jpeg(im.convert("RGB"))
            storage.save(master_key(content_hash, width), data, "image/jpeg")
        except (OSError, ValueError) as exc:
            log.warning("no master for photo %s: %s", content_hash, exc)
            failed += len(ids)
            continue
        connection.execute(sa.update(_photo).where(_photo.c.id.in_(ids)).values(master_width=width))
        made += len(ids)
    return made, failed
