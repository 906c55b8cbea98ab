"""Read-only JSON API over the public catalogue (described by /api/openapi.json).

The same visibility rules as the pages (services.public), CORS open for GET, and the same
conditional GET: a weak ETag from the data's version and a short public Cache-Control.
"""

import re
from datetime import datetime

from flask import Blueprint, Response, abort, jsonify, request

from market.api.openapi import DOCUMENT
from market.extensions import csrf
from market.models import Category, Market, Photo, Product, Vendor, utcnow
from market.pagecache import cached_page
from market.services import hours, public, search
from market.services.errors import NotFound
from market.web import MAX_PAGE, absolute, absolute_url_for, photo_url

bp = Blueprint("api", __name__, url_prefix="/api")
csrf.exempt(bp)

DEFAULT_PER_PAGE = 24
PAGING = (("page", 1), ("per_page", DEFAULT_PER_PAGE))
DIGITS = re.compile(r"[0-9]{1,12}")


@bp.after_request
def _cors(response):
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Access-Control-Expose-Headers"] = "ETag"
    return response


def _found(value):
    return value if value is not None else abort(404, "No such public record.")


def _paging() -> tuple[int, int]:
    # Junk is refused rather than read as the default, as the document promises integers.
    page, per_page = (request.args.get(name, str(default)) for name, default in PAGING)
    if not (DIGITS.fullmatch(page) and DIGITS.fullmatch(per_page)):
        abort(400, "page and per_page must be whole numbers.")
    page, per_page = int(page), int(per_page)
    if not 1 <= page <= MAX_PAGE or not 1 <= per_page <= public.MAX_PER_PAGE:
        abort(
            400,
            f"page must be between 1 and {MAX_PAGE}, per_page between 1 and {public.MAX_PER_PAGE}.",
        )
    return page, per_page


def _listing(items: list[dict], page: public.Page) -> dict:
    def link(number: int) -> str:
        args = request.args.to_dict() | {"page": number}
        return absolute_url_for(request.endpoint, **request.view_args, **args)

    return {
        "items": items,
        "page": page.page,
        "per_page": page.per_page,
        "total": page.total,
        "pages": page.pages,
        "next": link(page.next_num) if page.has_next else None,
        "prev": link(page.prev_num) if page.has_prev else None,
    }


def _photo(photo: Photo) -> dict:
    return {
        "url": absolute(photo_url(photo, photo.variants[-1])),
        "alt": photo.alt_text,
        "width": photo.variants[-1],
        "height": photo.height_for(photo.variants[-1]),
        "srcset": [{"width": w, "url": absolute(photo_url(photo, w))} for w in photo.variants],
    }


def _category(category: Category) -> dict:
    return {"slug": category.slug, "name_id": category.name_id, "name_en": category.name_en}


def _market(
    market: Market, now: datetime, vendors: int | None = None, products: int | None = None
) -> dict:
    state = hours.open_state(market.weekly_hours, market.timezone, now)
    data = {
        "slug": market.slug,
        "name": market.name,
        "city": market.city,
        "province": market.province,
        "address": market.address,
        "description": market.description,
        "opening_hours": market.opening_hours,
        "weekly_hours": market.weekly_hours,
        "timezone": market.timezone,
        "open_now": state.open if state else None,
        "open_now_changes_at": (
            state.changes_at.isoformat() if state and state.changes_at else None
        ),
        "latitude": float(market.latitude) if market.latitude is not None else None,
        "longitude": float(market.longitude) if market.longitude is not None else None,
        "cover_photo": _photo(market.cover_photo) if market.cover_photo else None,
        "url": absolute_url_for("storefront.market", market_slug=market.slug),
    }
    if vendors is not None:
        data |= {"vendors": vendors, "products": products}
    return data


def _vendor(vendor: Vendor) -> dict:
    market = vendor.market
    return {
        "slug": vendor.slug,
        "market": market.slug,
        "name": vendor.business_name,
        "name_en": vendor.name_en,
        "stall": {
            "block": vendor.stall_block,
            "number": vendor.stall_number,
            "label": vendor.stall_label,
        },
        "description": vendor.description,
        "description_en": vendor.description_en,
        "opening_hours": vendor.opening_hours,
        "categories": [_category(c) for c in vendor.categories],
        "photos": [_photo(p) for p in vendor.photos],
        "url": absolute_url_for(
            "storefront.vendor", market_slug=market.slug, vendor_slug=vendor.slug
        ),
        "products_url": absolute_url_for(
            "api.products", market_slug=market.slug, vendor=vendor.slug
        ),
    }


def _product(product: Product, *, detail: bool = False) -> dict:
    vendor = product.vendor
    data = {
        "slug": product.slug,
        "vendor": vendor.slug,
        "market": vendor.market.slug,
        "name": product.name,
        "name_en": product.name_en,
        "description": product.description,
        "description_en": product.description_en,
        "price_idr": product.price_idr,
        "price_kind": product.price_kind.value,
        "price_note": product.price_note,
        "availability": product.availability.value,
        "halal": product.halal,
        "permit_number": product.permit_number,
        "material": product.material,
        "photos": [_photo(p) for p in product.photos],
        "url": absolute_url_for(
            "storefront.product",
            market_slug=vendor.market.slug,
            vendor_slug=vendor.slug,
            product_slug=product.slug,
        ),
    }
    if detail:
        data["categories"] = [_category(c) for c in product.categories]
    return data


def _until_a_market_opens_or_closes(body: dict, markets: list[dict]) -> Response:
    """The response, expiring when the first of these markets opens or closes: "open_now"
    must not outlive that in any cache (market.pagecache.cached_page reads the expiry)."""
    response = jsonify(body)
    changes = [m["open_now_changes_at"] for m in markets if m["open_now_changes_at"]]
    if changes:
        response.expires = min(datetime.fromisoformat(moment) for moment in changes)
    return response


@bp.route("/openapi.json")
def openapi():
    return DOCUMENT


@bp.route("/v1/markets")
@cached_page
def markets():
    page, per_page = _paging()
    everything = public.published_markets()
    chosen = everything[(page - 1) * per_page : page * per_page]
    if not chosen and page > 1:
        abort(404, "No such page.")
    listing = public.Page(chosen, page, per_page, len(everything))
    now = utcnow()
    items = [_market(m, now, v, p) for m, v, p in chosen]
    return _until_a_market_opens_or_closes(_listing(items, listing), items)


@bp.route("/v1/markets/<market_slug>")
@cached_page
def market(market_slug: str):
    market = _found(public.find_market(market_slug))
    categories = [_category(c) for c, here in public.market_categories(market) if here]
    data = _market(market, utcnow()) | {"categories": categories}
    return _until_a_market_opens_or_closes(data, [data])


@bp.route("/v1/markets/<market_slug>/vendors")
@cached_page
def vendors(market_slug: str):
    market = _found(public.find_market(market_slug))
    page, per_page = _paging()
    query = request.args.get("q", "").strip()
    if query:
        found = search.search_market(market, query, per_page).vendors
        return _listing([_vendor(v) for v in found], public.Page(found, 1, per_page, len(found)))
    try:
        listing = public.market_vendors(market, request.args.get("category"), page, per_page)
    except NotFound:
        abort(404, "No such category or page.")
    return _listing([_vendor(v) for v in listing.items], listing)


@bp.route("/v1/markets/<market_slug>/vendors/<vendor_slug>")
@cached_page
def vendor(market_slug: str, vendor_slug: str):
    vendor = _found(public.find_vendor(market_slug, vendor_slug))
    public.vendor_details(vendor)
    return _vendor(vendor)


@bp.route("/v1/markets/<market_slug>/products")
@cached_page
def products(market_slug: str):
    market = _found(public.find_market(market_slug))
    page, per_page = _paging()
    query = request.args.get("q", "").strip()
    if query:
        found = search.search_market(market, query, per_page, stalls=False).products
        return _listing([_product(p) for p in found], public.Page(found, 1, per_page, len(found)))
    try:
        listing = public.market_products(
            market, request.args.get("category"), request.args.get("vendor"), page, per_page
        )
    except NotFound:
        abort(404, "No such category, vendor or page.")
    return _listing([_product(p) for p in listing.items], listing)


@bp.route("/v1/markets/<market_slug>/vendors/<vendor_slug>/products/<product_slug>")
@cached_page
def product(market_slug: str, vendor_slug: str, product_slug: str):
    product = _found(public.find_product(market_slug, vendor_slug, product_slug))
    public.product_page(product, more=0)
    return _product(product, detail=True)
