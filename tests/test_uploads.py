"""Photo uploads end to end, through the upload pages: what phones send comes out upright and
without metadata, refused files leave nothing behind, and both storage backends serve them."""

import io
import uuid
import zipfile

import boto3
import pytest
from flask import current_app
from moto.server import ThreadedMotoServer
from PIL import Image
from sqlalchemy import func, select

from market.extensions import db
from market.models import Photo
from market.storage import S3Storage
from tests.factories import (
    encode,
    jpeg,
    open_image,
    phone_jpeg_with_gps,
    photo_like,
    png_bomb,
    webp_chunks,
)
from tests.pages import DAMAGED, TOO_MANY_PIXELS, UNREADABLE, csrf_token, log_in_english, reload

pytestmark = pytest.mark.usefixtures("en")


@pytest.fixture
def vendor_client(stocked_world, client):
    log_in_english(client, stocked_world.people["vendor"])
    return client


def storage():
    return current_app.extensions["market_storage"]


def upload(client, url: str, *files: tuple[bytes, str]):
    return client.post(
        url,
        data={
            "csrf_token": csrf_token(client),
            "photos": [(io.BytesIO(data), name) for data, name in files],
        },
        content_type="multipart/form-data",
    )


def product_photos_url(stocked_world) -> str:
    return f"/manage/products/{stocked_world.product.id}/photos"


def newest_photo() -> Photo:
    reload()
    return db.session.scalar(select(Photo).order_by(Photo.id.desc()).limit(1))


def photo_count() -> int:
    reload()
    return db.session.scalar(select(func.count(Photo.id)))


def test_phone_jpeg_comes_out_upright_without_exif_or_gps(stocked_world, vendor_client):
    original = phone_jpeg_with_gps()
    assert b"PhoneMakerX" in original
    response = upload(vendor_client, product_photos_url(stocked_world), (original, "IMG_2041.JPG"))
    assert response.status_code == 303
    photo = newest_photo()
    # Stored 600×400 with "rotate 90° clockwise": upright it is 400×600.
    assert (photo.width, photo.height) == (400, 600)
    assert photo.alt_text == "Amplang kepiting"  # the product's name until someone writes one
    for width in photo.variants:
        served = vendor_client.get(f"/media/{photo.key(width)}")
        assert served.status_code == 200
        assert served.mimetype == "image/webp"
        assert served.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        data = served.data
        assert data == storage().open(photo.key(width))
        assert set(webp_chunks(data)) <= {b"VP8 ", b"VP8L", b"VP8X", b"ALPH"}
        for leak in (b"Exif", b"GPS", b"PhoneMakerX", b"XMP"):
            assert leak not in data
        im = open_image(data)
        assert im.size == (400, 600)
        assert not im.getexif()
        # The red mark of the stored top-left corner is now top-right.
        red = im.convert("RGB").getpixel((im.width - 20, 20))
        assert red[0] > 180 and red[1] < 60, red
        assert im.convert("RGB").getpixel((20, 20))[1] > 180


def test_png_screenshot_with_transparency_is_put_on_white(stocked_world, vendor_client):
    im = Image.new("RGBA", (500, 300), (0, 0, 0, 0))
    im.paste((20, 120, 200, 255), (250, 0, 500, 300))
    upload(vendor_client, product_photos_url(stocked_world), (encode(im, "PNG"), "Screenshot.png"))
    photo = newest_photo()
    stored = open_image(storage().open(photo.key(photo.variants[0]))).convert("RGB")
    assert stored.getpixel((20, 150)) == pytest.approx((255, 255, 255), abs=6)
    assert stored.getpixel((380, 150)) == pytest.approx((20, 120, 200), abs=12)


def test_heic_from_an_iphone_is_accepted(stocked_world, vendor_client):
    heic = encode(Image.new("RGB", (64, 48), (30, 140, 70)), "HEIF", quality=80)
    assert heic[4:12] == b"ftypheic"
    response = upload(
        vendor_client, f"/manage/vendors/{stocked_world.vendor.id}/photos", (heic, "a.HEIC")
    )
    assert response.status_code == 303
    photo = newest_photo()
    assert (photo.width, photo.height, photo.variants) == (64, 48, [64])
    assert photo.product_id is None and photo.vendor_id == stocked_world.vendor.id


def _zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr("photo.png", encode(Image.new("RGB", (10, 10)), "PNG"))
    return buf.getvalue()


REFUSED = {
    "a 20000×20000 PNG": (lambda: png_bomb(20_000, 20_000), "huge.png", TOO_MANY_PIXELS),
    "a truncated JPEG": (
        lambda: encode(photo_like((800, 600)), "JPEG")[:20_000],
        "half.jpg",
        DAMAGED,
    ),
    "an SVG": (
        lambda: b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
        "logo.svg",
        UNREADABLE,
    ),
    "an HTML file named .jpg": (
        lambda: b"<!doctype html><script>alert(document.cookie)</script>",
        "photo.jpg",
        UNREADABLE,
    ),
    "a ZIP named .png": (_zip, "photo.png", UNREADABLE),
}


@pytest.mark.parametrize("case", REFUSED)
def test_refused_files_leave_nothing_behind(stocked_world, vendor_client, case):
    make, name, reason = REFUSED[case]
    data = make()
    keys_before, photos_before = set(storage().keys()), photo_count()
    response = upload(vendor_client, product_photos_url(stocked_world), (data, name))
    assert response.status_code == 303
    page = vendor_client.get(response.headers["Location"]).get_data(as_text=True)
    assert f"Not added: {name}. {reason}" in page
    assert set(storage().keys()) == keys_before
    assert photo_count() == photos_before


def test_a_good_photo_is_kept_when_another_in_the_same_upload_is_refused(
    stocked_world, vendor_client
):
    before = photo_count()
    upload(
        vendor_client,
        product_photos_url(stocked_world),
        (b"<html>", "x.jpg"),
        (jpeg(colour=(5, 5, 200)), "ok.jpg"),
    )
    assert photo_count() == before + 1


def test_the_same_photo_twice_is_stored_once(stocked_world, vendor_client):
    data = encode(photo_like((900, 600), seed=11), "JPEG")
    keys_before = set(storage().keys())
    upload(vendor_client, product_photos_url(stocked_world), (data, "a.jpg"), (data, "a-copy.jpg"))
    files = set(storage().keys()) - keys_before
    assert len(files) == 3  # the 400 and 800 px variants and the master
    upload(vendor_client, f"/manage/vendors/{stocked_world.vendor.id}/photos", (data, "again.jpg"))
    assert set(storage().keys()) - keys_before == files
    reload()
    rows = db.session.scalars(
        select(Photo).where(Photo.content_hash == newest_photo().content_hash)
    )
    # Once on the product (the copy in the same upload was refused) and once on the stall.
    assert sorted(p.product_id or 0 for p in rows) == [0, stocked_world.product.id]


# --- the S3 backend behind the same pages -------------------------------------------------


@pytest.fixture(scope="module")
def s3_endpoint():
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3_storage(app, s3_endpoint, monkeypatch):
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    bucket = f"pasar-{uuid.uuid4().hex[:12]}"
    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1")
    client.create_bucket(Bucket=bucket)
    storage = S3Storage(bucket, endpoint_url=s3_endpoint, region="us-east-1")
    monkeypatch.setitem(app.extensions, "market_storage", storage)
    return storage, client, bucket


@pytest.mark.live
def test_s3_backend_round_trips_an_uploaded_photo(stocked_world, vendor_client, s3_storage):
    storage_, client, bucket = s3_storage
    data = encode(photo_like((1000, 750), seed=5), "JPEG")
    response = upload(vendor_client, product_photos_url(stocked_world), (data, "s3.jpg"))
    assert response.status_code == 303
    photo = newest_photo()
    keys = [photo.key(width) for width in photo.variants]
    assert sorted(storage_.keys()) == sorted([*keys, photo.master_key()])
    head = client.head_object(Bucket=bucket, Key=keys[0])
    assert head["ContentType"] == "image/webp"
    assert head["CacheControl"] == "public, max-age=31536000, immutable"
    master = client.head_object(Bucket=bucket, Key=photo.master_key())
    assert master["ContentType"] == "image/jpeg"
    served = vendor_client.get(f"/media/{keys[-1]}")
    assert served.status_code == 200
    assert served.data == storage_.open(keys[-1])
    assert open_image(served.data).size == (800, 600)


# --- a worker with no memory left to decode in ----------------------------------------------


BUSY = "Many photos are being processed right now. Try again in a moment."


def _upload_pages(world) -> dict[str, tuple[str, str, dict]]:
    """Every form that takes photos: its URL, its file field, and the other fields it needs."""
    vendor, product = world.vendor, world.product
    return {
        "new product": (
            f"/manage/vendors/{vendor.id}/products/new",
            "photos",
            {"name": "Keripik pisang gula aren", "price": "15000", "price_kind": "fixed"},
        ),
        "product photos": (f"/manage/products/{product.id}/photos", "photos", {}),
        "stall photos": (f"/manage/vendors/{vendor.id}/photos", "photos", {}),
        "qris": (f"/manage/vendors/{vendor.id}/qris", "photo", {"merchant_name": "BU SRI"}),
    }


@pytest.mark.parametrize("page", ["new product", "product photos", "stall photos", "qris"])
def test_an_upload_finding_no_room_to_decode_is_told_to_try_again(
    page, stocked_world, vendor_client, app, monkeypatch
):
    url, field, fields = _upload_pages(stocked_world)[page]
    monkeypatch.setitem(app.config, "MARKET_PHOTO_BUSY_SECONDS", 0)
    budget = app.extensions["market_decode_budget"]
    before = photo_count()
    with budget.reserve(budget.limit, wait=0):
        response = vendor_client.post(
            url,
            data={"csrf_token": csrf_token(vendor_client), field: [(io.BytesIO(jpeg()), "a.jpg")]}
            | fields,
            content_type="multipart/form-data",
        )
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "1"
    html = response.get_data(as_text=True)
    # Beside the file field, in the form the person filled in, with what they typed.
    field_html = html[html.index(f'name="{field}"') :]
    assert BUSY in field_html[: field_html.index("</form>")]
    for value in fields.values():
        if value != "fixed":
            assert f'value="{value}"' in html
    assert photo_count() == before
    # With room again, the same post goes through.
    again = vendor_client.post(
        url,
        data={"csrf_token": csrf_token(vendor_client), field: [(io.BytesIO(jpeg()), "a.jpg")]}
        | fields,
        content_type="multipart/form-data",
    )
    assert again.status_code == 303
    assert photo_count() == before + 1
