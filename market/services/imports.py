"""CSV import of a market's vendors: a volunteer's own spreadsheet, or a file exports.py wrote.

Rows are checked one by one first (a dry run that names every problem), then committed all at
once or not at all; rows that match a vendor already in the market (same WhatsApp number or same
stall) are left alone, so importing the same file twice adds nothing.
"""

import base64
import csv
import io
import re
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

import openpyxl
from flask_babel import format_number
from flask_babel import lazy_gettext as _l
from openpyxl.utils.exceptions import InvalidFileException
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from market.extensions import db
from market.models import Category, Market, User, Vendor, VendorStatus
from market.services.audit import record
from market.services.categories import all_categories
from market.services.errors import Conflict, Invalid
from market.services.slugs import unique_slug
from market.services.vendors import (
    PROFILE_LABELS,
    InvalidFields,
    Profile,
    clean_profile,
    market_slugs,
)

MAX_IMPORT_ROWS = 10_000
MAX_IMPORT_BYTES = 5 * 1024 * 1024
# What a workbook may unpack to: a full 10,000-row sheet is far smaller.
MAX_WORKBOOK_BYTES = 50 * 1024 * 1024
ZIP_MAGIC = b"PK\x03\x04"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
BOM = "\ufeff"

# Column names a coordinator may use, in English or Indonesian; matched ignoring case, spaces,
# dashes and underscores.
COLUMN_ALIASES = {
    "business_name": ("business_name", "business", "nama_usaha", "nama_lapak", "usaha", "lapak"),
    "owner_name": ("owner_name", "owner", "nama_pemilik", "pemilik"),
    "stall_block": ("stall_block", "block", "blok"),
    "stall_number": ("stall_number", "number", "stall", "nomor", "no", "nomor_kios", "kios"),
    "whatsapp": ("whatsapp", "wa", "phone", "nomor_whatsapp", "nomor_wa", "no_wa", "hp"),
    "categories": ("categories", "category", "kategori"),
    "description": ("description", "deskripsi", "keterangan"),
    "opening_hours": ("opening_hours", "hours", "jam_buka"),
}
_ALIAS_TO_COLUMN = {
    re.sub(r"[^a-z0-9]", "", alias): column
    for column, aliases in COLUMN_ALIASES.items()
    for alias in aliases
}
IMPORT_COLUMNS = tuple(COLUMN_ALIASES)


# --- reading a CSV ----------------------------------------------------------------------------


def runs_as_formula(value: str) -> bool:
    """A formula, or a formula behind apostrophes (as neutralise leaves one)."""
    return value.lstrip("'").startswith(FORMULA_STARTS)


def plain_cell(value: str) -> str:
    """Undo the export's formula neutralisation, so an exported file imports unchanged."""
    if value.startswith("'") and runs_as_formula(value):
        return value[1:]
    return value


def _column_key(name: str) -> str | None:
    return _ALIAS_TO_COLUMN.get(re.sub(r"[^a-z0-9]", "", name.strip().casefold()))


def read_rows(data: bytes) -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
    """The header and the data rows (numbered as a spreadsheet numbers them, header = 1) of a
    CSV file or an Excel workbook (.xlsx, its first sheet); raise Invalid with a plain
    explanation when it cannot be read."""
    if len(data) > MAX_IMPORT_BYTES:
        raise Invalid(
            _l(
                "The file is larger than %(mb)d MB. Split it into smaller files.",
                mb=MAX_IMPORT_BYTES // (1024 * 1024),
            )
        )
    if data.startswith(ZIP_MAGIC):
        return _workbook_rows(data)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Invalid(
            _l(
                "The file is not in UTF-8. In Excel save it as “CSV UTF-8 (Comma delimited)”; "
                "in LibreOffice choose the character set “Unicode (UTF-8)”."
            )
        ) from None
    if "\x00" in text:
        raise Invalid(_l("This is not a CSV text file. Save the spreadsheet as CSV first."))
    if not text.strip():
        raise Invalid(_l("The file is empty."))
    first_line = text.lstrip().split("\n", 1)[0]
    # Excel with Indonesian settings separates with semicolons; LibreOffice may use tabs.
    delimiter = max((",", ";", "\t"), key=first_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        header = next(reader)
    except csv.Error:
        raise _malformed(1) from None

    def rows() -> Iterator[tuple[int, list[str]]]:
        number = 1
        try:
            for number, row in enumerate(reader, start=2):
                yield number, row
        except csv.Error:
            raise _malformed(number + 1) from None

    return header, rows()


def _workbook_rows(data: bytes) -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
    unreadable = Invalid(
        _l("This Excel file cannot be read. Save it again as .xlsx, or as CSV UTF-8.")
    )
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        # A small upload may unpack to gigabytes (a zip bomb): refuse before parsing.
        unpacked = sum(member.file_size for member in archive.infolist())
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError):
        raise unreadable from None
    if unpacked > MAX_WORKBOOK_BYTES:
        raise Invalid(
            _l(
                "The file is larger than %(mb)d MB. Split it into smaller files.",
                mb=MAX_WORKBOOK_BYTES // (1024 * 1024),
            )
        )
    cells = book.worksheets[0].iter_rows(values_only=True)
    try:
        header = [_cell_text(value) for value in next(cells, ())]
    except (zipfile.BadZipFile, KeyError, OSError, ValueError):
        raise unreadable from None
    if not any(header):
        raise Invalid(_l("The file is empty."))

    def rows() -> Iterator[tuple[int, list[str]]]:
        try:
            for number, values in enumerate(cells, start=2):
                if number > MAX_IMPORT_ROWS * 2:
                    raise Invalid(
                        _l(
                            "The file has more than %(limit)d rows. Import at most %(limit)d "
                            "rows at a time: split the file.",
                            limit=MAX_IMPORT_ROWS,
                        )
                    )
                yield number, [_cell_text(value) for value in values]
        except (zipfile.BadZipFile, KeyError, OSError, ValueError):
            raise unreadable from None

    return header, rows()


def _cell_text(value: object) -> str:
    """A workbook cell as the same text a CSV export of it would hold."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    return str(value)


def _malformed(row: int) -> Invalid:
    return Invalid(
        _l(
            "The file is not a well-formed CSV (the problem is around row %(row)d, often a "
            "quote mark that is never closed). Save it again from the spreadsheet as CSV.",
            row=row,
        )
    )


# --- the dry run ------------------------------------------------------------------------------


@dataclass
class ImportRow:
    number: int
    values: dict[str, str]
    profile: Profile | None = None
    errors: list[str] = field(default_factory=list)
    existing: Vendor | None = None

    @property
    def action(self) -> str:
        if self.errors:
            return "error"
        return "existing" if self.existing is not None else "create"


@dataclass
class ImportPreview:
    rows: list[ImportRow]
    ignored_columns: list[str]

    @property
    def error_rows(self) -> list[ImportRow]:
        return [row for row in self.rows if row.errors]

    @property
    def new_rows(self) -> list[ImportRow]:
        return [row for row in self.rows if row.action == "create"]

    @property
    def existing_rows(self) -> list[ImportRow]:
        return [row for row in self.rows if row.action == "existing"]


def category_lookup() -> dict[str, Category]:
    lookup = {}
    for category in all_categories():
        for name in (category.slug, category.name_id, category.name_en):
            lookup[name.casefold()] = category
    return lookup


def split_categories(cell: str) -> list[str]:
    return [name.strip() for name in re.split(r"[,;|/]", cell) if name.strip()]


def preview_import(market: Market, data: bytes) -> ImportPreview:
    """Check every row without changing anything; raise Invalid if the file itself is unusable
    (encoding, shape, no business-name column, too many rows)."""
    header, rows = read_rows(data)
    columns: dict[int, str] = {}
    ignored = []
    for index, name in enumerate(header):
        key = _column_key(plain_cell(name))
        if key is None:
            if name.strip():
                ignored.append(name.strip())
        elif key in columns.values():
            raise Invalid(_l("The column “%(name)s” appears twice.", name=name.strip()))
        else:
            columns[index] = key
    if "business_name" not in columns.values():
        raise Invalid(
            _l(
                "The first row must name the columns, and one must be “business_name” (or "
                "“nama_usaha”). The first row has: %(found)s.",
                found=", ".join(h.strip() for h in header if h.strip())[:200] or "-",
            )
        )
    categories = category_lookup()
    by_whatsapp: dict[str, Vendor] = {}
    by_stall: dict[tuple[str, str], Vendor] = {}
    for vendor in db.session.scalars(select(Vendor).where(Vendor.market_id == market.id)):
        if vendor.whatsapp:
            by_whatsapp.setdefault(vendor.whatsapp, vendor)
        if vendor.stall_number:
            by_stall.setdefault((vendor.stall_block, vendor.stall_number), vendor)
    seen_whatsapp: dict[str, int] = {}
    seen_stall: dict[tuple[str, str], int] = {}
    checked = []
    for number, cells in rows:
        if not any(cell.strip() for cell in cells):
            continue
        if len(checked) >= MAX_IMPORT_ROWS:
            raise Invalid(
                _l(
                    "The file has more than %(limit)s vendors. Import at most %(limit)s rows at "
                    "a time: split the file.",
                    limit=format_number(MAX_IMPORT_ROWS),
                )
            )
        row = ImportRow(
            number,
            {key: plain_cell(cells[i]) if i < len(cells) else "" for i, key in columns.items()},
        )
        checked.append(row)
        if len(cells) > len(header):
            row.errors.append(
                str(
                    _l(
                        "This row has %(cells)d cells but the first row names %(columns)d "
                        "columns; a comma or semicolon inside a value needs quotes.",
                        cells=len(cells),
                        columns=len(header),
                    )
                )
            )
            continue
        _check_row(row, categories)
        if row.profile is None:
            continue
        _match_row(row, by_whatsapp, by_stall, seen_whatsapp, seen_stall)
    if not checked:
        raise Invalid(_l("The file has a header row but no vendors under it."))
    return ImportPreview(checked, ignored)


def _check_row(row: ImportRow, categories: dict[str, Category]) -> None:
    chosen, unknown = [], []
    for name in split_categories(row.values.get("categories", "")):
        category = categories.get(name.casefold())
        if category is None:
            unknown.append(name)
        elif category not in chosen:
            chosen.append(category)
    if unknown:
        row.errors.append(
            str(
                _l(
                    "Unknown category: %(names)s. Use one of: %(known)s.",
                    names=", ".join(unknown)[:100],
                    known=", ".join(sorted({c.slug for c in categories.values()})),
                )
            )
        )
    try:
        row.profile = clean_profile(
            {**row.values, "category_ids": [c.id for c in chosen]}, categories.values()
        )
    except InvalidFields as error:
        row.errors.extend(
            f"{PROFILE_LABELS[key]}: {message}" for key, message in error.errors.items()
        )
    if row.profile is not None and not (row.profile.whatsapp or row.profile.stall_number):
        row.errors.append(
            str(
                _l(
                    "Give a WhatsApp number or a stall number: they are how a vendor is "
                    "recognised when a file is imported again."
                )
            )
        )
    if row.errors:
        row.profile = None


def _match_row(
    row: ImportRow,
    by_whatsapp: dict[str, Vendor],
    by_stall: dict[tuple[str, str], Vendor],
    seen_whatsapp: dict[str, int],
    seen_stall: dict[tuple[str, str], int],
) -> None:
    profile = row.profile
    stall = (profile.stall_block, profile.stall_number) if profile.stall_number else None
    if profile.whatsapp and profile.whatsapp in seen_whatsapp:
        row.errors.append(
            str(_l("Same WhatsApp number as row %(row)d.", row=seen_whatsapp[profile.whatsapp]))
        )
    if stall and stall in seen_stall:
        row.errors.append(str(_l("Same stall as row %(row)d.", row=seen_stall[stall])))
    if profile.whatsapp:
        seen_whatsapp.setdefault(profile.whatsapp, row.number)
    if stall:
        seen_stall.setdefault(stall, row.number)
    matches = {
        vendor.id: vendor
        for vendor in (
            by_whatsapp.get(profile.whatsapp or ""),
            by_stall.get(stall) if stall else None,
        )
        if vendor is not None
    }
    if len(matches) > 1:
        first, second = matches.values()
        row.errors.append(
            str(
                _l(
                    "The WhatsApp number belongs to “%(first)s” but the stall to “%(second)s”. "
                    "Check which one is right.",
                    first=first.business_name,
                    second=second.business_name,
                )
            )
        )
    elif matches and not row.errors:
        row.existing = next(iter(matches.values()))


# --- committing -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportResult:
    created: int
    existing: int


def commit_import(market: Market, data: bytes, *, actor: User | None) -> ImportResult:
    """Create the new vendors of a checked file as drafts, all in one transaction.

    The file is checked again (the market may have changed since the dry run); if any row has
    a problem nothing is imported."""
    preview = preview_import(market, data)
    if preview.error_rows:
        raise Invalid(
            _l(
                "Nothing was imported: %(n)d rows have problems. Fix them and try again.",
                n=len(preview.error_rows),
            )
        )
    taken = market_slugs(market)
    vendors = [
        draft_vendor(market, row.profile.values(), row.profile.categories, taken, actor)
        for row in preview.new_rows
    ]
    db.session.add_all(vendors)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise Conflict(
            str(_l("The market changed during the import; nothing was imported. Try again."))
        ) from None
    for vendor, row in zip(vendors, preview.new_rows, strict=True):
        changes = {k: [None, v] for k, v in row.profile.values().items() if v}
        record(actor, "vendor.create", vendor, changes, reason=f"CSV row {row.number}")
    record(
        actor,
        "market.import",
        market,
        {"created": [None, len(vendors)], "existing": [None, len(preview.existing_rows)]},
    )
    db.session.commit()
    return ImportResult(created=len(vendors), existing=len(preview.existing_rows))


def draft_vendor(
    market: Market,
    values: dict,
    categories: list[Category],
    taken: set[str],
    actor: User | None,
) -> Vendor:
    """A new draft vendor from a checked row, at a slug not yet ``taken`` (which it joins)."""
    slug = unique_slug(values["business_name"], taken)
    taken.add(slug)
    return Vendor(
        market_id=market.id,
        slug=slug,
        status=VendorStatus.DRAFT,
        onboarded_by_id=actor.id if actor is not None else None,
        categories=categories,
        **values,
    )


def pack(data: bytes) -> str:
    """The checked file as text for a hidden form field, so the commit needs no upload again
    and nothing is kept on the server in between."""
    return base64.urlsafe_b64encode(zlib.compress(data, 6)).decode()


def unpack(payload: str) -> bytes:
    """The file back from pack(); raise Invalid if the field was damaged or is too large."""
    try:
        compressed = base64.urlsafe_b64decode(payload.encode())
        inflater = zlib.decompressobj()
        data = inflater.decompress(compressed, MAX_IMPORT_BYTES + 1)
    except (ValueError, zlib.error):
        data = None
    if data is None or inflater.unconsumed_tail or not inflater.eof:
        raise Invalid(_l("The checked file was lost on the way. Upload it again."))
    return data
