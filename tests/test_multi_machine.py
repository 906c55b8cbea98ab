"""Two app servers ("machines", each with two gunicorn workers) sharing one database, one Redis
and one S3-compatible bucket, set up by configuration alone: what happens on one is seen on the
other. PostgreSQL when MARKET_TEST_DATABASE_URL is set, else a SQLite file both can reach."""

import uuid

import boto3
import pytest
import redis
from moto.server import ThreadedMotoServer

from market.config import load_settings
from market.storage import S3Storage, storage_from_url
from tests.factories import encode, photo_like
from tests.live import serve
from tests.reliability_helpers import (
    REDIS_URL,
    Visitor,
    database_of_its_own,
    installation,
    query,
    staffed_product,
)

AWS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


@pytest.fixture
def bucket_url(monkeypatch):
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    for name, value in AWS.items():
        monkeypatch.setenv(name, value)
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    bucket = f"pasar-{uuid.uuid4().hex[:12]}"
    boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket=bucket)
    yield f"s3://{bucket}?endpoint_url={endpoint}&region=us-east-1"
    server.stop()


@pytest.mark.live
@pytest.mark.skipif(
    not REDIS_URL, reason="set MARKET_TEST_REDIS_URL (e.g. redis://127.0.0.1:6379/14)"
)
def test_two_machines_share_photos_limits_and_pages(tmp_path, bucket_url):
    redis.Redis.from_url(REDIS_URL).flushdb()
    with database_of_its_own(tmp_path, "machines") as url:
        env = installation(
            tmp_path, url, MARKET_REDIS_URL=REDIS_URL, MARKET_STORAGE_URL=bucket_url, **AWS
        )
        shop = staffed_product(env)
        with (
            serve(env, workers=2, threads=2) as machine_a,
            serve(env, workers=2, threads=2) as machine_b,
        ):
            shopper_b = Visitor(machine_b)
            assert "25.000" in shopper_b.get(shop.product_path).text  # now cached in Redis

            editor = Visitor(machine_a)
            editor.log_in(shop.logins[0])
            edit_path = f"/manage/products/{shop.product_id}/edit"
            upload_path = f"/manage/products/{shop.product_id}/photos"
            fields = editor.form(edit_path, upload_path)
            photo = encode(photo_like((900, 600), seed=21), "JPEG")
            uploaded = editor.post(upload_path, fields, files={"photos": ("a.jpg", photo)})
            fields = editor.form(edit_path)
            saved = editor.post(edit_path, {**fields, "price": "27500"})

            ((content_hash,),) = query(env, "SELECT content_hash FROM photo")
            key = f"photos/{content_hash[:2]}/{content_hash}-800.webp"
            served = shopper_b.get(f"/media/{key}")
            page = shopper_b.get(shop.product_path)

            statuses = []
            for machine in (machine_a,) * 5 + (machine_b,):
                prober = Visitor(machine)
                form = prober.form("/auth/login")
                statuses.append(
                    prober.post(
                        "/auth/login",
                        {**form, "login": shop.logins[0], "password": "not the password"},
                    ).status_code
                )
    assert uploaded.status_code == 303 and saved.status_code == 303
    # The photo went into the bucket through A and comes out through B.
    assert served.status_code == 200
    assert served.headers["Content-Type"] == "image/webp"
    assert served.content[:4] == b"RIFF" and served.content[8:12] == b"WEBP"
    # B's cached page was invalidated by A's save, and shows the photo too.
    assert "27.500" in page.text and key in page.text
    # Five failures on A, the sixth on B: the limit is one, wherever the attempts land.
    assert statuses == [200] * 5 + [429]


def test_configuration_alone_chooses_the_scaled_out_parts(monkeypatch, tmp_path):
    monkeypatch.setenv("MARKET_DATABASE_URL", "postgresql+psycopg://pasar@db.internal/pasar")
    monkeypatch.setenv("MARKET_REDIS_URL", "redis://cache.internal:6379/0")
    monkeypatch.setenv("MARKET_STORAGE_URL", "s3://pasar-photos?region=ap-southeast-3")
    settings = load_settings(str(tmp_path))
    assert settings["SQLALCHEMY_DATABASE_URI"].startswith("postgresql+psycopg://")
    assert (
        settings["RATELIMIT_STORAGE_URI"]
        == settings["CACHE_REDIS_URL"]
        == ("redis://cache.internal:6379/0")
    )
    assert settings["CACHE_TYPE"] == "RedisCache"
    # Redis out of reach costs a request a second at most, and limits go on in each process.
    for options in (settings["RATELIMIT_STORAGE_OPTIONS"], settings["CACHE_OPTIONS"]):
        assert options == {"socket_timeout": 1.0, "socket_connect_timeout": 1.0}
    assert settings["RATELIMIT_IN_MEMORY_FALLBACK_ENABLED"] is True
    assert isinstance(storage_from_url(settings["MARKET_STORAGE_URL"]), S3Storage)
