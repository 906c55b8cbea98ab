"""The shopper's list (daftar belanja): goods and quantities kept in the shopper's own browser,
one list per market, grouped by stall into one WhatsApp order each. Nothing about the shopper
is stored: the list holds product ids and quantities only."""

from collections.abc import Callable
from dataclasses import dataclass, field

from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select
from sqlalchemy.orm import contains_eager

from market.extensions import db
from market.models import Market, PriceKind, Product, Vendor
from market.services.errors import Invalid
from market.services.prices import format_rupiah, price_label
from market.services.whatsapp import chat_link

# A market visit's worth of goods; it also keeps the cookie far below browsers' 4 KB.
MAX_ITEMS = 30
MAX_QUANTITY = 99
# Longer than any list of MAX_ITEMS can be signed into: anything longer is not ours.
MAX_STORED_LENGTH = 1200
_SALT = "daftar-belanja"

Items = dict[int, int]  # product id → quantity, in the order they were added


def _signer(secret: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret, salt=_SALT)


def encode(items: Items, secret: str) -> str:
    """The list as the browser keeps it, signed so that it comes back only as we wrote it."""
    return _signer(secret).dumps([[product_id, quantity] for product_id, quantity in items.items()])


def decode(stored: str | None, secret: str) -> Items:
    """The list a browser sent back; anything unsigned, tampered or malformed reads as empty."""
    if not stored or len(stored) > MAX_STORED_LENGTH:
        return {}
    try:
        entries = _signer(secret).loads(stored)
    except BadSignature:
        return {}
    items: Items = {}
    for entry in entries[:MAX_ITEMS] if isinstance(entries, list) else ():
        if (
            isinstance(entry, list)
            and len(entry) == 2
            and all(type(value) is int for value in entry)
            and entry[0] > 0
            and 1 <= entry[1] <= MAX_QUANTITY
        ):
            items[entry[0]] = entry[1]
    return items


def add(items: Items, product_id: int, quantity: int) -> Items:
    """The list with ``quantity`` more of a product (at most MAX_QUANTITY of one thing)."""
    if product_id not in items and len(items) >= MAX_ITEMS:
        raise Invalid(
            _("Your list is full (%(max)s items): send or remove some first.", max=MAX_ITEMS)
        )
    return {**items, product_id: min(items.get(product_id, 0) + quantity, MAX_QUANTITY)}


@dataclass
class Line:
    product: Product
    quantity: int

    @property
    def subtotal(self) -> int | None:
        price = self.product.price_idr
        return None if price is None else price * self.quantity


@dataclass
class StallOrder:
    """What the shopper wants from one stall."""

    vendor: Vendor
    lines: list[Line] = field(default_factory=list)

    @property
    def total(self) -> int:
        """The sum of the prices that are known."""
        return sum(line.subtotal or 0 for line in self.lines)

    @property
    def approximate(self) -> bool:
        """Some price is a starting price, negotiable or to be asked: the total is not final."""
        return any(
            line.product.price_idr is None or line.product.price_kind != PriceKind.FIXED
            for line in self.lines
        )


@dataclass
class ShoppingList:
    orders: list[StallOrder]
    items: Items  # what is still on offer, to keep in the browser
    dropped: int  # goods no longer on offer (hidden, deleted, stall closed), now left out

    def order_for(self, vendor_slug: str) -> StallOrder | None:
        return next((o for o in self.orders if o.vendor.slug == vendor_slug), None)


def load(market: Market, items: Items) -> ShoppingList:
    """The list's goods that are still on offer in this market, by stall in the order the
    shopper first added something of theirs; one query."""
    if not items:
        return ShoppingList([], {}, 0)
    products = {
        product.id: product
        for product in db.session.scalars(
            select(Product)
            .join(Product.vendor)
            .where(
                Product.id.in_(list(items)),
                Product.is_listed,
                Vendor.market_id == market.id,
                Vendor.is_public,
            )
            .options(contains_eager(Product.vendor))
        )
    }
    orders: dict[int, StallOrder] = {}
    kept: Items = {}
    for product_id, quantity in items.items():
        product = products.get(product_id)
        if product is None:
            continue
        kept[product_id] = quantity
        order = orders.setdefault(product.vendor_id, StallOrder(product.vendor))
        order.lines.append(Line(product, quantity))
    return ShoppingList(list(orders.values()), kept, len(items) - len(kept))


def order_message(order: StallOrder, market: Market, link_of: Callable[[Product], str]) -> str:
    """The WhatsApp message of one stall's order: every item with its quantity, price and page,
    then the total, marked as a starting figure when some price is not fixed."""
    lines = [
        _(
            "Hello %(vendor)s, I would like to order from your stall at %(market)s, "
            "which I found on Pasar:",
            vendor=order.vendor.business_name,
            market=market.name,
        )
    ]
    for line in order.lines:
        lines.append(
            _(
                "- %(quantity)s × %(product)s (%(price)s)",
                quantity=line.quantity,
                product=line.product.name,
                price=price_label(line.product),
            )
        )
        lines.append(f"  {link_of(line.product)}")
    if order.approximate:
        lines.append(
            _(
                "Total at least %(total)s; please tell me the final price.",
                total=format_rupiah(order.total),
            )
        )
    else:
        lines.append(_("Total %(total)s.", total=format_rupiah(order.total)))
    lines.append(_("Is everything available?"))
    return "\n".join(lines)


def order_link(order: StallOrder, market: Market, link_of: Callable[[Product], str]) -> str:
    """The wa.me link that opens a chat with the stall, the order typed in."""
    return chat_link(order.vendor.whatsapp, order_message(order, market, link_of))
