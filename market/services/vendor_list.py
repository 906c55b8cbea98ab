"""The back-office vendor list volunteers work from: filters, search, and each vendor's
checklist progress."""

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, exists, or_, select
from sqlalchemy.orm import selectinload

from market import text
from market.extensions import db
from market.models import Photo, Product, Vendor, VendorStatus
from market.services.readiness import Progress, Step, checklist, progress, vendor_facts

STATUS_FILTERS = ("draft", "published", "hidden")
MISSING_FILTERS = ("photos", "consent")


def _missing_photos():
    stall_photo = exists().where(
        Photo.vendor_id == Vendor.id, Photo.product_id.is_(None), Photo.deleted_at.is_(None)
    )
    product_without_photo = exists().where(
        Product.vendor_id == Vendor.id,
        Product.deleted_at.is_(None),
        ~exists().where(Photo.product_id == Product.id, Photo.deleted_at.is_(None)),
    )
    return or_(~stall_photo, product_without_photo)


def vendors_query(
    market_ids: list[int],
    *,
    status: str | None = None,
    missing: str | None = None,
    search: str = "",
    deleted: bool = False,
) -> Select:
    """Vendors of these markets for the back office, newest first, with optional filters."""
    query = (
        select(Vendor)
        .where(Vendor.market_id.in_(market_ids))
        .where(Vendor.deleted_at.is_not(None) if deleted else Vendor.deleted_at.is_(None))
        .options(selectinload(Vendor.market))
        .order_by(Vendor.created_at.desc(), Vendor.id.desc())
    )
    if status in STATUS_FILTERS:
        query = query.where(Vendor.status == VendorStatus(status))
    if missing == "consent":
        query = query.where(Vendor.consent_at.is_(None))
    elif missing == "photos":
        query = query.where(_missing_photos())
    search = text.one_line(search)[:60]
    if search:
        pattern = "%" + re.sub(r"([\\%_])", r"\\\1", search) + "%"
        matches = [
            Vendor.business_name.ilike(pattern, escape="\\"),
            Vendor.owner_name.ilike(pattern, escape="\\"),
        ]
        # "B12", "b 12" and "B-12" all find the stall Blok B No. 12.
        stall = re.sub(r"[^0-9A-Za-z]", "", search).upper()
        if stall:
            matches.append(Vendor.stall_block + Vendor.stall_number == stall)
        query = query.where(or_(*matches))
    return query


@dataclass(frozen=True)
class VendorListing:
    page: Any  # flask_sqlalchemy.pagination.Pagination of Vendor
    steps: dict[int, list[Step]]

    def progress(self, vendor: Vendor) -> Progress:
        return progress(self.steps[vendor.id])


def list_vendors(
    market_ids: list[int],
    *,
    status: str | None = None,
    missing: str | None = None,
    search: str = "",
    page: int = 1,
    per_page: int = 30,
) -> VendorListing:
    """One page of the back-office vendor list, each vendor with its checklist."""
    pagination = db.paginate(
        vendors_query(market_ids, status=status, missing=missing, search=search),
        page=max(page, 1),
        per_page=per_page,
        max_per_page=per_page,
        error_out=False,
        count=True,
    )
    facts = vendor_facts(vendor.id for vendor in pagination.items)
    return VendorListing(
        pagination, {vendor.id: checklist(vendor, facts[vendor.id]) for vendor in pagination.items}
    )
