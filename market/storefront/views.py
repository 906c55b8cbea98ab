"""Public pages: markets, a market's storefront, vendors; photo files; robots.txt."""

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    render_template,
    request,
    send_from_directory,
)

from market.extensions import db
from market.services import public

bp = Blueprint("storefront", __name__)

VENDORS_PER_PAGE = 24


@bp.route("/")
def index():
    return render_template("storefront/index.html", markets=public.published_markets())


@bp.route("/pasar/<market_slug>/")
def market(market_slug: str):
    market = public.get_public_market(market_slug) or abort(404)
    category = None
    if request.args.get("kategori"):
        category = public.get_category(request.args["kategori"]) or abort(404)
    vendors = db.paginate(
        public.public_vendors_query(market, category),
        per_page=VENDORS_PER_PAGE,
        max_per_page=VENDORS_PER_PAGE,
        count=True,
    )
    return render_template(
        "storefront/market.html",
        market=market,
        vendors=vendors,
        category=category,
        categories=public.categories_in_market(market),
    )


@bp.route("/pasar/<market_slug>/lapak/<vendor_slug>/")
def vendor(market_slug: str, vendor_slug: str):
    market = public.get_public_market(market_slug) or abort(404)
    vendor = public.get_public_vendor(market, vendor_slug) or abort(404)
    return render_template("storefront/vendor.html", market=market, vendor=vendor)


@bp.route("/media/<path:key>")
def media(key: str):
    """Photo files of the local storage; names are content hashes, so they never change."""
    if not key.startswith("photos/") or not key.endswith(".webp"):
        abort(404)
    storage = current_app.extensions["market_storage"]
    try:
        data = storage.open(key)
    except (FileNotFoundError, ValueError):
        abort(404)
    response = Response(data, mimetype="image/webp")
    response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@bp.route("/favicon.ico")
def favicon():
    return send_from_directory(current_app.static_folder, "favicon.ico", max_age=7 * 24 * 3600)


@bp.route("/robots.txt")
def robots():
    body = "User-agent: *\nDisallow: /manage/\nDisallow: /admin/\nDisallow: /auth/\n"
    return Response(body, mimetype="text/plain")
