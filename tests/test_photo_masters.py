"""The JPEG master kept beside each photo's WebP variants: upright, at most 2048 px, without
metadata, served to the product feeds and marketplace uploads; and masters made afterwards for
photos stored before they were kept."""

import io

from flask import current_app
from PIL import ExifTags, Image

from market.extensions import db
from market.models import Photo
from market.ops.masters import add_missing_masters
from market.services.imaging import MASTER_SIDE, process_photo, variant_key
from market.services.photos import Upload, add_photos, store_photo
from tests.factories import encode, make_market, make_product, make_user, make_vendor, photo_like
from tests.pages import reload

LIMITS = {"max_bytes": 15 * 2**20, "max_pixels": 50_000_000}


def phone_photo(size=(3000, 2000)) -> bytes:
    """A landscape-stored photo that the phone marks as turned (orientation 6), with GPS."""
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    exif[ExifTags.Base.Make] = "PonselUji"
    exif.get_ifd(ExifTags.IFD.GPSInfo)[ExifTags.GPS.GPSLatitude] = (1.0, 16.0, 0.0)
    return encode(photo_like(size), "JPEG", quality=90, exif=exif.tobytes())


def test_the_master_is_upright_bounded_and_without_metadata(ctx):
    processed = process_photo(phone_photo(), **LIMITS)
    master = Image.open(io.BytesIO(processed.master))
    assert master.format == "JPEG"
    assert master.size == (1365, 2048)  # upright: portrait, longest side MASTER_SIDE
    assert processed.master_width == 1365
    assert not master.getexif() and "exif" not in master.info
    assert b"PonselUji" not in processed.master and b"Exif" not in processed.master


def test_small_photos_are_never_enlarged(ctx):
    processed = process_photo(encode(photo_like((640, 480)), "JPEG"), **LIMITS)
    assert Image.open(io.BytesIO(processed.master)).size == (640, 480)
    assert max(Image.open(io.BytesIO(processed.master)).size) <= MASTER_SIDE


def test_feeds_and_marketplace_sheets_send_the_jpeg_master(client, ctx):
    market = make_market()
    vendor = make_vendor(market)
    product = make_product(vendor, name="Tikar purun")
    add_photos(product, [Upload("tikar.jpg", phone_photo())], actor=make_user())
    reload()
    feed = client.get(f"/pasar/{market.slug}/feed/meta.csv").get_data(as_text=True)
    link = next(part for part in feed.split(",") if part.endswith(".jpg"))
    path = link[link.index("/media/") :]
    served = client.get(path)
    assert served.status_code == 200 and served.mimetype == "image/jpeg"
    image = Image.open(io.BytesIO(served.get_data()))
    assert image.format == "JPEG" and min(image.size) >= 1024
    assert "immutable" in served.headers["Cache-Control"]


def test_photos_from_before_masters_get_one_from_their_largest_variant(ctx, runner):
    storage = current_app.extensions["market_storage"]
    product = make_product(make_vendor(make_market()))
    processed = process_photo(encode(photo_like((1800, 1200)), "JPEG"), **LIMITS)
    photo = store_photo(processed, product_id=product.id)
    twin = store_photo(processed, product_id=product.id)  # the same file on two rows
    storage.delete(photo.master_key())
    photo.master_width = twin.master_width = None  # as stored before masters were kept
    db.session.commit()

    with db.engine.begin() as connection:
        assert add_missing_masters(connection, storage) == (2, 0)
    reload()
    assert photo.master_width == twin.master_width == 1600
    master = Image.open(io.BytesIO(storage.open(photo.master_key())))
    assert master.format == "JPEG" and master.size == (1600, 1067)
    with db.engine.begin() as connection:
        assert add_missing_masters(connection, storage) == (0, 0)  # nothing left to do


def test_a_missing_variant_file_leaves_the_row_for_later(ctx, runner):
    storage = current_app.extensions["market_storage"]
    product = make_product(make_vendor(make_market()))
    photo = store_photo(
        process_photo(encode(photo_like((500, 400)), "JPEG"), **LIMITS), product_id=product.id
    )
    photo.master_width = None
    db.session.commit()
    storage.delete(variant_key(photo.content_hash, 400))
    result = runner.invoke(args=["photo-masters"])
    assert result.exit_code == 0, result.output
    assert "0 photo masters made, 1 failed" in result.output
    reload()
    assert db.session.get(Photo, photo.id).master_width is None
