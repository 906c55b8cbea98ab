"""The catalogue services: products, their order and availability, photos, no lost updates."""

import pytest
from flask import current_app
from sqlalchemy import func, select, update
from sqlalchemy.orm.attributes import set_committed_value

from market.extensions import db
from market.models import AuditEvent, Availability, Photo, PriceKind, Product, Role
from market.services.errors import Invalid
from market.services.photos import (
    Upload,
    add_photos,
    delete_photo,
    deleted_photos,
    move_photo,
    process_upload,
    restore_photo,
    set_alt_text,
    store_photo,
)
from market.services.products import (
    InvalidProduct,
    ProductFields,
    StaleProduct,
    clean_product,
    create_product,
    delete_product,
    deleted_products,
    list_products,
    move_product,
    product_snapshot,
    restore_product,
    set_availability,
    update_product,
)
from tests.factories import category, jpeg, make_market, make_product, make_user, make_vendor

pytestmark = pytest.mark.usefixtures("en")


@pytest.fixture
def stall(ctx):
    vendor = make_vendor(make_market())
    return vendor, make_user(Role.VOLUNTEER)


def actions(target) -> list[str]:
    return list(
        db.session.scalars(
            select(AuditEvent.action)
            .where(
                AuditEvent.record_type == type(target).__name__.lower(),
                AuditEvent.record_id == target.id,
            )
            .order_by(AuditEvent.id)
        )
    )


def storage():
    return current_app.extensions["market_storage"]


# --- reading the product form -------------------------------------------------------------


def test_clean_product_reads_what_people_type(ctx):
    fields = clean_product(
        {
            "name": "  Amplang   kepiting  ",
            "description": "Renyah.\r\nTahan 2 bulan.",
            "price": "Rp25.000,-",
            "price_kind": "from",
            "price_note": " per  bungkus ",
            "availability": "pre_order",
            "halal": True,
            "permit_number": " PIRT 2066471010124-26 ",
            "material": "",
            "categories": [category("makanan").id],
        }
    )
    assert fields.name == "Amplang kepiting"
    assert fields.description == "Renyah.\nTahan 2 bulan."
    assert fields.price_idr == 25000
    assert fields.price_kind == PriceKind.FROM
    assert fields.price_note == "per bungkus"
    assert fields.availability == Availability.PRE_ORDER
    assert fields.halal is True
    assert fields.permit_number == "PIRT 2066471010124-26"
    assert [c.slug for c in fields.categories] == ["makanan"]


@pytest.mark.parametrize("typed", ["25000", "25.000", "Rp 25.000", "Rp25.000,-", "25rb"])
def test_prices_are_stored_in_whole_rupiah(ctx, typed):
    assert clean_product({"name": "x", "price": typed}).price_idr == 25000


def test_negotiable_needs_no_price(ctx):
    fields = clean_product({"name": "Ikat kepala", "price": "", "price_kind": "negotiable"})
    assert fields.price_idr is None
    assert fields.price_kind == PriceKind.NEGOTIABLE


@pytest.mark.parametrize(
    ("raw", "field", "message"),
    [
        ({"name": ""}, "name", "Give the product a name."),
        ({"name": "x" * 121}, "name", "Use at most 120 characters (this has 121)."),
        ({"price": ""}, "price", "Enter the price, or choose “negotiable”."),
        ({"price": "", "price_kind": "from"}, "price", "Enter the price, or choose “negotiable”."),
        ({"price": "-5000"}, "price", "A price cannot be negative."),
        ({"price": "lima ribu"}, "price", "Enter the price in rupiah, for example 25.000."),
        ({"price": "25.000,50"}, "price", "Enter the price in whole rupiah, without cents."),
        ({"price": "99999999999"}, "price", "That price is too high: the most is Rp1.000.000.000."),
        ({"price": "0"}, "price", "A price of Rp0 is not possible; leave it empty if you bargain."),
        ({"price_kind": "cheap"}, "price_kind", "Choose how the price works."),
        ({"availability": "maybe"}, "availability", "Choose whether the product is available."),
        ({"price_note": "x" * 61}, "price_note", "Use at most 60 characters (this has 61)."),
        ({"permit_number": "1" * 41}, "permit_number", "Use at most 40 characters (this has 41)."),
        (
            {"description": "x" * 2001},
            "description",
            "Use at most 2000 characters (this has 2001).",
        ),
        ({"categories": [99999]}, "categories", "Choose categories from the list."),
        ({"categories": ["abc"]}, "categories", "Choose categories from the list."),
    ],
)
def test_clean_product_refuses_with_a_message_per_field(ctx, raw, field, message):
    with pytest.raises(InvalidProduct) as caught:
        clean_product({"name": "Amplang", "price": "25000"} | raw)
    assert caught.value.errors == {field: message}


def test_every_problem_is_reported_at_once(ctx):
    with pytest.raises(InvalidProduct) as caught:
        clean_product({"name": "", "price": "-1", "availability": "?"})
    assert set(caught.value.errors) == {"name", "price", "availability"}


# --- creating and editing -------------------------------------------------------------------


def test_create_product_adds_it_at_the_end_with_a_unique_slug(stall):
    vendor, volunteer = stall
    make_product(vendor, slug="amplang", position=4)
    first, refused = create_product(
        vendor, ProductFields("Amplang!", price_idr=30000), actor=volunteer
    )
    assert refused == []
    assert first.slug == "amplang-2"
    assert first.position == 5
    delete_product(first, actor=volunteer)
    # A deleted product keeps its slug, so restoring it never collides.
    second, _ = create_product(vendor, ProductFields("Amplang"), actor=volunteer)
    assert second.slug == "amplang-3"
    assert actions(second) == ["product.create"]
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.record_id == first.id))
    assert event.actor_id == volunteer.id
    assert event.market_id == vendor.market_id
    assert event.changes["price_idr"] == [None, 30000]


def test_create_product_with_photos_keeps_the_good_ones(stall):
    vendor, volunteer = stall
    product, refused = create_product(
        vendor,
        ProductFields("Tas manik", price_idr=350000),
        actor=volunteer,
        uploads=[Upload("tas.jpg", jpeg()), Upload("rusak.jpg", b"<html>")],
    )
    assert [p.alt_text for p in product.photos] == ["Tas manik"]
    assert [(r.filename, r.message) for r in refused] == [
        ("rusak.jpg", "This file is not a photo we can read (JPEG, PNG, WebP or HEIC).")
    ]
    assert actions(product) == ["product.create", "photo.add"]


def edit(product: Product, **changes) -> ProductFields:
    values = product_snapshot(product) | {"categories": list(product.categories)}
    return ProductFields(**(values | changes))


def test_update_product_saves_and_audits_the_changes(stall):
    vendor, volunteer = stall
    product = make_product(vendor, price_idr=25000)
    version, base = product.version, product_snapshot(product)
    changes = update_product(
        product,
        edit(product, price_idr=27000, categories=[category("kerajinan")]),
        actor=volunteer,
        version=version,
        base=base,
    )
    assert changes == {"price_idr": [25000, 27000], "categories": [[], ["kerajinan"]]}
    db.session.expire_all()
    assert product.price_idr == 27000
    assert product.version == version + 1
    assert actions(product) == ["product.update"]


def test_a_change_of_categories_alone_is_a_new_version(stall):
    vendor, volunteer = stall
    product = make_product(vendor)
    version, base = product.version, product_snapshot(product)
    update_product(
        product,
        edit(product, categories=[category("suvenir")]),
        actor=volunteer,
        version=version,
        base=base,
    )
    assert product.version == version + 1
    with pytest.raises(StaleProduct) as caught:
        update_product(
            product,
            edit(product, categories=[category("kain")]),
            actor=volunteer,
            version=version,
            base=base,
        )
    assert caught.value.changed == {"categories": (["suvenir"], ["kain"])}


def test_saving_an_unchanged_form_writes_nothing(stall):
    vendor, volunteer = stall
    product = make_product(vendor)
    version = product.version
    assert (
        update_product(
            product,
            edit(product),
            actor=volunteer,
            version=version,
            base=product_snapshot(product),
        )
        == {}
    )
    assert product.version == version
    assert actions(product) == []


def test_a_save_based_on_an_old_version_does_not_overwrite(stall):
    vendor, volunteer = stall
    product = make_product(vendor, price_idr=25000, name="Amplang")
    # Two tabs open the form.
    version, base = product.version, product_snapshot(product)
    update_product(
        product, edit(product, price_idr=30000), actor=volunteer, version=version, base=base
    )
    with pytest.raises(StaleProduct) as caught:
        update_product(
            product,
            edit(product, price_idr=40000, name="Amplang ikan"),
            actor=volunteer,
            version=version,
            base=base,
        )
    # Only what the other tab changed is a conflict; the name was changed here alone.
    assert caught.value.changed == {"price_idr": (30000, 40000)}
    db.session.expire_all()
    assert (product.price_idr, product.name) == (30000, "Amplang")
    assert actions(product) == ["product.update"]


def test_a_stale_save_that_overwrites_nothing_goes_through(stall):
    vendor, volunteer = stall
    product = make_product(vendor, price_idr=25000)
    make_product(vendor)
    version, base = product.version, product_snapshot(product)
    move_product(product, "down", actor=volunteer)  # bumps the version
    assert product.version != version
    update_product(
        product, edit(product, price_idr=26000), actor=volunteer, version=version, base=base
    )
    db.session.expire_all()
    assert product.price_idr == 26000


def test_without_the_opening_values_every_difference_is_a_conflict(stall):
    vendor, volunteer = stall
    product = make_product(vendor, price_idr=25000)
    with pytest.raises(StaleProduct) as caught:
        update_product(
            product, edit(product, price_idr=26000), actor=volunteer, version=None, base=None
        )
    assert caught.value.changed == {"price_idr": (25000, 26000)}


def test_a_write_racing_between_read_and_commit_is_refused(stall):
    vendor, volunteer = stall
    product = make_product(vendor, price_idr=25000)
    version, base = product.version, product_snapshot(product)
    # Another request commits after this one loaded the product and checked its version...
    db.session.execute(
        update(Product)
        .where(Product.id == product.id)
        .values(price_idr=31000, version=Product.version + 1)
    )
    db.session.commit()
    assert product.version == version + 1
    # ...so this one still holds the values it loaded before.
    set_committed_value(product, "version", version)
    set_committed_value(product, "price_idr", 25000)
    with pytest.raises(StaleProduct) as caught:
        update_product(
            product, edit(product, price_idr=26000), actor=volunteer, version=version, base=base
        )
    assert caught.value.changed == {"price_idr": (31000, 26000)}
    db.session.expire_all()
    assert product.price_idr == 31000
    assert actions(product) == []


def test_deleted_products_and_vendors_cannot_be_edited(stall):
    vendor, volunteer = stall
    product = make_product(vendor)
    delete_product(product, actor=volunteer)
    with pytest.raises(Invalid, match="This product is deleted"):
        update_product(product, edit(product), actor=volunteer, version=1, base=None)
    with pytest.raises(Invalid, match="deleted"):
        set_availability(product, "sold_out", actor=volunteer)
    vendor.deleted_at = product.deleted_at
    db.session.commit()
    with pytest.raises(Invalid, match="This vendor is deleted"):
        create_product(vendor, ProductFields("x"), actor=volunteer)
    with pytest.raises(Invalid, match="This vendor is deleted"):
        restore_product(product, actor=volunteer)


# --- availability, order, delete ----------------------------------------------------------


def test_availability_changes_with_one_call(stall):
    vendor, volunteer = stall
    product = make_product(vendor)
    assert set_availability(product, "sold_out", actor=volunteer) is True
    assert set_availability(product, "sold_out", actor=volunteer) is False
    assert product.availability == Availability.SOLD_OUT
    with pytest.raises(Invalid):
        set_availability(product, "gone", actor=volunteer)
    assert actions(product) == ["product.availability"]


def test_products_move_up_and_down(stall):
    vendor, volunteer = stall
    # Equal positions (as an import may leave them) are put in a clear order first.
    a, b, c = (make_product(vendor, name=n, position=0) for n in "abc")
    assert move_product(c, "up", actor=volunteer) is True
    assert [p.name for p in list_products(vendor)] == ["a", "c", "b"]
    assert move_product(a, "up", actor=volunteer) is False
    assert move_product(b, "down", actor=volunteer) is False
    assert move_product(a, "down", actor=volunteer) is True
    assert [p.name for p in list_products(vendor)] == ["c", "a", "b"]
    with pytest.raises(Invalid):
        move_product(a, "sideways", actor=volunteer)


def test_delete_and_restore(stall):
    vendor, volunteer = stall
    a, b = make_product(vendor, position=0), make_product(vendor, position=1)
    delete_product(a, actor=volunteer)
    assert list_products(vendor) == [b]
    assert deleted_products(vendor) == [a]
    restore_product(a, actor=volunteer)
    assert list_products(vendor) == [b, a]  # back at the end
    assert deleted_products(vendor) == []
    assert actions(a) == ["product.delete", "product.restore"]


# --- photos -------------------------------------------------------------------------------


def test_photos_of_a_product_and_of_the_stall(stall):
    vendor, volunteer = stall
    product = make_product(vendor, name="Kalung manik")
    added, refused = add_photos(
        product, [Upload("1.jpg", jpeg(colour=(1, 2, 3))), Upload("2.jpg", jpeg())], actor=volunteer
    )
    assert refused == []
    assert [p.position for p in added] == [0, 1]
    assert all(p.vendor_id == vendor.id and p.product_id == product.id for p in added)
    assert [p.alt_text for p in added] == ["Kalung manik", "Kalung manik"]
    (stall_photo,), _ = add_photos(vendor, [Upload("s.jpg", jpeg())], actor=volunteer)
    assert stall_photo.product_id is None
    assert stall_photo.alt_text == vendor.business_name
    assert vendor.photos == [stall_photo]
    assert actions(product) == ["photo.add"]
    assert actions(vendor) == ["photo.add"]


def test_the_same_photo_is_stored_once(stall):
    vendor, volunteer = stall
    a, b = make_product(vendor), make_product(vendor)
    data = jpeg(size=(900, 600), colour=(12, 34, 56))
    before = set(storage().keys())
    add_photos(a, [Upload("x.jpg", data)], actor=volunteer)
    new_files = set(storage().keys()) - before
    assert len(new_files) == 3  # the 400 and 800 px variants of a 900 px photo, its master
    add_photos(b, [Upload("same.jpg", data)], actor=volunteer)
    assert set(storage().keys()) - before == new_files
    added, refused = add_photos(a, [Upload("again.jpg", data)], actor=volunteer)
    assert added == []
    assert [(r.filename, r.message) for r in refused] == [
        ("again.jpg", "This photo is already there.")
    ]
    assert db.session.scalar(select(func.count(Photo.id))) == 2


def test_a_refused_file_leaves_nothing_behind(stall):
    vendor, volunteer = stall
    before = set(storage().keys())
    added, refused = add_photos(
        vendor, [Upload("C:\\Users\\x\\virus.jpg", b"MZ\x90\x00")], actor=volunteer
    )
    assert added == []
    assert refused[0].filename == "virus.jpg"
    assert set(storage().keys()) == before
    assert db.session.scalar(select(func.count(Photo.id))) == 0
    assert actions(vendor) == []


def test_photo_count_is_limited(stall, monkeypatch):
    vendor, volunteer = stall
    monkeypatch.setattr("market.services.photos.MAX_PHOTOS", 2)
    uploads = [Upload(f"{n}.jpg", jpeg(colour=(80 * n, 0, 0))) for n in range(3)]
    added, refused = add_photos(vendor, uploads, actor=volunteer)
    assert len(added) == 2
    assert [r.filename for r in refused] == ["2.jpg"]
    delete_photo(added[0], actor=volunteer)
    add_photos(vendor, [Upload("3.jpg", jpeg(colour=(0, 0, 250)))], actor=volunteer)
    with pytest.raises(Invalid, match="There are already 2 photos"):
        restore_photo(added[0], actor=volunteer)


def test_photo_order_alt_text_delete_and_restore(stall):
    vendor, volunteer = stall
    product = make_product(vendor, name="Sarung")
    added, _ = add_photos(
        product,
        [Upload(f"{n}.jpg", jpeg(colour=(80 * n, 0, 0))) for n in range(3)],
        actor=volunteer,
    )
    first, second, third = added
    assert move_photo(third, "up", actor=volunteer)
    assert [p.id for p in product.photos] == [first.id, third.id, second.id]
    assert set_alt_text(first, "  Sarung   tenun merah ", actor=volunteer)
    assert first.alt_text == "Sarung tenun merah"
    assert set_alt_text(first, "", actor=volunteer)  # back to the product's name
    assert first.alt_text == "Sarung"
    with pytest.raises(Invalid, match="at most 200"):
        set_alt_text(first, "x" * 201, actor=volunteer)
    delete_photo(first, actor=volunteer)
    db.session.expire_all()
    assert [p.id for p in product.photos] == [third.id, second.id]
    assert deleted_photos(product) == [first]
    with pytest.raises(Invalid, match="Restore it first"):
        move_photo(first, "up", actor=volunteer)
    restore_photo(first, actor=volunteer)
    db.session.expire_all()
    assert [p.id for p in product.photos] == [third.id, second.id, first.id]
    # Files are never removed: other photos may share them, and restore needs them.
    assert all(storage().exists(first.key(w)) for w in first.variants)
    assert actions(product) == [
        "photo.add",
        "photo.move",
        "photo.alt_text",
        "photo.alt_text",
        "photo.delete",
        "photo.restore",
    ]


def test_market_covers_are_not_stall_photos(stall):
    _vendor, volunteer = stall
    cover = store_photo(process_upload(jpeg()))
    db.session.commit()
    assert cover.vendor is None
    with pytest.raises(Invalid):
        delete_photo(cover, actor=volunteer)
