"""Selling online from the back office: weight and stock in the product forms, the marketplace
spreadsheets (Tokopedia, Shopee) and what each product still lacks for them."""

import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from market.extensions import db
from market.models import Availability, PriceKind, Product
from market.services import marketplaces
from market.services.products import InvalidProduct, clean_product
from tests.factories import category, make_photo, make_product
from tests.pages import csrf_token, form_values, log_in_english, reload

pytestmark = pytest.mark.usefixtures("en")

PRODUCT = {"name": "Tas rotan", "price": "150.000", "price_kind": "fixed"}
PRODUCT |= {"availability": "in_stock"}


@pytest.mark.parametrize(
    ("typed", "grams"),
    [("250", 250), ("1.500", 1500), ("1 500", 1500), ("250 g", 250), ("300gr", 300),
     ("1,5 kg", 1500), ("2kg", 2000), ("", None), ("  ", None)],
)  # fmt: skip
def test_weights_are_read_as_people_type_them(ctx, typed, grams):
    assert clean_product(PRODUCT | {"weight_grams": typed}).weight_grams == grams


@pytest.mark.parametrize(
    ("field", "typed", "message"),
    [
        ("weight_grams", "berat", "Enter the weight in grams"),
        ("weight_grams", "-5", "Enter the weight in grams"),
        ("weight_grams", "2,5", "Enter the weight in grams"),
        ("weight_grams", "1,0005 kg", "Enter the weight in grams"),
        ("weight_grams", "٥٠٠", "Enter the weight in grams"),
        ("weight_grams", "2000 kg", "That weight is too high: the most is 1.000.000 grams."),
        ("stock_count", "banyak", "Enter how many are ready"),
        ("stock_count", "1,5", "Enter how many are ready"),
        ("stock_count", "99999999", "That stock count is too high: the most is 1.000.000."),
    ],
)
def test_wrong_weights_and_stock_counts_are_refused_with_a_reason(en, field, typed, message):
    with pytest.raises(InvalidProduct) as refused:
        clean_product(PRODUCT | {field: typed})
    assert refused.value.errors[field].startswith(message)


def test_the_product_forms_keep_weight_and_stock(stocked_world, client):
    w = stocked_world
    log_in_english(client, w.people["volunteer"])
    url = f"/manage/vendors/{w.vendor.id}/products/new"
    sent = PRODUCT | {"weight_grams": "1,2 kg", "stock_count": "7"}
    response = client.post(url, data=sent | {"csrf_token": csrf_token(client)})
    assert response.status_code == 303
    reload()
    product = db.session.scalar(select(Product).where(Product.name == "Tas rotan"))
    assert (product.weight_grams, product.stock_count) == (1200, 7)
    edit = f"/manage/products/{product.id}/edit"
    values = form_values(client.get(edit).get_data(as_text=True), edit)
    assert (values["weight_grams"], values["stock_count"]) == ("1200", "7")
    log_in_english(client, w.people["vendor"])
    values = form_values(client.get(edit).get_data(as_text=True), edit)
    values["stock_count"] = ""
    assert client.post(edit, data=values).status_code == 303
    reload()
    assert (product.weight_grams, product.stock_count) == (1200, None)


def test_a_wrong_weight_keeps_everything_typed(stocked_world, client):
    w = stocked_world
    log_in_english(client, w.people["vendor"])
    url = f"/manage/vendors/{w.vendor.id}/products/new"
    sent = PRODUCT | {"weight_grams": "setengah kilo", "stock_count": "4"}
    response = client.post(url, data=sent | {"csrf_token": csrf_token(client)})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Enter the weight in grams as a whole number" in page
    assert 'value="setengah kilo"' in page and 'value="4"' in page and 'value="Tas rotan"' in page
    reload()
    assert db.session.scalar(select(Product).where(Product.name == "Tas rotan")) is None


# --- the spreadsheets ----------------------------------------------------------------------


@pytest.fixture
def stall(stocked_world):
    w = stocked_world
    complete = w.product
    complete.weight_grams, complete.stock_count = 250, 12
    complete.description = "=1+1 renyah"
    complete.categories = [category("makanan")]
    bare = make_product(w.vendor, name="Tas anyam", price_kind=PriceKind.FROM, price_idr=90000)
    sold = make_product(w.vendor, name="Kue lapis", availability=Availability.SOLD_OUT)
    sold.weight_grams = 500
    make_photo(w.vendor, sold)
    make_product(w.vendor, name="Dihapus", deleted_at=sold.created_at)
    db.session.commit()
    return w, complete, bare, sold


def sheet_rows(client, vendor_id: int, marketplace: str) -> list[dict]:
    response = client.get(f"/manage/vendors/{vendor_id}/online/{marketplace}.xlsx")
    assert response.status_code == 200
    assert response.mimetype.endswith("spreadsheetml.sheet")
    assert "attachment" in response.headers["Content-Disposition"]
    book = load_workbook(io.BytesIO(response.get_data()))
    sheet = book.active
    place = marketplaces.MARKETPLACES[marketplace]
    assert sheet.title == place.sheet
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == [column.header for column in place.columns]
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


def test_tokopedia_sheet_matches_the_column_table(stall, client):
    w, complete, _bare, _sold = stall
    log_in_english(client, w.people["vendor"])
    rows = sheet_rows(client, w.vendor.id, "tokopedia")
    assert [row["Nama Produk*"] for row in rows] == ["Amplang kepiting", "Tas anyam", "Kue lapis"]
    first = rows[0]
    assert first["Harga (Rp)*"] == 25000
    assert first["Berat* (Gram)"] == 250 and first["Jumlah Stok*"] == 12
    assert first["Kondisi*"] == "Baru" and first["Status*"] == "Aktif"
    assert first["Minimum Pemesanan*"] == 1
    assert first["SKU Name"] == f"pasar-{complete.id}"
    assert first["Kategori Kode*"] == category("makanan").name_id
    assert first["Deskripsi Produk"] == "'=1+1 renyah"  # not run as a formula
    assert first["Gambar 1*"].startswith("http") and first["Gambar 2"].startswith("http")
    assert first["Gambar 1*"] != first["Gambar 2"] and first["Gambar 3"] is None
    assert "Harga mulai Rp90.000" in rows[1]["Deskripsi Produk"]
    assert rows[1]["Harga (Rp)*"] == 90000 and rows[1]["Jumlah Stok*"] is None
    assert rows[2]["Status*"] == "Nonaktif" and rows[2]["Jumlah Stok*"] == 0


def test_shopee_sheet_matches_the_column_table(stall, client):
    w, complete, _bare, _sold = stall
    log_in_english(client, w.people["volunteer"])
    rows = sheet_rows(client, w.vendor.id, "shopee")
    first = rows[0]
    assert first["Nama Produk"] == "Amplang kepiting" and first["Harga"] == 25000
    assert first["Stok"] == 12 and first["Berat"] == 250 and first["Kondisi"] == "Baru"
    assert first["SKU Induk"] == f"pasar-{complete.id}"
    assert first["Foto Sampul"].startswith("http") and first["Foto Produk 1"].startswith("http")


def test_the_page_says_what_each_marketplace_still_needs(stall, client):
    w, _complete, _bare, _sold = stall
    log_in_english(client, w.people["vendor"])
    page = client.get(f"/manage/vendors/{w.vendor.id}/online").get_data(as_text=True)
    tokopedia, shopee = page.split("<h3>Tokopedia</h3>")[1].split("<h3>Shopee</h3>")
    assert "Tas anyam</a>: category, weight (gram), photo, stock count<" in tokopedia
    assert "Tas anyam</a>: category, stock count, photo, weight (gram)<" in shopee
    assert "Kue lapis</a>: category<" in tokopedia
    assert "Kue lapis</a>: category, description<" in shopee
    assert "Amplang kepiting</a>:" not in page
    # the feeds leave out the product without a photo, and say why
    assert "Tas anyam</a>: No photo: the channels need at least one." in page
    assert 'readonly value="http' in page and "/feed/meta.csv" in page
    assert "/feed/google.xml" in page and "Commerce Manager" in page


def test_a_product_without_a_price_is_left_out_of_the_feeds_and_the_vendor_told_why(stall, client):
    w = stall[0]
    ask = make_product(w.vendor, name="Madu hutan", price_kind=PriceKind.NEGOTIABLE)
    ask.price_idr = None
    make_photo(w.vendor, ask)
    db.session.commit()
    log_in_english(client, w.people["vendor"])
    page = client.get(f"/manage/vendors/{w.vendor.id}/online").get_data(as_text=True)
    assert "Madu hutan</a>: No price: the channels need one (“ask the price” is not accepted)." in (
        page
    )
    feed = client.get(f"/pasar/{w.market.slug}/feed/meta.csv").get_data(as_text=True)
    assert "Amplang" in feed and "Madu hutan" not in feed
    # The marketplace sheet keeps it, with the price left for the vendor to fill in.
    rows = sheet_rows(client, w.vendor.id, "tokopedia")
    (row,) = [row for row in rows if row["Nama Produk*"] == "Madu hutan"]
    assert row["Harga (Rp)*"] is None


def test_the_page_waits_for_publishing_before_showing_feed_addresses(world, client):
    log_in_english(client, world.people["volunteer"])
    page = client.get(f"/manage/vendors/{world.vendor.id}/online").get_data(as_text=True)
    assert "The addresses appear once the stall is published" in page
    assert "/feed/meta.csv" not in page
