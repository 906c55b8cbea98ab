"""Builders and probes shared by the storefront, search, SEO, print and API tests."""

import hashlib
import re
from contextlib import contextmanager
from itertools import count

from sqlalchemy import event

from market.extensions import db
from market.models import Market, Photo, Product, Role, StaffRole, Vendor, VlogLink, VlogPlatform
from tests.conftest import assign, make_market, make_product, make_user, make_vendor

_serial = count(1)


def make_photo(vendor: Vendor, product: Product | None = None, **overrides) -> Photo:
    """A photo row (no files: the pages only build its URLs)."""
    n = next(_serial)
    values = {
        "vendor_id": vendor.id,
        "product_id": product.id if product else None,
        "content_hash": hashlib.sha256(f"photo-{n}".encode()).hexdigest(),
        "original_bytes": 1000,
        "width": 1200,
        "height": 900,
        "variants": [400, 800, 1200],
        "alt_text": f"Foto {n}",
    }
    photo = Photo(**(values | overrides))
    db.session.add(photo)
    db.session.commit()
    return photo


def make_vlog(vendor: Vendor, product: Product | None = None, video_id="dQw4w9WgXcQ") -> VlogLink:
    vlog = VlogLink(
        vendor_id=vendor.id,
        product_id=product.id if product else None,
        url=f"https://www.youtube.com/watch?v={video_id}",
        platform=VlogPlatform.YOUTUBE,
        video_id=video_id,
    )
    db.session.add(vlog)
    db.session.commit()
    return vlog


def catalogue(market: Market, vendors: int, products: int) -> list[Vendor]:
    """A market with photographed stalls and products, as the demo has."""
    made = []
    for _ in range(vendors):
        vendor = make_vendor(market)
        make_photo(vendor)
        for _ in range(products):
            make_photo(vendor, make_product(vendor))
        made.append(vendor)
    return made


def vendor_url(vendor: Vendor) -> str:
    return f"/pasar/{vendor.market.slug}/lapak/{vendor.slug}/"


def product_url(product: Product) -> str:
    return f"{vendor_url(product.vendor)}{product.slug}"


def make_person(role: str, market: Market, vendor: Vendor):
    """A user in one of ROLES (None for anonymous), with their password tests.conftest.PASSWORD."""
    other = make_market()
    if role == "anonymous":
        return None
    if role == "vendor":
        user = make_user(Role.VENDOR)
        vendor.owner = user
        db.session.commit()
        return user
    if role == "other_vendor":
        user = make_user(Role.VENDOR)
        make_vendor(other, owner=user)
        return user
    if role == "admin":
        return make_user(Role.ADMIN)
    staff_role, where = {
        "volunteer": (StaffRole.VOLUNTEER, market),
        "other_volunteer": (StaffRole.VOLUNTEER, other),
        "coordinator": (StaffRole.COORDINATOR, market),
        "other_coordinator": (StaffRole.COORDINATOR, other),
    }[role]
    user = make_user(Role(staff_role.value))
    assign(user, where, staff_role)
    return user


@contextmanager
def counting_queries():
    """Count the SQL statements sent (not BEGIN/COMMIT/ROLLBACK or PRAGMAs)."""
    statements: list[str] = []

    def _count(_conn, _cursor, statement, *_args):
        if not re.match(r"\s*(BEGIN|COMMIT|ROLLBACK|PRAGMA|SAVEPOINT|RELEASE)", statement, re.I):
            statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", _count)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", _count)
