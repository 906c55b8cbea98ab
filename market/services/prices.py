"""Prices in whole rupiah: reading what people type ("Rp 25.000,-", "25rb") and showing them
("Rp25.000", "from Rp250.000", "Ask the price")."""

import re
import unicodedata
from decimal import Decimal

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from market.models import PriceKind, Product

MAX_PRICE_IDR = 1_000_000_000
# No honest price needs more characters; the bound also keeps huge digit strings away from int().
_MAX_INPUT_LENGTH = 40

_MULTIPLIERS = {
    "rb": 1_000,
    "ribu": 1_000,
    "k": 1_000,
    "jt": 1_000_000,
    "juta": 1_000_000,
}
_MINUS_SIGNS = "-\u2212\u2012\u2013\u2014"
_CURRENCY = re.compile(r"^(?:rp|idr)\.?\s*", re.IGNORECASE)
# "Rp 25.000,-" and "Rp 25.000,—": the dash after the comma means "no cents", not a sign.
_NO_CENTS_SUFFIX = re.compile(rf"[.,]\s*[{_MINUS_SIGNS}]$")
_WITH_MULTIPLIER = re.compile(r"^(\d+(?:[.,]\d+)?)\s*(rb|ribu|k|jt|juta)\.?$")
# Whole rupiah written plainly, with dots (Indonesian), commas (English) or spaces as thousands
# separators, and optionally a zero-only decimal part in the other convention.
_INDONESIAN = re.compile(r"^(\d{1,3}(?:\.\d{3})+|\d+)(?:,(\d+))?$")
_ENGLISH = re.compile(r"^(\d{1,3}(?:,\d{3})+)(?:\.(\d+))?$")
_SPACED = re.compile(r"^(\d{1,3}(?: \d{3})+)(?:,(\d+))?$")


class PriceRejected(ValueError):
    """A price that cannot be stored; ``message`` is translatable and fit to show."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return str(self.message)


def _unreadable() -> PriceRejected:
    return PriceRejected(_l("Enter the price in rupiah, for example 25.000."))


def _fractional() -> PriceRejected:
    return PriceRejected(_l("Enter the price in whole rupiah, without cents."))


def parse_price(raw: str | None) -> int | None:
    """Read a price typed by a person into whole rupiah; None when the field was left blank.

    In Indonesian "." groups thousands and "," starts the decimals, so ``25.000`` and
    ``25.000,00`` are both twenty-five thousand. A comma followed by groups of exactly three
    digits (``25,000``) is read the English way, because nobody means 25 rupiah with three
    decimals. Shorthands ``25rb``, ``25 ribu``, ``25k``, ``1,5jt`` and ``1.5 juta`` work too.
    Raises PriceRejected for anything else, negative amounts, cents and absurd amounts.
    """
    if raw is None:
        return None
    # NFKC turns full-width digits and odd spaces into plain ones.
    text = unicodedata.normalize("NFKC", raw).strip()
    if not text:
        return None
    if len(text) > _MAX_INPUT_LENGTH:
        raise _unreadable()
    text = " ".join(text.lower().split())
    negative = text[0] in _MINUS_SIGNS
    text = text.lstrip(_MINUS_SIGNS).strip()
    text = _CURRENCY.sub("", text)
    if text[:1] and text[0] in _MINUS_SIGNS:
        negative = True
        text = text.lstrip(_MINUS_SIGNS).strip()
    text = _NO_CENTS_SUFFIX.sub("", text).strip()
    if negative and text[:1].isdigit():
        raise PriceRejected(_l("A price cannot be negative."))
    amount = _read_amount(text)
    if amount > MAX_PRICE_IDR:
        raise PriceRejected(
            _l("That price is too high: the most is %(max)s.", max=format_rupiah(MAX_PRICE_IDR))
        )
    return amount


def _read_amount(text: str) -> int:
    # Only ASCII digits count: int() would also accept Thai or Arabic-Indic digits.
    if not text.isascii():
        raise _unreadable()
    match = _WITH_MULTIPLIER.match(text)
    if match:
        number, unit = match.groups()
        # "1.500rb" groups thousands; "1.5rb" and "1,5rb" are decimals.
        if re.fullmatch(r"\d{1,3}\.\d{3}", number):
            number = number.replace(".", "")
        value = Decimal(number.replace(",", ".")) * _MULTIPLIERS[unit]
        if value != value.to_integral_value():
            raise _fractional()
        return int(value)
    for pattern, group_separator in ((_ENGLISH, ","), (_INDONESIAN, "."), (_SPACED, " ")):
        match = pattern.match(text)
        if match:
            whole, decimals = match.groups()
            if decimals and decimals.strip("0"):
                raise _fractional()
            return int(whole.replace(group_separator, ""))
    if re.fullmatch(r"\d+[.,]\d+", text):
        # "25,5" or "25.50": a decimal amount, not whole rupiah.
        raise _fractional()
    raise _unreadable()


def format_rupiah(amount: int) -> str:
    """``Rp25.000``: no space, dots between thousands, no decimals."""
    sign = "-" if amount < 0 else ""
    return f"{sign}Rp{abs(int(amount)):,}".replace(",", ".")


def price_label(product: Product) -> str:
    """'Rp25.000', 'from Rp250.000', 'Rp120.000, negotiable' or 'Ask the price'."""
    if product.price_idr is None:
        return _("Ask the price")
    price = format_rupiah(product.price_idr)
    if product.price_kind == PriceKind.FROM:
        return _("from %(price)s", price=price)
    if product.price_kind == PriceKind.NEGOTIABLE:
        return _("%(price)s, negotiable", price=price)
    return price
