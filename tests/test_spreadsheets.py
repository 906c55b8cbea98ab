"""The spreadsheet round trip: export, edit, import by id — the dry run's changes in words, the
confirmation that applies exactly them, all or nothing, idempotent, formula-safe, scoped to
what the importer may edit, audited, with the page cache and search kept current."""

import csv
import io

import openpyxl
import pytest
from flask_babel import force_locale
from sqlalchemy import select

from market import pagecache
from market.extensions import db
from market.models import AuditEvent, Availability, Product, Role, Vendor
from market.services import exports, imports, search, spreadsheets
from market.services.errors import Conflict, Invalid
from tests.factories import category, make_market, make_product, make_user, make_vendor
from tests.pages import csrf_token, form_values, login

# Every column of the product table, compared before and after an import.
PRODUCT_FIELDS = [column.key for column in Product.__table__.columns]
VENDOR_FIELDS = [column.key for column in Vendor.__table__.columns]


def read(data: bytes, delimiter: str = ",") -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""), delimiter=delimiter))


def write(rows: list[list[str]], delimiter: str = ",", bom: bool = True) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    writer.writerows(rows)
    return (("\ufeff" if bom else "") + out.getvalue()).encode()


def edit(rows: list[list[str]], product_id: int, **cells: str) -> None:
    """Change cells of the row of one product, as someone would in a spreadsheet."""
    header = rows[0]
    for row in rows[1:]:
        if row[header.index("product_id")] == str(product_id):
            for name, value in cells.items():
                row[header.index(name)] = value
            return
    raise AssertionError(f"no row for product {product_id}")


def table(model, fields) -> dict[int, dict]:
    """Every row of a table, every column, plus categories: the database as it is."""
    db.session.expire_all()
    rows = {}
    for record in db.session.scalars(select(model)):
        rows[record.id] = {key: getattr(record, key) for key in fields} | {
            "categories": sorted(c.slug for c in record.categories)
        }
    return rows


def audit_count() -> int:
    return len(db.session.scalars(select(AuditEvent)).all())


@pytest.fixture
def stocked(ctx):
    market = make_market()
    amplang = make_vendor(market, business_name="Amplang Bu Sri")
    batik = make_vendor(market, business_name="Batik Rahma", description="-diskon\n@rumah")
    products = [
        make_product(
            amplang,
            name="Amplang kepiting",
            name_en="Crab crackers",
            price_idr=25000,
            weight_grams=250,
            stock_count=12,
            categories=[category("makanan")],
        ),
        make_product(amplang, name="=1+2 kerupuk", description="+62 pesan", price_idr=15000),
        make_product(batik, name="Sarung tenun", price_idr=None, price_kind="negotiable"),
        make_product(batik, name="Kain batik", price_idr=120000, price_kind="from", halal=True),
    ]
    return market, [amplang, batik], products


def confirm(kind, market, data, actor=None):
    preview = spreadsheets.preview_sheet(kind, market, data, actor=actor)
    return preview, spreadsheets.apply_sheet(kind, market, data, preview.fingerprint, actor=actor)


# --- the round trip ---------------------------------------------------------------------------


def test_edited_export_changes_exactly_the_edited_cells(stocked):
    market, _vendors, products = stocked
    before = table(Product, PRODUCT_FIELDS)
    vendors_before = table(Vendor, VENDOR_FIELDS)
    rows = read(exports.export_products(market))
    edit(rows, products[0].id, price_idr="27500")
    edit(rows, products[1].id, availability="sold_out")
    edit(rows, products[3].id, name="Kain batik tulis")

    _preview, result = confirm("products", market, write(rows))

    assert (result.updated, result.created, result.unchanged) == (3, 0, 1)
    after = table(Product, PRODUCT_FIELDS)
    expected = {
        products[0].id: {"price_idr": 27500},
        products[1].id: {"availability": Availability.SOLD_OUT},
        products[3].id: {"name": "Kain batik tulis"},
    }
    for product_id, old in before.items():
        new = after[product_id]
        changed = {key for key in old if old[key] != new[key]}
        wanted = set(expected.get(product_id, {}))
        if wanted:
            # The edited cell, and the row's own bookkeeping of an update.
            assert changed == wanted | {"version", "updated_at"}, product_id
            assert {key: new[key] for key in wanted} == expected[product_id]
        else:
            assert changed == set(), product_id
    assert table(Vendor, VENDOR_FIELDS) == vendors_before


def test_the_dry_run_names_each_change_in_the_readers_words(stocked):
    market, _vendors, products = stocked
    rows = read(exports.export_products(market))
    edit(rows, products[0].id, price_idr="27.500", availability="sold_out")
    edit(rows, products[2].id, categories="kain, pakaian")
    before = table(Product, PRODUCT_FIELDS)
    with force_locale("id"):
        preview = spreadsheets.preview_sheet("products", market, write(rows), actor=None)
        lines = {
            row.number: [f"{c.label}: {c.old_text} → {c.new_text}" for c in row.changes]
            for row in preview.update_rows
        }
    assert lines == {
        2: ["Harga (Rp): Rp25.000 → Rp27.500", "Ketersediaan: Ada → Habis"],
        4: ["Kategori: — → kain, pakaian"],
    }
    with force_locale("en"):
        change = preview.update_rows[0].changes[1]
        assert f"{change.label}: {change.old_text} → {change.new_text}" == (
            "Availability: In stock → Sold out"
        )
    assert table(Product, PRODUCT_FIELDS) == before


def test_reimporting_the_same_file_changes_nothing_and_says_so(stocked):
    market, _vendors, _products = stocked
    data = exports.export_products(market)
    before, events = table(Product, PRODUCT_FIELDS), audit_count()
    _preview, result = confirm("products", market, data)
    assert _preview.update_rows == _preview.create_rows == _preview.error_rows == []
    assert (result.updated, result.created, result.unchanged) == (0, 0, 4)
    assert table(Product, PRODUCT_FIELDS) == before
    assert audit_count() == events


def test_new_rows_are_added_once_however_often_the_file_is_imported(stocked):
    market, vendors, _products = stocked
    rows = read(exports.export_products(market))
    header = rows[0]
    new = dict.fromkeys(header, "")
    new |= {"vendor_id": str(vendors[1].id), "name": "Selendang", "price_idr": "Rp 85.000"}
    rows.append([new[name] for name in header])
    data = write(rows)
    _preview, result = confirm("products", market, data)
    assert (result.updated, result.created) == (0, 1)
    added = db.session.scalar(select(Product).where(Product.name == "Selendang"))
    assert (added.vendor_id, added.price_idr) == (vendors[1].id, 85000)
    _preview, again = confirm("products", market, data)
    assert (again.updated, again.created, again.unchanged) == (0, 0, 5)
    assert len(db.session.scalars(select(Product).where(Product.name == "Selendang")).all()) == 1


def test_semicolons_and_no_byte_order_mark_read_the_same(stocked):
    market, _vendors, products = stocked
    for delimiter, bom in ((";", True), (";", False), (",", False)):
        rows = read(exports.export_products(market, delimiter), delimiter)
        price = str(products[0].price_idr + 1000)
        edit(rows, products[0].id, price_idr=price)
        _preview, result = confirm("products", market, write(rows, delimiter, bom))
        assert result.updated == 1, (delimiter, bom)
        db.session.expire_all()
        assert str(products[0].price_idr) == price


def workbook(rows: list[list[str]]) -> bytes:
    """The rows as a spreadsheet program saves them in .xlsx: numbers as numbers."""
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append([int(cell) if cell.isdigit() else cell for cell in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_an_excel_workbook_reads_like_the_csv(stocked):
    market, _vendors, products = stocked
    rows = read(exports.export_products(market))
    data = workbook(rows)
    before = table(Product, PRODUCT_FIELDS)
    _preview, result = confirm("products", market, data)
    assert (result.updated, result.created, result.unchanged) == (0, 0, 4)
    assert table(Product, PRODUCT_FIELDS) == before
    edit(rows, products[3].id, price_idr="125000", name="Kain batik cap")
    _preview, result = confirm("products", market, workbook(rows))
    assert result.updated == 1
    db.session.expire_all()
    assert (products[3].name, products[3].price_idr) == ("Kain batik cap", 125000)


@pytest.mark.usefixtures("en")
def test_a_damaged_or_swollen_workbook_is_refused_in_plain_words(stocked, monkeypatch):
    market, _vendors, _products = stocked
    with pytest.raises(Invalid, match="Excel file cannot be read"):
        spreadsheets.preview_sheet("products", market, b"PK\x03\x04rusak", actor=None)
    data = workbook(read(exports.export_products(market)))
    monkeypatch.setattr(imports, "MAX_WORKBOOK_BYTES", 1000)
    with pytest.raises(Invalid, match="larger than"):
        spreadsheets.preview_sheet("products", market, data, actor=None)


def test_formula_guard_round_trips_without_loss(stocked):
    market, vendors, products = stocked
    make_product(vendors[0], name="'=tanda kutip", description="@grosir\n-murah")
    data = exports.export_products(market)
    rows = read(data)
    names = {row[rows[0].index("name")] for row in rows[1:]}
    assert "'=1+2 kerupuk" in names
    assert "''=tanda kutip" in names
    descriptions = {row[rows[0].index("description")] for row in rows[1:]}
    assert "'+62 pesan" in descriptions
    before = table(Product, PRODUCT_FIELDS)
    _preview, result = confirm("products", market, data)
    assert result.updated == 0
    assert table(Product, PRODUCT_FIELDS) == before
    db.session.expire_all()
    assert products[1].name == "=1+2 kerupuk"


# --- all or nothing ---------------------------------------------------------------------------


@pytest.mark.usefixtures("en")
def test_one_bad_row_applies_nothing_and_every_problem_is_listed(stocked):
    market, _vendors, products = stocked
    rows = read(exports.export_products(market))
    edit(rows, products[0].id, price_idr="30000")
    edit(rows, products[1].id, price_idr="dua puluh", availability="habis banget")
    edit(rows, products[2].id, stock_count="-3", categories="sepatu")
    data = write(rows)
    before, events = table(Product, PRODUCT_FIELDS), audit_count()
    preview = spreadsheets.preview_sheet("products", market, data, actor=None)
    problems = {row.number: row.errors for row in preview.error_rows}
    assert sorted(problems) == [3, 4]
    assert any(e.startswith("Column price_idr · Price (Rp):") for e in problems[3])
    assert any(e.startswith("Column availability · Availability: Use one of") for e in problems[3])
    assert any(e.startswith("Column stock_count · Stock (pieces):") for e in problems[4])
    assert any("Unknown category: sepatu" in e for e in problems[4])
    with pytest.raises(Invalid):
        spreadsheets.apply_sheet("products", market, data, preview.fingerprint, actor=None)
    assert table(Product, PRODUCT_FIELDS) == before
    assert audit_count() == events


def test_a_change_between_dry_run_and_confirmation_applies_nothing(stocked):
    market, _vendors, products = stocked
    rows = read(exports.export_products(market))
    edit(rows, products[0].id, price_idr="30000")
    data = write(rows)
    preview = spreadsheets.preview_sheet("products", market, data, actor=None)
    products[0].availability = Availability.SOLD_OUT  # someone taps "sold out" meanwhile
    db.session.commit()
    before = table(Product, PRODUCT_FIELDS)
    with pytest.raises(Conflict):
        spreadsheets.apply_sheet("products", market, data, preview.fingerprint, actor=None)
    assert table(Product, PRODUCT_FIELDS) == before


def test_a_change_to_a_column_the_file_leaves_out_also_stops_the_confirmation(stocked):
    market, _vendors, products = stocked
    data = f"product_id;price_idr\n{products[0].id};30000\n".encode()
    preview = spreadsheets.preview_sheet("products", market, data, actor=None)
    assert preview.update_rows[0].title == "Amplang kepiting"  # named though the file has no name
    assert [c.field for c in preview.update_rows[0].changes] == ["price_idr"]
    products[0].name = "Amplang kepiting super"  # renamed meanwhile: the row is not as checked
    db.session.commit()
    with pytest.raises(Conflict):
        spreadsheets.apply_sheet("products", market, data, preview.fingerprint, actor=None)
    db.session.expire_all()
    assert products[0].price_idr == 25000
    fresh = spreadsheets.preview_sheet("products", market, data, actor=None)
    spreadsheets.apply_sheet("products", market, data, fresh.fingerprint, actor=None)
    db.session.expire_all()
    assert (products[0].name, products[0].price_idr) == ("Amplang kepiting super", 30000)


# --- whose records ------------------------------------------------------------------------------


@pytest.mark.usefixtures("en")
def test_ids_of_another_market_or_of_no_market_are_errors_not_skips(stocked):
    market, _vendors, products = stocked
    elsewhere = make_product(make_vendor(make_market()), name="Punya pasar lain")
    rows = read(exports.export_products(market))
    rows.append([*rows[1]])
    rows[-1][rows[0].index("product_id")] = str(elsewhere.id)
    rows[-1][rows[0].index("name")] = "Diambil alih"
    rows.append([*rows[1]])
    rows[-1][rows[0].index("product_id")] = "999999"
    edit(rows, products[0].id, price_idr="1000")
    data = write(rows)
    preview = spreadsheets.preview_sheet("products", market, data, actor=None)
    assert [row.number for row in preview.error_rows] == [6, 7]
    assert "nothing with id" in preview.error_rows[0].errors[0]
    with pytest.raises(Invalid):
        spreadsheets.apply_sheet("products", market, data, preview.fingerprint, actor=None)
    db.session.expire_all()
    assert elsewhere.name == "Punya pasar lain"
    assert products[0].price_idr == 25000


@pytest.mark.usefixtures("en")
def test_a_volunteer_of_another_market_may_change_nothing(stocked):
    market, _vendors, products = stocked
    stranger = make_user(market=make_market())
    helper = make_user(market=market)
    rows = read(exports.export_products(market))
    edit(rows, products[0].id, price_idr="30000")
    data = write(rows)
    preview = spreadsheets.preview_sheet("products", market, data, actor=stranger)
    assert len(preview.error_rows) == 4
    assert preview.error_rows[0].errors == ["You may not change this record."]
    _preview, result = confirm("products", market, data, actor=helper)
    assert result.updated == 1


# --- what else follows an import ------------------------------------------------------------------


def test_each_change_is_audited_with_its_row(stocked):
    market, _vendors, products = stocked
    coordinator = make_user(market=market)
    rows = read(exports.export_products(market))
    edit(rows, products[0].id, price_idr="30000", availability="pre_order")
    edit(rows, products[2].id, name_en="Woven sarong")
    events = audit_count()
    confirm("products", market, write(rows), actor=coordinator)
    new = db.session.scalars(
        select(AuditEvent).where(AuditEvent.id > events).order_by(AuditEvent.id)
    ).all()
    assert [(e.action, e.record_id, e.actor_id, e.reason, e.changes) for e in new] == [
        (
            "product.update",
            products[0].id,
            coordinator.id,
            "CSV row 2",
            {"price_idr": [25000, 30000], "availability": ["in_stock", "pre_order"]},
        ),
        (
            "product.update",
            products[2].id,
            coordinator.id,
            "CSV row 4",
            {"name_en": ["", "Woven sarong"]},
        ),
        (
            "market.import",
            market.id,
            coordinator.id,
            "",
            {"kind": [None, "products"], "updated": [None, 2], "created": [None, 0]},
        ),
    ]


def test_the_market_pages_are_invalidated_once_and_search_finds_the_new_name(stocked, monkeypatch):
    market, _vendors, products = stocked
    calls = []
    real = pagecache.invalidate
    monkeypatch.setattr(
        pagecache, "invalidate", lambda tags, app=None: calls.append(set(tags)) or real(tags, app)
    )
    rows = read(exports.export_products(market))
    edit(rows, products[0].id, name="Amplang rajungan")
    edit(rows, products[3].id, price_idr="99000")
    confirm("products", market, write(rows))
    assert len(calls) == 1
    assert any(market.slug in tag for tag in calls[0])
    found = search.search_market(market, "rajungan")
    assert [p.name for p in found.products] == ["Amplang rajungan"]


# --- vendors ------------------------------------------------------------------------------------


def test_vendors_round_trip_by_id(stocked):
    market, vendors, _products = stocked
    before = table(Vendor, VENDOR_FIELDS)
    rows = read(exports.export_vendors(market, ";"), ";")
    header = rows[0]
    rows[1][header.index("name_en")] = "Mrs Sri's crackers"
    rows[2][header.index("opening_hours")] = "07.00–15.00"
    new = dict.fromkeys(header, "") | {"business_name": "Madu Hutan", "stall_number": "99"}
    rows.append([new[name] for name in header])
    data = write(rows, ";")
    _preview, result = confirm("vendors", market, data)
    assert (result.updated, result.created) == (2, 1)
    after = table(Vendor, VENDOR_FIELDS)
    changed = {
        vendor_id: {k for k in old if old[k] != after[vendor_id][k]}
        for vendor_id, old in before.items()
    }
    assert changed == {
        vendors[0].id: {"name_en", "version", "updated_at"},
        vendors[1].id: {"opening_hours", "version", "updated_at"},
    }
    assert {v["business_name"] for v in after.values()} >= {"Madu Hutan"}
    _preview, again = confirm("vendors", market, data)
    assert (again.updated, again.created, again.unchanged) == (0, 0, 3)


@pytest.mark.usefixtures("en")
def test_a_file_without_ids_is_refused_with_a_reason(stocked):
    market, _vendors, _products = stocked
    with pytest.raises(Invalid, match="product_id"):
        spreadsheets.preview_sheet("products", market, b"name,price_idr\nA,1\n", actor=None)


# --- the pages ----------------------------------------------------------------------------------


def upload(client, market, data: bytes, kind="products", lang="id"):
    page = f"/admin/markets/{market.id}/sheets/{kind}?lang={lang}"
    return client.post(
        page,
        data={"csrf_token": csrf_token(client, page), "file": (io.BytesIO(data), "daftar.csv")},
        content_type="multipart/form-data",
    )


def test_the_page_previews_in_indonesian_then_applies_what_was_shown(client, stocked):
    market, _vendors, products = stocked
    login(client, make_user(Role.COORDINATOR, market=market).login)
    rows = read(exports.export_products(market, ";"), ";")
    edit(rows, products[0].id, availability="sold_out")
    html = upload(client, market, write(rows, ";")).get_data(as_text=True)
    assert "Ketersediaan: Ada → Habis" in html
    db.session.rollback()
    assert products[0].availability == Availability.IN_STOCK
    action = f"/admin/markets/{market.id}/sheets/products/apply"
    response = client.post(action, data=form_values(html, action))
    assert response.status_code == 302
    db.session.rollback()
    assert products[0].availability == Availability.SOLD_OUT
    again = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Mengubah 1 baris." in again


@pytest.mark.usefixtures("en")
def test_a_market_changed_before_confirming_shows_the_new_check_and_keeps_the_file(client, stocked):
    market, _vendors, products = stocked
    login(client, make_user(Role.COORDINATOR, market=market).login)
    rows = read(exports.export_products(market))
    edit(rows, products[0].id, price_idr="30000")
    html = upload(client, market, write(rows), lang="en").get_data(as_text=True)
    action = f"/admin/markets/{market.id}/sheets/products/apply"
    fields = form_values(html, action)
    db.session.rollback()  # a fresh transaction, after the page's own reads
    products[0].name = "Amplang kepiting super"
    db.session.commit()
    response = client.post(action, data=fields)
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "The market changed since the file was checked" in page
    assert "Price (Rp): Rp25.000 → Rp30.000" in page
    # The whole exported row is in the file: the new check shows it undoing the rename.
    assert "Product name: Amplang kepiting super → Amplang kepiting" in page
    db.session.rollback()
    assert products[0].price_idr == 25000
    assert form_values(page, action)["fingerprint"] != fields["fingerprint"]
    response = client.post(action, data=form_values(page, action))
    assert response.status_code == 302
    db.session.rollback()
    assert (products[0].name, products[0].price_idr) == ("Amplang kepiting", 30000)


def test_a_file_with_problems_offers_no_confirmation_and_names_row_and_column(client, stocked):
    market, _vendors, products = stocked
    login(client, make_user(Role.COORDINATOR, market=market).login)
    rows = read(exports.export_products(market))
    edit(rows, products[0].id, price_idr="mahal")
    html = upload(client, market, write(rows), lang="en").get_data(as_text=True)
    assert "Row 2" in html
    assert "Column price_idr · Price (Rp)" in html
    assert "/apply" not in html


# --- the command line ---------------------------------------------------------------------------


def test_the_command_line_lists_the_changes_then_applies_them(app, runner, stocked, tmp_path):
    market, _vendors, products = stocked
    rows = read(exports.export_products(market))
    edit(rows, products[0].id, availability="sold_out")
    path = tmp_path / "products.csv"
    path.write_bytes(write(rows))
    args = ["update-from-sheet", market.slug, "products", str(path)]
    result = runner.invoke(args=[*args, "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "row 2: Availability: In stock → Sold out" in result.output
    assert "1 changed, 0 new, 3 the same, 0 with problems (dry run" in result.output
    db.session.rollback()
    assert products[0].availability == Availability.IN_STOCK
    result = runner.invoke(args=args)
    assert result.exit_code == 0, result.output
    db.session.rollback()
    assert products[0].availability == Availability.SOLD_OUT
    edit(rows, products[1].id, price_idr="mahal")
    path.write_bytes(write(rows))
    result = runner.invoke(args=args)
    assert result.exit_code == 1
    assert "row 3: Column price_idr · Price (Rp):" in result.output
