"""Online backup while the app writes, and a restore that boots at the latest migration."""

import threading

import pytest
from alembic.script import ScriptDirectory
from flask_migrate import upgrade

from market import create_app
from market.extensions import db
from market.models import AuditEvent, Photo
from market.ops import backup
from market.seed.demo import demo_image
from market.services.errors import Invalid
from market.services.imaging import process_photo
from market.services.photos import store_photo
from tests.factories import make_market, make_product, make_vendor


def _app(folder):
    folder.mkdir(parents=True, exist_ok=True)
    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'market.sqlite3'}",
            "MARKET_STORAGE_URL": f"file://{folder / 'uploads'}",
            "SECRET_KEY": "backup-test-" + "x" * 40,
        }
    )


def _head(app) -> str:
    with app.app_context():
        config = app.extensions["migrate"].migrate.get_config()
        return ScriptDirectory.from_config(config).get_current_head()


def test_backup_under_writes_then_restore(tmp_path):
    source_app = _app(tmp_path / "live")
    with source_app.app_context():
        upgrade()
        vendor = make_vendor(make_market())
        for n in range(5):
            product = make_product(vendor)
            processed = process_photo(
                demo_image(f"p{n}", (120, 80, 20), (640, 480)), max_bytes=10**7, max_pixels=10**8
            )
            store_photo(processed, vendor_id=vendor.id, product_id=product.id)
        db.session.commit()
        vendor_id = vendor.id
        # Each photo's variants and its JPEG master.
        stored_files = sum(len(photo.variants) + 1 for photo in db.session.query(Photo))

    stop = threading.Event()
    written = []

    def writer():
        # Another "worker" keeps writing while the backup runs.
        with source_app.app_context():
            while not stop.is_set():
                db.session.add(AuditEvent(action="load", record_type="vendor", record_id=vendor_id))
                db.session.commit()
                written.append(1)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        with source_app.app_context():
            manifest = backup.backup(tmp_path / "backup")
    finally:
        stop.set()
        thread.join()
    assert written, "the writer never ran during the backup"
    assert manifest.files == stored_files > 0
    assert manifest.rows["product"] == 5
    assert manifest.revision == _head(source_app)

    restored_app = _app(tmp_path / "restored")
    with restored_app.app_context():
        backup.restore(tmp_path / "backup")
        upgrade()  # a no-op at head, and it must not fail on a restored database
        assert backup.current_revision() == _head(restored_app)
        assert backup.row_counts() == manifest.rows
        storage = restored_app.extensions["market_storage"]
        for photo in db.session.query(Photo):
            for width in photo.variants:
                assert storage.exists(photo.key(width))
        db.engine.dispose()
    with source_app.app_context():
        db.engine.dispose()


def test_backup_refuses_a_folder_that_is_not_empty(tmp_path):
    app = _app(tmp_path / "live")
    (tmp_path / "backup").mkdir()
    (tmp_path / "backup" / "something").write_text("x")
    with app.app_context():
        upgrade()
        with pytest.raises(Invalid, match="not empty"):
            backup.backup(tmp_path / "backup")
        db.engine.dispose()


def test_restore_refuses_a_folder_without_manifest(tmp_path):
    app = _app(tmp_path / "live")
    with app.app_context(), pytest.raises(Invalid, match="manifest"):
        backup.restore(tmp_path)
