"""CSV export of a market's vendors and products, in the columns the import reads.

Exports open correctly in Excel and LibreOffice: UTF-8 with a byte-order mark, and every text
that a spreadsheet would run as a formula (=, +, -, @, tab, CR at the start) neutralised with a
leading apostrophe, which the import takes off again.
"""

import csv
import io
from collections.abc import Iterable
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from market.extensions import db
from market.models import Market, Photo, Product, Vendor
from market.services.audit_log import (
    ACTION_LABELS,
    AuditFilters,
    all_markets_query,
    describe_change,
    market_names,
    readable_changes,
    record_names,
)
from market.services.imports import BOM, IMPORT_COLUMNS, runs_as_formula
from market.services.whatsapp import display_phone


def neutralise(value: object) -> object:
    """Text a spreadsheet would run as a formula gets a leading apostrophe (OWASP advice);
    so does text that already starts with apostrophes before one, so that the import, which
    takes one apostrophe off, gives back exactly what was typed."""
    if isinstance(value, str) and runs_as_formula(value):
        return "'" + value
    return value


def _local(moment: datetime | None) -> str:
    if moment is None:
        return ""
    zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M")


def csv_bytes(header: list[str], rows: Iterable[list], delimiter: str) -> bytes:
    out = io.StringIO()
    out.write(BOM)
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([neutralise(value) for value in row])
    return out.getvalue().encode("utf-8")


VENDOR_EXPORT_COLUMNS = [
    "id",
    *IMPORT_COLUMNS,
    "status",
    "hidden_reason",
    "consent_at",
    "consent_version",
    "published_at",
    "onboarded_by",
    "owner_login",
    "products",
    "created_at",
    "updated_at",
]


def export_vendors(market: Market, delimiter: str = ",") -> bytes:
    """The market's vendors (not the deleted ones) in stall order, re-importable as they are."""
    vendors = db.session.scalars(
        select(Vendor)
        .where(Vendor.market_id == market.id, Vendor.deleted_at.is_(None))
        .options(
            selectinload(Vendor.categories),
            selectinload(Vendor.onboarded_by),
            selectinload(Vendor.owner),
        )
        .order_by(Vendor.stall_block, func.length(Vendor.stall_number), Vendor.stall_number)
    ).all()
    product_counts = dict(
        db.session.execute(
            select(Product.vendor_id, func.count(Product.id))
            .join(Vendor)
            .where(Vendor.market_id == market.id, Product.deleted_at.is_(None))
            .group_by(Product.vendor_id)
        ).all()
    )
    rows = (
        [
            vendor.id,
            vendor.business_name,
            vendor.owner_name,
            vendor.stall_block,
            vendor.stall_number,
            display_phone(vendor.whatsapp) if vendor.whatsapp else "",
            ", ".join(c.slug for c in vendor.categories),
            vendor.description,
            vendor.opening_hours,
            vendor.status.value,
            vendor.hidden_reason,
            _local(vendor.consent_at),
            vendor.consent_version or "",
            _local(vendor.published_at),
            vendor.onboarded_by.login if vendor.onboarded_by else "",
            vendor.owner.login if vendor.owner else "",
            product_counts.get(vendor.id, 0),
            _local(vendor.created_at),
            _local(vendor.updated_at),
        ]
        for vendor in vendors
    )
    return csv_bytes(VENDOR_EXPORT_COLUMNS, rows, delimiter)


PRODUCT_EXPORT_COLUMNS = [
    "vendor_id",
    "business_name",
    "stall_block",
    "stall_number",
    "product_id",
    "name",
    "price_idr",
    "price_kind",
    "price_note",
    "availability",
    "halal",
    "permit_number",
    "material",
    "categories",
    "description",
    "photos",
    "hidden_reason",
    "created_at",
    "updated_at",
]


def export_products(market: Market, delimiter: str = ",") -> bytes:
    """Every live product of the market's live vendors, vendor by vendor."""
    products = db.session.scalars(
        select(Product)
        .join(Vendor)
        .where(
            Vendor.market_id == market.id,
            Vendor.deleted_at.is_(None),
            Product.deleted_at.is_(None),
        )
        .options(selectinload(Product.categories), selectinload(Product.vendor))
        .order_by(
            Vendor.stall_block,
            func.length(Vendor.stall_number),
            Vendor.stall_number,
            Vendor.id,
            Product.position,
            Product.id,
        )
    ).all()
    photo_counts = dict(
        db.session.execute(
            select(Photo.product_id, func.count(Photo.id))
            .join(Product, Product.id == Photo.product_id)
            .join(Vendor, Vendor.id == Product.vendor_id)
            .where(Vendor.market_id == market.id, Photo.deleted_at.is_(None))
            .group_by(Photo.product_id)
        ).all()
    )
    rows = (
        [
            product.vendor_id,
            product.vendor.business_name,
            product.vendor.stall_block,
            product.vendor.stall_number,
            product.id,
            product.name,
            product.price_idr if product.price_idr is not None else "",
            product.price_kind.value,
            product.price_note,
            product.availability.value,
            "yes" if product.halal else "",
            product.permit_number,
            product.material,
            ", ".join(c.slug for c in product.categories),
            product.description,
            photo_counts.get(product.id, 0),
            product.hidden_reason if product.hidden_at else "",
            _local(product.created_at),
            _local(product.updated_at),
        ]
        for product in products
    )
    return csv_bytes(PRODUCT_EXPORT_COLUMNS, rows, delimiter)


# More than a year of a busy city's changes; a bigger export is narrowed with the filters.
MAX_AUDIT_ROWS = 100_000


def export_audit(filters: AuditFilters, *, timezone: str, delimiter: str = ",") -> bytes:
    """The filtered audit log in the reader's language: when (local time), market, person,
    what they did, to which record, the changes and the reason."""
    events = db.session.scalars(all_markets_query(filters, timezone).limit(MAX_AUDIT_ROWS)).all()
    names, markets = record_names(events), market_names(events)
    header = [
        str(label)
        for label in (
            _l("When"),
            _l("Market"),
            _l("Person"),
            _l("Login"),
            _l("Change"),
            _l("Record"),
            _l("What changed"),
            _l("Reason"),
        )
    ]
    rows = (
        [
            _local(event.created_at),
            markets.get(event.market_id, ""),
            event.actor.name if event.actor else "",
            event.actor.login if event.actor else "",
            str(ACTION_LABELS.get(event.action, event.action)),
            names.get(
                (event.record_type, event.record_id), f"{event.record_type} #{event.record_id}"
            ),
            "; ".join(describe_change(change) for change in readable_changes(event)),
            event.reason,
        ]
        for event in events
    )
    return csv_bytes(header, rows, delimiter)
