"""The QRIS payment code: uploaded by anyone who edits the stall, shown to shoppers only once
staff have verified it against the sticker, and unverified again by any change."""

import io

import pytest
from sqlalchemy import select

from market.extensions import db
from market.models import AuditEvent, Photo, Role
from market.services.errors import Conflict, Forbidden, Invalid
from market.services.photos import Upload
from market.services.qris import get_qris, save_qris, verify_qris
from tests.catalogue_helpers import (
    another_client,
    build_world,
    en,  # noqa: F401
    log_in_english,
    qris_sticker,
    reload,
    token,
)
from tests.conftest import make_market, make_user, make_vendor

pytestmark = pytest.mark.usefixtures("en")


@pytest.fixture
def world(ctx):
    return build_world()


def qris_actions(vendor) -> list[str]:
    return list(
        db.session.scalars(
            select(AuditEvent.action)
            .where(AuditEvent.record_id == vendor.id, AuditEvent.action.like("qris.%"))
            .order_by(AuditEvent.id)
        )
    )


def test_a_new_code_needs_a_photo_and_a_merchant_name(ctx):
    vendor = make_vendor(make_market())
    volunteer = make_user(Role.VOLUNTEER)
    with pytest.raises(Invalid, match="Choose a photo of the QRIS sticker"):
        save_qris(vendor, actor=volunteer, merchant_name="TOKO SARI")
    with pytest.raises(Invalid, match="merchant name exactly as printed"):
        save_qris(
            vendor, actor=volunteer, merchant_name="  ", upload=Upload("q.png", qris_sticker())
        )
    with pytest.raises(Invalid, match="not a photo we can read"):
        save_qris(
            vendor, actor=volunteer, merchant_name="TOKO SARI", upload=Upload("q.pdf", b"%PDF")
        )
    assert get_qris(vendor) is None


def test_staff_verify_and_any_change_clears_it(world):
    vendor, people = world["vendor"], world["people"]
    qris = get_qris(vendor)
    assert qris.verified_at is None
    # The QRIS photo is neither a stall nor a product photo.
    assert qris.photo not in vendor.photos
    assert (qris.photo.vendor_id, qris.photo.product_id) == (None, None)

    with pytest.raises(Forbidden):
        verify_qris(
            vendor, actor=people["vendor"], photo_id=qris.photo_id, merchant_name="AMPLANG BU SRI"
        )
    verify_qris(
        vendor, actor=people["volunteer"], photo_id=qris.photo_id, merchant_name="AMPLANG BU SRI"
    )
    assert qris.verified_by == people["volunteer"]
    assert qris.verified_at is not None

    # The vendor corrects the name: shoppers no longer see it until staff look again.
    save_qris(vendor, actor=people["vendor"], merchant_name="AMPLANG BU SRI 2")
    assert (qris.verified_at, qris.verified_by_id) == (None, None)
    verify_qris(
        vendor,
        actor=people["coordinator"],
        photo_id=qris.photo_id,
        merchant_name="AMPLANG BU SRI 2",
    )
    old_photo = qris.photo
    save_qris(
        vendor,
        actor=people["vendor"],
        merchant_name="AMPLANG BU SRI 2",
        upload=Upload("new.png", qris_sticker("another code")),
    )
    db.session.expire_all()
    assert qris.verified_at is None
    assert qris.photo_id != old_photo.id
    assert db.session.get(Photo, old_photo.id).deleted_at is not None
    assert qris_actions(vendor) == [
        "qris.save",
        "qris.verify",
        "qris.save",
        "qris.verify",
        "qris.save",
    ]


def test_saving_the_same_photo_and_name_changes_nothing(world):
    vendor, volunteer = world["vendor"], world["people"]["volunteer"]
    qris = get_qris(vendor)
    verify_qris(vendor, actor=volunteer, photo_id=qris.photo_id, merchant_name=qris.merchant_name)
    save_qris(
        vendor,
        actor=volunteer,
        merchant_name="AMPLANG BU SRI",
        upload=Upload("again.png", qris_sticker()),
    )
    assert get_qris(vendor).verified_at is not None


def test_verifying_a_code_that_was_replaced_meanwhile_is_refused(world):
    vendor, people = world["vendor"], world["people"]
    seen = get_qris(vendor)
    seen_photo, seen_name = seen.photo_id, seen.merchant_name
    save_qris(
        vendor,
        actor=people["vendor"],
        merchant_name="PENIPU",
        upload=Upload("fake.png", qris_sticker("fake")),
    )
    with pytest.raises(Conflict, match="changed since you opened the page"):
        verify_qris(vendor, actor=people["volunteer"], photo_id=seen_photo, merchant_name=seen_name)
    assert get_qris(vendor).verified_at is None


def test_the_qris_page_for_staff_and_for_the_vendor(world, client, app):
    vendor = world["vendor"]
    url = f"/manage/vendors/{vendor.id}/qris"
    staff, owner = client, another_client(app)
    log_in_english(staff, world["people"]["volunteer"])
    log_in_english(owner, world["people"]["vendor"])

    owner_page = owner.get(url).get_data(as_text=True)
    assert "Not verified" in owner_page
    assert "AMPLANG BU SRI" in owner_page
    assert "/qris/verify" not in owner_page
    assert "A volunteer of the market will check it" in owner_page

    staff_page = staff.get(url).get_data(as_text=True)
    assert "I checked it at the stall: verify" in staff_page
    photo_id = get_qris(vendor).photo_id
    response = staff.post(
        f"{url}/verify",
        data={
            "photo_id": photo_id,
            "merchant_name": "AMPLANG BU SRI",
            "csrf_token": token(staff),
        },
    )
    assert response.status_code == 303
    page = staff.get(url).get_data(as_text=True)
    assert "Verified: shoppers now see this QRIS code." in page
    assert "Shoppers see this code." in page
    reload()
    assert get_qris(vendor).verified_by_id == world["people"]["volunteer"].id

    # The vendor can hide it, but never verify it.
    assert owner.post(f"{url}/verify", data={"csrf_token": token(owner)}).status_code == 404
    owner.post(f"{url}/unverify", data={"csrf_token": token(owner)})
    reload()
    assert get_qris(vendor).verified_at is None


def test_uploading_a_new_sticker_through_the_page(world, client):
    vendor = world["vendor"]
    log_in_english(client, world["people"]["vendor"])
    response = client.post(
        f"/manage/vendors/{vendor.id}/qris",
        data={
            "csrf_token": token(client),
            "merchant_name": "  AMPLANG   BU SRI  ",
            "photo": (io.BytesIO(qris_sticker("new")), "qris.jpg"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Shoppers see the QRIS code once a volunteer has verified it." in page
    reload()
    assert get_qris(vendor).merchant_name == "AMPLANG BU SRI"


def test_a_refused_sticker_keeps_the_typed_name(world, client):
    vendor = world["vendor"]
    log_in_english(client, world["people"]["vendor"])
    response = client.post(
        f"/manage/vendors/{vendor.id}/qris",
        data={
            "csrf_token": token(client),
            "merchant_name": "TOKO BARU",
            "photo": (io.BytesIO(b"<svg/>"), "qris.svg"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "This file is not a photo we can read" in page
    assert 'value="TOKO BARU"' in page
    reload()
    assert get_qris(vendor).merchant_name == "AMPLANG BU SRI"
