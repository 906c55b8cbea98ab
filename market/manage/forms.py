"""Forms of the volunteers' back office. Fields are checked by the services; the forms only
carry them (with HTML limits so a phone stops the typing at the right length)."""

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Optional

from market.forms import ENGLISH_HINT, CheckboxesField, Form
from market.services.audit import MAX_REASON
from market.services.vendors import (
    MAX_DESCRIPTION,
    MAX_NAME,
    MAX_OPENING_HOURS,
    MAX_STALL,
    PROFILE_LABELS,
)


class VendorForm(Form):
    """Register or edit a vendor: the few fields a volunteer can ask at the stall."""

    market = SelectField(_l("Market"), coerce=int)
    business_name = StringField(
        PROFILE_LABELS["business_name"],
        render_kw={"maxlength": MAX_NAME, "autocomplete": "off", "autocapitalize": "words"},
    )
    owner_name = StringField(
        PROFILE_LABELS["owner_name"],
        render_kw={"maxlength": MAX_NAME, "autocomplete": "off", "autocapitalize": "words"},
    )
    stall_block = StringField(
        PROFILE_LABELS["stall_block"],
        render_kw={"maxlength": MAX_STALL, "autocomplete": "off", "autocapitalize": "characters"},
    )
    stall_number = StringField(
        PROFILE_LABELS["stall_number"],
        render_kw={"maxlength": MAX_STALL, "autocomplete": "off", "inputmode": "numeric"},
    )
    whatsapp = StringField(
        PROFILE_LABELS["whatsapp"],
        render_kw={"type": "tel", "inputmode": "tel", "autocomplete": "off", "maxlength": 40},
        description=_l("As the vendor says it, e.g. 0812-3456-7890."),
    )
    categories = CheckboxesField(PROFILE_LABELS["categories"], coerce=int)
    description = TextAreaField(
        PROFILE_LABELS["description"],
        render_kw={"maxlength": MAX_DESCRIPTION, "rows": 3},
        description=_l(
            "What they sell, in a sentence or two. At most %(n)d characters.", n=MAX_DESCRIPTION
        ),
    )
    opening_hours = StringField(
        PROFILE_LABELS["opening_hours"], render_kw={"maxlength": MAX_OPENING_HOURS}
    )
    name_en = StringField(
        PROFILE_LABELS["name_en"], description=ENGLISH_HINT, render_kw={"maxlength": MAX_NAME}
    )
    description_en = TextAreaField(
        PROFILE_LABELS["description_en"], render_kw={"maxlength": MAX_DESCRIPTION, "rows": 3}
    )
    allow_duplicate = BooleanField(_l("This is a different vendor: save anyway"))
    version = IntegerField(widget=HiddenField.widget, validators=[Optional()])


class ConsentForm(Form):
    language = HiddenField(default="id")
    agreed = BooleanField(
        _l("The vendor heard this text and agrees"),
        validators=[DataRequired(_l("Tick the box once the vendor has agreed."))],
    )


class ReasonForm(Form):
    """A button with an optional reason: hide, delete, withdraw consent."""

    reason = StringField(_l("Reason (optional)"), render_kw={"maxlength": MAX_REASON})


class ClosedForm(Form):
    """A vendor closes the stall for today or until a day; the note is for shoppers."""

    until = DateField(
        _l("Closed until (this day included)"),
        validators=[Optional()],
        description=_l("Leave empty for today only."),
    )
    note = StringField(
        _l("Note for shoppers (optional)"),
        render_kw={"maxlength": 160},
        description=_l("For example: back on Monday, or orders still on WhatsApp."),
    )
