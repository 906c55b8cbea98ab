"""A stall's catalogue as a spreadsheet for the marketplaces' bulk upload (Tokopedia's and
Shopee's mass-upload templates), and which fields each product still lacks for them.

The column layout of each template lives in MARKETPLACES and nowhere else: when a marketplace
changes its template, that table is the one place to follow it. The marketplaces pick their
own category per product (from their own lists), so the category column carries Pasar's
category as a hint for the vendor.
"""

import io
from collections.abc import Callable
from dataclasses import dataclass

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from openpyxl import Workbook
from openpyxl.utils import get_column_letter
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from market.extensions import db
from market.models import Availability, Photo, Product, Vendor
from market.services.exports import neutralise
from market.services.feeds import feed_id, price_words
from market.services.public import attach_photos


@dataclass(frozen=True)
class Column:
    header: str  # as the marketplace's template spells it
    value: str  # a key of _VALUES
    required: bool = False


@dataclass(frozen=True)
class Marketplace:
    name: str
    sheet: str
    columns: tuple[Column, ...]


MARKETPLACES = {
    "tokopedia": Marketplace(
        "Tokopedia",
        "Upload",
        (
            Column("Nama Produk*", "name", True),
            Column("Deskripsi Produk", "description"),
            Column("Kategori Kode*", "category", True),
            Column("Berat* (Gram)", "weight", True),
            Column("Minimum Pemesanan*", "minimum_order", True),
            Column("Kondisi*", "condition", True),
            *(
                Column(f"Gambar {n + 1}{'*' if n == 0 else ''}", f"image_{n}", n == 0)
                for n in range(5)
            ),
            Column("SKU Name", "sku"),
            Column("Status*", "status", True),
            Column("Jumlah Stok*", "stock", True),
            Column("Harga (Rp)*", "price", True),
        ),
    ),
    "shopee": Marketplace(
        "Shopee",
        "Template",
        (
            Column("Kategori", "category", True),
            Column("Nama Produk", "name", True),
            Column("Deskripsi Produk", "description", True),
            Column("SKU Induk", "sku"),
            Column("Harga", "price", True),
            Column("Stok", "stock", True),
            Column("Foto Sampul", "image_0", True),
            *(Column(f"Foto Produk {n}", f"image_{n}") for n in range(1, 9)),
            Column("Berat", "weight", True),
            Column("Kondisi", "condition", True),
        ),
    ),
}

# What the back office calls each value when a product lacks it.
FIELD_NAMES = {
    "name": _l("name"),
    "description": _l("description"),
    "category": _l("category"),
    "weight": _l("weight (gram)"),
    "stock": _l("stock count"),
    "price": _l("price"),
    "image_0": _l("photo"),
}


def _stock(product: Product) -> int | None:
    if product.stock_count is not None:
        return product.stock_count
    # Sold out says how many there are; in stock or pre-order says nothing about a number.
    return 0 if product.availability == Availability.SOLD_OUT else None


def _description(product: Product) -> str:
    with force_locale("id"):
        words = price_words(product)
    return " ".join(part for part in (product.description, words) if part)


def _values(product: Product, image: Callable[[Photo], str]) -> dict[str, object]:
    photos = [image(photo) for photo in product.photos]
    category = product.categories[0] if product.categories else None
    values = {
        "name": product.name,
        "description": _description(product),
        "category": category.name_id if category else None,
        "weight": product.weight_grams,
        "minimum_order": 1,
        "condition": "Baru",
        "sku": feed_id(product),
        "status": "Nonaktif" if product.availability == Availability.SOLD_OUT else "Aktif",
        "stock": _stock(product),
        "price": product.price_idr,
    }
    values |= {f"image_{index}": url for index, url in enumerate(photos)}
    return values


def _empty(value: object) -> bool:
    return value is None or value == ""


def export_products(vendor: Vendor) -> list[Product]:
    """The stall's listed products, with photos and categories, in the stall's order."""
    products = list(
        db.session.scalars(
            select(Product)
            .where(Product.vendor_id == vendor.id, Product.is_listed)
            .options(selectinload(Product.categories))
            .order_by(Product.position, Product.id)
        )
    )
    attach_photos([], products)
    return products


def missing_fields(product: Product, marketplace: Marketplace) -> list[str]:
    """The keys (of FIELD_NAMES) of the values this marketplace requires and the product lacks."""
    values = _values(product, lambda photo: "-")
    return [
        column.value
        for column in marketplace.columns
        if column.required and _empty(values.get(column.value))
    ]


def workbook(products: list[Product], marketplace: Marketplace, image) -> bytes:
    """The .xlsx to upload: one header row as the template has it, one row per product."""
    book = Workbook()
    sheet = book.active
    sheet.title = marketplace.sheet
    sheet.append([column.header for column in marketplace.columns])
    for product in products:
        values = _values(product, image)
        sheet.append([neutralise(values.get(column.value)) for column in marketplace.columns])
    for index, column in enumerate(marketplace.columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = max(12, len(column.header) + 2)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
