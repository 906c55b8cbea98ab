"""Rules that live in one place and are read two ways: a model property in Python and the same
rule as SQL must agree; and account changes record only what happened."""

import pytest
from sqlalchemy import select

from market.extensions import db
from market.models import Product, Vendor, VendorStatus, utcnow
from market.services import accounts
from tests.factories import PASSWORD, make_market, make_product, make_user, make_vendor

pytestmark = pytest.mark.usefixtures("ctx")


def _vendors_in_every_state() -> list[Vendor]:
    market = make_market()
    return [
        make_vendor(market),
        make_vendor(market, published=False),
        make_vendor(market, status=VendorStatus.HIDDEN),
        make_vendor(market, consent_at=None),
        make_vendor(market, deleted_at=utcnow()),
        make_vendor(market, status=VendorStatus.PUBLISHED, consent_at=None, deleted_at=utcnow()),
    ]


def test_a_public_stall_is_the_same_in_python_and_in_sql():
    vendors = _vendors_in_every_state()
    in_python = {v.id for v in vendors if v.is_public}
    in_sql = set(db.session.scalars(select(Vendor.id).where(Vendor.is_public)))
    assert in_python == in_sql == {vendors[0].id}


def test_a_listed_product_is_the_same_in_python_and_in_sql():
    vendor = make_vendor(make_market())
    products = [
        make_product(vendor),
        make_product(vendor, hidden_at=utcnow()),
        make_product(vendor, deleted_at=utcnow()),
        make_product(vendor, hidden_at=utcnow(), deleted_at=utcnow()),
    ]
    in_python = {p.id for p in products if p.is_listed}
    in_sql = set(db.session.scalars(select(Product.id).where(Product.is_listed)))
    assert in_python == in_sql == {products[0].id}


def test_changing_a_password_is_not_a_login():
    user = make_user()
    assert user.last_login_at is None
    accounts.change_password(user, PASSWORD, "a different long passphrase")
    db.session.refresh(user)
    assert user.last_login_at is None
    assert accounts.authenticate(user.email, "a different long passphrase") == user
    assert user.last_login_at is not None
