"""The spreadsheet round trip of a market's vendors and products: one table of columns per kind,
which the export writes and the import reads, so the two cannot drift; the dry run that lists
every change row by row; and applying exactly that dry run, all at once or not at all.

Rows carry the record's id: a row with an id updates that record, a row without one adds a
new record. Columns a file leaves out keep their values, so a file of ids and prices changes
prices only. Columns written only to be read (timestamps, photo counts) are never imported.
"""

import hashlib
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.exc import StaleDataError

from market import text
from market.extensions import db
from market.models import Category, Market, Product, User, Vendor
from market.permissions import can_edit_product, can_edit_vendor
from market.services import imports, products, vendors
from market.services.audit import record
from market.services.audit_log import FIELD_LABELS, readable_value
from market.services.errors import Conflict, Invalid
from market.services.fields import read_text, too_long
from market.services.prices import format_rupiah
from market.services.whatsapp import display_phone

KINDS = ("vendors", "products")
YES = ("yes", "ya", "y", "true", "1", "x")
NO = ("", "no", "tidak", "n", "false", "0")


@dataclass(frozen=True)
class Column:
    """One column of a kind's file: its header, how the export fills it from a record (and the
    counts the export gathers, ``extra``), and whether the import reads it back."""

    name: str
    cell: Callable[[Any, Mapping[int, int]], object]
    imported: bool = True


def _attr(name: str) -> Column:
    return Column(name, lambda record, _extra: getattr(record, name))


def _slugs(record: Vendor | Product) -> str:
    return ", ".join(c.slug for c in record.categories)


def _count(number: int | None) -> object:
    return "" if number is None else number


def local_time(moment: datetime | None) -> str:
    if moment is None:
        return ""
    zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M")


def _local(name: str) -> Column:
    """A moment in the market's time zone, for reading only."""
    return Column(name, lambda record, _extra: local_time(getattr(record, name)), False)


VENDOR_COLUMNS = (
    Column("id", lambda v, _extra: v.id),
    _attr("business_name"),
    _attr("name_en"),
    _attr("owner_name"),
    _attr("stall_block"),
    _attr("stall_number"),
    Column("whatsapp", lambda v, _extra: display_phone(v.whatsapp) if v.whatsapp else ""),
    Column("categories", lambda v, _extra: _slugs(v)),
    _attr("description"),
    _attr("description_en"),
    _attr("opening_hours"),
    Column("status", lambda v, _extra: v.status.value, False),
    Column("hidden_reason", lambda v, _extra: v.hidden_reason, False),
    _local("consent_at"),
    Column("consent_version", lambda v, _extra: v.consent_version or "", False),
    _local("published_at"),
    Column("onboarded_by", lambda v, _extra: v.onboarded_by.login if v.onboarded_by else "", False),
    Column("owner_login", lambda v, _extra: v.owner.login if v.owner else "", False),
    Column("products", lambda v, extra: extra.get(v.id, 0), False),
    _local("created_at"),
    _local("updated_at"),
)

PRODUCT_COLUMNS = (
    Column("vendor_id", lambda p, _extra: p.vendor_id),
    Column("business_name", lambda p, _extra: p.vendor.business_name, False),
    Column("stall_block", lambda p, _extra: p.vendor.stall_block, False),
    Column("stall_number", lambda p, _extra: p.vendor.stall_number, False),
    Column("product_id", lambda p, _extra: p.id),
    _attr("name"),
    _attr("name_en"),
    Column("price_idr", lambda p, _extra: _count(p.price_idr)),
    Column("price_kind", lambda p, _extra: p.price_kind.value),
    _attr("price_note"),
    Column("availability", lambda p, _extra: p.availability.value),
    Column("stock_count", lambda p, _extra: _count(p.stock_count)),
    Column("weight_grams", lambda p, _extra: _count(p.weight_grams)),
    Column("halal", lambda p, _extra: "yes" if p.halal else ""),
    _attr("permit_number"),
    _attr("material"),
    Column("categories", lambda p, _extra: _slugs(p)),
    _attr("description"),
    _attr("description_en"),
    Column("photos", lambda p, extra: extra.get(p.id, 0), False),
    Column("hidden_reason", lambda p, _extra: p.hidden_reason if p.hidden_at else "", False),
    _local("created_at"),
    _local("updated_at"),
)

COLUMNS = {"vendors": VENDOR_COLUMNS, "products": PRODUCT_COLUMNS}
ID_COLUMN = {"vendors": "id", "products": "product_id"}


def export_row(kind: str, record: Vendor | Product, extra: Mapping[int, int]) -> list[object]:
    return [column.cell(record, extra) for column in COLUMNS[kind]]


# --- reading the cells of one row -----------------------------------------------------------


def _whole_number(cell: str) -> int | None:
    """Grams or pieces as typed: "1500", "1.500" or "1,500"; empty is None."""
    cell = cell.strip()
    if not cell:
        return None
    if re.fullmatch(r"\d{1,3}([.,]\d{3})+|\d+", cell):
        return int(re.sub(r"[.,]", "", cell))
    raise Invalid(_l("Type a whole number (0 or more), or leave it empty."))


def _yes_no(cell: str) -> bool:
    value = cell.strip().casefold()
    if value in YES:
        return True
    if value in NO:
        return False
    raise Invalid(_l("Type “yes” or leave it empty."))


def _english_text(cells: Mapping[str, str], errors: dict[str, str], limits: Mapping[str, int]):
    values = {
        "name_en": read_text(cells, "name_en", errors, text.name),
        "description_en": read_text(cells, "description_en", errors, text.multi_line),
    }
    for key, limit in limits.items():
        if len(values[key]) > limit:
            errors[key] = too_long(limit, len(values[key]))
    return values


def _categories(cell: str, lookup: Mapping[str, Category], errors: dict[str, str]):
    chosen, unknown = [], []
    for name in imports.split_categories(cell):
        category = lookup.get(name.casefold())
        if category is None:
            unknown.append(name)
        elif category not in chosen:
            chosen.append(category)
    if unknown:
        errors["categories"] = str(
            _l(
                "Unknown category: %(names)s. Use one of: %(known)s.",
                names=", ".join(unknown)[:100],
                known=", ".join(sorted({c.slug for c in lookup.values()})),
            )
        )
    return chosen


def _choice(enum_class, cell: str, key: str, errors: dict[str, str]):
    value = cell.strip().casefold()
    for member in enum_class:
        if value == member.value:
            return member
    if not value:
        return None
    errors[key] = str(
        _l("Use one of: %(values)s.", values=", ".join(member.value for member in enum_class))
    )
    return None


def _product_values(cells: Mapping[str, str], lookup: Mapping[str, Category]):
    """The checked values of a product row, or the errors by column."""
    errors: dict[str, str] = {}
    price_kind = _choice(products.PriceKind, cells["price_kind"], "price_kind", errors)
    availability = _choice(products.Availability, cells["availability"], "availability", errors)
    halal = False
    try:
        halal = _yes_no(cells["halal"])
    except Invalid as error:
        errors["halal"] = str(error)
    chosen = _categories(cells["categories"], lookup, errors)
    try:
        fields = products.clean_product(
            {
                **cells,
                "price": cells["price_idr"],
                "price_kind": price_kind or "",
                "availability": availability or "",
                "halal": halal,
                "categories": [c.id for c in chosen],
            }
        )
    except products.InvalidProduct as error:
        fields = None
        for key, message in error.errors.items():
            errors.setdefault("price_idr" if key == "price" else key, message)
    values = _english_text(
        cells, errors, {"name_en": products.MAX_NAME, "description_en": products.MAX_DESCRIPTION}
    )
    for key in ("stock_count", "weight_grams"):
        try:
            values[key] = _whole_number(cells[key])
        except Invalid as error:
            errors[key] = str(error)
    if errors or fields is None:
        return None, errors
    return {**fields.values(), **values, "categories": chosen}, {}


def _vendor_values(cells: Mapping[str, str], lookup: Mapping[str, Category]):
    """The checked values of a vendor row, or the errors by column."""
    errors: dict[str, str] = {}
    chosen = _categories(cells["categories"], lookup, errors)
    profile = None
    try:
        profile = vendors.clean_profile({**cells, "category_ids": [c.id for c in chosen]})
    except vendors.InvalidFields as error:
        errors.update(error.errors)
    values = _english_text(
        cells, errors, {"name_en": vendors.MAX_NAME, "description_en": vendors.MAX_DESCRIPTION}
    )
    if errors or profile is None:
        return None, errors
    return {**profile.values(), **values, "categories": chosen}, {}


# --- the dry run ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    """One cell that differs from the database: the field, and old and new as stored."""

    field: str
    old: Any
    new: Any

    @property
    def label(self) -> str:
        return str(LABELS.get(self.field, self.field))

    @property
    def old_text(self) -> str:
        return _shown(self.field, self.old)

    @property
    def new_text(self) -> str:
        return _shown(self.field, self.new)


def _shown(key: str, value: Any) -> str:
    if value is None or value == "" or value == []:
        return "—"
    if key == "price_idr":
        return format_rupiah(value)
    if key == "whatsapp":
        return display_phone(value)
    if isinstance(value, list):
        return ", ".join(value)
    return str(readable_value(key, value))


LABELS = {
    **FIELD_LABELS["vendor"],
    **FIELD_LABELS["product"],
    "business_name": _l("Business name"),
    "vendor_id": _l("Stall"),
}


@dataclass
class RowPlan:
    """What one row of the file would do: change a record, add one, nothing, or fail."""

    number: int
    title: str
    record: Vendor | Product | None = None
    parent: Vendor | None = None
    values: dict[str, Any] | None = None
    changes: list[Change] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def action(self) -> str:
        if self.errors:
            return "error"
        if self.record is None:
            return "create"
        return "update" if self.changes else "same"


@dataclass
class SheetPreview:
    kind: str
    rows: list[RowPlan]
    ignored_columns: list[str]

    def _of(self, action: str) -> list[RowPlan]:
        return [row for row in self.rows if row.action == action]

    @property
    def error_rows(self) -> list[RowPlan]:
        return self._of("error")

    @property
    def update_rows(self) -> list[RowPlan]:
        return self._of("update")

    @property
    def create_rows(self) -> list[RowPlan]:
        return self._of("create")

    @property
    def same_rows(self) -> list[RowPlan]:
        return self._of("same")

    fingerprint: str = ""

    def __post_init__(self) -> None:
        # Taken now: the records are live objects whose versions move with later commits.
        self.fingerprint = self._digest()

    def _digest(self) -> str:
        """A digest of exactly what applying would do, with the versions it was based on: the
        confirmation carries it, and a market that changed in between no longer matches."""
        plan = []
        for row in self.rows:
            if row.action in ("update", "create"):
                plan.append(
                    [
                        row.number,
                        row.record.id if row.record else None,
                        row.record.version if row.record else None,
                        [[c.field, _plain(c.old), _plain(c.new)] for c in row.changes],
                        {k: _plain(v) for k, v in (row.values or {}).items()}
                        if row.record is None
                        else None,
                    ]
                )
        encoded = json.dumps([self.kind, plan], sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(encoded.encode()).hexdigest()


def _plain(value: Any) -> Any:
    if isinstance(value, list):
        return [getattr(v, "slug", v) for v in value]
    return value if value is None or isinstance(value, int | str) else str(value)


def _header(kind: str, header: list[str]) -> tuple[dict[int, str], list[str]]:
    known = {column.name for column in COLUMNS[kind] if column.imported}
    read_only = {column.name for column in COLUMNS[kind] if not column.imported}
    columns: dict[int, str] = {}
    ignored = []
    for index, raw in enumerate(header):
        name = imports.plain_cell(raw).strip().casefold()
        if name in known:
            if name in columns.values():
                raise Invalid(_l("The column “%(name)s” appears twice.", name=name))
            columns[index] = name
        elif name and name not in read_only:
            ignored.append(text.displayable(raw)[:60])
    if ID_COLUMN[kind] not in columns.values():
        raise Invalid(
            _l(
                "The first row must name the columns, with “%(id)s” among them: start from a "
                "file exported from Pasar. The first row has: %(found)s.",
                id=ID_COLUMN[kind],
                found=text.displayable(", ".join(h for h in header if h.strip()))[:200] or "-",
            )
        )
    return columns, ignored


def _load(kind: str, market: Market) -> tuple[dict[int, Any], dict[int, Vendor]]:
    """The market's records of the kind by id, and its vendors by id (to add products to)."""
    vendors_by_id = {
        vendor.id: vendor
        for vendor in db.session.scalars(
            select(Vendor)
            .where(Vendor.market_id == market.id)
            .options(selectinload(Vendor.categories))
        )
    }
    if kind == "vendors":
        return vendors_by_id, vendors_by_id
    found = db.session.scalars(
        select(Product)
        .join(Vendor)
        .where(Vendor.market_id == market.id)
        .options(selectinload(Product.categories))
    )
    return {product.id: product for product in found}, vendors_by_id


def _row_id(cell: str) -> int | None:
    cell = cell.strip()
    if not cell:
        return None
    if re.fullmatch(r"\d{1,18}", cell):
        return int(cell)
    raise Invalid(_l("“%(id)s” is not an id from Pasar.", id=text.displayable(cell)[:20]))


def _current_cells(kind: str, record: Vendor | Product) -> dict[str, str]:
    """The record as the export writes it: the cells a row leaves out keep these."""
    return {
        column.name: str(column.cell(record, {}) or "")
        for column in COLUMNS[kind]
        if column.imported
    }


def _current_values(record: Vendor | Product, keys) -> dict[str, Any]:
    return {
        key: (list(record.categories) if key == "categories" else getattr(record, key))
        for key in keys
    }


def preview_sheet(kind: str, market: Market, data: bytes, *, actor: User | None) -> SheetPreview:
    """Check every row of an edited export against the market without changing anything; raise
    Invalid if the file itself is unusable. ``actor`` None is the command line, which may
    change any record of the market."""
    if kind not in KINDS:
        raise Invalid(_l("Import vendors or products."))
    header, rows = imports.read_rows(data)
    columns, ignored = _header(kind, header)
    records, vendors_by_id = _load(kind, market)
    lookup = imports.category_lookup()
    check = _vendor_values if kind == "vendors" else _product_values
    may_edit = can_edit_vendor if kind == "vendors" else can_edit_product
    seen: dict[int, int] = {}
    planned = []
    for number, raw_cells in rows:
        if not any(cell.strip() for cell in raw_cells):
            continue
        if len(planned) >= imports.MAX_IMPORT_ROWS:
            raise Invalid(
                _l(
                    "The file has more than %(limit)d rows. Import at most %(limit)d rows at a "
                    "time: split the file.",
                    limit=imports.MAX_IMPORT_ROWS,
                )
            )
        cells = {
            key: imports.plain_cell(raw_cells[i]) if i < len(raw_cells) else ""
            for i, key in columns.items()
        }
        row = RowPlan(number, text.displayable(cells.get("name") or cells.get("business_name", "")))
        planned.append(row)
        if len(raw_cells) > len(header):
            row.errors.append(
                str(
                    _l(
                        "This row has %(cells)d cells but the first row names %(columns)d "
                        "columns; a comma or semicolon inside a value needs quotes.",
                        cells=len(raw_cells),
                        columns=len(header),
                    )
                )
            )
            continue
        _plan_row(
            market, kind, row, cells, records, vendors_by_id, seen, lookup, check, actor, may_edit
        )
    if not planned:
        raise Invalid(_l("The file has a header row but no rows under it."))
    return SheetPreview(kind, planned, ignored)


def _column_error(key: str, message: str) -> str:
    return str(
        _l(
            "Column %(column)s · %(label)s: %(message)s",
            column="price_idr" if key == "price" else key,
            label=LABELS.get(key, key),
            message=message,
        )
    )


def _plan_row(
    market, kind, row, cells, records, vendors_by_id, seen, lookup, check, actor, may_edit
):
    """Fill in one row's plan: the record it changes and how, or its problems."""
    id_column = ID_COLUMN[kind]
    try:
        record_id = _row_id(cells[id_column])
    except Invalid as error:
        row.errors.append(_column_error(id_column, str(error)))
        return
    record = None
    if record_id is not None:
        record = records.get(record_id)
        if record is None:
            row.errors.append(
                _column_error(
                    id_column,
                    str(_l("There is nothing with id %(id)d in this market.", id=record_id)),
                )
            )
            return
        if record_id in seen:
            row.errors.append(
                _column_error(id_column, str(_l("Same id as row %(row)d.", row=seen[record_id])))
            )
            return
        seen[record_id] = row.number
        row.title = row.title or _title(record)
        if record.deleted_at is not None or (
            isinstance(record, Product) and record.vendor.deleted_at is not None
        ):
            row.errors.append(
                str(_l("It was deleted: restore it first, or clear the id to add it anew."))
            )
            return
        if actor is not None and not may_edit(actor, record):
            row.errors.append(str(_l("You may not change this record.")))
            return
        cells = _current_cells(kind, record) | cells
    else:
        cells = {column.name: "" for column in COLUMNS[kind] if column.imported} | cells
        if kind == "products" and not _new_product_parent(row, cells, vendors_by_id, actor):
            return
    values, errors = check(cells, lookup)
    if errors:
        row.errors.extend(_column_error(key, message) for key, message in errors.items())
        return
    if kind == "vendors" and record is not None:
        others = vendors.find_duplicates(
            market,
            whatsapp=values["whatsapp"],
            stall_block=values["stall_block"],
            stall_number=values["stall_number"],
            exclude_id=record_id,
        )
        if others:
            row.errors.append(
                str(
                    _l(
                        "“%(name)s” (id %(id)d) already has this WhatsApp number or stall. To "
                        "change that vendor, put its id in the id column.",
                        name=others[0].business_name,
                        id=others[0].id,
                    )
                )
            )
            return
    if record is None:
        twin = _twin(kind, market, row, values)
        if twin is not None:
            # A row added by an earlier import of the same file: importing it again is no
            # change, while a row that differs from it must say which record it means.
            if _differences(kind, twin, values):
                row.errors.append(
                    str(
                        _l(
                            "“%(name)s” (id %(id)d) is already there. To change it, put its id "
                            "in the %(column)s column.",
                            name=_title(twin),
                            id=twin.id,
                            column=id_column,
                        )
                    )
                )
            else:
                row.record = twin
            return
        row.values = values
        row.changes = [Change(key, None, value) for key, value in values.items() if value]
        return
    row.record = record
    row.changes = _differences(kind, record, values)
    row.values = values


def _differences(kind: str, record: Vendor | Product, values: dict[str, Any]) -> list[Change]:
    changes = []
    for key, old in _current_values(record, values).items():
        new = values[key]
        if key == "categories":
            old, new = sorted(c.slug for c in old), sorted(c.slug for c in new)
        if old != new:
            changes.append(Change(key, old, new))
    return changes


def _title(record: Vendor | Product) -> str:
    return record.business_name if isinstance(record, Vendor) else record.name


def _twin(kind: str, market: Market, row: RowPlan, values: dict[str, Any]):
    """The live record a new row duplicates: a vendor with its WhatsApp number or stall, a
    product of the same name at the same stall."""
    if kind == "vendors":
        found = vendors.find_duplicates(
            market,
            whatsapp=values["whatsapp"],
            stall_block=values["stall_block"],
            stall_number=values["stall_number"],
        )
        return found[0] if found else None
    return next(
        (
            product
            for product in row.parent.products
            if product.deleted_at is None and product.name.casefold() == values["name"].casefold()
        ),
        None,
    )


def _new_product_parent(row: RowPlan, cells, vendors_by_id, actor) -> bool:
    try:
        vendor_id = _row_id(cells.get("vendor_id", ""))
    except Invalid as error:
        row.errors.append(_column_error("vendor_id", str(error)))
        return False
    vendor = vendors_by_id.get(vendor_id) if vendor_id is not None else None
    if vendor is None or vendor.deleted_at is not None:
        row.errors.append(
            _column_error(
                "vendor_id",
                str(_l("A new product needs the id of a stall of this market (column vendor_id).")),
            )
        )
        return False
    if actor is not None and not can_edit_vendor(actor, vendor):
        row.errors.append(str(_l("You may not change this record.")))
        return False
    row.parent = vendor
    return True


# --- applying ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class SheetResult:
    updated: int
    created: int
    unchanged: int


def apply_sheet(
    kind: str, market: Market, data: bytes, fingerprint: str, *, actor: User | None
) -> SheetResult:
    """Apply the dry run of ``data`` in one transaction, if it is still the one with
    ``fingerprint`` (what the person confirmed) and no row has a problem."""
    preview = preview_sheet(kind, market, data, actor=actor)
    if preview.error_rows:
        raise Invalid(
            _l(
                "Nothing was changed: %(n)d rows have problems. Fix them and try again.",
                n=len(preview.error_rows),
            )
        )
    if preview.fingerprint != fingerprint:
        raise Conflict(
            str(
                _l(
                    "The market changed since the file was checked; nothing was changed. "
                    "Check the file again."
                )
            )
        )
    taken = vendors.market_slugs(market) if kind == "vendors" else None
    try:
        for row in preview.update_rows:
            _update(kind, row, actor)
        for row in preview.create_rows:
            if kind == "vendors":
                _create_vendor(market, row, taken, actor)
            else:
                products.add_product(
                    row.parent,
                    _product_fields(row.values),
                    actor=actor,
                    reason=f"CSV row {row.number}",
                )
        if preview.update_rows or preview.create_rows:
            record(
                actor,
                "market.import",
                market,
                {
                    "kind": [None, kind],
                    "updated": [None, len(preview.update_rows)],
                    "created": [None, len(preview.create_rows)],
                },
            )
        db.session.commit()
    except StaleDataError:
        db.session.rollback()
        raise Conflict(
            str(
                _l(
                    "The market changed since the file was checked; nothing was changed. "
                    "Check the file again."
                )
            )
        ) from None
    return SheetResult(
        updated=len(preview.update_rows),
        created=len(preview.create_rows),
        unchanged=len(preview.same_rows),
    )


def _update(kind: str, row: RowPlan, actor: User | None) -> None:
    target = row.record
    changes = {}
    for change in row.changes:
        changes[change.field] = [change.old, change.new]
        if change.field == "categories":
            target.categories = row.values["categories"]
        else:
            setattr(target, change.field, change.new)
    action = "vendor.update" if kind == "vendors" else "product.update"
    record(actor, action, target, changes, reason=f"CSV row {row.number}")


def _product_fields(values: dict[str, Any]) -> products.ProductFields:
    plain = {key: values[key] for key in products.ProductFields("").values()}
    return products.ProductFields(categories=values["categories"], **plain)


def _create_vendor(market: Market, row: RowPlan, taken: set[str], actor: User | None) -> None:
    values = {k: v for k, v in row.values.items() if k != "categories"}
    vendor = imports.draft_vendor(market, values, row.values["categories"], taken, actor)
    db.session.add(vendor)
    created = {k: [None, v] for k, v in values.items() if v}
    record(actor, "vendor.create", vendor, created, reason=f"CSV row {row.number}")
