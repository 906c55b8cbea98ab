"""Deny by default: every route of the app is either declared public or covered by one
authorisation matrix (route, method and role → allowed, login page, 403 or 404), and posted
extra fields (owner, market, role, status…) change nothing they should not.

A new route fails test_every_route_is_public_or_in_the_matrix with its name until it is added
to PUBLIC (with the reason) or to MATRIX. Per-blueprint matrices with more detail:
test_manage_views, test_catalogue_views, test_admin, test_print, test_privacy_views.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from sqlalchemy import func, select

from market.extensions import db
from market.models import (
    Market,
    MarketStaff,
    Photo,
    Product,
    QrisCode,
    Role,
    StaffRole,
    Synonym,
    User,
    Vendor,
    VendorStatus,
    VlogLink,
    utcnow,
)
from market.seed.demo import demo_image
from market.services import imports, invitations
from market.services.photos import process_upload, store_photo
from tests.factories import (
    EVERYONE,
    PASSWORD,
    ROLES,
    assign,
    make_campaign,
    make_market,
    make_people,
    make_photo,
    make_product,
    make_user,
    make_vendor,
    make_vlog,
)
from tests.pages import COORDINATORS, STAFF, csrf_token, login

ADMIN = frozenset({"admin"})
# Who may act on the world's stall: its owner, and the staff of its market.
OWNER_AND_STAFF = frozenset({"vendor", "volunteer", "coordinator", "admin"})
STAFF_HERE = frozenset({"volunteer", "coordinator", "admin"})
COORDINATION_HERE = frozenset({"coordinator", "admin"})

# Endpoints anyone may use, and why.
PUBLIC = {
    "static": "stylesheets, scripts and icons",
    "storefront.index": "the list of markets",
    "storefront.market": "a market's storefront",
    "storefront.vendor": "a stall's page",
    "storefront.product": "a product's page",
    "storefront.search_page": "search within a market",
    "storefront.city_search": "search across the published markets",
    "storefront.whatsapp": "a shopper's tap on WhatsApp: an anonymous counter, then wa.me",
    "storefront.walk": "from a public stall to its neighbour in walking order",
    "shopping.show": "a shopper's own list, kept in their browser's cookie",
    "shopping.add": "adds to the shopper's own list; refused from other sites",
    "shopping.change": "changes the shopper's own list; refused from other sites",
    "shopping.send": "a shopper's order to one stall: anonymous counters, then wa.me",
    "storefront.sitemap": "for search engines",
    "storefront.sitemap_markets": "for search engines",
    "storefront.sitemap_part": "for search engines",
    "storefront.robots": "for search engines",
    "storefront.qr": "QR codes of public pages",
    "storefront.poster": "a public stall's printable poster",
    "storefront.tags": "a public stall's printable hang tags",
    "storefront.directory": "a public market's printable directory",
    "storefront.media": "photo files, named by content hash",
    "storefront.favicon": "the icon",
    "storefront.meta_feed": "a public market's or stall's product feed for Meta's catalogue",
    "storefront.google_feed": "a public market's or stall's product feed for Google Merchant",
    "api.openapi": "the API's description",
    "api.markets": "read-only public catalogue",
    "api.market": "read-only public catalogue",
    "api.vendors": "read-only public catalogue",
    "api.vendor": "read-only public catalogue",
    "api.products": "read-only public catalogue",
    "api.product": "read-only public catalogue",
    "auth.login": "the way in",
    "auth.logout": "ends the session of whoever asks; nothing to protect",
    "auth.claim": "a vendor's invitation: the secret token in the link is the permission",
    "auth.join": "a new volunteer's or coordinator's join link: the secret token is the permission",
    "auth.reset": "a new-password link: the secret token in the link is the permission",
    "offline.manifest": "the back office's web app manifest: names and icons, no one's data",
    "offline.service_worker": "the back office's service worker script, the same for everyone",
    "offline.offline_page": "what the service worker shows without signal; fetched without cookies",
}


@dataclass
class World:
    """Two markets; in the first a stall with its owner, everything a route can point at, and
    spare records for the routes that delete, so that one walk can try every route."""

    market: Market
    other_market: Market
    vendor: Vendor
    neighbour: Vendor
    people: dict[str, User]
    ids: dict[str, int] = field(default_factory=dict)
    token: str = ""  # of an invitation
    csrf: str = ""  # of the session walking the matrix


def build_world() -> World:
    market, other_market = make_market(), make_market()
    people = make_people(market, other_market)
    spare_volunteer = make_user(Role.VOLUNTEER)
    assign(spare_volunteer, market, StaffRole.VOLUNTEER)
    owner = people["vendor"]
    vendor = make_vendor(market, owner=owner)
    # The most likely intruder: the stall next door, in the same market.
    neighbour = make_vendor(market, owner=people["other_vendor"])
    spare_vendor = make_vendor(market, owner=owner)
    doomed_vendor = make_vendor(market, owner=owner)
    deleted_vendor = make_vendor(market, owner=owner, deleted_at=utcnow())
    product = make_product(vendor)
    spare_product = make_product(vendor)
    deleted_product = make_product(vendor, deleted_at=utcnow())
    hidden_product = make_product(vendor, hidden_at=utcnow(), hidden_reason="dicek")
    stall_photo = store_photo(
        process_upload(demo_image("route-access", (30, 90, 150), (420, 300))), vendor_id=vendor.id
    )
    product_photo = make_photo(vendor, product)
    qris_photo = make_photo(vendor)
    qris_photo.vendor_id = None  # a QRIS photo is neither a stall's nor a product's
    db.session.add(QrisCode(vendor_id=vendor.id, photo_id=qris_photo.id, merchant_name="BU SRI"))
    world = World(market, other_market, vendor, neighbour, people)
    world.ids = {
        "product": product.id,
        "spare_product": spare_product.id,
        "deleted_product": deleted_product.id,
        "hidden_product": hidden_product.id,
        "stall_photo": stall_photo.id,
        "product_photo": product_photo.id,
        "spare_photo": make_photo(vendor, product).id,
        "deleted_photo": make_photo(vendor, product, deleted_at=utcnow()).id,
        "qris_photo": qris_photo.id,
        "vlog": make_vlog(vendor).id,
        "spare_vlog": make_vlog(vendor).id,
        "deleted_vlog": make_vlog(vendor, deleted_at=utcnow()).id,
        "spare_vendor": spare_vendor.id,
        "doomed_vendor": doomed_vendor.id,
        "deleted_vendor": deleted_vendor.id,
        "spare_staff": db.session.scalar(
            select(MarketStaff.id).where(MarketStaff.user_id == spare_volunteer.id)
        ),
        "campaign": make_campaign([market], [people["volunteer"]]).id,
        "spare_volunteer": spare_volunteer.id,
        "synonym": db.session.scalar(select(Synonym.id).where(Synonym.phrase == "honey")),
    }
    db.session.commit()
    claimable = make_vendor(market, published=False, owner=None)
    world.token = invitations.create_invitation(claimable, actor=people["volunteer"]).token
    return world


# --- the matrix --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    """Who gets past a route's decorator (`gate`: others get 403, anonymous the login page)
    and who may act on the world's records (`allowed`: the others get 404). `expect`
    overrides the outcome for some roles."""

    path: Callable[[World], str]
    gate: frozenset
    allowed: frozenset
    data: Callable[[World], dict] = lambda _world: {}
    expect: dict = field(default_factory=dict)

    def outcome(self, role: str) -> str:
        if role in self.expect:
            return self.expect[role]
        if role == "anonymous":
            return "login"
        if role not in self.gate:
            return "403"
        return "ok" if role in self.allowed else "404"


def _vendor(suffix: str = "", key: str | None = None):
    def path(w: World) -> str:
        return f"/manage/vendors/{w.ids[key] if key else w.vendor.id}{suffix}"

    return path


def _quick(suffix: str):
    return lambda w: f"/manage/quick/vendors/{w.vendor.id}{suffix}"


def _admin_vendor(suffix: str, key: str | None = None):
    return lambda w: f"/admin/vendors/{w.ids[key] if key else w.vendor.id}{suffix}"


def _market(suffix: str = ""):
    return lambda w: f"/admin/markets/{w.market.id}{suffix}"


def _id(prefix: str, key: str, suffix: str = ""):
    return lambda w: f"{prefix}/{w.ids[key]}{suffix}"


MARKET_FIELDS = {"name": "Pasar Uji", "city": "Balikpapan", "province": "Kalimantan Timur"}
VENDOR_FIELDS = {"business_name": "Toko Baru", "stall_block": "C", "stall_number": "9"}
PRODUCT_FIELDS = {"name": "Amplang", "price": "15000", "price_kind": "fixed"}
PRODUCT_FIELDS |= {"availability": "in_stock"}
CAMPAIGN_FIELDS = {
    "name": "Gerebek Pasar",
    "starts_on": "2027-02-01",
    "ends_on": "2027-02-10",
    "target_kind": "total",
    "markets-0-included": "y",
    "markets-0-stalls_target": "12",
}
NOT_HERE = {"other_volunteer": "200", "other_coordinator": "200"}  # a choice they do not have

MATRIX: dict[tuple[str, str], Rule] = {
    # --- the back office of stalls
    ("manage.home", "GET"): Rule(lambda w: "/manage/", EVERYONE, EVERYONE),
    ("manage.vendor_new", "GET"): Rule(lambda w: "/manage/vendors/new", STAFF, STAFF),
    ("manage.vendor_new", "POST"): Rule(
        lambda w: "/manage/vendors/new",
        STAFF,
        STAFF_HERE,
        data=lambda w: VENDOR_FIELDS | {"market": w.market.id},
        expect=NOT_HERE,
    ),
    ("manage.vendor", "GET"): Rule(_vendor(), EVERYONE, OWNER_AND_STAFF),
    ("manage.vendor_edit", "GET"): Rule(_vendor("/edit"), EVERYONE, OWNER_AND_STAFF),
    ("manage.vendor_edit", "POST"): Rule(
        _vendor("/edit"),
        EVERYONE,
        OWNER_AND_STAFF,
        data=lambda w: {"business_name": w.vendor.business_name, "stall_number": "12"},
    ),
    ("manage.consent", "GET"): Rule(_vendor("/consent"), STAFF, STAFF_HERE),
    ("manage.consent", "POST"): Rule(
        _vendor("/consent"), STAFF, STAFF_HERE, data=lambda w: {"language": "id", "agreed": "y"}
    ),
    ("manage.withdraw_consent", "POST"): Rule(
        _vendor("/consent/withdraw"), EVERYONE, OWNER_AND_STAFF
    ),
    ("manage.publish", "POST"): Rule(_vendor("/publish"), STAFF, STAFF_HERE),
    ("manage.unpublish", "POST"): Rule(_vendor("/unpublish"), STAFF, STAFF_HERE),
    ("manage.hide", "POST"): Rule(_vendor("/hide"), STAFF, STAFF_HERE),
    ("manage.delete", "POST"): Rule(
        _vendor("/delete", "spare_vendor"),
        STAFF,
        STAFF_HERE,
        data=lambda w: {"delete-reason": "pindah"},
    ),
    ("manage.invitation", "GET"): Rule(_vendor("/invitation"), STAFF, STAFF_HERE),
    ("manage.invite", "POST"): Rule(_vendor("/invitation"), STAFF, STAFF_HERE),
    ("manage.close", "POST"): Rule(
        _vendor("/closed"),
        EVERYONE,
        OWNER_AND_STAFF,
        data=lambda w: {f"closed-{w.vendor.id}-note": "Libur"},
    ),
    ("manage.reopen", "POST"): Rule(_vendor("/open"), EVERYONE, OWNER_AND_STAFF),
    # --- the catalogue of a stall
    ("catalogue.products", "GET"): Rule(_vendor("/products"), EVERYONE, OWNER_AND_STAFF),
    ("catalogue.new_product", "GET"): Rule(_vendor("/products/new"), EVERYONE, OWNER_AND_STAFF),
    ("catalogue.new_product", "POST"): Rule(
        _vendor("/products/new"), EVERYONE, OWNER_AND_STAFF, data=lambda w: PRODUCT_FIELDS
    ),
    ("catalogue.edit_product", "GET"): Rule(
        _id("/manage/products", "product", "/edit"), EVERYONE, OWNER_AND_STAFF
    ),
    ("catalogue.edit_product", "POST"): Rule(
        _id("/manage/products", "product", "/edit"),
        EVERYONE,
        OWNER_AND_STAFF,
        data=lambda w: PRODUCT_FIELDS,
    ),
    ("catalogue.product_availability", "POST"): Rule(
        _id("/manage/products", "product", "/availability"),
        EVERYONE,
        OWNER_AND_STAFF,
        data=lambda w: {"availability": "sold_out"},
    ),
    ("catalogue.product_move", "POST"): Rule(
        _id("/manage/products", "product", "/move"),
        EVERYONE,
        OWNER_AND_STAFF,
        data=lambda w: {"direction": "down"},
    ),
    ("catalogue.product_delete", "POST"): Rule(
        _id("/manage/products", "spare_product", "/delete"), EVERYONE, OWNER_AND_STAFF
    ),
    ("catalogue.product_restore", "POST"): Rule(
        _id("/manage/products", "deleted_product", "/restore"), EVERYONE, OWNER_AND_STAFF
    ),
    ("catalogue.product_photos", "POST"): Rule(
        _id("/manage/products", "product", "/photos"), EVERYONE, OWNER_AND_STAFF
    ),
    ("catalogue.stall_photos", "GET"): Rule(_vendor("/photos"), EVERYONE, OWNER_AND_STAFF),
    ("catalogue.stall_photos", "POST"): Rule(_vendor("/photos"), EVERYONE, OWNER_AND_STAFF),
    ("catalogue.photo_move", "POST"): Rule(
        _id("/manage/photos", "product_photo", "/move"),
        EVERYONE,
        OWNER_AND_STAFF,
        data=lambda w: {"direction": "down"},
    ),
    ("catalogue.photo_alt", "POST"): Rule(
        _id("/manage/photos", "product_photo", "/alt"),
        EVERYONE,
        OWNER_AND_STAFF,
        data=lambda w: {"alt_text": "Amplang di toples"},
    ),
    ("catalogue.photo_delete", "POST"): Rule(
        _id("/manage/photos", "spare_photo", "/delete"), EVERYONE, OWNER_AND_STAFF
    ),
    ("catalogue.photo_restore", "POST"): Rule(
        _id("/manage/photos", "deleted_photo", "/restore"), EVERYONE, OWNER_AND_STAFF
    ),
    ("catalogue.vlogs", "GET"): Rule(_vendor("/vlogs"), EVERYONE, OWNER_AND_STAFF),
    ("catalogue.vlogs", "POST"): Rule(
        _vendor("/vlogs"),
        EVERYONE,
        OWNER_AND_STAFF,
        data=lambda w: {"url": "https://youtu.be/9bZkp7q19f0", "product_id": "0"},
    ),
    ("catalogue.vlog_delete", "POST"): Rule(
        _id("/manage/vlogs", "spare_vlog", "/delete"), EVERYONE, OWNER_AND_STAFF
    ),
    ("catalogue.vlog_restore", "POST"): Rule(
        _id("/manage/vlogs", "deleted_vlog", "/restore"), EVERYONE, OWNER_AND_STAFF
    ),
    ("catalogue.qris", "GET"): Rule(_vendor("/qris"), EVERYONE, OWNER_AND_STAFF),
    ("catalogue.qris", "POST"): Rule(
        _vendor("/qris"), EVERYONE, OWNER_AND_STAFF, data=lambda w: {"merchant_name": "BU SRI"}
    ),
    # Verifying is the staff's job: the owner gets the same 404 as a stranger.
    ("catalogue.qris_verify", "POST"): Rule(
        _vendor("/qris/verify"),
        EVERYONE,
        STAFF_HERE,
        data=lambda w: {"photo_id": w.ids["qris_photo"], "merchant_name": "BU SRI"},
    ),
    ("catalogue.qris_unverify", "POST"): Rule(_vendor("/qris/unverify"), EVERYONE, OWNER_AND_STAFF),
    ("catalogue.channels", "GET"): Rule(_vendor("/online"), EVERYONE, OWNER_AND_STAFF),
    ("catalogue.numbers", "GET"): Rule(_vendor("/numbers"), EVERYONE, OWNER_AND_STAFF),
    ("catalogue.marketplace_export", "GET"): Rule(
        _vendor("/online/shopee.xlsx"), EVERYONE, OWNER_AND_STAFF
    ),
    # --- quick add at the stall
    ("quick.register", "GET"): Rule(lambda w: "/manage/quick/register", STAFF, STAFF),
    ("quick.register", "POST"): Rule(
        lambda w: "/manage/quick/register",
        STAFF,
        STAFF_HERE,
        data=lambda w: VENDOR_FIELDS | {"market": w.market.id, "consent": "y"},
        # The market is not among their choices: the form comes back as unprocessable.
        expect={"other_volunteer": "422", "other_coordinator": "422"},
    ),
    ("quick.products", "GET"): Rule(_quick("/products"), EVERYONE, OWNER_AND_STAFF),
    ("quick.products", "POST"): Rule(
        _quick("/products"), EVERYONE, OWNER_AND_STAFF, data=lambda w: PRODUCT_FIELDS
    ),
    ("quick.finish", "GET"): Rule(_quick("/finish"), STAFF, STAFF_HERE),
    ("quick.add_vlog", "POST"): Rule(
        _quick("/videos"),
        STAFF,
        STAFF_HERE,
        data=lambda w: {"url": "https://youtu.be/9bZkp7q19f0"},
    ),
    ("quick.publish", "POST"): Rule(_quick("/publish"), STAFF, STAFF_HERE),
    # --- coordination
    ("admin.index", "GET"): Rule(lambda w: "/admin/", COORDINATORS, COORDINATORS),
    ("admin.market_new", "GET"): Rule(lambda w: "/admin/markets/new", COORDINATORS, COORDINATORS),
    ("admin.market_new", "POST"): Rule(
        lambda w: "/admin/markets/new", COORDINATORS, COORDINATORS, data=lambda w: MARKET_FIELDS
    ),
    ("admin.market", "GET"): Rule(_market(), COORDINATORS, COORDINATION_HERE),
    ("admin.market_edit", "GET"): Rule(_market("/edit"), COORDINATORS, COORDINATION_HERE),
    ("admin.market_edit", "POST"): Rule(
        _market("/edit"), COORDINATORS, COORDINATION_HERE, data=lambda w: MARKET_FIELDS
    ),
    ("admin.staff", "GET"): Rule(_market("/staff"), COORDINATORS, COORDINATION_HERE),
    ("admin.staff", "POST"): Rule(
        _market("/staff"),
        COORDINATORS,
        COORDINATION_HERE,
        data=lambda w: {
            "email": "baru@example.org",
            "name": "Relawan Baru",
            "role": "volunteer",
            "password": "pasar pagi yang ramai",
        },
    ),
    ("admin.staff_remove", "POST"): Rule(
        lambda w: f"/admin/markets/{w.market.id}/staff/{w.ids['spare_staff']}/remove",
        COORDINATORS,
        COORDINATION_HERE,
    ),
    ("admin.print_batch", "GET"): Rule(lambda w: "/admin/print", COORDINATORS, COORDINATORS),
    ("admin.staff_invite", "POST"): Rule(
        _market("/staff/invite"),
        COORDINATORS,
        COORDINATION_HERE,
        data=lambda w: {"role": "volunteer"},
    ),
    # A volunteer's account: the coordinators of their market, and admins.
    ("admin.person", "GET"): Rule(
        _id("/admin/people", "spare_volunteer"), COORDINATORS, COORDINATION_HERE
    ),
    ("admin.person_deactivate", "POST"): Rule(
        _id("/admin/people", "spare_volunteer", "/deactivate"),
        COORDINATORS,
        COORDINATION_HERE,
        data=lambda w: {"reason": "pindah kota"},
    ),
    ("admin.person_reactivate", "POST"): Rule(
        _id("/admin/people", "spare_volunteer", "/reactivate"), COORDINATORS, COORDINATION_HERE
    ),
    ("admin.person_reset", "POST"): Rule(
        _id("/admin/people", "spare_volunteer", "/reset"), COORDINATORS, COORDINATION_HERE
    ),
    ("admin.volunteer", "GET"): Rule(
        lambda w: f"/admin/markets/{w.market.id}/volunteers/{w.people['volunteer'].id}",
        COORDINATORS,
        COORDINATION_HERE,
    ),
    ("admin.moderation", "GET"): Rule(_market("/moderation"), COORDINATORS, COORDINATION_HERE),
    ("admin.vendor_moderate", "GET"): Rule(
        _admin_vendor("/moderate"), COORDINATORS, COORDINATION_HERE
    ),
    ("admin.vendor_hide", "POST"): Rule(
        _admin_vendor("/hide"),
        COORDINATORS,
        COORDINATION_HERE,
        data=lambda w: {"reason": "foto tidak pantas"},
    ),
    ("admin.vendor_restore", "POST"): Rule(
        _admin_vendor("/restore", "deleted_vendor"), COORDINATORS, COORDINATION_HERE
    ),
    ("admin.product_hide", "POST"): Rule(
        _id("/admin/products", "product", "/hide"),
        COORDINATORS,
        COORDINATION_HERE,
        data=lambda w: {"reason": "bukan barang pasar"},
    ),
    ("admin.product_unhide", "POST"): Rule(
        _id("/admin/products", "hidden_product", "/unhide"), COORDINATORS, COORDINATION_HERE
    ),
    ("admin.import_vendors", "GET"): Rule(_market("/import"), COORDINATORS, COORDINATION_HERE),
    ("admin.import_vendors", "POST"): Rule(_market("/import"), COORDINATORS, COORDINATION_HERE),
    ("admin.import_commit", "POST"): Rule(
        _market("/import/commit"),
        COORDINATORS,
        COORDINATION_HERE,
        data=lambda w: {"payload": imports.pack(b"business_name,stall_number\nToko Impor,77\n")},
    ),
    ("admin.sheet_import", "GET"): Rule(
        _market("/sheets/products"), COORDINATORS, COORDINATION_HERE
    ),
    ("admin.sheet_import", "POST"): Rule(
        _market("/sheets/vendors"), COORDINATORS, COORDINATION_HERE
    ),
    ("admin.sheet_apply", "POST"): Rule(
        _market("/sheets/products/apply"),
        COORDINATORS,
        COORDINATION_HERE,
        data=lambda w: {
            "payload": imports.pack(f"product_id,price_idr\n{w.ids['product']},31000\n".encode()),
            "fingerprint": "checked-before",
        },
    ),
    ("admin.export_vendors", "GET"): Rule(_market("/vendors.csv"), COORDINATORS, COORDINATION_HERE),
    ("admin.export_products", "GET"): Rule(
        _market("/products.csv"), COORDINATORS, COORDINATION_HERE
    ),
    ("admin.audit", "GET"): Rule(_market("/audit"), COORDINATORS, COORDINATION_HERE),
    ("admin.vendor_export", "GET"): Rule(_admin_vendor("/data.json"), ADMIN, ADMIN),
    ("admin.audit_all", "GET"): Rule(lambda w: "/admin/audit", ADMIN, ADMIN),
    ("admin.audit_all_csv", "GET"): Rule(lambda w: "/admin/audit.csv", ADMIN, ADMIN),
    ("admin.vendor_erase", "GET"): Rule(_admin_vendor("/erase", "doomed_vendor"), ADMIN, ADMIN),
    ("admin.vendor_erase", "POST"): Rule(
        _admin_vendor("/erase", "doomed_vendor"),
        ADMIN,
        ADMIN,
        data=lambda w: {
            "business_name": db.session.get(Vendor, w.ids["doomed_vendor"]).business_name
        },
    ),
    # --- campaigns (a campaign of the world's market)
    ("campaigns.index", "GET"): Rule(lambda w: "/admin/campaigns/", COORDINATORS, COORDINATORS),
    ("campaigns.new", "GET"): Rule(lambda w: "/admin/campaigns/new", COORDINATORS, COORDINATORS),
    ("campaigns.new", "POST"): Rule(
        lambda w: "/admin/campaigns/new",
        COORDINATORS,
        COORDINATORS,
        data=lambda w: CAMPAIGN_FIELDS | {"markets-0-market_id": w.market.id},
    ),
    ("campaigns.progress", "GET"): Rule(
        _id("/admin/campaigns", "campaign"), COORDINATORS, COORDINATION_HERE
    ),
    ("campaigns.edit", "GET"): Rule(
        _id("/admin/campaigns", "campaign", "/edit"), COORDINATORS, COORDINATION_HERE
    ),
    ("campaigns.edit", "POST"): Rule(
        _id("/admin/campaigns", "campaign", "/edit"),
        COORDINATORS,
        COORDINATION_HERE,
        data=lambda w: CAMPAIGN_FIELDS | {"markets-0-market_id": w.market.id},
    ),
    ("campaigns.report", "GET"): Rule(
        _id("/admin/campaigns", "campaign", "/laporan"), COORDINATORS, COORDINATION_HERE
    ),
    ("campaigns.report_csv", "GET"): Rule(
        _id("/admin/campaigns", "campaign", "/laporan.csv"), COORDINATORS, COORDINATION_HERE
    ),
    # Search synonyms are shared by every market, kept by any coordinator.
    ("admin.synonym_list", "GET"): Rule(lambda w: "/admin/synonyms", COORDINATORS, COORDINATORS),
    ("admin.synonym_list", "POST"): Rule(
        lambda w: "/admin/synonyms",
        COORDINATORS,
        COORDINATORS,
        data=lambda w: {"phrase": "madoe", "means": "madu"},
    ),
    ("admin.synonym_remove", "POST"): Rule(
        lambda w: f"/admin/synonyms/{w.ids['synonym']}/remove", COORDINATORS, COORDINATORS
    ),
    # The print job of a whole market is for its coordinators; nobody else learns it exists.
    ("storefront.print_market", "GET"): Rule(
        lambda w: f"/pasar/{w.market.slug}/cetak",
        EVERYONE,
        COORDINATION_HERE,
        expect={"anonymous": "404"},
    ),
    # --- one's own account
    ("auth.change_password", "GET"): Rule(lambda w: "/auth/password", EVERYONE, EVERYONE),
    ("offline.logout", "GET"): Rule(lambda w: "/manage/logout", EVERYONE, EVERYONE),
    ("auth.change_password", "POST"): Rule(
        lambda w: "/auth/password",
        EVERYONE,
        EVERYONE,
        # A wrong current password: the walk goes on with the same session.
        data=lambda w: {"current": "not the password", "password": "x" * 12, "confirm": "x" * 12},
    ),
}

ALLOWED_GET = {200}
ALLOWED_POST = {200, 302, 303, 409, 422}


def test_every_route_is_public_or_in_the_matrix(app):
    routes = {
        (rule.endpoint, method)
        for rule in app.url_map.iter_rules()
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    uncovered = sorted(
        f"{method} {endpoint}"
        for endpoint, method in routes
        if endpoint not in PUBLIC and (endpoint, method) not in MATRIX
    )
    assert not uncovered, "declare these public or add them to MATRIX: " + ", ".join(uncovered)
    stale = sorted(set(MATRIX) - routes) + sorted(set(PUBLIC) - {e for e, _m in routes})
    assert not stale, f"no such routes any more: {stale}"
    assert not set(PUBLIC) & {endpoint for endpoint, _m in MATRIX}


def _check(client, world: World, key: tuple[str, str], rule: Rule, role: str) -> str | None:
    """None if the route answered `role` as the matrix says, else what went wrong."""
    endpoint, method = key
    path = rule.path(world)
    if method == "GET":
        response = client.get(path)
    else:
        response = client.post(path, data={**rule.data(world), "csrf_token": world.csrf})
    status, location = response.status_code, response.headers.get("Location", "")
    expected = rule.outcome(role)
    if expected == "login":
        passed = status == 302 and location.startswith("/auth/login")
    elif expected == "ok":
        passed = status in (ALLOWED_GET if method == "GET" else ALLOWED_POST) and not (
            location.startswith("/auth/login")
        )
    else:
        passed = status == int(expected)
    db.session.commit()  # see what the request committed
    return None if passed else f"{method} {endpoint} as {role}: {status} {location}, not {expected}"


# Deletions and erasure last; each points at a record of its own.
def _order(item: tuple[tuple[str, str], Rule]) -> tuple[int, str, str]:
    (endpoint, method), _rule = item
    return (method != "GET", "erase" in endpoint or "delete" in endpoint, endpoint)


@pytest.mark.parametrize("role", ROLES)
def test_authorisation_matrix(client, ctx, role):
    world = build_world()
    if role != "anonymous":
        assert login(client, world.people[role].login, PASSWORD).status_code == 302
    world.csrf = csrf_token(client, "/auth/login")
    failures = [
        failure
        for key, rule in sorted(MATRIX.items(), key=_order)
        if (failure := _check(client, world, key, rule, role))
    ]
    assert not failures, "\n".join(failures)


def test_public_routes_answer_anyone(client, ctx):
    world = build_world()
    market, vendor = world.market.slug, world.vendor.slug
    product = db.session.get(Product, world.ids["product"]).slug
    photo = db.session.get(Photo, world.ids["stall_photo"])
    paths = [
        "/",
        f"/pasar/{market}/",
        f"/pasar/{market}/lapak/{vendor}/",
        f"/pasar/{market}/lapak/{vendor}/{product}",
        f"/pasar/{market}/cari?q=produk",
        "/cari?q=produk",
        "/sitemap.xml",
        "/sitemap/pasar.xml",
        f"/sitemap/{market}/lapak-1.xml",
        "/robots.txt",
        f"/pasar/{market}/qr.svg",
        f"/pasar/{market}/lapak/{vendor}/poster",
        f"/pasar/{market}/cetak/label/{vendor}",
        f"/pasar/{market}/cetak/direktori",
        f"/media/{photo.key(photo.variants[0])}",
        "/favicon.ico",
        f"/pasar/{market}/feed/meta.csv",
        f"/pasar/{market}/feed/google.xml",
        f"/pasar/{market}/lapak/{vendor}/feed/meta.csv",
        f"/pasar/{market}/lapak/{vendor}/feed/google.xml",
        "/api/openapi.json",
        "/manage/manifest.webmanifest",
        "/manage/sw.js",
        "/manage/offline",
        "/api/v1/markets",
        f"/api/v1/markets/{market}/vendors/{vendor}/products/{product}",
        "/auth/login",
        f"/auth/undangan/{world.token}",
    ]
    for path in paths:
        assert client.get(path).status_code == 200, path
    tap = client.post(f"/pasar/{market}/lapak/{vendor}/wa")
    assert tap.status_code == 303 and tap.headers["Location"].startswith("https://wa.me/")


# --- posted extra fields ------------------------------------------------------------------------


def _extras(world: World, **more) -> dict:
    """Fields no form offers, pointing at someone else's records."""
    return {
        "vendor_id": world.neighbour.id,
        "market_id": world.other_market.id,
        "owner_id": world.people["other_vendor"].id,
        "onboarded_by_id": world.people["other_volunteer"].id,
        "consent_at": "2020-01-01",
        "deleted_at": "2020-01-01",
        "hidden_at": "2020-01-01",
        "published_at": "2020-01-01",
        "role": "admin",
        "status": "published",
        "id": "1",
        "slug": "disusupi",
        "user_id": world.people["admin"].id,
        "session_version": "1",
        "active": "1",
        "verified_by_id": world.people["other_volunteer"].id,
        **more,
    }


def _post(client, path: str, data: dict):
    return client.post(path, data={**data, "csrf_token": csrf_token(client, "/auth/login")})


@pytest.fixture
def world(ctx):
    return build_world()


def _log_in(client, world: World, role: str) -> None:
    assert login(client, world.people[role].login).status_code == 302


def test_vendor_profile_ignores_owner_market_and_status(client, world):
    vendor = world.vendor
    before = (vendor.owner_id, vendor.market_id, vendor.status, vendor.slug, vendor.consent_at)
    _log_in(client, world, "vendor")
    response = _post(
        client,
        f"/manage/vendors/{vendor.id}/edit",
        _extras(world, business_name="Lapak Baru", version=str(vendor.version)),
    )
    assert response.status_code == 302
    db.session.commit()
    db.session.refresh(vendor)
    assert vendor.business_name == "Lapak Baru"
    assert (vendor.owner_id, vendor.market_id, vendor.status, vendor.slug, vendor.consent_at) == (
        before
    )
    assert vendor.deleted_at is None and vendor.onboarded_by_id is None


def test_new_vendor_is_a_draft_without_owner_in_a_market_of_the_volunteer(client, world):
    _log_in(client, world, "volunteer")
    data = _extras(world, market=str(world.market.id), business_name="Toko Susupan")
    assert _post(client, "/manage/vendors/new", data).status_code == 302
    db.session.commit()
    created = db.session.scalar(select(Vendor).where(Vendor.business_name == "Toko Susupan"))
    assert created.market_id == world.market.id
    assert created.status == VendorStatus.DRAFT
    assert created.owner_id is None and created.consent_at is None and created.deleted_at is None
    assert created.onboarded_by_id == world.people["volunteer"].id
    assert created.slug != "disusupi"


def test_a_volunteer_cannot_register_into_another_market(client, world):
    _log_in(client, world, "other_volunteer")
    data = VENDOR_FIELDS | {"market": str(world.market.id)}
    assert _post(client, "/manage/vendors/new", data).status_code == 200
    db.session.commit()
    assert not db.session.scalar(select(func.count()).where(Vendor.business_name == "Toko Baru"))


def test_product_stays_on_its_stall(client, world):
    product = db.session.get(Product, world.ids["product"])
    _log_in(client, world, "vendor")
    data = _extras(world, **PRODUCT_FIELDS, position="0", version=str(product.version))
    response = _post(client, f"/manage/products/{product.id}/edit", data)
    assert response.status_code == 303
    response = _post(client, f"/manage/vendors/{world.vendor.id}/products/new", data)
    assert response.status_code in (302, 303)
    db.session.commit()
    neighbour_products = select(func.count()).where(Product.vendor_id == world.neighbour.id)
    assert db.session.scalar(neighbour_products) == 0
    db.session.refresh(product)
    assert product.vendor_id == world.vendor.id
    assert product.hidden_at is None and product.deleted_at is None
    assert product.slug != "disusupi"


def test_vlog_cannot_point_at_the_neighbours_product(client, world):
    neighbours = make_product(world.neighbour)
    _log_in(client, world, "vendor")
    data = {"url": "https://youtu.be/9bZkp7q19f0", "product_id": str(neighbours.id)}
    response = _post(client, f"/manage/vendors/{world.vendor.id}/vlogs", _extras(world, **data))
    assert response.status_code == 422
    db.session.commit()
    assert not db.session.scalar(select(func.count()).where(VlogLink.product_id == neighbours.id))


def test_market_keeps_its_address_and_id(client, world):
    market = world.market
    slug = market.slug
    _log_in(client, world, "coordinator")
    response = _post(client, f"/admin/markets/{market.id}/edit", _extras(world, **MARKET_FIELDS))
    assert response.status_code == 302
    db.session.commit()
    db.session.refresh(market)
    assert market.slug == slug and market.name == MARKET_FIELDS["name"]
    assert db.session.get(Market, world.other_market.id).name != MARKET_FIELDS["name"]


def test_staff_form_cannot_make_an_admin_or_assign_elsewhere(client, world):
    _log_in(client, world, "coordinator")
    data = {
        "email": "naik@example.org",
        "name": "Naik Pangkat",
        "password": "pasar pagi yang ramai",
        "market_id": str(world.other_market.id),
    }
    response = _post(client, f"/admin/markets/{world.market.id}/staff", data | {"role": "admin"})
    assert response.status_code == 200  # not a choice of the form
    db.session.commit()
    assert db.session.scalar(select(User).where(User.email == "naik@example.org")) is None
    response = _post(
        client, f"/admin/markets/{world.market.id}/staff", data | {"role": "volunteer"}
    )
    assert response.status_code == 302
    db.session.commit()
    user = db.session.scalar(select(User).where(User.email == "naik@example.org"))
    assert user.role == Role.VOLUNTEER
    assert [s.market_id for s in user.staff_assignments] == [world.market.id]
    # An existing vendor account cannot be pulled into the staff by its email either.
    vendor_owner = world.people["vendor"]
    vendor_owner.email = "pemilik@example.org"
    db.session.commit()
    data = {"email": "pemilik@example.org", "role": "coordinator"}
    assert _post(client, f"/admin/markets/{world.market.id}/staff", data).status_code == 200
    db.session.commit()
    db.session.refresh(vendor_owner)
    assert vendor_owner.role == Role.VENDOR and not vendor_owner.staff_assignments


def test_password_form_changes_nothing_but_the_password(client, world):
    user = world.people["volunteer"]
    _log_in(client, world, "volunteer")
    data = _extras(
        world,
        current=PASSWORD,
        password="pasar malam di kebun sayur",
        confirm="pasar malam di kebun sayur",
    )
    assert _post(client, "/auth/password", data).status_code == 302
    db.session.commit()
    db.session.refresh(user)
    assert user.role == Role.VOLUNTEER and user.active
    assert db.session.get(User, world.people["admin"].id).role == Role.ADMIN


def test_invitation_claims_only_its_own_stall(client, world):
    response = client.post(
        f"/auth/undangan/{world.token}",
        data=_extras(
            world, password="pasar malam di kebun sayur", confirm="pasar malam di kebun sayur"
        )
        | {"csrf_token": csrf_token(client, f"/auth/undangan/{world.token}")},
    )
    assert response.status_code == 302
    db.session.commit()
    db.session.refresh(world.neighbour)
    assert world.neighbour.owner_id == world.people["other_vendor"].id
    claimed = db.session.scalar(select(User).order_by(User.id.desc()).limit(1))
    assert claimed.role == Role.VENDOR
    assert [v.id for v in claimed.vendors] != [world.neighbour.id]
