"""CSV export of a market's vendors and products, in the columns of spreadsheets.py, which the
import reads back.

Exports open correctly in Excel and LibreOffice: UTF-8 with a byte-order mark, and every text
that a spreadsheet would run as a formula (=, +, -, @, tab, CR at the start) neutralised with a
leading apostrophe, which the import takes off again.
"""

import csv
import io
from collections.abc import Iterable

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
from market.services.imports import BOM, runs_as_formula
from market.services.spreadsheets import PRODUCT_COLUMNS, VENDOR_COLUMNS, export_row, local_time


def neutralise(value: object) -> object:
    """Text a spreadsheet would run as a formula gets a leading apostrophe (OWASP advice);
    so does text that already starts with apostrophes before one, so that the import, which
    takes one apostrophe off, gives back exactly what was typed."""
    if isinstance(value, str) and runs_as_formula(value):
        return "'" + value
    return value


def csv_bytes(header: list[str], rows: Iterable[list], delimiter: str) -> bytes:
    out = io.StringIO()
    out.write(BOM)
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([neutralise(value) for value in row])
    return out.getvalue().encode("utf-8")


VENDOR_EXPORT_COLUMNS = [column.name for column in VENDOR_COLUMNS]


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
    rows = (export_row("vendors", vendor, product_counts) for vendor in vendors)
    return csv_bytes(VENDOR_EXPORT_COLUMNS, rows, delimiter)


PRODUCT_EXPORT_COLUMNS = [column.name for column in PRODUCT_COLUMNS]


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
    rows = (export_row("products", product, photo_counts) for product in products)
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
            local_time(event.created_at),
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
