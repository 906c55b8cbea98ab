"""The audit log: every onboarding change is recorded with actor, time, record and changed
fields, and coordinators read it per market, filtered by person or record."""

import pytest
from sqlalchemy import select

from market.extensions import db
from market.models import AuditEvent
from market.services import audit_log, invitations
from market.services.consent import record_consent, withdraw_consent
from market.services.markets import update_market
from market.services.moderation import hide_product, hide_vendor, publish_vendor, unpublish_vendor
from market.services.products import set_availability
from market.services.vendors import delete_vendor, register_vendor, restore_vendor, update_vendor
from tests.factories import make_product, make_ready_vendor, make_world
from tests.pages import login


@pytest.mark.usefixtures("en")
def test_the_whole_onboarding_leaves_a_complete_trail():
    world = make_world()
    volunteer, coordinator = world.people["volunteer"], world.people["coordinator"]
    profile = {"business_name": "Toko Jejak", "stall_number": "5", "whatsapp": "0812-4444-0001"}
    vendor = register_vendor(world.market, profile, actor=volunteer)
    update_vendor(vendor, {**profile, "owner_name": "Ani"}, actor=volunteer, version=vendor.version)
    record_consent(vendor, actor=volunteer, language="id")
    token = invitations.create_invitation(vendor, actor=volunteer).token
    owner = invitations.claim(token, "kata sandi yang panjang")
    hide_vendor(vendor, actor=volunteer)
    unpublish_vendor(vendor, actor=volunteer)
    withdraw_consent(vendor, actor=owner, reason="nanti saja")
    delete_vendor(vendor, actor=volunteer, reason="dobel")
    restore_vendor(vendor, actor=coordinator)
    ready = make_ready_vendor(world.market)
    publish_vendor(ready, actor=volunteer)

    trail = list(db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)))
    assert [(e.action, e.actor_id) for e in trail] == [
        ("vendor.create", volunteer.id),
        ("vendor.update", volunteer.id),
        ("vendor.consent", volunteer.id),
        ("vendor.invite", volunteer.id),
        ("user.create", owner.id),
        ("vendor.claim", owner.id),
        ("vendor.hide", volunteer.id),
        ("vendor.unpublish", volunteer.id),
        ("vendor.consent_withdraw", owner.id),
        ("vendor.delete", volunteer.id),
        ("vendor.restore", coordinator.id),
        ("vendor.publish", volunteer.id),
    ]
    for event in trail:
        assert event.created_at is not None
        assert event.changes, event.action
        if event.record_type == "vendor":
            assert event.market_id == world.market.id
    assert trail[1].changes == {"owner_name": ["", "Ani"]}
    assert trail[9].reason == "dobel"


@pytest.mark.usefixtures("en")
def test_audit_page_query_filters_by_person_and_by_vendor_with_its_products():
    world = make_world()
    volunteer, coordinator = world.people["volunteer"], world.people["coordinator"]
    product = make_product(world.vendor)
    record_consent(world.vendor, actor=volunteer, language="id")
    hide_product(product, actor=coordinator, reason="palsu")
    other = make_ready_vendor(world.market)
    hide_vendor(other, actor=coordinator, reason="x")
    record_consent(world.other_vendor, actor=world.people["other_volunteer"], language="id")

    def actions(**filters):
        query = audit_log.audit_query(world.market, **filters)
        return [e.action for e in db.session.scalars(query)]

    assert actions() == ["vendor.hide", "product.hide", "vendor.consent"]
    assert actions(actor_id=coordinator.id) == ["vendor.hide", "product.hide"]
    assert actions(record_type="vendor", record_id=world.vendor.id) == [
        "product.hide",
        "vendor.consent",
    ]
    assert actions(record_type="product", record_id=product.id) == ["product.hide"]


def test_audit_page_shows_who_did_what_with_old_and_new_values(client):
    world = make_world()
    volunteer = world.people["volunteer"]
    update_vendor(
        world.vendor,
        {"business_name": "Nama Lama Diganti", "stall_number": "8"},
        actor=volunteer,
        version=None,
    )
    old_name = db.session.scalar(
        select(AuditEvent.changes).where(AuditEvent.action == "vendor.update")
    )["business_name"][0]
    login(client, world.people["coordinator"].email)
    page = f"/admin/markets/{world.market.id}/audit?lang=en"
    html = client.get(page).get_data(as_text=True)
    assert volunteer.name in html and "edited the profile" in html
    assert f"<del>{old_name}</del> → <ins>Nama Lama Diganti</ins>" in html
    filtered = client.get(page + f"&actor={world.people['coordinator'].id}").get_data(as_text=True)
    assert "Nothing recorded yet" in filtered
    by_record = client.get(page + f"&record=vendor:{world.vendor.id}").get_data(as_text=True)
    assert "Only the history of Nama Lama Diganti." in by_record
    assert client.get(page + "&record=bogus:x").status_code == 200


def test_another_markets_coordinator_cannot_read_the_log(client):
    world = make_world()
    login(client, world.people["other_coordinator"].email)
    assert client.get(f"/admin/markets/{world.market.id}/audit").status_code == 404


def test_the_log_labels_fields_by_record_kind_and_shows_values_in_words(client):
    """A renamed market reads "Nama", not "Nama produk"; a product's availability reads
    "Ada → Habis", not "in_stock → sold_out"."""
    world = make_world()
    coordinator = world.people["coordinator"]
    market, product = world.market, make_product(world.vendor, name="Amplang")
    update_market(
        market,
        {"name": "Pasar Baru Sekali", "city": "Balikpapan", "province": "Kaltim"},
        actor=coordinator,
    )
    set_availability(product, "sold_out", actor=coordinator)
    login(client, coordinator.email)
    html = client.get(f"/admin/markets/{market.id}/audit").get_data(as_text=True)
    assert "<li>Nama: <del>" in html and "<ins>Pasar Baru Sekali</ins>" in html
    assert "Nama produk" not in html
    assert "<li>Ketersediaan: <del>Ada</del> → <ins>Habis</ins></li>" in html
    assert "in_stock" not in html and "sold_out" not in html
