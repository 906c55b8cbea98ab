"""A vendor's personal data through the admin pages: a JSON copy to download, and erasure on
request (UU 27/2022). Both are for admins only."""

import json
import logging

import pytest
from sqlalchemy import func, select

from market.extensions import db
from market.models import Photo, Product, Vendor
from market.seed.demo import demo_image
from market.services.photos import process_upload, store_photo
from tests.factories import ROLES, make_product
from tests.pages import Route, check_access, csrf_token

ADMIN = frozenset({"admin"})
EVERY_ROLE_BUT_ADMIN = [role for role in ROLES if role != "admin"]


def _export(world) -> str:
    return f"/admin/vendors/{world.vendor.id}/data.json"


def _erase(world) -> str:
    return f"/admin/vendors/{world.vendor.id}/erase"


ROUTES = [
    Route("admin.vendor_export", "GET", _export, ADMIN, ADMIN),
    Route("admin.vendor_erase", "GET", _erase, ADMIN, ADMIN),
    Route(
        "admin.vendor_erase",
        "POST",
        _erase,
        ADMIN,
        ADMIN,
        data=lambda w: {"business_name": w.vendor.business_name},
    ),
]


def _as_admin(client, world):
    client.get("/?lang=en")
    check_access(client, world, ROUTES[1], "admin")  # logs in and opens the erase page
    return client


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("route", ROUTES, ids=lambda r: f"{r.method} {r.endpoint}")
def test_only_admins_reach_personal_data(client, world, route, role):
    vendor_id = world.vendor.id
    check_access(client, world, route, role)
    db.session.commit()
    erased = db.session.get(Vendor, vendor_id) is None
    assert erased == (route.method == "POST" and role == "admin")


def test_export_is_a_private_download_of_everything(client, world, caplog):
    vendor = world.vendor
    make_product(vendor, name="Amplang ikan")
    _as_admin(client, world)
    with caplog.at_level(logging.INFO, logger="market.security"):
        response = client.get(_export(world))
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;") and f"pasar-vendor-{vendor.id}-" in disposition
    assert response.headers["Cache-Control"] == "private, no-store"
    data = json.loads(response.get_data(as_text=True))
    assert data["vendor"]["business_name"] == vendor.business_name
    assert data["vendor"]["whatsapp"] == vendor.whatsapp
    assert data["account"]["phone"] == world.people["vendor"].phone
    assert [p["name"] for p in data["products"]] == ["Amplang ikan"]
    admin = world.people["admin"]
    [event] = [r.getMessage() for r in caplog.records if r.getMessage().startswith("export ")]
    assert f"actor={admin.id}" in event and f"vendor={vendor.id}" in event
    # The log names records by number only.
    assert vendor.whatsapp not in event and vendor.business_name not in event


def test_erase_page_says_what_goes_and_asks_for_the_name(client, world):
    page = _as_admin(client, world).get(_erase(world)).get_data(as_text=True)
    assert "Erasing cannot be undone" in page
    assert "Type the business name to confirm" in page
    assert f'href="{_export(world)}"' in page


def test_a_wrong_name_erases_nothing_and_keeps_what_was_typed(client, world):
    _as_admin(client, world)
    response = client.post(
        _erase(world),
        data={"business_name": "Lapak Lain", "csrf_token": csrf_token(client, _erase(world))},
    )
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "This is not the business name." in page
    assert 'value="Lapak Lain"' in page
    db.session.commit()
    assert db.session.get(Vendor, world.vendor.id) is not None


def test_erasure_removes_the_vendor_its_files_and_says_so(app, client, world):
    vendor = world.vendor
    product = make_product(vendor)
    photo = store_photo(
        process_upload(demo_image("erase-me", (120, 30, 60), (500, 400))),
        vendor_id=vendor.id,
        product_id=product.id,
    )
    db.session.commit()
    keys = [photo.key(width) for width in photo.variants]
    storage = app.extensions["market_storage"]
    assert all(storage.exists(key) for key in keys)
    vendor_id, market_id, name = vendor.id, vendor.market_id, vendor.business_name
    _as_admin(client, world)
    response = client.post(
        _erase(world),
        # Spaces and case as an admin might type them.
        data={"business_name": f"  {name.upper()} ", "csrf_token": csrf_token(client, "/manage/")},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == f"/admin/markets/{market_id}"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "The vendor and everything about them are erased." in page
    assert name not in page
    db.session.commit()
    assert db.session.get(Vendor, vendor_id) is None
    for model in (Product, Photo):
        assert not db.session.scalar(select(func.count()).where(model.vendor_id == vendor_id))
    assert not any(storage.exists(key) for key in keys)


def test_unknown_vendor_is_404_for_admins(client, world):
    _as_admin(client, world)
    assert client.get("/admin/vendors/999999/data.json").status_code == 404
    assert client.get("/admin/vendors/999999/erase").status_code == 404


@pytest.mark.parametrize(("role", "shown"), [("admin", True), ("coordinator", False)])
def test_moderation_page_links_personal_data_for_admins_only(client, world, role, shown):
    client.get("/?lang=en")
    moderate = Route(
        "admin.vendor_moderate",
        "GET",
        lambda w: f"/admin/vendors/{w.vendor.id}/moderate",
        ROLES,
        ROLES,
    )
    check_access(client, world, moderate, role)
    page = client.get(f"/admin/vendors/{world.vendor.id}/moderate").get_data(as_text=True)
    assert (f'href="{_export(world)}"' in page) is shown
    assert (f'href="{_erase(world)}"' in page) is shown
