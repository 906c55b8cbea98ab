"""The base of every form: market.text's rules on every typed field, and WTForms' own messages
spoken through Pasar's catalogue."""

from collections.abc import Mapping

from flask_babel import get_translations
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectMultipleField, TextAreaField
from wtforms.widgets import CheckboxInput, HiddenInput, ListWidget

from market import text

# WTForms has no Indonesian catalogue, and a tampered form (a choice that was never offered, a
# number that is not one) gets these messages from WTForms itself. Listed so that the
# extraction puts them into our catalogue, where they are translated.
WTFORMS_MESSAGES = (
    _l("Not a valid choice."),
    _l("Invalid Choice: could not coerce."),
    _l("Invalid choice(s): one or more data inputs could not be coerced."),
    _l("Not a valid integer value."),
    _l("Not a valid date value."),
)
# Under the optional English name of a stall or product: people write it, no machine does.
ENGLISH_HINT = _l(
    "Optional, for visitors who read English. Written by a person who knows the goods; "
    "left empty, English pages show the Indonesian text."
)


class _Catalogue:
    """The translations object WTForms asks; no formatting here (WTForms does its own)."""

    def gettext(self, string: str) -> str:
        return get_translations().ugettext(string)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return get_translations().ungettext(singular, plural, n)


_CATALOGUE = _Catalogue()


class Form(FlaskForm):
    class Meta:
        def get_translations(self, form):
            return _CATALOGUE

        def render_field(self, field, render_kw):
            # Hidden fields without an id: nothing points at them, and a page with two forms
            # (a product and its photos) would otherwise repeat id="csrf_token".
            if isinstance(field.widget, HiddenInput):
                render_kw = {"id": False, **render_kw}
            return super().render_field(field, render_kw)

    def show_errors(self, errors: Mapping[str, object]) -> None:
        """Put a service's refusals (field name → message) on the fields they are about."""
        for name, message in errors.items():
            self[name].errors = [*self[name].errors, str(message)]

    def validate(self, extra_validators=None) -> bool:
        """Also refuse control characters in every typed field, with a message on the field
        (newlines and tabs only in multi-line fields). Hidden fields are not typed and nobody
        would see a message there: what reads one checks it (safe_next, a signed payload)."""
        valid = super().validate(extra_validators)
        for field in self:
            if isinstance(field, HiddenField) or not isinstance(field.data, str):
                continue
            if text.has_control(field.data, multi_line=isinstance(field, TextAreaField)):
                field.errors.append(str(text.CONTROL_MESSAGE))
                valid = False
        return valid


class CheckboxesField(SelectMultipleField):
    """Several choices as checkboxes. A value never offered gets one translated message (WTForms'
    own names the values, in a plural form our catalogue does not carry)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("invalid_choice_message", _l("Choose only from the options shown."))
        super().__init__(*args, **kwargs)
