"""CSV export (Excel-safe) and import (dry run, all-or-nothing, idempotent), in the service,
the coordinators' pages and the command line."""

import csv
import io
import zlib
from base64 import urlsafe_b64encode

import pytest
from sqlalchemy import func, select

from market.extensions import db
from market.models import AuditEvent, Role, Vendor, VendorStatus
from market.services import exports, imports
from market.services.errors import Invalid
from tests.factories import category, make_market, make_product, make_user, make_vendor, make_world
from tests.pages import counting_queries, csrf_token, login

HEADER = "business_name,owner_name,stall_block,stall_number,whatsapp,categories,description\n"
GOOD = (
    HEADER
    + "Amplang Bu Sri,Sri,B,12,0812-1111-0001,makanan,Amplang ikan\n"
    + '"Batik, Sarung & Kain",Rahma,c,7,+62 812 1111 0002,"kain, pakaian",\n'
    + "Madu Hutan,,,9,,,\n"
)


def vendors_in(market) -> list[Vendor]:
    db.session.rollback()
    return list(
        db.session.scalars(select(Vendor).where(Vendor.market_id == market.id).order_by(Vendor.id))
    )


def read(data: bytes) -> list[list[str]]:
    assert data.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


# --- export -------------------------------------------------------------------------------------


@pytest.mark.usefixtures("en")
def test_export_is_utf8_with_bom_crlf_and_neutralises_formulas():
    market = make_market()
    make_vendor(market, business_name='=HYPERLINK("http://evil")', owner_name="+1", stall_block="")
    make_vendor(market, business_name="Kué Lapis Ibu Wati", description="-5 diskon\n@home")
    make_vendor(market, business_name="Gone", deleted_at=db.func.now())
    data = exports.export_vendors(market)
    assert b"\r\n" in data
    rows = read(data)
    assert rows[0] == exports.VENDOR_EXPORT_COLUMNS
    names = [row[1] for row in rows[1:]]
    assert '\'=HYPERLINK("http://evil")' in names
    assert "Kué Lapis Ibu Wati" in names
    assert "Gone" not in names
    by_name = {row[1]: dict(zip(rows[0], row, strict=True)) for row in rows[1:]}
    assert by_name['\'=HYPERLINK("http://evil")']["owner_name"] == "'+1"
    assert by_name["Kué Lapis Ibu Wati"]["description"] == "'-5 diskon\n@home"
    assert by_name["Kué Lapis Ibu Wati"]["whatsapp"].startswith("0813-")


@pytest.mark.usefixtures("en")
def test_export_with_semicolons_for_excel_with_indonesian_settings():
    market = make_market()
    make_vendor(market, business_name="Toko; Satu")
    data = exports.export_vendors(market, ";").decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(data, newline=""), delimiter=";"))
    assert rows[1][1] == "Toko; Satu"


@pytest.mark.usefixtures("en")
def test_export_products():
    market = make_market()
    vendor = make_vendor(market, business_name="Amplang")
    make_product(vendor, name="@kerupuk", price_idr=25000, categories=[category("makanan")])
    make_product(vendor, name="Gone", deleted_at=db.func.now())
    rows = read(exports.export_products(market))
    assert rows[0] == exports.PRODUCT_EXPORT_COLUMNS
    assert len(rows) == 2
    row = dict(zip(rows[0], rows[1], strict=True))
    assert (row["business_name"], row["name"], row["price_idr"]) == (
        "Amplang",
        "'@kerupuk",
        "25000",
    )
    assert row["categories"] == "makanan"


@pytest.mark.usefixtures("en")
def test_an_exported_file_imports_unchanged_elsewhere_and_adds_nothing_at_home():
    market, other = make_market(), make_market()
    make_vendor(market, business_name="=SUM(A1)", whatsapp="+6281200000001", stall_number="1")
    make_vendor(market, business_name="Toko Dua", whatsapp=None, stall_number="2")
    data = exports.export_vendors(market)
    assert imports.commit_import(market, data, actor=None).created == 0
    assert imports.commit_import(other, data, actor=None).created == 2
    names = {v.business_name for v in vendors_in(other)}
    assert names == {"=SUM(A1)", "Toko Dua"}


# --- the dry run --------------------------------------------------------------------------------


@pytest.mark.usefixtures("en")
def test_preview_reads_quotes_categories_and_normalises():
    market = make_market()
    preview = imports.preview_import(market, GOOD.encode())
    assert [row.action for row in preview.rows] == ["create", "create", "create"]
    batik = preview.rows[1].profile
    assert batik.business_name == "Batik, Sarung & Kain"
    assert batik.stall_block == "C"
    assert batik.whatsapp == "+6281211110002"
    assert sorted(c.slug for c in batik.categories) == ["kain", "pakaian"]
    assert vendors_in(market) == []


@pytest.mark.usefixtures("en")
def test_preview_names_every_problem_of_every_row_in_plain_words():
    market = make_market()
    data = (
        HEADER
        + "Toko Baik,,,,0812-1111-0009,,\n"
        + ",Tanpa Nama,,1,,,\n"
        + "Nomor Salah,,,,12345,,\n"
        + "Kategori Aneh,,,2,,perhiasan emas,\n"
        + "Terlalu Panjang,,,3,,,"
        + "x" * 5000
        + "\n"
        + "Kembar,,,,0812 1111 0009,,\n"
        + "Sel Kebanyakan,a,b,c,d,e,f,g,h\n"
        + "Tanpa Kunci,Ani,,,,,\n"
    ).encode()
    preview = imports.preview_import(market, data)
    errors = {row.number: " ".join(row.errors) for row in preview.error_rows}
    assert sorted(errors) == [3, 4, 5, 6, 7, 8, 9]
    assert "Give the name of the business" in errors[3]
    assert "“12345” is not a valid phone number" in errors[4]
    assert "Unknown category: perhiasan emas" in errors[5]
    assert "at most 1000 characters (this has 5000)" in errors[6]
    assert "Same WhatsApp number as row 2" in errors[7]
    assert "has 9 cells but the first row names 7 columns" in errors[8]
    assert "Give a WhatsApp number or a stall number" in errors[9]
    assert [row.number for row in preview.new_rows] == [2]


@pytest.mark.usefixtures("en")
def test_rows_match_existing_vendors_by_whatsapp_or_stall():
    market = make_market()
    by_phone = make_vendor(market, whatsapp="+6281211110001", stall_block="Z", stall_number="1")
    by_stall = make_vendor(market, whatsapp=None, stall_block="C", stall_number="7")
    preview = imports.preview_import(market, GOOD.encode())
    assert [row.existing for row in preview.rows] == [by_phone, by_stall, None]
    clash = HEADER + "Campur,,C,7,0812-1111-0001,,\n"
    (row,) = imports.preview_import(market, clash.encode()).rows
    assert "belongs to" in row.errors[0]


@pytest.mark.usefixtures("en")
def test_semicolons_indonesian_headers_bom_and_ignored_columns():
    market = make_market()
    data = (
        "\ufeffNama Usaha;Nama_Pemilik;Blok;Nomor;No WA;Catatan\r\nToko;Ani;a;3;081211110005;x\r\n"
    )
    preview = imports.preview_import(market, data.encode())
    (row,) = preview.rows
    assert row.action == "create"
    assert (row.profile.business_name, row.profile.owner_name) == ("Toko", "Ani")
    assert (row.profile.stall_block, row.profile.whatsapp) == ("A", "+6281211110005")
    assert preview.ignored_columns == ["Catatan"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (GOOD.encode("utf-16"), "not in UTF-8"),
        ("business_name\nKué Ibu\n".encode("cp1252"), "not in UTF-8"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00", "not in UTF-8"),
        (b"business_name\n\x00\n", "not a CSV text file"),
        (b"", "The file is empty"),
        (HEADER.encode(), "no vendors under it"),
        (b'business_name,owner_name\n"Toko Sari,Sri\nToko Dua,Dua\n', "not a well-formed CSV"),
        (b"nama,pemilik\nToko,Sri\n", "one must be “business_name”"),
        (b"business_name,nama_usaha\nA,B\n", "appears twice"),
    ],
)
@pytest.mark.usefixtures("en")
def test_unusable_files_are_refused_with_a_clear_message(data, message):
    market = make_market()
    with pytest.raises(Invalid) as caught:
        imports.preview_import(market, data)
    assert message in str(caught.value)


@pytest.mark.usefixtures("en")
def test_more_rows_than_the_limit_are_refused_stating_the_limit(monkeypatch):
    monkeypatch.setattr(imports, "MAX_IMPORT_ROWS", 3)
    market = make_market()
    data = HEADER + "".join(f"Toko {n},,,{n},,,\n" for n in range(4))
    with pytest.raises(Invalid, match="more than 3 vendors"):
        imports.preview_import(market, data.encode())


@pytest.mark.usefixtures("en")
def test_files_over_the_size_limit_are_refused(monkeypatch):
    monkeypatch.setattr(imports, "MAX_IMPORT_BYTES", 100)
    with pytest.raises(Invalid, match="larger than"):
        imports.preview_import(make_market(), (HEADER + "x," * 100).encode())


# --- committing ---------------------------------------------------------------------------------


@pytest.mark.usefixtures("en")
def test_commit_is_all_or_nothing():
    market = make_market()
    with pytest.raises(Invalid, match="Nothing was imported: 1 rows"):
        imports.commit_import(market, (GOOD + "Rusak,,,,999,,\n").encode(), actor=None)
    assert vendors_in(market) == []
    assert db.session.scalar(select(func.count(AuditEvent.id))) == 0


@pytest.mark.usefixtures("en")
def test_commit_creates_drafts_with_audit_events_and_is_idempotent():
    market = make_market()
    coordinator = make_user(Role.COORDINATOR, market=market)
    result = imports.commit_import(market, GOOD.encode(), actor=coordinator)
    assert (result.created, result.existing) == (3, 0)
    vendors = vendors_in(market)
    assert [v.slug for v in vendors] == ["amplang-bu-sri", "batik-sarung-kain", "madu-hutan"]
    assert {v.status for v in vendors} == {VendorStatus.DRAFT}
    assert {v.onboarded_by_id for v in vendors} == {coordinator.id}
    actions = list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))
    assert actions == ["vendor.create"] * 3 + ["market.import"]
    again = imports.commit_import(market, GOOD.encode(), actor=coordinator)
    assert (again.created, again.existing) == (0, 3)
    assert len(vendors_in(market)) == 3


@pytest.mark.slow
@pytest.mark.usefixtures("en")
def test_ten_thousand_rows_import_without_a_read_per_row():
    """The largest file allowed is imported without a read per row, and with no more than the
    vendor's and its audit event's inserts per row (timings belong in bench/: this machine is
    shared)."""
    market = make_market()
    rows = "".join(
        f"Toko {n},Pemilik {n},{chr(65 + n % 20)},{n},0812{n:08d},makanan,Nomor {n}\n"
        for n in range(imports.MAX_IMPORT_ROWS)
    )
    with counting_queries() as statements:
        result = imports.commit_import(market, (HEADER + rows).encode(), actor=None)
    assert result.created == 10_000
    assert len(vendors_in(market)) == 10_000
    reads = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(reads) < 100, reads[:10]
    # Each row is one vendor and one audit event; the search index is written in chunks.
    writes = [s for s in statements if s not in reads]
    assert len(writes) <= 2 * 10_000 + 100


@pytest.mark.usefixtures("en")
def test_the_checked_file_survives_the_form_and_damage_is_refused():
    data = GOOD.encode()
    assert imports.unpack(imports.pack(data)) == data
    with pytest.raises(Invalid):
        imports.unpack("not base64 at all!")
    with pytest.raises(Invalid):
        imports.unpack(imports.pack(data)[:-8])
    bomb = urlsafe_b64encode(zlib.compress(b"a" * (imports.MAX_IMPORT_BYTES + 10))).decode()
    with pytest.raises(Invalid):
        imports.unpack(bomb)


# --- the pages ----------------------------------------------------------------------------------


def upload(client, market, data: bytes, filename="vendors.csv"):
    page = f"/admin/markets/{market.id}/import?lang=en"
    return client.post(
        page,
        data={"csrf_token": csrf_token(client, page), "file": (io.BytesIO(data), filename)},
        content_type="multipart/form-data",
    )


def test_import_page_previews_then_commits(client):
    world = make_world()
    login(client, world.people["coordinator"].email)
    html = upload(client, world.market, GOOD.encode()).get_data(as_text=True)
    assert "3 new vendors will be added as drafts" in html
    assert "Import 3 vendors" in html
    assert len(vendors_in(world.market)) == 1  # only the world's own vendor
    payload = html.split('name="payload" type="hidden" value="')[1].split('"')[0]
    page = f"/admin/markets/{world.market.id}/import/commit"
    response = client.post(
        page, data={"payload": payload, "csrf_token": csrf_token(client, "/manage/")}
    )
    assert response.status_code == 302
    assert len(vendors_in(world.market)) == 4
    response = client.post(
        page, data={"payload": payload, "csrf_token": csrf_token(client, "/manage/")}
    )
    assert len(vendors_in(world.market)) == 4


def test_import_page_lists_problems_and_offers_no_commit(client):
    world = make_world()
    login(client, world.people["coordinator"].email)
    html = upload(client, world.market, (GOOD + "Rusak,,,,999,,\n").encode()).get_data(as_text=True)
    assert "1 row has problems" in html
    assert "“999” is not a valid phone number" in html
    assert 'name="payload"' not in html


def test_import_page_explains_a_wrong_encoding(client):
    world = make_world()
    login(client, world.people["coordinator"].email)
    response = upload(client, world.market, GOOD.encode("utf-16"))
    assert response.status_code == 200
    assert "not in UTF-8" in response.get_data(as_text=True)


def test_a_damaged_commit_changes_nothing(client):
    world = make_world()
    login(client, world.people["coordinator"].email)
    page = f"/admin/markets/{world.market.id}/import/commit"
    response = client.post(
        page, data={"payload": "garbage", "csrf_token": csrf_token(client, "/manage/")}
    )
    assert response.status_code == 302
    assert len(vendors_in(world.market)) == 1


def test_export_downloads(client):
    world = make_world()
    login(client, world.people["coordinator"].email)
    response = client.get(f"/admin/markets/{world.market.id}/vendors.csv")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"].startswith("attachment; filename=")
    assert response.data.startswith("\ufeff".encode())
    semicolons = client.get(f"/admin/markets/{world.market.id}/products.csv?delimiter=semicolon")
    assert semicolons.data.decode("utf-8-sig").startswith("vendor_id;business_name")


# --- the command line ---------------------------------------------------------------------------


def test_cli_import_dry_run_then_commit(app, ctx, runner, tmp_path):
    market = make_market()
    path = tmp_path / "vendors.csv"
    path.write_bytes(GOOD.encode())
    result = runner.invoke(args=["import-vendors", market.slug, str(path), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "3 new" in result.output and "dry run" in result.output
    assert vendors_in(market) == []
    result = runner.invoke(args=["import-vendors", market.slug, str(path)])
    assert result.exit_code == 0, result.output
    assert "Imported 3 vendors" in result.output
    assert len(vendors_in(market)) == 3


def test_cli_import_refuses_a_file_with_problems(app, ctx, runner, tmp_path):
    market = make_market()
    path = tmp_path / "vendors.csv"
    path.write_bytes((GOOD + "Rusak,,,,999,,\n").encode())
    result = runner.invoke(args=["import-vendors", market.slug, str(path)])
    assert result.exit_code == 1
    assert "row 5: WhatsApp number: “999” is not a valid phone number" in result.output
    assert "nothing imported" in result.output
    assert vendors_in(market) == []
    path.write_bytes(GOOD.encode("utf-16"))
    result = runner.invoke(args=["import-vendors", market.slug, str(path)])
    assert result.exit_code == 1 and "UTF-8" in result.output


def test_cli_export(app, ctx, runner, tmp_path):
    market = make_market()
    make_vendor(market, business_name="Toko Ekspor")
    path = tmp_path / "out.csv"
    result = runner.invoke(args=["export-vendors", market.slug, str(path)])
    assert result.exit_code == 0, result.output
    assert "Toko Ekspor" in path.read_bytes().decode("utf-8-sig")
