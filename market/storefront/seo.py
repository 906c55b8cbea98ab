"""What search engines and link previews read: schema.org JSON-LD for markets, stalls and
products."""

from flask import url_for
from flask_babel import get_locale

from market.models import Availability, LocalText, Market, Product, Vendor
from market.web import absolute, absolute_url_for, photo_url

OG_IMAGE_WIDTH = 1200
_AVAILABILITY = {
    Availability.IN_STOCK: "https://schema.org/InStock",
    Availability.SOLD_OUT: "https://schema.org/SoldOut",
    Availability.PRE_ORDER: "https://schema.org/PreOrder",
}


def og_width(photo) -> int:
    """The variant fit for link previews: the widest up to OG_IMAGE_WIDTH."""
    fitting = [width for width in photo.variants if width <= OG_IMAGE_WIDTH] or photo.variants[:1]
    return fitting[-1]


def image_url(photo) -> str:
    return absolute(photo_url(photo, og_width(photo)))


def _address(market: Market) -> dict:
    return {
        "@type": "PostalAddress",
        "streetAddress": market.address,
        "addressLocality": market.city,
        "addressRegion": market.province,
        "addressCountry": "ID",
    }


SCHEMA_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def market_place(market: Market) -> dict:
    place = {
        "@type": "Place",
        "name": market.name,
        "url": absolute_url_for("storefront.market", market_slug=market.slug),
        "address": _address(market),
    }
    if market.latitude is not None and market.longitude is not None:
        place["geo"] = {
            "@type": "GeoCoordinates",
            "latitude": float(market.latitude),
            "longitude": float(market.longitude),
        }
    if market.weekly_hours:
        place["openingHoursSpecification"] = [
            {
                "@type": "OpeningHoursSpecification",
                "dayOfWeek": f"https://schema.org/{SCHEMA_DAYS[day]}",
                "opens": hours["opens"],
                "closes": hours["closes"],
            }
            for day, hours in enumerate(market.weekly_hours)
            if hours
        ]
    return place


def site_jsonld() -> dict:
    return {
        "@context": "https://schema.org",
        "@type": "WebSite",
        "name": "Pasar",
        "url": absolute_url_for("storefront.index"),
        "inLanguage": _locale(),
    }


def market_jsonld(market: Market) -> dict:
    place = market_place(market)
    if market.description:
        place["description"] = market.description
    if market.cover_photo:
        place["image"] = image_url(market.cover_photo)
    return {"@context": "https://schema.org", **place}


def _locale() -> str:
    return str(get_locale())


def _written(name: LocalText, description: LocalText) -> dict:
    """A record's name and description as the page shows them, with the language they are
    written in: inLanguage is the name's; a description in the other language (an English
    name above an Indonesian description) carries its own language tag."""
    data = {"name": name.text, "inLanguage": name.lang}
    if description:
        data["description"] = (
            description.text
            if description.lang == name.lang
            else {"@value": description.text, "@language": description.lang}
        )
    return data


def _store(vendor: Vendor) -> dict:
    return {
        "@type": "Store",
        "name": vendor.name_in(_locale()).text,
        "url": absolute_url_for(
            "storefront.vendor", market_slug=vendor.market.slug, vendor_slug=vendor.slug
        ),
    }


def vendor_jsonld(vendor: Vendor) -> dict:
    locale = _locale()
    store = (
        _store(vendor)
        | _written(vendor.name_in(locale), vendor.description_in(locale))
        | {
            "address": _address(vendor.market) | {"streetAddress": _street(vendor)},
            "containedInPlace": market_place(vendor.market),
        }
    )
    if vendor.photos:
        store["image"] = [image_url(photo) for photo in vendor.photos]
    if vendor.opening_hours:
        store["openingHours"] = vendor.opening_hours
    return {"@context": "https://schema.org", **store}


def _street(vendor: Vendor) -> str:
    parts = [vendor.market.name, vendor.stall_label, vendor.market.address]
    return ", ".join(part for part in parts if part)


def product_jsonld(product: Product) -> dict:
    vendor = product.vendor
    url = absolute(
        url_for(
            "storefront.product",
            market_slug=vendor.market.slug,
            vendor_slug=vendor.slug,
            product_slug=product.slug,
        )
    )
    locale = _locale()
    data = {
        "@context": "https://schema.org",
        "@type": "Product",
        **_written(product.name_in(locale), product.description_in(locale)),
        "url": url,
        "brand": {"@type": "Brand", "name": vendor.name_in(locale).text},
    }
    if product.photos:
        data["image"] = [image_url(photo) for photo in product.photos]
    if product.categories:
        data["category"] = product.categories[0].name_for(locale)
    if product.material:
        data["material"] = product.material
    if product.price_idr is not None:
        data["offers"] = {
            "@type": "Offer",
            "price": product.price_idr,
            "priceCurrency": "IDR",
            "availability": _AVAILABILITY[product.availability],
            "url": url,
            "seller": _store(vendor),
        }
    return data
