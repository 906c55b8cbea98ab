"""The OpenAPI 3.1 description of the read-only API, as data (served at /api/openapi.json).

tests/test_api.py checks that its paths are exactly the routes of the api blueprint and that
every response validates against these schemas.
"""

from market.text import CONTROL_RANGES
from market.web import MAX_PAGE


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _nullable(schema: dict) -> dict:
    return {"oneOf": [schema, {"type": "null"}]}


_STRING = {"type": "string"}
# Addresses and queries never hold a control character (market.text): 404 in a path, 400 in
# a query.
_TEXT = {"type": "string", "pattern": f"^[^{CONTROL_RANGES}]*$"}
_ERRORS = {
    "304": {"description": "Not modified since the ETag given in If-None-Match."},
    "404": _json(_ref("Error"), "No such public record (or page)."),
}


def _path(name: str, description: str) -> dict:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "schema": _TEXT,
        "description": description,
    }


def _query(name: str, schema: dict, description: str) -> dict:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": schema,
        "description": description,
    }


MARKET = _path("market_slug", "The market, e.g. pasar-inpres-kebun-sayur.")
VENDOR = _path("vendor_slug", "The stall, unique within its market.")
PRODUCT = _path("product_slug", "The product, unique within its stall.")
PAGING = [
    _query(
        "page", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 1}, "Page number."
    ),
    _query(
        "per_page",
        {"type": "integer", "minimum": 1, "maximum": 100, "default": 24},
        "Items per page.",
    ),
]
SEARCH = _query(
    "q",
    _TEXT,
    "Search words (prefixes; case and accents ignored; category names in Indonesian and "
    "English match). With q, the best matches come back on one page, at most 20.",
)
CATEGORY = _query("category", _TEXT, "Only this category (its slug, e.g. makanan).")


def _listing(item: str) -> dict:
    link = _nullable({"type": "string", "format": "uri"})
    return {
        "type": "object",
        "required": ["items", "page", "per_page", "total", "pages", "next", "prev"],
        "additionalProperties": False,
        "properties": {
            "items": {"type": "array", "items": _ref(item)},
            "page": {"type": "integer", "minimum": 1},
            "per_page": {"type": "integer", "minimum": 1},
            "total": {"type": "integer", "minimum": 0},
            "pages": {"type": "integer", "minimum": 1},
            "next": link,
            "prev": link,
        },
    }


def _object(properties: dict, optional: tuple = ()) -> dict:
    return {
        "type": "object",
        "required": [name for name in properties if name not in optional],
        "additionalProperties": False,
        "properties": properties,
    }


_URI = {"type": "string", "format": "uri"}
_CLOCK = {"type": "string", "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9]$"}
_ENGLISH = {
    "type": "string",
    "description": "Written in English by a person; empty when nobody has (use the Indonesian).",
}
_NUMBER_OR_NULL = _nullable({"type": "number"})

SCHEMAS = {
    "Error": _object({"error": _STRING, "message": _STRING}),
    "Photo": _object(
        {
            "url": _URI,
            "alt": _STRING,
            "width": {"type": "integer"},
            "height": {"type": "integer"},
            "srcset": {
                "type": "array",
                "items": _object({"width": {"type": "integer"}, "url": _URI}),
            },
        }
    ),
    "Category": _object({"slug": _STRING, "name_id": _STRING, "name_en": _STRING}),
    "Market": _object(
        {
            "slug": _STRING,
            "name": _STRING,
            "city": _STRING,
            "province": _STRING,
            "address": _STRING,
            "description": _STRING,
            "opening_hours": {**_STRING, "description": "A note in words, e.g. on holidays."},
            "weekly_hours": {
                **_nullable(
                    {
                        "type": "array",
                        "minItems": 7,
                        "maxItems": 7,
                        "items": _nullable(_object({"opens": _CLOCK, "closes": _CLOCK})),
                    }
                ),
                "description": (
                    "Opening hours per day, Monday first, in the market's time zone; null for "
                    "a day it is closed. Null when the market has not given them."
                ),
            },
            "timezone": {**_STRING, "description": "IANA time zone, e.g. Asia/Makassar."},
            "open_now": {
                **_nullable({"type": "boolean"}),
                "description": "Whether it is open as the response is made; null without hours.",
            },
            "open_now_changes_at": {
                **_nullable({"type": "string", "format": "date-time"}),
                "description": (
                    "When it next opens or closes (the response expires then); null when "
                    "that never happens."
                ),
            },
            "latitude": _NUMBER_OR_NULL,
            "longitude": _NUMBER_OR_NULL,
            "cover_photo": _nullable(_ref("Photo")),
            "url": _URI,
            "vendors": {"type": "integer", "description": "Public stalls (in listings)."},
            "products": {"type": "integer", "description": "Public products (in listings)."},
            "categories": {
                "type": "array",
                "items": _ref("Category"),
                "description": "Categories of its stalls (in the market itself).",
            },
        },
        optional=("vendors", "products", "categories"),
    ),
    "Vendor": _object(
        {
            "slug": _STRING,
            "market": _STRING,
            "name": _STRING,
            "name_en": _ENGLISH,
            "stall": _object({"block": _STRING, "number": _STRING, "label": _STRING}),
            "description": _STRING,
            "description_en": _ENGLISH,
            "opening_hours": _STRING,
            "categories": {"type": "array", "items": _ref("Category")},
            "photos": {"type": "array", "items": _ref("Photo")},
            "url": {**_URI, "description": "The stall's page, with its WhatsApp button."},
            "products_url": _URI,
        }
    ),
    "Product": _object(
        {
            "slug": _STRING,
            "vendor": _STRING,
            "market": _STRING,
            "name": _STRING,
            "name_en": _ENGLISH,
            "description": _STRING,
            "description_en": _ENGLISH,
            "price_idr": _nullable({"type": "integer", "minimum": 0}),
            "price_kind": {"enum": ["fixed", "from", "negotiable"]},
            "price_note": _STRING,
            "availability": {"enum": ["in_stock", "sold_out", "pre_order"]},
            "halal": {"type": "boolean"},
            "permit_number": _STRING,
            "material": _STRING,
            "photos": {"type": "array", "items": _ref("Photo")},
            "url": _URI,
            "categories": {"type": "array", "items": _ref("Category")},
        },
        optional=("categories",),
    ),
    "MarketList": _listing("Market"),
    "VendorList": _listing("Vendor"),
    "ProductList": _listing("Product"),
}


def _get(summary: str, schema: str, parameters: list, errors: tuple = ("304", "404")) -> dict:
    responses = {"200": _json(_ref(schema), summary)}
    responses |= {code: _ERRORS[code] for code in errors}
    # Also where no parameter is documented: any query holding a control character is refused.
    responses["400"] = _json(
        _ref("Error"), "A query parameter is out of range or holds a control character."
    )
    return {"get": {"summary": summary, "parameters": parameters, "responses": responses}}


DOCUMENT = {
    "openapi": "3.1.0",
    "info": {
        "title": "Pasar public catalogue",
        "version": "1.0.0",
        "description": (
            "Read-only JSON over the public stalls and products of traditional markets. "
            "Only published stalls with the vendor's consent, and their live products, appear. "
            "Responses carry a weak ETag (send it back in If-None-Match for a 304) and may be "
            "cached for a minute. CORS is open. To contact a vendor, send people to the stall's "
            "url: its WhatsApp button opens the chat."
        ),
    },
    "servers": [{"url": "/api"}],
    "paths": {
        "/openapi.json": {
            "get": {
                "summary": "This document.",
                "responses": {"200": {"description": "The OpenAPI document."}},
            }
        },
        "/v1/markets": _get("Published markets.", "MarketList", PAGING),
        "/v1/markets/{market_slug}": _get("One market.", "Market", [MARKET]),
        "/v1/markets/{market_slug}/vendors": _get(
            "A market's stalls, in walking order.",
            "VendorList",
            [MARKET, *PAGING, SEARCH, CATEGORY],
        ),
        "/v1/markets/{market_slug}/vendors/{vendor_slug}": _get(
            "One stall.", "Vendor", [MARKET, VENDOR]
        ),
        "/v1/markets/{market_slug}/products": _get(
            "A market's products, by stall.",
            "ProductList",
            [
                MARKET,
                *PAGING,
                SEARCH,
                CATEGORY,
                _query("vendor", _TEXT, "Only this stall (its slug)."),
            ],
        ),
        "/v1/markets/{market_slug}/vendors/{vendor_slug}/products/{product_slug}": _get(
            "One product.", "Product", [MARKET, VENDOR, PRODUCT]
        ),
    },
    "components": {"schemas": SCHEMAS},
}
