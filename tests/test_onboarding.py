"""Onboarding services: registering, duplicates, consent, the derived checklist, publishing,
moderation, soft delete, and the markets and staff it happens in."""

import pytest
from sqlalchemy import func, select

from market.extensions import db
from market.models import (
    AuditEvent,
    IdempotencyKey,
    Invitation,
    MarketStaff,
    Role,
    StaffRole,
    User,
    Vendor,
    VendorStatus,
    VlogLink,
    VlogPlatform,
    utcnow,
)
from market.permissions import can_edit_vendor, can_view_vendor
from market.services import invitations, public, vendors
from market.services.consent import CONSENT_VERSION, consent_text, record_consent, withdraw_consent
from market.services.errors import Conflict, Forbidden, Invalid, NotReady
from market.services.markets import clean_market, create_market
from market.services.moderation import (
    hide_product,
    hide_vendor,
    publish_vendor,
    unhide_product,
    unpublish_vendor,
)
from market.services.readiness import (
    VendorFacts,
    checklist,
    missing_for_publish,
    progress,
    vendor_checklist,
    vendor_facts,
)
from market.services.staff import assign_staff, unassign_staff
from market.services.vendor_list import vendors_query
from market.services.vendors import (
    DuplicateVendor,
    InvalidFields,
    clean_profile,
    delete_vendor,
    register_vendor,
    restore_vendor,
    update_vendor,
)
from tests.factories import (
    assign,
    category,
    make_market,
    make_photo,
    make_product,
    make_ready_vendor,
    make_user,
    make_vendor,
    make_world,
)

pytestmark = pytest.mark.usefixtures("en")

RAW = {
    "business_name": "  Amplang  Bu Sri ",
    "owner_name": "Sri",
    "stall_block": "b",
    "stall_number": " 12 ",
    "whatsapp": "0812-3456-7890",
    "description": "Amplang ikan.",
}


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def events(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


# --- profile ------------------------------------------------------------------------------------


def test_profile_is_normalised():
    profile = clean_profile({**RAW, "category_ids": [category("makanan").id]})
    assert profile.business_name == "Amplang Bu Sri"
    assert profile.stall_block == "B"
    assert profile.stall_number == "12"
    assert profile.whatsapp == "+6281234567890"
    assert [c.slug for c in profile.categories] == ["makanan"]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("whatsapp", "12345", "not a valid phone number"),
        ("business_name", "   ", "Give the name"),
        ("description", "x" * 5000, "at most 1000 characters (this has 5000)"),
        ("stall_number", "1" * 11, "at most 10 characters"),
    ],
)
def test_bad_input_is_refused_with_a_clear_message_and_changes_nothing(field, value, message):
    market = make_market()
    volunteer = make_user(Role.VOLUNTEER, market=market)
    with pytest.raises(InvalidFields) as caught:
        register_vendor(market, {**RAW, field: value}, actor=volunteer)
    assert list(caught.value.errors) == [field]
    assert message in caught.value.errors[field]
    db.session.rollback()
    assert count(Vendor) == 0
    assert count(AuditEvent) == 0


def test_every_problem_is_named_at_once():
    with pytest.raises(InvalidFields) as caught:
        clean_profile({"business_name": "", "whatsapp": "abc", "category_ids": [9999]})
    assert set(caught.value.errors) == {"business_name", "whatsapp", "categories"}


# --- registering --------------------------------------------------------------------------------


def test_register_saves_a_draft_at_once_with_an_audit_event():
    market = make_market()
    volunteer = make_user(Role.VOLUNTEER, market=market)
    vendor = register_vendor(market, RAW, actor=volunteer)
    assert vendor.status == VendorStatus.DRAFT
    assert vendor.slug == "amplang-bu-sri"
    assert vendor.onboarded_by_id == volunteer.id
    (event,) = events("vendor.create")
    assert event.actor_id == volunteer.id
    assert event.record_id == vendor.id
    assert event.market_id == market.id
    assert event.changes["whatsapp"] == [None, "+6281234567890"]


def test_a_clash_of_addresses_is_retried_without_undoing_what_the_request_did_before(
    monkeypatch,
):
    """Another volunteer took the address a moment ago: the next address is used, and what
    was in the session before (the outbox's idempotency claim) is kept."""
    market = make_market()
    volunteer = make_user(Role.VOLUNTEER, market=market)
    make_vendor(market, slug="amplang-bu-sri", published=False)
    seen, real_slugs = [], vendors.market_slugs

    def slugs_seen_too_early(of_market):
        seen.append(of_market)
        return set() if len(seen) == 1 else real_slugs(of_market)

    monkeypatch.setattr("market.services.vendors.market_slugs", slugs_seen_too_early)
    claim = IdempotencyKey(user_id=volunteer.id, key="k" * 20, path="/manage/vendors/new")
    db.session.add(claim)
    db.session.flush()
    vendor = register_vendor(market, RAW, actor=volunteer)
    assert len(seen) == 2
    assert vendor.slug == "amplang-bu-sri-2"
    assert db.session.scalar(select(func.count(IdempotencyKey.id))) == 1


def test_only_the_business_name_is_needed_for_a_draft():
    market = make_market()
    volunteer = make_user(Role.VOLUNTEER, market=market)
    vendor = register_vendor(market, {"business_name": "Toko"}, actor=volunteer)
    assert vendor.whatsapp is None
    steps = {s.key: s for s in vendor_checklist(vendor)}
    assert not steps["profile"].done
    assert "Owner's name" in steps["profile"].detail


def test_same_names_get_distinct_slugs():
    market = make_market()
    volunteer = make_user(Role.VOLUNTEER, market=market)
    first = register_vendor(market, {"business_name": "Toko Sari"}, actor=volunteer)
    second = register_vendor(market, {"business_name": "Toko Sari"}, actor=volunteer)
    assert (first.slug, second.slug) == ("toko-sari", "toko-sari-2")


@pytest.mark.parametrize(
    "clash",
    [
        {"whatsapp": "+62 812 3456 7890", "stall_number": "99"},
        {"whatsapp": "", "stall_block": "B", "stall_number": "12"},
    ],
)
def test_duplicate_number_or_stall_warns_and_names_the_existing_vendor(clash):
    market = make_market()
    volunteer = make_user(Role.VOLUNTEER, market=market)
    existing = register_vendor(market, RAW, actor=volunteer)
    with pytest.raises(DuplicateVendor) as caught:
        register_vendor(market, {**RAW, **clash}, actor=volunteer)
    assert caught.value.vendors == [existing]
    assert count(Vendor) == 1
    register_vendor(market, {**RAW, **clash}, actor=volunteer, allow_duplicate=True)
    assert count(Vendor) == 2


def test_duplicates_are_per_market_and_ignore_deleted_vendors():
    market, other = make_market(), make_market()
    volunteer = make_user(Role.VOLUNTEER, market=market)
    assign(volunteer, other)
    register_vendor(other, RAW, actor=volunteer)
    gone = register_vendor(market, RAW, actor=volunteer)
    delete_vendor(gone, actor=volunteer)
    assert register_vendor(market, RAW, actor=volunteer).id != gone.id


def test_update_keeps_the_slug_and_records_what_changed():
    market = make_market()
    volunteer = make_user(Role.VOLUNTEER, market=market)
    vendor = register_vendor(market, RAW, actor=volunteer)
    changes = update_vendor(
        vendor,
        {**RAW, "business_name": "Amplang Pak Udin", "category_ids": [category("makanan").id]},
        actor=volunteer,
        version=vendor.version,
    )
    assert changes["business_name"] == ["Amplang Bu Sri", "Amplang Pak Udin"]
    assert changes["categories"] == [[], ["makanan"]]
    assert vendor.slug == "amplang-bu-sri"
    assert events("vendor.update")[0].changes == changes


def test_update_from_a_stale_form_is_refused():
    market = make_market()
    volunteer = make_user(Role.VOLUNTEER, market=market)
    vendor = register_vendor(market, RAW, actor=volunteer)
    opened = vendor.version
    update_vendor(vendor, {**RAW, "owner_name": "A"}, actor=volunteer, version=opened)
    with pytest.raises(Conflict):
        update_vendor(vendor, {**RAW, "owner_name": "B"}, actor=volunteer, version=opened)
    assert vendor.owner_name == "A"


# --- consent ------------------------------------------------------------------------------------


def test_consent_text_exists_in_both_languages_for_the_current_version():
    assert "setuju" in consent_text("id")
    assert "agree" in consent_text("en")
    assert consent_text("fr") == consent_text("id")


def test_consent_records_who_when_and_which_text():
    market = make_market()
    volunteer = make_user(Role.VOLUNTEER, market=market)
    vendor = make_vendor(market, published=False)
    record_consent(vendor, actor=volunteer, language="en")
    assert vendor.consent_at is not None
    assert vendor.consent_by_id == volunteer.id
    assert vendor.consent_version == CONSENT_VERSION
    (event,) = events("vendor.consent")
    assert event.changes["language"] == [None, "en"]


def test_withdrawing_consent_hides_the_vendor_from_the_public_at_once():
    market = make_market()
    volunteer = make_user(Role.VOLUNTEER, market=market)
    vendor = make_vendor(market)
    assert public.find_vendor(market.slug, vendor.slug) is not None
    withdraw_consent(vendor, actor=volunteer, reason="changed her mind")
    assert public.find_vendor(market.slug, vendor.slug) is None
    assert vendor.status == VendorStatus.DRAFT
    assert vendor.consent_at is None
    assert events("vendor.consent_withdraw")[0].reason == "changed her mind"


# --- the checklist ------------------------------------------------------------------------------


def test_checklist_is_derived_from_the_data(app):
    market = make_market()
    vendor = make_vendor(market, published=False)
    steps = {s.key: s for s in vendor_checklist(vendor)}
    assert list(steps) == [
        "profile",
        "consent",
        "stall_photo",
        "products",
        "product_photos",
        "vlog",
        "account",
        "published",
    ]
    assert steps["profile"].done
    assert not steps["consent"].done and steps["consent"].required
    assert not steps["stall_photo"].done
    assert not steps["vlog"].required and not steps["account"].required
    assert not steps["product_photos"].required
    assert steps["products"].endpoint == "catalogue.products"
    assert steps["products"].values == {"vendor_id": vendor.id}

    make_photo(vendor)
    first = make_product(vendor)
    make_photo(vendor, first)
    make_product(vendor)
    deleted = make_product(vendor, deleted_at=utcnow())
    make_photo(vendor, deleted)
    db.session.add(
        VlogLink(vendor_id=vendor.id, url="https://youtu.be/x", platform=VlogPlatform.YOUTUBE)
    )
    db.session.commit()
    facts = vendor_facts([vendor.id])[vendor.id]
    assert facts == VendorFacts(stall_photos=1, products=2, products_with_photo=1, vlogs=1)
    steps = {s.key: s for s in checklist(vendor, facts)}
    assert steps["stall_photo"].done and steps["vlog"].done
    assert not steps["products"].done and steps["products"].detail == "2 of 3"
    assert not steps["product_photos"].done and steps["product_photos"].detail == "1 of 2"


def test_minimum_products_follows_the_configuration(app, monkeypatch):
    monkeypatch.setitem(app.config, "MARKET_MIN_PRODUCTS", 1)
    vendor = make_ready_vendor(make_market(), products=1)
    steps = {s.key: s for s in vendor_checklist(vendor)}
    assert steps["products"].done
    assert missing_for_publish(list(steps.values())) == []


def test_progress_counts_required_steps_including_publishing():
    vendor = make_ready_vendor(make_market())
    counted = progress(vendor_checklist(vendor))
    assert (counted.done, counted.total) == (4, 5)


# --- publishing ---------------------------------------------------------------------------------


def test_publish_says_what_is_missing():
    market = make_market()
    volunteer = make_user(Role.VOLUNTEER, market=market)
    vendor = make_vendor(market, published=False, owner_name="")
    with pytest.raises(NotReady) as caught:
        publish_vendor(vendor, actor=volunteer)
    assert caught.value.missing == [
        "Profile complete",
        "Consent recorded",
        "A photo of the stall",
        "At least 3 products",
    ]
    assert vendor.status == VendorStatus.DRAFT
    assert count(AuditEvent) == 0


def test_publish_when_ready_makes_the_vendor_public():
    market = make_market()
    volunteer = make_user(Role.VOLUNTEER, market=market)
    vendor = make_ready_vendor(market)
    publish_vendor(vendor, actor=volunteer)
    assert vendor.status == VendorStatus.PUBLISHED
    assert vendor.published_at is not None
    assert public.find_vendor(market.slug, vendor.slug) is not None
    assert events("vendor.publish")[0].changes == {"status": ["draft", "published"]}


def test_unpublish_and_hide_work_at_any_time():
    market = make_market()
    volunteer = make_user(Role.VOLUNTEER, market=market)
    vendor = make_vendor(market)
    hide_vendor(vendor, actor=volunteer)
    assert vendor.status == VendorStatus.HIDDEN
    assert public.find_vendor(market.slug, vendor.slug) is None
    unpublish_vendor(vendor, actor=volunteer)
    assert vendor.status == VendorStatus.DRAFT
    draft = make_vendor(market, published=False)
    hide_vendor(draft, actor=volunteer)
    assert draft.status == VendorStatus.HIDDEN


def test_a_vendor_a_coordinator_hid_with_a_reason_stays_hidden_for_volunteers():
    world = make_world()
    vendor = make_ready_vendor(world.market)
    hide_vendor(vendor, actor=world.people["coordinator"], reason="fake goods")
    for action in (publish_vendor, unpublish_vendor):
        with pytest.raises(Forbidden, match="fake goods"):
            action(vendor, actor=world.people["volunteer"])
    publish_vendor(vendor, actor=world.people["coordinator"])
    assert vendor.status == VendorStatus.PUBLISHED
    assert vendor.hidden_reason == ""


def test_delete_is_soft_ends_invitations_and_restore_brings_it_back():
    world = make_world()
    volunteer = world.people["volunteer"]
    vendor = make_vendor(world.market)
    invitations.create_invitation(vendor, actor=volunteer)
    delete_vendor(vendor, actor=volunteer, reason="registered twice")
    db.session.expire_all()
    assert db.session.get(Vendor, vendor.id).deleted_at is not None
    assert public.find_vendor(world.market.slug, vendor.slug) is None
    assert db.session.scalar(select(Invitation.revoked_at)) is not None
    assert not can_edit_vendor(volunteer, vendor)
    assert can_view_vendor(world.people["coordinator"], vendor)
    with pytest.raises(Invalid):
        record_consent(vendor, actor=volunteer, language="id")
    restore_vendor(vendor, actor=world.people["coordinator"])
    assert vendor.deleted_at is None
    assert public.find_vendor(world.market.slug, vendor.slug) is not None
    assert [e.action for e in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))] == [
        "vendor.invite",
        "vendor.delete",
        "vendor.restore",
    ]


def test_hiding_a_product_needs_a_reason():
    world = make_world()
    product = make_product(make_vendor(world.market))
    coordinator = world.people["coordinator"]
    with pytest.raises(Invalid):
        hide_product(product, actor=coordinator, reason="  ")
    hide_product(product, actor=coordinator, reason="alcohol")
    assert product.hidden_at is not None and product.hidden_reason == "alcohol"
    assert not product.is_public
    unhide_product(product, actor=coordinator)
    assert product.hidden_at is None
    assert [e.action for e in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))] == [
        "product.hide",
        "product.unhide",
    ]


# --- the volunteer's list -----------------------------------------------------------------------


def test_vendor_list_filters():
    market = make_market()
    ready = make_ready_vendor(
        market, business_name="Batik Indah", stall_block="C", stall_number="7"
    )
    bare = make_vendor(market, published=False, business_name="Ikan Asin")
    shown = make_vendor(market, business_name="Madu Hutan")
    make_photo(shown)

    def names(**filters):
        query = vendors_query([market.id], **filters)
        return sorted(v.business_name for v in db.session.scalars(query))

    assert names(status="draft") == sorted([ready.business_name, bare.business_name])
    assert names(status="published") == ["Madu Hutan"]
    assert names(missing="consent") == ["Ikan Asin"]
    assert names(missing="photos") == ["Ikan Asin"]
    assert names(search="batik") == ["Batik Indah"]
    assert names(search="c-7") == ["Batik Indah"]
    assert names(search="100%_") == []


# --- markets and staff --------------------------------------------------------------------------


def test_a_coordinator_creates_a_market_and_coordinates_it():
    coordinator = make_user(Role.COORDINATOR)
    market = create_market(
        {"name": "Pasar Klandasan", "city": "Balikpapan", "province": "Kal", "latitude": "-1,27"},
        actor=coordinator,
    )
    assert market.slug == "pasar-klandasan"
    assert str(market.latitude) == "-1.270000"
    assert [s.user_id for s in market.staff] == [coordinator.id]
    assert events("market.create")[0].market_id == market.id


def test_market_fields_are_checked():
    with pytest.raises(InvalidFields) as caught:
        clean_market({"name": "", "city": "x", "province": "y", "latitude": "100"})
    assert set(caught.value.errors) == {"name", "latitude"}


def test_assign_staff_creates_an_account_or_uses_the_existing_one():
    world = make_world()
    coordinator = world.people["coordinator"]
    with pytest.raises(InvalidFields) as caught:
        assign_staff(world.market, actor=coordinator, email="new@example.org")
    assert set(caught.value.errors) == {"name", "password"}
    staff = assign_staff(
        world.market,
        actor=coordinator,
        email="New@Example.org",
        name="Rina",
        role="volunteer",
        password="a long first password",
    )
    assert staff.user.email == "new@example.org" and staff.role == StaffRole.VOLUNTEER
    existing = assign_staff(
        world.market, actor=coordinator, email=world.people["other_coordinator"].email
    )
    assert existing.role == StaffRole.COORDINATOR
    with pytest.raises(InvalidFields, match="already assigned"):
        assign_staff(world.market, actor=coordinator, email="new@example.org")
    vendor_email = make_user(Role.VENDOR, email="seller@example.org").email
    with pytest.raises(InvalidFields, match="cannot be assigned"):
        assign_staff(world.market, actor=coordinator, email=vendor_email)
    assert [e.action for e in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))] == [
        "user.create",
        "staff.assign",
        "staff.assign",
    ]


def test_unassigning_keeps_the_person_and_their_vendors():
    world = make_world()
    volunteer = world.people["volunteer"]
    vendor = make_vendor(world.market, onboarded_by_id=volunteer.id)
    staff = db.session.scalar(select(MarketStaff).where(MarketStaff.user_id == volunteer.id))
    unassign_staff(staff, actor=world.people["coordinator"])
    assert db.session.get(User, volunteer.id) is not None
    assert vendor.onboarded_by_id == volunteer.id
    assert events("staff.remove")[0].changes["user"] == [volunteer.email, None]
    own = db.session.scalar(
        select(MarketStaff).where(MarketStaff.user_id == world.people["coordinator"].id)
    )
    with pytest.raises(Invalid):
        unassign_staff(own, actor=world.people["coordinator"])


def _registered_ready(market, volunteer, **raw):
    """A draft registered as a volunteer does it, then given what publishing needs."""
    vendor = register_vendor(market, RAW | raw, actor=volunteer, allow_duplicate=True)
    vendor.consent_at, vendor.consent_version = utcnow(), CONSENT_VERSION
    db.session.commit()
    make_photo(vendor)
    for _ in range(3):
        make_photo(vendor, make_product(vendor))
    return vendor


def test_the_published_stall_takes_the_clean_address_from_an_abandoned_duplicate(client):
    world = make_world()
    volunteer = world.people["volunteer"]
    abandoned = register_vendor(world.market, RAW, actor=volunteer)
    finished = _registered_ready(world.market, volunteer, stall_number="13")
    assert (abandoned.slug, finished.slug) == ("amplang-bu-sri", "amplang-bu-sri-2")
    publish_vendor(finished, actor=volunteer)
    assert finished.slug == "amplang-bu-sri"
    assert abandoned.slug not in ("amplang-bu-sri", "amplang-bu-sri-2")
    poster = client.get(f"/pasar/{world.market.slug}/lapak/amplang-bu-sri/poster")
    assert poster.status_code == 200
    assert "Amplang Bu Sri" in poster.get_data(as_text=True)
    moved = db.session.scalars(
        select(AuditEvent.changes).where(AuditEvent.record_id == abandoned.id)
    ).all()
    assert {"slug": ["amplang-bu-sri", abandoned.slug]} in moved


def test_a_stall_that_was_public_keeps_its_address(ctx):
    world = make_world()
    volunteer = world.people["volunteer"]
    first = _registered_ready(world.market, volunteer)
    publish_vendor(first, actor=volunteer)
    unpublish_vendor(first, actor=volunteer)
    second = _registered_ready(world.market, volunteer, stall_number="13")
    publish_vendor(second, actor=volunteer)
    assert (first.slug, second.slug) == ("amplang-bu-sri", "amplang-bu-sri-2")
    publish_vendor(first, actor=volunteer)
    assert first.slug == "amplang-bu-sri"
