"""The list's forms. None carries a CSRF token: the add form sits on pages cached for everyone,
and the blueprint refuses posts that browsers say came from another site instead."""

from flask_babel import lazy_gettext as _l
from wtforms import IntegerField
from wtforms.validators import InputRequired, NumberRange

from market.forms import Form
from market.services.shopping_list import MAX_QUANTITY


def _quantity() -> IntegerField:
    return IntegerField(
        _l("Quantity"),
        # No InputRequired: a stall's part of the list posts only that stall's quantities;
        # the others keep what the list holds. An empty one is not a number, and says so.
        validators=[
            NumberRange(1, MAX_QUANTITY, _l("Enter a number from 1 to %(max)s.", max=MAX_QUANTITY))
        ],
        default=1,
    )


class AddForm(Form):
    class Meta:
        csrf = False

    produk = IntegerField(validators=[InputRequired()])
    jumlah = _quantity()


def quantity_field(product_id: int) -> str:
    return f"jumlah-{product_id}"


def quantities_form(items: dict[int, int]) -> Form:
    """One quantity per product on the list, named after the product; a posted form's values
    come first, so that nothing typed is lost when one of them is refused."""

    class QuantitiesForm(Form):
        class Meta:
            csrf = False

    for product_id in items:
        setattr(QuantitiesForm, quantity_field(product_id), _quantity())
    return QuantitiesForm(data={quantity_field(p): q for p, q in items.items()})
