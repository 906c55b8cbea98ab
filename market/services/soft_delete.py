"""Soft-deleted records stay for restore, but nothing may be changed on them or under them."""

from flask_babel import lazy_gettext as _l

from market.models import Product, Vendor
from market.services.errors import Invalid


def check_live_vendor(vendor: Vendor) -> None:
    if vendor.deleted_at is not None:
        raise Invalid(_l("This vendor is deleted. A coordinator can restore it first."))


def check_live_product(product: Product) -> None:
    check_live_vendor(product.vendor)
    if product.deleted_at is not None:
        raise Invalid(_l("This product is deleted. Restore it first."))
