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
from tests.factories import make_market, make_user, make_vendor, qris_sticker
from tests.pages import another_client, csrf_token, log_in_english, reload

pytestmark = pytest.mark.usefixtures("en")


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


def test_staff_verify_and_any_change_clears_it(stocked_world):
    vendor, people = stocked_world.vendor, stocked_world.people
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


def test_saving_the_same_photo_and_name_changes_nothing(stocked_world):
    vendor, volunteer = stocked_world.vendor, stocked_world.people["volunteer"]
    qris = get_qris(vendor)
    verify_qris(vendor, actor=volunteer, photo_id=qris.photo_id, merchant_name=qris.merchant_name)
    save_qris(
        vendor,
        actor=volunteer,
        merchant_name="AMPLANG BU SRI",
        upload=Upload("again.png", qris_sticker()),
    )
    assert get_qris(vendor).verified_at is not None


def test_verifying_a_code_that_was_replaced_meanwhile_is_refused(stocked_world):
    vendor, people = stocked_world.vendor, stocked_world.people
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


def test_the_qris_page_for_staff_and_for_the_vendor(stocked_world, client, app):
    vendor = stocked_world.vendor
    url = f"/manage/vendors/{vendor.id}/qris"
    staff, owner = client, another_client(app)
    log_in_english(staff, stocked_world.people["volunteer"])
    log_in_english(owner, stocked_world.people["vendor"])

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
            "csrf_token": csrf_token(staff),
        },
    )
    assert response.status_code == 303
    page = staff.get(url).get_data(as_text=True)
    assert "Verified: shoppers now see this QRIS code." in page
    assert "Shoppers see this code." in page
    reload()
    assert get_qris(vendor).verified_by_id == stocked_world.people["volunteer"].id

    # The vendor can hide it, but never verify it.
    assert owner.post(f"{url}/verify", data={"csrf_token": csrf_token(owner)}).status_code == 404
    owner.post(f"{url}/unverify", data={"csrf_token": csrf_token(owner)})
    reload()
    assert get_qris(vendor).verified_at is None


def test_uploading_a_new_sticker_through_the_page(stocked_world, client):
    vendor = stocked_world.vendor
    log_in_english(client, stocked_world.people["vendor"])
    response = client.post(
        f"/manage/vendors/{vendor.id}/qris",
        data={
            "csrf_token": csrf_token(client),
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


def test_a_refused_sticker_keeps_the_typed_name(stocked_world, client):
    vendor = stocked_world.vendor
    log_in_english(client, stocked_world.people["vendor"])
    response = client.post(
        f"/manage/vendors/{vendor.id}/qris",
        data={
            "csrf_token": csrf_token(client),
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
