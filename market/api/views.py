"""Read-only JSON API over the public catalogue."""

from flask import Blueprint, url_for

from market.extensions import csrf
from market.services import public

bp = Blueprint("api", __name__, url_prefix="/api")
csrf.exempt(bp)


@bp.after_request
def _cors(response):
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@bp.route("/v1/markets")
def markets():
    return {
        "items": [
            {
                "slug": market.slug,
                "name": market.name,
                "city": market.city,
                "province": market.province,
                "vendors": vendors,
                "products": products,
                "url": url_for("storefront.market", market_slug=market.slug, _external=True),
            }
            for market, vendors, products in public.published_markets()
        ]
    }
