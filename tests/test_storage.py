"""Photo storage: the local folder and an S3-compatible bucket behave the same."""

import io
import os
import stat
import uuid

import boto3
import pytest
from moto.server import ThreadedMotoServer
from PIL import Image

from market.services.imaging import process_photo, save_variants, variant_key
from market.storage import LocalStorage, S3Storage, Storage, storage_from_url

KEY = "photos/ab/abcdef-400.webp"

UNSAFE_KEYS = [
    "",
    "../secret",
    "photos/../../secret",
    "photos/..",
    "..",
    "/etc/passwd",
    "photos\\..\\secret",
    "photos/a\0b.webp",
    "photos//a.webp",
    "./photos/a.webp",
    "photos/./a.webp",
    "photos/",
    "photos/a\nb.webp",
    ".tmp-abc",
    "photos/.tmp-abc/x.webp",
    "p" * 2000,
]


def tiny_photo_bytes() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (480, 320), (200, 120, 40)).save(buf, "JPEG")
    return buf.getvalue()


# --- LocalStorage ------------------------------------------------------------------------


def test_local_round_trip(tmp_path):
    storage = LocalStorage(tmp_path / "uploads")
    assert isinstance(storage, Storage)
    assert not storage.exists(KEY)
    storage.save(KEY, b"webp bytes", "image/webp")
    assert storage.exists(KEY)
    assert storage.open(KEY) == b"webp bytes"
    assert (
        tmp_path / "uploads" / "photos" / "ab" / "abcdef-400.webp"
    ).read_bytes() == b"webp bytes"
    assert storage.url(KEY) is None  # served by the app from /media/<key>
    storage.delete(KEY)
    assert not storage.exists(KEY)
    with pytest.raises(FileNotFoundError):
        storage.open(KEY)


def test_local_files_are_readable_by_a_web_server(tmp_path):
    storage = LocalStorage(tmp_path)
    storage.save(KEY, b"x", "image/webp")
    mode = stat.S_IMODE((tmp_path / KEY).stat().st_mode)
    assert mode == 0o644


def test_local_save_is_idempotent(tmp_path):
    storage = LocalStorage(tmp_path)
    storage.save(KEY, b"first", "image/webp")
    # Keys are content hashes: the same key means the same bytes, so a second save is skipped.
    storage.save(KEY, b"second", "image/webp")
    assert storage.open(KEY) == b"first"
    assert list(storage.keys()) == [KEY]


def test_local_save_writes_a_temp_file_beside_the_target_then_renames(tmp_path, monkeypatch):
    storage = LocalStorage(tmp_path)
    renames = []
    real_replace = os.replace

    def spying_replace(src, dst):
        renames.append((os.path.dirname(src), os.fspath(dst)))
        # Nothing is visible under the key until the rename.
        assert not storage.exists(KEY)
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", spying_replace)
    storage.save(KEY, b"data", "image/webp")
    assert renames == [(str(tmp_path / "photos" / "ab"), str(tmp_path / KEY))]


def test_local_failed_save_leaves_nothing_behind(tmp_path, monkeypatch):
    storage = LocalStorage(tmp_path)

    def failing_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(OSError, match="disk full"):
        storage.save(KEY, b"data", "image/webp")
    assert not storage.exists(KEY)
    assert list((tmp_path / "photos" / "ab").iterdir()) == []
    assert list(storage.keys()) == []


@pytest.mark.parametrize("key", UNSAFE_KEYS)
def test_local_refuses_unsafe_keys(tmp_path, key):
    storage = LocalStorage(tmp_path / "root")
    for call in (
        lambda: storage.save(key, b"x", "image/webp"),
        lambda: storage.open(key),
        lambda: storage.exists(key),
        lambda: storage.delete(key),
        lambda: storage.url(key),
    ):
        with pytest.raises(ValueError):
            call()
    root = tmp_path / "root"
    assert not (tmp_path / "secret").exists()
    assert not root.exists() or not any(root.rglob("*"))


def test_local_delete_of_a_missing_key_is_fine(tmp_path):
    storage = LocalStorage(tmp_path / "never-created")
    storage.delete(KEY)
    assert list(storage.keys()) == []


def test_local_open_of_a_folder_is_not_found(tmp_path):
    storage = LocalStorage(tmp_path)
    storage.save(KEY, b"x", "image/webp")
    with pytest.raises(FileNotFoundError):
        storage.open("photos/ab")
    assert not storage.exists("photos/ab")


def test_local_keys_lists_files_by_prefix_and_skips_temp_files(tmp_path):
    storage = LocalStorage(tmp_path)
    for key in ("photos/ab/1.webp", "photos/ab/2.webp", "photos/ac/3.webp", "qris/4.webp"):
        storage.save(key, b"x", "image/webp")
    (tmp_path / "photos" / "ab" / ".tmp-leftover").write_bytes(b"half")
    assert list(storage.keys()) == [
        "photos/ab/1.webp",
        "photos/ab/2.webp",
        "photos/ac/3.webp",
        "qris/4.webp",
    ]
    assert list(storage.keys("photos/")) == [
        "photos/ab/1.webp",
        "photos/ab/2.webp",
        "photos/ac/3.webp",
    ]
    assert list(storage.keys("photos/ab")) == ["photos/ab/1.webp", "photos/ab/2.webp"]
    assert list(storage.keys("photos/ab/2")) == ["photos/ab/2.webp"]
    assert list(storage.keys("nothing/")) == []
    with pytest.raises(ValueError):
        list(storage.keys("../"))


def test_local_round_trip_of_a_processed_photo(tmp_path):
    storage = storage_from_url(f"file://{tmp_path}/uploads")
    photo = process_photo(tiny_photo_bytes(), max_bytes=10**6, max_pixels=10**7)
    keys = save_variants(storage, photo)
    assert keys == [variant_key(photo.content_hash, 400)]
    assert storage.open(keys[0]) == photo.variants[400]


# --- storage_from_url ----------------------------------------------------------------------


def test_file_urls(tmp_path):
    storage = storage_from_url(f"file://{tmp_path}/up%20loads")
    assert isinstance(storage, LocalStorage)
    assert storage.root == tmp_path / "up loads"
    assert storage_from_url(f"file://localhost{tmp_path}").root == tmp_path


@pytest.mark.parametrize(
    ("url", "complaint"),
    [
        ("", "unsupported scheme"),
        ("/srv/uploads", "unsupported scheme"),
        ("ftp://example.org/uploads", "unsupported scheme"),
        ("gs://bucket", "unsupported scheme"),
        ("file://relative/uploads", "absolute path"),
        ("file:relative", "absolute path"),
        ("s3://", "name the bucket"),
        ("s3://key:secret@bucket", "name the bucket"),
        ("s3://bucket/prefix", "prefixes are not supported"),
        ("s3://bucket?endpoint=http://x", "unknown option"),
    ],
)
def test_bad_storage_urls_are_explained(url, complaint):
    with pytest.raises(ValueError, match=complaint):
        storage_from_url(url)


def test_s3_url_options(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    storage = storage_from_url(
        "s3://pasar-photos?endpoint_url=http://127.0.0.1:9000&region=ap-southeast-3"
        "&public_url=https://cdn.example.org/pasar/"
    )
    assert isinstance(storage, S3Storage)
    assert storage.bucket == "pasar-photos"
    assert storage.url(KEY) == f"https://cdn.example.org/pasar/{KEY}"
    plain = storage_from_url("s3://pasar-photos?region=ap-southeast-3")
    assert plain.url(KEY) is None


# --- S3Storage against a real S3-protocol server (moto) ------------------------------------


@pytest.fixture(scope="module")
def s3_endpoint():
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3_bucket(s3_endpoint, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    bucket = f"pasar-{uuid.uuid4().hex[:12]}"
    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1")
    client.create_bucket(Bucket=bucket)
    return bucket, client


@pytest.mark.live
def test_s3_round_trip_of_a_photo(s3_endpoint, s3_bucket):
    bucket, client = s3_bucket
    storage = storage_from_url(f"s3://{bucket}?endpoint_url={s3_endpoint}&region=us-east-1")
    assert isinstance(storage, S3Storage)
    photo = process_photo(tiny_photo_bytes(), max_bytes=10**6, max_pixels=10**7)

    keys = save_variants(storage, photo)

    assert list(storage.keys()) == keys
    assert list(storage.keys("photos/")) == keys
    assert list(storage.keys("qris/")) == []
    assert storage.exists(keys[0])
    assert storage.open(keys[0]) == photo.variants[400]
    head = client.head_object(Bucket=bucket, Key=keys[0])
    assert head["ContentType"] == "image/webp"
    assert "immutable" in head["CacheControl"]
    assert storage.url(keys[0]) is None

    storage.delete(keys[0])
    assert not storage.exists(keys[0])
    with pytest.raises(FileNotFoundError):
        storage.open(keys[0])
    storage.delete(keys[0])  # deleting again is fine


@pytest.mark.live
def test_s3_save_is_idempotent(s3_endpoint, s3_bucket):
    bucket, _client = s3_bucket
    storage = S3Storage(bucket, endpoint_url=s3_endpoint, region="us-east-1")
    storage.save(KEY, b"first", "image/webp")
    storage.save(KEY, b"second", "image/webp")
    assert storage.open(KEY) == b"first"


@pytest.mark.live
def test_s3_public_url(s3_endpoint, s3_bucket):
    bucket, _client = s3_bucket
    storage = storage_from_url(
        f"s3://{bucket}?endpoint_url={s3_endpoint}&public_url={s3_endpoint}/{bucket}"
    )
    storage.save(KEY, b"public", "image/webp")
    assert storage.url(KEY) == f"{s3_endpoint}/{bucket}/{KEY}"


@pytest.mark.live
@pytest.mark.parametrize("key", ["../secret", "/abs", "a\\b", "a\0b", ""])
def test_s3_refuses_the_same_unsafe_keys(s3_endpoint, s3_bucket, key):
    bucket, _client = s3_bucket
    storage = S3Storage(bucket, endpoint_url=s3_endpoint)
    for call in (
        lambda: storage.save(key, b"x", "image/webp"),
        lambda: storage.open(key),
        lambda: storage.exists(key),
        lambda: storage.delete(key),
        lambda: storage.url(key),
    ):
        with pytest.raises(ValueError):
            call()
