"""Builders shared by the onboarding, invitation, import, admin and audit tests."""

from dataclasses import dataclass

import pytest
from flask_babel import force_locale

from market.extensions import db
from market.models import Market, Photo, Product, User, Vendor, utcnow
from tests.conftest import (
    PASSWORD,
    csrf_token,
    login,
    make_market,
    make_people,
    make_product,
    make_vendor,
)


@pytest.fixture
def en(ctx):
    """An app context whose messages are English, as services see them outside a request."""
    with force_locale("en"):
        yield


def make_photo(vendor: Vendor, product: Product | None = None) -> Photo:
    """A Photo row without files: the checklist only counts them."""
    photo = Photo(
        vendor_id=vendor.id,
        product_id=product.id if product is not None else None,
        content_hash="ab" * 32,
        original_bytes=100,
        width=40,
        height=30,
        variants=[40],
    )
    db.session.add(photo)
    db.session.commit()
    return photo


def make_ready_vendor(market: Market, products: int = 3, **overrides) -> Vendor:
    """A draft with everything publishing needs: profile, consent, stall photo, products."""
    overrides.setdefault("published", False)
    vendor = make_vendor(market, **overrides)
    vendor.consent_at = utcnow()
    vendor.consent_version = "2026-01"
    db.session.commit()
    make_photo(vendor)
    for _ in range(products):
        make_photo(vendor, make_product(vendor))
    return vendor


@dataclass
class World:
    market: Market
    other_market: Market
    vendor: Vendor
    other_vendor: Vendor
    people: dict[str, User]


def make_world() -> World:
    """Two markets, a vendor in each with its owner, and staff of each role in each."""
    market = make_market()
    other_market = make_market()
    vendor = make_vendor(market, published=False)
    other_vendor = make_vendor(other_market, published=False)
    people = make_people(market, other_market)
    vendor.owner = people["vendor"]
    other_vendor.owner = people["other_vendor"]
    db.session.commit()
    return World(market, other_market, vendor, other_vendor, people)


# --- access matrices ----------------------------------------------------------------------------

STAFF = frozenset({"volunteer", "other_volunteer", "coordinator", "other_coordinator", "admin"})
COORDINATORS = frozenset({"coordinator", "other_coordinator", "admin"})
OF_THIS_MARKET = frozenset({"volunteer", "coordinator", "admin"})


@dataclass(frozen=True)
class Route:
    """One route of the matrix: who gets past its decorator (`gate`; the others get 403, or the
    login page when anonymous) and who may act on the world's records (`allowed`; the others
    get 404, so ids of other markets cannot be probed)."""

    endpoint: str
    method: str
    path: object  # World -> str
    gate: frozenset
    allowed: frozenset
    data: object = None  # World -> dict of form fields (POST)

    def expected(self, role: str) -> str:
        if role == "anonymous":
            return "login"
        if role not in self.gate:
            return "403"
        return "ok" if role in self.allowed else "404"


def check_access(client, world: World, route: Route, role: str) -> None:
    if role != "anonymous":
        user = world.people[role]
        assert login(client, user.login, PASSWORD).status_code == 302
    path = route.path(world)
    if route.method == "GET":
        response = client.get(path)
    else:
        data = route.data(world) if route.data else {}
        data["csrf_token"] = csrf_token(client, "/auth/login")
        response = client.post(path, data=data)
    expected = route.expected(role)
    status = response.status_code
    location = response.headers.get("Location", "")
    if expected == "login":
        assert status == 302 and location.startswith("/auth/login"), (status, location)
    elif expected == "ok":
        # A form sent back with its errors (422, 409 for a duplicate) got past the checks too.
        assert status in ((200,) if route.method == "GET" else (200, 302, 303, 409, 422)), status
        assert not location.startswith("/auth/login")
    else:
        assert status == int(expected), status
