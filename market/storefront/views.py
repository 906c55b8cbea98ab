"""Public pages: markets, a market's storefront, stalls, products, search, the WhatsApp redirect,
sitemaps and robots.txt, QR codes and the printable kit; and the photo files."""

import math
from datetime import date

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    send_from_directory,
    url_for,
)
from flask_limiter.util import get_remote_address
from flask_login import current_user
from limits import parse as parse_limit

from market.extensions import csrf, limiter
from market.models import Availability
from market.pagecache import cached_page
from market.permissions import can_manage_market
from market.qr import qr_svg
from market.services import contacts, feeds, public, search
from market.services.errors import NotFound
from market.storefront import printing, seo
from market.web import absolute_url_for, channel_image_url, page_number

bp = Blueprint("storefront", __name__)

VENDORS_PER_PAGE = 24
PRODUCTS_PER_PAGE = 48
SITEMAP_SIZE = 10_000
# Per visitor, stall and product: enough for anyone who really wants to chat, and a tap
# beyond it still opens WhatsApp - it just is not counted.
WHATSAPP_COUNT_LIMIT = parse_limit("10/hour")
# The search filter's words for availability (sold-out goods are not something to look for).
STOCK_CHOICES = {"ada": Availability.IN_STOCK, "pre-order": Availability.PRE_ORDER}
# Photo files: WebP variants for the pages, the JPEG master for feeds and marketplaces.
MEDIA_TYPES = {"webp": "image/webp", "jpg": "image/jpeg"}


def _found(value):
    return value if value is not None else abort(404)


@bp.route("/")
@cached_page
def index():
    return render_template(
        "storefront/index.html",
        markets=public.published_markets(),
        known_for=public.top_categories(),
        jsonld=seo.site_jsonld(),
    )


@bp.route("/pasar/<market_slug>/")
@cached_page
def market(market_slug: str):
    market = _found(public.find_market(market_slug))
    try:
        page = public.market_page(
            market,
            request.args.get("kategori"),
            page_number(),
            VENDORS_PER_PAGE,
            request.args.get("blok") or None,
        )
    except NotFound:
        abort(404)
    return render_template(
        "storefront/market.html", market=market, page=page, jsonld=seo.market_jsonld(market)
    )


@bp.route("/pasar/<market_slug>/lapak/<vendor_slug>/")
@cached_page
def vendor(market_slug: str, vendor_slug: str):
    vendor = _found(public.find_vendor(market_slug, vendor_slug))
    try:
        page = public.vendor_page(vendor, page_number(), PRODUCTS_PER_PAGE)
    except NotFound:
        abort(404)
    return render_template(
        "storefront/vendor.html",
        market=vendor.market,
        vendor=vendor,
        page=page,
        jsonld=seo.vendor_jsonld(vendor),
    )


@bp.route("/pasar/<market_slug>/lapak/<vendor_slug>/<product_slug>")
@cached_page
def product(market_slug: str, vendor_slug: str, product_slug: str):
    product = _found(public.find_product(market_slug, vendor_slug, product_slug))
    return render_template(
        "storefront/product.html",
        market=product.vendor.market,
        vendor=product.vendor,
        product=product,
        page=public.product_page(product),
        jsonld=seo.product_jsonld(product),
    )


def _price(name: str) -> int | None:
    value = request.args.get(name, "").replace(".", "").strip()
    return int(value) if value.isdigit() and len(value) <= 10 else None


def _search_filters(categories, markets=()) -> search.Filters:
    """The search page's filters from the query string; anything unknown is ignored."""
    category = next((c for c in categories if c.slug == request.args.get("kategori")), None)
    market = next((m for m in markets if m.slug == request.args.get("pasar")), None)
    try:
        sort = search.Sort(request.args.get("urut", search.Sort.RELEVANCE))
    except ValueError:
        sort = search.Sort.RELEVANCE
    return search.Filters(
        category=category,
        price_min=_price("harga_min"),
        price_max=_price("harga_max"),
        availability=STOCK_CHOICES.get(request.args.get("stok", "")),
        halal=request.args.get("halal") == "1",
        market=market,
        sort=sort,
    )


def _render_search(market, markets, categories, result_of):
    query = request.args.get("q", "").strip()[:200]
    filters = _search_filters([c for c, _ in categories], markets)
    return render_template(
        "storefront/search.html",
        market=market,
        markets=markets,
        query=query,
        filters=filters,
        result=result_of(query, filters),
        categories=categories,
        stock_choices=STOCK_CHOICES,
    )


@bp.route("/pasar/<market_slug>/cari")
@cached_page
def search_page(market_slug: str):
    market = _found(public.find_market(market_slug))
    categories = public.market_categories(market)
    return _render_search(
        market,
        [],
        categories,
        lambda query, filters: search.search_market(
            market, query, filters=filters, categories=[c for c, _ in categories]
        ),
    )


@bp.route("/cari")
@cached_page
def city_search():
    """Search across every published market, results labelled with their market."""
    categories = public.market_categories(None)
    return _render_search(
        None,
        public.market_choices(),
        categories,
        lambda query, filters: search.search_city(
            query, filters=filters, categories=[c for c, _ in categories]
        ),
    )


@bp.route("/pasar/<market_slug>/sebelah/<vendor_slug>/<any(sebelumnya, berikutnya):direction>")
def walk(market_slug: str, vendor_slug: str, direction: str):
    """The stall before or after this one in walking order; at either end of the market, its
    directory of the stall's block."""
    step = _found(
        public.walk_from(market_slug, vendor_slug, 1 if direction == "berikutnya" else -1)
    )
    if step.neighbour_slug is None:
        target = url_for(
            "storefront.market", market_slug=market_slug, blok=step.stall_block or None
        )
    else:
        target = url_for(
            "storefront.vendor", market_slug=market_slug, vendor_slug=step.neighbour_slug
        )
    response = redirect(target)
    # Where it leads changes whenever a stall opens or is hidden; it is one cheap query.
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


@bp.post("/pasar/<market_slug>/lapak/<vendor_slug>/wa")
@bp.post("/pasar/<market_slug>/lapak/<vendor_slug>/<product_slug>/wa")
@csrf.exempt
def whatsapp(market_slug: str, vendor_slug: str, product_slug: str | None = None):
    """Count a shopper's tap (nothing about them is kept) and send them on to the chat.

    A POST, so link prefetchers and crawlers do not count; no CSRF token, because the only
    effect is an anonymous counter and the pages that carry the button are cached for all."""
    if product_slug is None:
        vendor = _found(public.find_vendor(market_slug, vendor_slug))
        product = None
        page_url = absolute_url_for(
            "storefront.vendor", market_slug=market_slug, vendor_slug=vendor_slug
        )
    else:
        product = _found(public.find_product(market_slug, vendor_slug, product_slug))
        vendor = product.vendor
        page_url = absolute_url_for(
            "storefront.product",
            market_slug=market_slug,
            vendor_slug=vendor_slug,
            product_slug=product_slug,
        )
    try:
        target = public.whatsapp_url(vendor, product, page_url)
    except NotFound:
        abort(404)
    key = f"{get_remote_address()}/{vendor.id}/{product.id if product else '-'}"
    if limiter.limiter.hit(WHATSAPP_COUNT_LIMIT, "whatsapp", key):
        contacts.record_click(vendor, product)
    response = redirect(target, code=303)
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


# --- search engines -----------------------------------------------------------------------


@bp.route("/sitemap.xml")
@cached_page
def sitemap():
    """A sitemap index: the markets, then each market's stalls and products in files of at
    most SITEMAP_SIZE addresses, so a catalogue of any size stays within the protocol."""
    parts = [url_for("storefront.sitemap_markets")]
    for market, vendors, products in public.published_markets():
        for kind, count in (("lapak", vendors), ("produk", products)):
            for number in range(1, math.ceil(count / SITEMAP_SIZE) + 1):
                parts.append(
                    url_for(
                        "storefront.sitemap_part",
                        market_slug=market.slug,
                        kind=kind,
                        number=number,
                    )
                )
    return _xml(render_template("storefront/sitemap_index.xml", parts=parts))


@bp.route("/sitemap/pasar.xml")
@cached_page
def sitemap_markets():
    urls = [(url_for("storefront.index"), None)] + [
        (url_for("storefront.market", market_slug=market.slug), market.updated_at)
        for market, _vendors, _products in public.published_markets()
    ]
    return _xml(render_template("storefront/sitemap.xml", urls=urls))


@bp.route("/sitemap/<market_slug>/<any(lapak, produk):kind>-<int:number>.xml")
@cached_page
def sitemap_part(market_slug: str, kind: str, number: int):
    market = _found(public.find_market(market_slug))
    if number < 1:
        abort(404)
    if kind == "lapak":
        urls = [
            (
                url_for("storefront.vendor", market_slug=market.slug, vendor_slug=vendor.slug),
                vendor.updated_at,
            )
            for vendor in public.sitemap_vendors(market, number, SITEMAP_SIZE)
        ]
    else:
        urls = [
            (
                url_for(
                    "storefront.product",
                    market_slug=market.slug,
                    vendor_slug=product.vendor.slug,
                    product_slug=product.slug,
                ),
                product.updated_at,
            )
            for product in public.sitemap_products(market, number, SITEMAP_SIZE)
        ]
    if not urls:
        abort(404)
    return _xml(render_template("storefront/sitemap.xml", urls=urls))


def _xml(body: str) -> Response:
    return Response(body, mimetype="text/xml")


@bp.route("/robots.txt")
def robots():
    body = render_template("storefront/robots.txt", sitemap=absolute_url_for("storefront.sitemap"))
    response = Response(body, mimetype="text/plain")
    response.cache_control.public = True
    response.cache_control.max_age = 3600
    return response


# --- product feeds for the shopping channels ------------------------------------------------


def _feed_items(market_slug: str, vendor_slug: str | None, description_max: int):
    """The market's (or stall's) feed items, its public page and its name."""
    if vendor_slug is None:
        market, vendor = _found(public.find_market(market_slug)), None
        page = absolute_url_for("storefront.market", market_slug=market_slug)
        name = market.name
    else:
        vendor = _found(public.find_vendor(market_slug, vendor_slug))
        market = vendor.market
        page = absolute_url_for(
            "storefront.vendor", market_slug=market_slug, vendor_slug=vendor_slug
        )
        name = f"{vendor.business_name} — {market.name}"
    items = feeds.feed_items(
        feeds.feed_products(market, vendor),
        lambda product: absolute_url_for(
            "storefront.product",
            market_slug=market_slug,
            vendor_slug=product.vendor.slug,
            product_slug=product.slug,
        ),
        channel_image_url,
        description_max,
    )
    return items, page, name


@bp.route("/pasar/<market_slug>/feed/meta.csv")
@bp.route("/pasar/<market_slug>/lapak/<vendor_slug>/feed/meta.csv")
@cached_page
def meta_feed(market_slug: str, vendor_slug: str | None = None):
    """Meta's commerce catalogue data feed (WhatsApp Business, Instagram, Facebook)."""
    items, _page, _name = _feed_items(market_slug, vendor_slug, feeds.META_DESCRIPTION_MAX)
    return Response(feeds.meta_csv(items), mimetype="text/csv")


@bp.route("/pasar/<market_slug>/feed/google.xml")
@bp.route("/pasar/<market_slug>/lapak/<vendor_slug>/feed/google.xml")
@cached_page
def google_feed(market_slug: str, vendor_slug: str | None = None):
    """Google Merchant Center's product feed."""
    items, page, name = _feed_items(market_slug, vendor_slug, feeds.GOOGLE_DESCRIPTION_MAX)
    return _xml(feeds.google_rss(items, name, page, name))


# --- QR codes and the printable kit --------------------------------------------------------


@bp.route("/pasar/<market_slug>/qr.svg")
@bp.route("/pasar/<market_slug>/lapak/<vendor_slug>/qr.svg")
@bp.route("/pasar/<market_slug>/lapak/<vendor_slug>/<product_slug>/qr.svg")
def qr(market_slug: str, vendor_slug: str | None = None, product_slug: str | None = None):
    """The QR code of a market, stall or product page, as an SVG file to download or print."""
    if product_slug is not None:
        _found(public.find_product(market_slug, vendor_slug, product_slug))
        target = absolute_url_for(
            "storefront.product",
            market_slug=market_slug,
            vendor_slug=vendor_slug,
            product_slug=product_slug,
        )
    elif vendor_slug is not None:
        _found(public.find_vendor(market_slug, vendor_slug))
        target = absolute_url_for(
            "storefront.vendor", market_slug=market_slug, vendor_slug=vendor_slug
        )
    else:
        _found(public.find_market(market_slug))
        target = absolute_url_for("storefront.market", market_slug=market_slug)
    svg = qr_svg(target)
    body = str(svg).replace("<svg ", '<svg xmlns="http://www.w3.org/2000/svg" ', 1)
    response = Response(body, mimetype="image/svg+xml")
    response.cache_control.public = True
    response.cache_control.max_age = 86400
    return response


@bp.route("/pasar/<market_slug>/lapak/<vendor_slug>/poster")
@cached_page
def poster(market_slug: str, vendor_slug: str):
    """A stall poster (A5, or A4 with ?ukuran=a4): market, stall, QR, what to do with it."""
    vendor = _found(public.find_vendor(market_slug, vendor_slug))
    size = "a4" if request.args.get("ukuran") == "a4" else "a5"
    return render_template(
        "storefront/print/poster.html", market=vendor.market, vendors=[vendor], size=size
    )


@bp.route("/pasar/<market_slug>/cetak/label/<vendor_slug>")
@cached_page
def tags(market_slug: str, vendor_slug: str):
    """Hang tags for a stall's products, several to an A4 sheet: name, price, QR."""
    vendor = _found(public.find_vendor(market_slug, vendor_slug))
    return render_template(
        "storefront/print/tags.html",
        market=vendor.market,
        vendor=vendor,
        products=printing.tag_products(vendor),
    )


@bp.route("/pasar/<market_slug>/cetak/direktori")
@cached_page
def directory(market_slug: str):
    """The market's directory poster: stalls by block and number, one QR to the storefront."""
    market = _found(public.find_market(market_slug))
    return render_template(
        "storefront/print/directory.html",
        market=market,
        blocks=printing.directory(market),
    )


@bp.route("/pasar/<market_slug>/cetak")
def print_market(market_slug: str):
    """For a market's coordinators: every stall poster of the market, or of the stalls
    registered on one day (?tanggal=YYYY-MM-DD), in one print job."""
    market = printing.get_market(market_slug)
    if market is None or not can_manage_market(current_user, market):
        abort(404)
    try:
        day = date.fromisoformat(request.args["tanggal"]) if request.args.get("tanggal") else None
    except ValueError:
        day = None
    vendors, waiting = printing.vendors_to_print(
        market, day, current_app.config["BABEL_DEFAULT_TIMEZONE"]
    )
    response = Response(
        render_template(
            "storefront/print/market.html",
            market=market,
            vendors=vendors,
            waiting=waiting,
            day=day,
            size="a4" if request.args.get("ukuran") == "a4" else "a5",
        )
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


# --- files ----------------------------------------------------------------------------------


@bp.route("/media/<path:key>")
def media(key: str):
    """Photo files of the local storage; names are content hashes, so they never change."""
    kind = MEDIA_TYPES.get(key.rsplit(".", 1)[-1])
    if not key.startswith("photos/") or kind is None:
        abort(404)
    storage = current_app.extensions["market_storage"]
    try:
        data = storage.open(key)
    except (FileNotFoundError, ValueError):
        abort(404)
    response = Response(data, mimetype=kind)
    response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@bp.route("/favicon.ico")
def favicon():
    return send_from_directory(current_app.static_folder, "favicon.ico", max_age=7 * 24 * 3600)
