"""Campaigns' rules: who may run them, the targets of each day, what the team achieved counted
from real rows, the thank-you list, drafts that need a call, the volunteer's banner and the
figures of the city's report."""

import csv
import io
from datetime import timedelta

import pytest

from market.extensions import db
from market.models import ContactClick, Role, StaffRole, TargetKind, utcnow
from market.permissions import can_manage_campaign
from market.services import campaigns, contacts
from market.services.photos import Upload, add_photos
from market.services.products import ProductFields, create_product
from market.services.reports import local_today
from market.services.vendors import InvalidFields
from tests.factories import (
    assign,
    jpeg,
    make_campaign,
    make_market,
    make_photo,
    make_product,
    make_user,
    make_vendor,
)

DAY = timedelta(days=1)


@pytest.fixture
def drive(ctx):
    """Two markets in a campaign that began two days ago, a third market outside it, and a
    volunteer of the first in the team."""
    market, second, outside = make_market(), make_market(), make_market()
    volunteer = make_user(Role.VOLUNTEER, name="Sari")
    assign(volunteer, market)
    campaign = make_campaign([market, second], [volunteer], targets=[(10, 30), (3, 3)])
    return campaign, market, second, outside, volunteer


# --- targets --------------------------------------------------------------------------------


def test_a_total_target_is_spread_over_the_days_and_adds_up():
    assert campaigns.day_targets(10, TargetKind.TOTAL, 3) == [4, 3, 3]
    assert campaigns.day_targets(12, TargetKind.TOTAL, 10) == [2, 1, 1, 1, 1, 2, 1, 1, 1, 1]
    assert campaigns.day_targets(0, TargetKind.TOTAL, 4) == [0, 0, 0, 0]
    assert campaigns.day_targets(5, TargetKind.PER_DAY, 3) == [5, 5, 5]


# --- progress from real rows ----------------------------------------------------------------


def test_stalls_published_count_on_their_day_in_the_campaigns_markets_only(drive):
    campaign, market, second, outside, _volunteer = drive
    now = utcnow()
    make_vendor(market, published_at=now)
    make_vendor(market, published_at=now)
    make_vendor(market, published_at=now - DAY)
    make_vendor(second, published_at=now - 2 * DAY)
    # Not counted: before the campaign, another market, a deleted stall, a draft.
    make_vendor(market, published_at=now - 5 * DAY)
    make_vendor(outside, published_at=now)
    make_vendor(market, published_at=now, deleted_at=now)
    make_vendor(market, published=False)

    report = campaigns.progress(campaign)

    today = local_today()
    by_day = {d.day: d.stalls for d in report.days}
    assert by_day[today] == 2 and by_day[today - DAY] == 1 and by_day[today - 2 * DAY] == 1
    assert report.total("stalls") == 4
    first, other = report.markets
    assert (first.total("stalls"), other.total("stalls")) == (3, 1)
    # The targets: 10 stalls over 10 days in the first market, 3 in the second.
    assert first.total("stalls_target") == 10 and other.total("stalls_target") == 3
    assert report.total("stalls_target") == 13


def test_products_count_on_the_day_of_their_first_photo(drive):
    campaign, market, _second, outside, _volunteer = drive
    now = utcnow()
    vendor = make_vendor(market)
    photographed = make_product(vendor)
    make_photo(vendor, photographed, created_at=now - DAY)
    make_photo(vendor, photographed, created_at=now)  # a second photo is not a second product
    make_product(vendor)  # no photo
    only_deleted = make_product(vendor)
    make_photo(vendor, only_deleted, deleted_at=now)
    earlier = make_product(vendor)
    make_photo(vendor, earlier, created_at=now - 10 * DAY)  # photographed before the campaign
    elsewhere = make_vendor(outside)
    make_photo(elsewhere, make_product(elsewhere))

    report = campaigns.progress(campaign)

    assert report.total("products") == 1
    assert {d.day: d.products for d in report.days}[local_today() - DAY] == 1


def test_consent_and_whatsapp_contacts_since_registration(drive):
    campaign, market, _second, _outside, volunteer = drive
    now = utcnow()
    brought_online = make_vendor(market, published_at=now - DAY, created_at=now - DAY)
    first_day = make_vendor(market, published_at=now - 2 * DAY, created_at=now - 2 * DAY)
    make_vendor(market, published=False, consent_at=now, consent_by=volunteer)
    older = make_vendor(market, published_at=now - 30 * DAY, consent_at=now - 30 * DAY)
    today = contacts.today()  # taps are counted per UTC day
    db.session.add_all(
        [
            ContactClick(vendor_id=brought_online.id, day=today, count=4),
            ContactClick(vendor_id=brought_online.id, day=today - DAY, count=2),
            # Before it was registered (a clock that was wrong, an old number): not counted.
            ContactClick(vendor_id=brought_online.id, day=today - 2 * DAY, count=50),
            ContactClick(vendor_id=first_day.id, day=today - 2 * DAY, count=1),
            # A stall published before the campaign is not the campaign's.
            ContactClick(vendor_id=older.id, day=today, count=7),
        ]
    )
    db.session.commit()

    report = campaigns.progress(campaign)

    assert report.contacts == 7
    assert report.markets[0].contacts == 7
    # Consent recorded during the campaign: the two stalls published in it (make_vendor
    # records consent with publishing) and today's draft.
    assert report.total("consents") == 3


# --- the team -------------------------------------------------------------------------------


def test_the_thank_you_list_counts_each_persons_work_alphabetically(drive):
    campaign, market, _second, outside, sari = drive
    agus = make_user(Role.VOLUNTEER, name="agus")
    assign(agus, market)
    idle = make_user(Role.VOLUNTEER, name="Budi")
    assign(idle, market)
    campaign.volunteers.append(idle)
    owner = make_user(Role.VENDOR, name="Bu Sri")
    db.session.commit()
    vendor = make_vendor(market, onboarded_by=sari, consent_by=sari, owner=owner)
    make_vendor(market, onboarded_by=agus)
    make_vendor(outside, onboarded_by=agus)  # not a campaign market
    product, _refused = create_product(vendor, ProductFields(name="Amplang"), actor=sari)
    create_product(vendor, ProductFields(name="Kerupuk"), actor=sari)
    add_photos(product, [Upload("a.jpg", jpeg(colour=(1, 2, 3)))], actor=agus)
    add_photos(
        product,
        [Upload("b.jpg", jpeg(colour=(4, 5, 6))), Upload("c.jpg", jpeg(colour=(7, 8, 9)))],
        actor=agus,
    )
    # The vendor's own work is theirs, not the team's.
    create_product(vendor, ProductFields(name="Kain"), actor=owner)

    board = campaigns.leaderboard(campaign)

    assert [(p.user.name, p.stalls, p.products, p.photos, p.consents) for p in board] == [
        ("agus", 1, 0, 3, 0),
        ("Sari", 1, 2, 0, 1),
    ]
    # Budi did nothing yet: not listed, so nobody is shown at the bottom with zero.
    assert idle not in [p.user for p in board]


def test_work_after_the_campaign_is_not_the_campaigns(ctx):
    market = make_market()
    volunteer = make_user(Role.VOLUNTEER)
    assign(volunteer, market)
    campaign = make_campaign([market], [volunteer], days_before=5, days=3)  # ended yesterday
    now = utcnow()
    make_vendor(market, onboarded_by=volunteer, created_at=now - 4 * DAY)
    make_vendor(market, onboarded_by=volunteer, consent_by=volunteer, published_at=now)

    assert [(p.stalls, p.consents) for p in campaigns.leaderboard(campaign)] == [(1, 0)]
    assert campaigns.progress(campaign).total("stalls") == 0


def test_drafts_stuck_for_more_than_three_days_with_who_to_call(drive):
    campaign, market, second, outside, sari = drive
    now = utcnow()
    stuck = make_vendor(
        market, published=False, onboarded_by=sari, created_at=now - 4 * DAY, whatsapp="+6281234"
    )
    no_phone = make_vendor(second, published=False, whatsapp=None, created_at=now - 5 * DAY)
    make_vendor(market, published=False, created_at=now - 2 * DAY)  # still fresh
    make_vendor(outside, published=False, created_at=now - 9 * DAY)  # not the campaign's
    make_vendor(market, created_at=now - 9 * DAY)  # published

    drafts = campaigns.stuck_drafts(campaign)

    assert [d.vendor.id for d in drafts] == [no_phone.id, stuck.id]
    assert drafts[1].vendor.onboarded_by.name == "Sari"
    assert drafts[1].whatsapp.startswith("https://wa.me/6281234?text=Halo%20")
    assert drafts[0].whatsapp == ""


# --- the volunteer's banner -----------------------------------------------------------------


def test_the_banner_shows_the_day_todays_target_and_stalls_published_today(drive):
    _campaign, market, second, outside, sari = drive
    now = utcnow()
    make_vendor(market, published_at=now)
    make_vendor(second, published_at=now)
    make_vendor(market, published_at=now - DAY)  # yesterday's
    make_vendor(outside, published_at=now)

    (banner,) = campaigns.campaign_banners(sari)

    # Day 3 of 10; targets 10 and 3 spread over 10 days: 1 and 1 on the third day.
    assert (banner.day, banner.days) == (3, 10)
    assert banner.target_today == (
        campaigns.day_targets(10, TargetKind.TOTAL, 10)[2]
        + campaigns.day_targets(3, TargetKind.TOTAL, 10)[2]
    )
    assert banner.done_today == 2


def test_no_banner_outside_the_team_or_the_campaigns_days(drive):
    campaign, market, _second, _outside, sari = drive
    stranger = make_user(Role.VOLUNTEER)
    assign(stranger, market)
    assert campaigns.campaign_banners(stranger) == []
    campaign.ends_on = local_today() - DAY
    db.session.commit()
    assert campaigns.campaign_banners(sari) == []


# --- creating, and who may ------------------------------------------------------------------


def _values(market, **more):
    start = local_today()
    return {
        "name": "Gerebek Pasar Balikpapan",
        "starts_on": start,
        "ends_on": start + 9 * DAY,
        "target_kind": "per_day",
        "targets": {market.id: (12, 40)},
        "volunteer_ids": [],
    } | more


def test_a_coordinator_creates_a_campaign_of_their_market_with_its_volunteers(ctx):
    market = make_market()
    coordinator = make_user(Role.COORDINATOR)
    assign(coordinator, market, StaffRole.COORDINATOR)
    volunteer = make_user(Role.VOLUNTEER)
    assign(volunteer, market)

    campaign = campaigns.save_campaign(
        None, _values(market, volunteer_ids=[volunteer.id]), actor=coordinator
    )

    assert campaign.days == 10 and campaign.target_kind == TargetKind.PER_DAY
    assert [(t.market_id, t.stalls_target, t.products_target) for t in campaign.targets] == [
        (market.id, 12, 40)
    ]
    assert campaign.volunteers == [volunteer]
    assert can_manage_campaign(coordinator, campaign)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"name": "  "}, "name"),
        ({"starts_on": None}, "starts_on"),
        ({"ends_on": None}, "ends_on"),
        ({"targets": {}}, "markets"),
    ],
)
def test_incomplete_campaigns_are_refused_with_the_field_named(ctx, change, field):
    market = make_market()
    admin = make_user(Role.ADMIN)
    with pytest.raises(InvalidFields) as refused:
        campaigns.save_campaign(None, _values(market, **change), actor=admin)
    assert field in refused.value.errors


def test_the_last_day_cannot_come_before_the_first_and_a_campaign_is_at_most_92_days(ctx):
    market = make_market()
    admin = make_user(Role.ADMIN)
    for ends_on in (local_today() - DAY, local_today() + 92 * DAY):
        with pytest.raises(InvalidFields) as refused:
            campaigns.save_campaign(None, _values(market, ends_on=ends_on), actor=admin)
        assert "ends_on" in refused.value.errors


def test_a_coordinator_cannot_take_in_another_market_or_its_volunteers(ctx):
    mine, theirs = make_market(), make_market()
    coordinator = make_user(Role.COORDINATOR)
    assign(coordinator, mine, StaffRole.COORDINATOR)
    stranger = make_user(Role.VOLUNTEER)
    assign(stranger, theirs)
    with pytest.raises(InvalidFields) as refused:
        campaigns.save_campaign(None, _values(theirs), actor=coordinator)
    assert "markets" in refused.value.errors
    with pytest.raises(InvalidFields) as refused:
        campaigns.save_campaign(None, _values(mine, volunteer_ids=[stranger.id]), actor=coordinator)
    assert "volunteers" in refused.value.errors


def test_negative_targets_are_refused(ctx):
    market = make_market()
    admin = make_user(Role.ADMIN)
    with pytest.raises(InvalidFields) as refused:
        campaigns.save_campaign(None, _values(market, targets={market.id: (-1, 3)}), actor=admin)
    assert "markets" in refused.value.errors


def test_only_coordinators_of_every_market_of_a_campaign_may_open_it(drive):
    campaign, market, second, _outside, volunteer = drive
    of_one = make_user(Role.COORDINATOR)
    assign(of_one, market, StaffRole.COORDINATOR)
    of_both = make_user(Role.COORDINATOR)
    assign(of_both, market, StaffRole.COORDINATOR)
    assign(of_both, second, StaffRole.COORDINATOR)
    assert can_manage_campaign(of_both, campaign)
    assert can_manage_campaign(make_user(Role.ADMIN), campaign)
    # The pages name the second market's volunteers and stalls.
    assert not can_manage_campaign(of_one, campaign)
    assert not can_manage_campaign(volunteer, campaign)
    assert campaigns.visible_campaigns(of_one) == []
    assert campaigns.visible_campaigns(of_both) == [campaign]


# --- the report as CSV ----------------------------------------------------------------------


def test_the_report_csv_has_a_row_per_market_and_day_then_totals_and_is_formula_safe(en):
    market = make_market(name='=HYPERLINK("http://x")')
    campaign = make_campaign([market], days=3, days_before=1, targets=[(6, 9)])
    make_vendor(market, published_at=utcnow())

    data = campaigns.report_csv(campaigns.progress(campaign))

    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0] == [
        "Market",
        "Day",
        "Stalls published",
        "Stall target",
        "Products with a photo",
        "Product target",
        "Vendors with consent",
        "WhatsApp contacts since registration",
    ]
    name = '\'=HYPERLINK("http://x")'
    today = local_today()
    assert rows[1:4] == [
        [name, (today - DAY).isoformat(), "0", "2", "0", "3", "0", ""],
        [name, today.isoformat(), "1", "2", "0", "3", "1", ""],
        [name, (today + DAY).isoformat(), "0", "2", "0", "3", "0", ""],
    ]
    assert rows[4] == [name, "Total", "1", "6", "0", "9", "1", "0"]
    assert rows[5] == ["All markets", "Total", "1", "6", "0", "9", "1", "0"]
    assert len(rows) == 6
