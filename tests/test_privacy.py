"""A vendor's data: exported whole on request, and erased leaving no trace."""

import json

from sqlalchemy import inspect, text

from market.extensions import db
from market.models import ContactClick, Invitation, QrisCode, Role, VlogLink
from market.seed.demo import demo_image
from market.services import privacy
from market.services.audit import record
from market.services.photos import process_upload, store_photo
from tests.factories import make_market, make_product, make_user, make_vendor

SECRET_NAME = "Warung Rahasia Bu Siti"
SECRET_OWNER = "Siti Rahmawati"
SECRET_PHONE = "+6281299998888"


def _vendor_with_everything():
    market = make_market()
    owner = make_user(Role.VENDOR, phone=SECRET_PHONE, name=SECRET_OWNER)
    vendor = make_vendor(
        market,
        business_name=SECRET_NAME,
        owner_name=SECRET_OWNER,
        whatsapp=SECRET_PHONE,
        owner=owner,
        description=f"Lapak {SECRET_OWNER}",
    )
    product = make_product(vendor, name=f"Kue buatan {SECRET_OWNER}")
    stall = store_photo(
        process_upload(demo_image("secret-stall", (10, 20, 30), (500, 400))),
        vendor_id=vendor.id,
        alt_text=SECRET_NAME,
    )
    store_photo(
        process_upload(demo_image("secret-product", (30, 20, 10), (500, 400))),
        vendor_id=vendor.id,
        product_id=product.id,
        alt_text=product.name,
    )
    db.session.flush()
    db.session.add(QrisCode(vendor_id=vendor.id, photo_id=stall.id, merchant_name=SECRET_NAME))
    db.session.add(
        VlogLink(
            vendor_id=vendor.id,
            url="https://youtu.be/dQw4w9WgXcQ",
            platform="youtube",
            video_id="dQw4w9WgXcQ",
        )
    )
    db.session.add(ContactClick(vendor_id=vendor.id, day=stall.created_at.date(), count=3))
    db.session.add(
        Invitation(
            vendor_id=vendor.id,
            token_hash="x" * 64,
            created_by_id=owner.id,
            expires_at=stall.created_at,
        )
    )
    record(owner, "vendor.update", vendor, {"business_name": ["Lama", SECRET_NAME]})
    record(owner, "product.update", product, {"name": ["x", product.name]})
    db.session.commit()
    return vendor


def _everything_stored() -> str:
    """Every row of every table (search index included) as text."""
    dump = []
    with db.engine.connect() as connection:
        for name in inspect(connection).get_table_names():
            rows = connection.execute(text(f'SELECT * FROM "{name}"')).fetchall()  # noqa: S608
            dump.extend(repr(tuple(row)) for row in rows)
    return "\n".join(dump)


def test_export_holds_everything_about_the_vendor(ctx):
    vendor = _vendor_with_everything()
    data = privacy.export_vendor(vendor)
    json.dumps(data)
    assert data["vendor"]["business_name"] == SECRET_NAME
    assert data["vendor"]["whatsapp"] == SECRET_PHONE
    assert data["account"]["phone"] == SECRET_PHONE
    assert len(data["products"]) == 1
    assert len(data["photos"]) == 2
    assert data["vlogs"][0]["platform"] == "youtube"
    assert data["qris"]["merchant_name"] == SECRET_NAME
    assert data["whatsapp_taps"][0]["count"] == 3


def test_erasure_leaves_no_trace_in_database_or_storage(app, ctx):
    vendor = _vendor_with_everything()
    keys = [photo.key(w) for photo in vendor.photos for w in photo.variants]
    storage = app.extensions["market_storage"]
    assert all(storage.exists(key) for key in keys)
    assert SECRET_NAME.lower() in _everything_stored().lower()
    admin = make_user(Role.ADMIN)
    privacy.erase_vendor(vendor, actor=admin)
    db.session.expire_all()
    stored = _everything_stored().lower()
    for secret in (SECRET_NAME, SECRET_OWNER, SECRET_PHONE, SECRET_PHONE.lstrip("+")):
        assert secret.lower() not in stored, secret
    assert not any(storage.exists(key) for key in keys)
    assert "vendor.erase" in stored


def test_erasure_keeps_files_another_vendor_shares(app, ctx):
    vendor = _vendor_with_everything()
    other = make_vendor(vendor.market)
    shared = store_photo(
        process_upload(demo_image("secret-stall", (10, 20, 30), (500, 400))), vendor_id=other.id
    )
    db.session.commit()
    privacy.erase_vendor(vendor, actor=make_user(Role.ADMIN))
    storage = app.extensions["market_storage"]
    assert all(storage.exists(shared.key(w)) for w in shared.variants)
