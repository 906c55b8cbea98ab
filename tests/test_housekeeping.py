"""Photo files nobody uses are collected; files in use, deleted photos' files and uploads in
progress are spared; a storage that fails mid-upload leaves a clear message and no row."""

import errno
import io
import os
import time
import uuid
from datetime import timedelta

import boto3
import pytest
from moto.server import ThreadedMotoServer
from sqlalchemy import func, select

from market.extensions import db
from market.models import IdempotencyKey, Photo, Product, Role, utcnow
from market.ops import housekeeping
from market.services.imaging import process_photo, variant_key
from market.services.photos import (
    PhotoNotStored,
    Upload,
    add_photos,
    delete_photo,
    process_upload,
    store_photo,
)
from market.storage import LocalStorage, S3Storage
from tests.factories import jpeg, make_market, make_product, make_user, make_vendor
from tests.pages import csrf_token, log_in_english, reload

pytestmark = pytest.mark.usefixtures("en")
HOUR = timedelta(hours=1)
NOT_STORED = "The server could not store the photo right now, so nothing was saved. Try later."


@pytest.fixture
def storage(app, tmp_path, monkeypatch):
    """A storage of this test's own: the suite's shared folder holds other tests' files."""
    own = LocalStorage(tmp_path / "uploads")
    monkeypatch.setitem(app.extensions, "market_storage", own)
    return own


@pytest.fixture
def product(ctx):
    return make_product(make_vendor(make_market()))


def orphan_files(storage, colour) -> list[str]:
    """What a worker killed between writing the files and committing the row leaves."""
    processed = process_photo(jpeg(colour=colour), max_bytes=10**7, max_pixels=10**8)
    keys = [variant_key(processed.content_hash, width) for width in processed.variants]
    for width, key in zip(processed.variants, keys, strict=True):
        storage.save(key, processed.variants[width], "image/webp")
    return keys


def age(storage: LocalStorage, keys, seconds: float) -> None:
    for key in keys:
        path = storage.root / key
        stamp = path.stat().st_mtime - seconds
        os.utime(path, (stamp, stamp))


def photo_keys(photo: Photo) -> list[str]:
    return [photo.key(width) for width in photo.variants] + [photo.master_key()]


def test_unused_files_older_than_the_grace_period_are_removed(storage, product):
    actor = make_user()
    used, _ = add_photos(product, [Upload("a.jpg", jpeg(colour=(1, 2, 3)))], actor=actor)
    deleted, _ = add_photos(product, [Upload("b.jpg", jpeg(colour=(9, 8, 7)))], actor=actor)
    delete_photo(deleted[0], actor=actor)
    old_orphans = orphan_files(storage, (200, 10, 10))
    young_orphans = orphan_files(storage, (10, 200, 10))
    in_use = photo_keys(used[0]) + photo_keys(deleted[0])
    age(storage, old_orphans + in_use, 2 * 3600)
    age(storage, young_orphans, 60)
    half_written = storage.root / "photos" / "ab" / ".tmp-crashed"
    half_written.parent.mkdir(parents=True, exist_ok=True)
    half_written.write_bytes(b"half a photo")
    os.utime(half_written, (time.time() - 7200,) * 2)

    report = housekeeping.collect_garbage(HOUR)

    assert sorted(report.removed) == sorted(old_orphans)
    assert report.incomplete == 1 and not half_written.exists()
    # A deleted photo can be restored, so its files stay; an upload in progress is spared.
    assert set(storage.keys()) == set(in_use + young_orphans)
    assert report.kept == len(in_use + young_orphans)
    assert sorted(housekeeping.collect_garbage(timedelta(0)).removed) == sorted(young_orphans)


def test_a_dry_run_lists_without_removing(storage, product):
    orphans = orphan_files(storage, (5, 5, 5))
    report = housekeeping.collect_garbage(timedelta(0), dry_run=True)
    assert sorted(report.removed) == sorted(orphans)
    assert sorted(storage.keys()) == sorted(orphans)


def test_an_upload_that_reuses_an_old_unused_file_keeps_it(storage, product):
    data = jpeg(colour=(70, 80, 90))
    orphans = orphan_files(storage, (70, 80, 90))
    age(storage, orphans, 2 * 3600)
    # The same photo again: its files exist, so saving only marks them as saved now, which
    # spares them while the new row is on its way to the database.
    store_photo(process_upload(data), product_id=product.id)
    assert housekeeping.collect_garbage(HOUR).removed == []
    db.session.rollback()  # the row never arrives (the worker died): now they may go
    age(storage, orphans, 2 * 3600)
    assert sorted(housekeeping.collect_garbage(HOUR).removed) == sorted(orphans)


def test_the_command_reports_what_it_removed(storage, product, runner):
    orphans = orphan_files(storage, (1, 1, 1))
    result = runner.invoke(args=["collect-garbage", "--grace-minutes", "0", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert f"would remove {orphans[0]}" in result.output
    assert f"{len(orphans)} unused photo files found" in result.output
    result = runner.invoke(args=["collect-garbage", "--grace-minutes", "0"])
    assert f"{len(orphans)} unused photo files removed" in result.output
    assert list(storage.keys()) == []
    assert "spare files saved more recently" in runner.invoke(
        args=["collect-garbage", "--help"]
    ).output.lower().replace("\n", " ")


# --- a storage that fails halfway: a full disk -----------------------------------------------


class FullDisk(LocalStorage):
    """Takes one file, then the disk is full."""

    def save(self, key, data, content_type):
        if any(True for _ in self.keys()):
            raise OSError(errno.ENOSPC, "No space left on device")
        super().save(key, data, content_type)


@pytest.fixture
def full_disk(app, tmp_path, monkeypatch):
    disk = FullDisk(tmp_path / "full")
    monkeypatch.setitem(app.extensions, "market_storage", disk)
    return disk


def photo_count() -> int:
    reload()
    return db.session.scalar(select(func.count(Photo.id)))


def test_a_full_disk_refuses_the_photo_and_saves_no_row(full_disk, product):
    big = jpeg(size=(1700, 1200), colour=(40, 50, 60))  # three variants: the second fails
    with pytest.raises(PhotoNotStored, match="could not store the photo"):
        add_photos(product, [Upload("big.jpg", big)], actor=make_user())
    assert photo_count() == 0
    assert len(list(full_disk.keys())) == 1  # the first variant, for the collector
    assert len(housekeeping.collect_garbage(timedelta(0)).removed) == 1


def test_a_full_disk_shows_a_clear_message_on_the_upload_page(full_disk, product, client):
    log_in_english(client, make_user(Role.ADMIN))
    big = jpeg(size=(1700, 1200), colour=(41, 51, 61))
    response = client.post(
        f"/manage/products/{product.id}/photos",
        data={"csrf_token": csrf_token(client), "photos": [(io.BytesIO(big), "big.jpg")]},
        content_type="multipart/form-data",
    )
    # The upload form comes back with the reason; 503 tells a phone's outbox to keep the photo
    # and try again later, where a redirect would have read as "saved".
    assert response.status_code == 503
    assert response.headers["Retry-After"]
    assert NOT_STORED in response.get_data(as_text=True)
    assert photo_count() == 0


def test_a_full_disk_keeps_what_was_typed_in_a_new_product(full_disk, product, client):
    log_in_english(client, make_user(Role.ADMIN))
    vendor_id = product.vendor_id
    response = client.post(
        f"/manage/vendors/{vendor_id}/products/new",
        data={
            "csrf_token": csrf_token(client),
            "name": "Amplang ikan pipih",
            "price": "25.000",
            "photos": [(io.BytesIO(jpeg(size=(1700, 1200))), "big.jpg")],
        },
        content_type="multipart/form-data",
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 503
    assert NOT_STORED in page
    assert 'value="Amplang ikan pipih"' in page
    assert photo_count() == 0
    assert db.session.scalar(select(func.count(Product.id))) == 1  # only the fixture's


# --- the same on an S3-compatible bucket ------------------------------------------------------


@pytest.fixture(scope="module")
def s3_endpoint():
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def bucket_storage(app, s3_endpoint, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    bucket = f"pasar-{uuid.uuid4().hex[:12]}"
    boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1").create_bucket(
        Bucket=bucket
    )
    storage = S3Storage(bucket, endpoint_url=s3_endpoint, region="us-east-1")
    monkeypatch.setitem(app.extensions, "market_storage", storage)
    return storage


@pytest.mark.live
def test_a_bucket_is_collected_the_same_way(bucket_storage, product):
    used, _ = add_photos(product, [Upload("a.jpg", jpeg(colour=(3, 2, 1)))], actor=make_user())
    orphans = orphan_files(bucket_storage, (100, 100, 0))
    first_saved = bucket_storage.saved_at(orphans[0])
    assert first_saved is not None and bucket_storage.saved_at("photos/no/such.webp") is None
    assert housekeeping.collect_garbage(HOUR).removed == []  # too young
    removed = housekeeping.collect_garbage(timedelta(0)).removed
    assert sorted(removed) == sorted(orphans)
    assert sorted(bucket_storage.keys()) == sorted(photo_keys(used[0]))


@pytest.mark.live
def test_saving_an_existing_object_again_marks_it_saved_now(bucket_storage):
    key = "photos/ab/abcdef-400.webp"
    bucket_storage.save(key, b"first", "image/webp")
    before = bucket_storage.saved_at(key)
    time.sleep(1.05)  # S3 keeps whole seconds
    bucket_storage.save(key, b"second", "image/webp")
    assert bucket_storage.saved_at(key) > before
    assert bucket_storage.open(key) == b"first"  # same key, same bytes: kept as it was


@pytest.mark.live
def test_an_unreachable_bucket_is_an_os_error(bucket_storage):
    # The caller (store_photo) turns any OSError into PhotoNotStored.
    gone = S3Storage("pasar-gone", endpoint_url="http://127.0.0.1:9", region="us-east-1")
    with pytest.raises(OSError, match="could not save"):
        gone.save("photos/ab/abcdef-400.webp", b"x", "image/webp")


def test_old_idempotency_keys_are_forgotten_and_recent_ones_kept(ctx):
    user = make_user()
    now = utcnow()
    ages = {"fresh": timedelta(days=1), "month": timedelta(days=29), "old": timedelta(days=31)}
    for name, age in ages.items():
        db.session.add(
            IdempotencyKey(
                user_id=user.id, key=f"{name}-key-0123456789", path="/manage/", created_at=now - age
            )
        )
    db.session.commit()
    assert housekeeping.forget_old_keys() == 1
    reload()
    kept = set(db.session.scalars(select(IdempotencyKey.key)))
    assert kept == {"fresh-key-0123456789", "month-key-0123456789"}
