"""Product feeds that carry a market's or a stall's catalogue to the shopping channels: Meta's
commerce catalogue (a CSV data feed for Commerce Manager, which fills the WhatsApp Business
catalogue and the Instagram and Facebook shops) and Google Merchant Center (RSS 2.0 with the g:
namespace).

Feeds carry only what shoppers may see (public products of public stalls of published markets,
as market.services.public decides) and nothing about the people behind a stall. A product
without a price or without a photo is left out, because both channels refuse such items; the
back office shows which and why (left_out).
"""

import csv
import io
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass

from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import contains_eager
from sqlalchemy.orm.attributes import set_committed_value

from market.extensions import db
from market.models import Availability, Market, Photo, PriceKind, Product, Vendor
from market.services.exports import neutralise
from market.services.prices import format_rupiah
from market.services.public import attach_photos, stall_order

# The columns of Meta's data feed, in the order of its published template; the last one is
# optional and filled only when a product has more than one photo.
META_COLUMNS = (
    "id",
    "title",
    "description",
    "availability",
    "condition",
    "price",
    "link",
    "image_link",
    "brand",
    "additional_image_link",
)
META_TITLE_MAX = 200
META_DESCRIPTION_MAX = 9999
META_EXTRA_IMAGES = 20
GOOGLE_TITLE_MAX = 150
GOOGLE_DESCRIPTION_MAX = 5000
GOOGLE_EXTRA_IMAGES = 10
GOOGLE_NS = "http://base.google.com/ns/1.0"
ET.register_namespace("g", GOOGLE_NS)

_META_AVAILABILITY = {
    Availability.IN_STOCK: "in stock",
    Availability.SOLD_OUT: "out of stock",
    Availability.PRE_ORDER: "preorder",
}
_GOOGLE_AVAILABILITY = {
    Availability.IN_STOCK: "in_stock",
    Availability.SOLD_OUT: "out_of_stock",
    Availability.PRE_ORDER: "preorder",
}
# Why a product is not in the feeds, as the back office says it.
NO_PRICE = _l("No price: the channels need one (\u201cask the price\u201d is not accepted).")
NO_PHOTO = _l("No photo: the channels need at least one.")


def feed_id(product: Product) -> str:
    """The product's id in every feed: its database id never changes, so a renamed or moved
    product stays the same item in the channel's catalogue."""
    return f"pasar-{product.id}"


def feed_products(market: Market, vendor: Vendor | None = None) -> list[Product]:
    """The public products of a published market (of one of its stalls), in walking order, with
    their stalls and photos: two queries whatever the size of the catalogue."""
    query = (
        select(Product)
        .join(Product.vendor)
        .where(Vendor.market_id == market.id, Vendor.is_public, Product.is_listed)
        .options(contains_eager(Product.vendor))
        .order_by(*stall_order(), Product.position, Product.id)
    )
    if vendor is not None:
        query = query.where(Vendor.id == vendor.id)
    products = list(db.session.scalars(query))
    for product in products:
        set_committed_value(product.vendor, "market", market)
    attach_photos([], products)
    return products


def gaps(product: Product) -> list[str]:
    """Why the feeds leave this product out; empty when it goes in."""
    reasons = []
    if product.price_idr is None:
        reasons.append(str(NO_PRICE))
    if not product.photos:
        reasons.append(str(NO_PHOTO))
    return reasons


def left_out(vendor: Vendor) -> list[tuple[Product, list[str]]]:
    """The stall's listed products that the feeds leave out, each with the reasons."""
    products = list(
        db.session.scalars(
            select(Product)
            .where(Product.vendor_id == vendor.id, Product.is_listed)
            .order_by(Product.position, Product.id)
        )
    )
    attach_photos([], products)
    return [(product, reasons) for product in products if (reasons := gaps(product))]


@dataclass
class FeedItem:
    id: str
    title: str
    description: str
    availability: Availability
    price_idr: int
    link: str
    image_links: list[str]
    brand: str

    @property
    def price(self) -> str:
        return f"{self.price_idr} IDR"


def _plain(text: str) -> str:
    # The channels show descriptions as plain text; a tag typed by hand would show literally.
    return Markup(text).striptags()  # noqa: S704 - gives plain text, never marked safe


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "\u2026"


def price_words(product: Product) -> str:
    """What the feed's single price means, said in the description: the channels know only
    a fixed price, so a starting or negotiable price must be said in words (and a product
    without a price has no amount to qualify: the feeds leave it out, a marketplace sheet
    asks for it)."""
    words = []
    priced = product.price_idr is not None
    if priced and product.price_kind == PriceKind.FROM:
        words.append(
            _(
                "Price from %(price)s; the final price depends on your choice.",
                price=format_rupiah(product.price_idr),
            )
        )
    elif priced and product.price_kind == PriceKind.NEGOTIABLE:
        words.append(_("Price %(price)s, negotiable.", price=format_rupiah(product.price_idr)))
    if product.price_note:
        words.append(_("Price %(note)s.", note=product.price_note))
    return " ".join(words)


def feed_items(
    products: list[Product],
    link: Callable[[Product], str],
    image: Callable[[Photo], str],
    description_max: int,
) -> list[FeedItem]:
    """The items of a feed, from feed_products; text in Indonesian, the markets' language."""
    items = []
    with force_locale("id"):
        for product in products:
            if gaps(product):
                continue
            vendor = product.vendor
            body = _plain(product.description) or _(
                "%(product)s from %(stall)s at %(market)s.",
                product=product.name,
                stall=vendor.business_name,
                market=vendor.market.name,
            )
            words = price_words(product)
            if words:
                body = _cut(body, description_max - len(words) - 1) + " " + words
            items.append(
                FeedItem(
                    id=feed_id(product),
                    title=product.name,
                    description=_cut(body, description_max),
                    availability=product.availability,
                    price_idr=product.price_idr,
                    link=link(product),
                    image_links=[image(photo) for photo in product.photos],
                    brand=vendor.business_name,
                )
            )
    return items


def meta_csv(items: list[FeedItem]) -> bytes:
    """Meta's data feed: UTF-8 CSV with the header row META_COLUMNS; text that a spreadsheet
    would run as a formula is neutralised, since vendors open the file to check it."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(META_COLUMNS)
    for item in items:
        row = [
            item.id,
            _cut(item.title, META_TITLE_MAX),
            item.description,
            _META_AVAILABILITY[item.availability],
            "new",
            item.price,
            item.link,
            item.image_links[0],
            item.brand,
            ",".join(item.image_links[1 : META_EXTRA_IMAGES + 1]),
        ]
        writer.writerow([neutralise(value) for value in row])
    return out.getvalue().encode("utf-8")


def _add(parent: ET.Element, name: str, text: str) -> None:
    ET.SubElement(parent, f"{{{GOOGLE_NS}}}{name}").text = text


def google_rss(items: list[FeedItem], title: str, link: str, description: str) -> bytes:
    """Google Merchant Center's RSS 2.0 feed. The goods are handmade or home-made, without
    GTIN or maker's part number, hence identifier_exists "no"."""
    rss = ET.Element("rss", version="2.0")
    channel = ET.SubElement(rss, "channel")
    ET.SubElement(channel, "title").text = title
    ET.SubElement(channel, "link").text = link
    ET.SubElement(channel, "description").text = description
    for item in items:
        entry = ET.SubElement(channel, "item")
        _add(entry, "id", item.id)
        _add(entry, "title", _cut(item.title, GOOGLE_TITLE_MAX))
        _add(entry, "description", item.description)
        _add(entry, "link", item.link)
        _add(entry, "image_link", item.image_links[0])
        for extra in item.image_links[1 : GOOGLE_EXTRA_IMAGES + 1]:
            _add(entry, "additional_image_link", extra)
        _add(entry, "availability", _GOOGLE_AVAILABILITY[item.availability])
        _add(entry, "price", item.price)
        _add(entry, "condition", "new")
        _add(entry, "brand", item.brand)
        _add(entry, "identifier_exists", "no")
    return ET.tostring(rss, encoding="utf-8", xml_declaration=True)
