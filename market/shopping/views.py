"""The shopper's list: showing it, adding to it from a product or stall page, changing
quantities, and sending one stall its order on WhatsApp. The list lives in a cookie of the
shopper's browser (product ids and quantities, signed), so it needs no account; every answer
here is private, since it shows that one browser's list."""

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_limiter.util import get_remote_address

from market.extensions import csrf, limiter
from market.models import Market
from market.pagecache import PRIVATE
from market.services import contacts, public, shopping_list
from market.services.errors import Invalid
from market.shopping.forms import AddForm, quantities_form, quantity_field
from market.storefront.views import WHATSAPP_COUNT_LIMIT
from market.web import absolute_url_for, sent_from_this_site

bp = Blueprint("shopping", __name__, url_prefix="/pasar/<market_slug>/daftar")
# The add form sits on pages cached for everyone, which cannot hold a per-visitor token;
# the browser's word on where a post came from stands in for it (before_request below).
csrf.exempt(bp)

COOKIE = "daftar"
COOKIE_DAYS = 30


@bp.before_request
def _refuse_other_sites():
    if request.method == "POST" and not sent_from_this_site():
        abort(403)


def _market(slug: str) -> Market:
    market = public.find_market(slug)
    return market if market is not None else abort(404)


def _items() -> shopping_list.Items:
    return shopping_list.decode(request.cookies.get(COOKIE), current_app.secret_key)


def _answer(response: Response, market: Market, items: shopping_list.Items | None) -> Response:
    """Keep ``items`` in the browser (None: leave the list as it is); never shareable."""
    path = url_for("shopping.show", market_slug=market.slug)
    if items:
        response.set_cookie(
            COOKIE,
            shopping_list.encode(items, current_app.secret_key),
            max_age=COOKIE_DAYS * 24 * 3600,
            path=path,
            samesite="Lax",
            secure=current_app.config["SESSION_COOKIE_SECURE"],
            httponly=True,
        )
    elif items is not None:
        response.delete_cookie(COOKIE, path=path)
    response.headers["Cache-Control"] = PRIVATE
    response.headers["X-Robots-Tag"] = "noindex"
    return response


def _page(market, shopping, *, status=200, form=None, add=None, problem=None) -> Response:
    return make_response(
        render_template(
            "shopping/list.html",
            market=market,
            shopping=shopping,
            form=form or quantities_form(shopping.items),
            quantity_field=quantity_field,
            added=request.args.get("ditambah", type=int),
            add=add,
            problem=problem,
        ),
        status,
    )


@bp.get("/")
def show(market_slug: str):
    market = _market(market_slug)
    shopping = shopping_list.load(market, _items())
    response = _page(market, shopping)
    # Goods that left the market are dropped from the browser too, once they were announced.
    return _answer(response, market, shopping.items if shopping.dropped else None)


@bp.post("/tambah")
def add(market_slug: str):
    market = _market(market_slug)
    form = AddForm()
    offered = shopping_list.load(market, {form.produk.data: 1} if form.produk.data else {})
    if not offered.orders:
        abort(404)
    product = offered.orders[0].lines[0].product
    items = _items()
    shopping = shopping_list.load(market, items)
    if not form.validate():
        return _answer(_page(market, shopping, status=422, add=(product, form)), market, None)
    try:
        items = shopping_list.add(shopping.items, product.id, form.jumlah.data)
    except Invalid as error:
        return _answer(_page(market, shopping, status=422, problem=str(error)), market, None)
    target = url_for("shopping.show", market_slug=market.slug, ditambah=product.id)
    return _answer(redirect(target, code=303), market, items)


def _typed(market: Market):
    """The list with the quantities posted (a stall's part of the list page); None and the
    page to answer with when one of them is refused."""
    shopping = shopping_list.load(market, _items())
    form = quantities_form(shopping.items)
    if not form.validate():
        return shopping, _answer(_page(market, shopping, status=422, form=form), market, None)
    typed = {p: form[quantity_field(p)].data for p in shopping.items}
    return shopping_list.load(market, typed), None


@bp.post("/ubah")
def change(market_slug: str):
    """Save typed quantities, remove one item (?hapus=) or clear the whole list."""
    market = _market(market_slug)
    target = redirect(url_for("shopping.show", market_slug=market.slug), code=303)
    if request.form.get("kosongkan"):
        return _answer(target, market, {})
    shopping, refused = _typed(market)
    if refused:
        return refused
    removed = request.form.get("hapus", type=int)
    items = {p: q for p, q in shopping.items.items() if p != removed}
    return _answer(target, market, items)


@bp.post("/kirim/<vendor_slug>")
def send(market_slug: str, vendor_slug: str):
    """Count the order (a WhatsApp contact and a list send for each product in it; nothing
    about the shopper) and open the chat with the stall, the order typed in."""
    market = _market(market_slug)
    shopping, refused = _typed(market)
    if refused:
        return refused
    order = shopping.order_for(vendor_slug)
    if order is None or not order.vendor.whatsapp:
        # The stall left the market meanwhile: the list page says what happened.
        target = url_for("shopping.show", market_slug=market.slug)
        return _answer(redirect(target, code=303), market, shopping.items)
    vendor = order.vendor
    if limiter.limiter.hit(WHATSAPP_COUNT_LIMIT, "list", f"{get_remote_address()}/{vendor.id}"):
        contacts.record_list_send(vendor, [line.product for line in order.lines])
    link = shopping_list.order_link(
        order,
        market,
        lambda product: absolute_url_for(
            "storefront.product",
            market_slug=market.slug,
            vendor_slug=vendor.slug,
            product_slug=product.slug,
        ),
    )
    return _answer(redirect(link, code=303), market, shopping.items)
