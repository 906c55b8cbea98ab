"""Forms of the coordinators' pages. The services check the values; forms carry them."""

from datetime import date

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    FieldList,
    FormField,
    HiddenField,
    PasswordField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Optional, ValidationError

from market.forms import Form
from market.services.audit import MAX_REASON
from market.services.hours import DAYS, DEFAULT_TIMEZONE, TIMEZONES


class DayHoursForm(Form):
    """One day of the week's hours; its label (the day's name) is given by the template."""

    class Meta:
        csrf = False

    opens = StringField(_l("Opens"), render_kw={"type": "time"})
    closes = StringField(_l("Closes"), render_kw={"type": "time"})
    closed = BooleanField(_l("Closed"))


class MarketForm(Form):
    name = StringField(_l("Name"), render_kw={"maxlength": 120})
    slug = StringField(
        _l("Web address"),
        render_kw={"maxlength": 60, "autocapitalize": "none"},
        description=_l(
            "Letters, digits and dashes, e.g. pasar-inpres. Made from the name if left empty; "
            "it cannot change later."
        ),
    )
    city = StringField(_l("City"), render_kw={"maxlength": 80})
    province = StringField(_l("Province"), render_kw={"maxlength": 80})
    address = StringField(_l("Address"), render_kw={"maxlength": 255})
    opening_hours = StringField(
        _l("Note on the opening hours"),
        render_kw={"maxlength": 255},
        description=_l("Shown beside the hours, e.g. closed on Friday 11.30–13.30 for prayers."),
    )
    hours = FieldList(FormField(DayHoursForm), min_entries=DAYS, max_entries=DAYS)
    timezone = SelectField(
        _l("Time zone"),
        choices=[SelectChoice(*zone) for zone in TIMEZONES],
        default=DEFAULT_TIMEZONE,
    )
    description = TextAreaField(_l("Description"), render_kw={"maxlength": 4000, "rows": 4})
    latitude = StringField(_l("Latitude"), render_kw={"inputmode": "decimal"})
    longitude = StringField(_l("Longitude"), render_kw={"inputmode": "decimal"})
    published = BooleanField(_l("Shown on the public site"))


class StaffForm(Form):
    email = StringField(
        _l("Email"), render_kw={"type": "email", "autocomplete": "off", "autocapitalize": "none"}
    )
    role = SelectField(
        _l("Role"),
        choices=[
            SelectChoice("volunteer", _l("Volunteer")),
            SelectChoice("coordinator", _l("Coordinator")),
        ],
        description=_l("Only for a new account; an existing one keeps its role."),
    )
    name = StringField(
        _l("Name"), render_kw={"maxlength": 120}, description=_l("Only for a new account.")
    )
    password = PasswordField(
        _l("First password"),
        render_kw={"autocomplete": "new-password"},
        description=_l(
            "Only for a new account: give it to the person, who changes it after logging in."
        ),
    )


class InviteStaffForm(Form):
    """Who a join link is for; an admin may also invite coordinators (the view drops the
    choice for coordinators)."""

    role = SelectField(
        _l("Role"),
        choices=[
            SelectChoice("volunteer", _l("Volunteer")),
            SelectChoice("coordinator", _l("Coordinator")),
        ],
    )


class DeactivateForm(Form):
    reason = StringField(
        _l("Reason"),
        validators=[DataRequired(_l("Say why the account is switched off."))],
        render_kw={"maxlength": MAX_REASON},
        description=_l("Kept with the account and in the audit log."),
    )


class ReasonRequiredForm(Form):
    reason = StringField(
        _l("Reason"),
        validators=[DataRequired(_l("Say why; the vendor and volunteers will see it."))],
        render_kw={"maxlength": MAX_REASON},
    )


class ImportForm(Form):
    file = FileField(
        _l("CSV file"),
        validators=[FileRequired(_l("Choose a CSV file."))],
        render_kw={"accept": ".csv,text/csv"},
    )


class SheetForm(Form):
    file = FileField(
        _l("CSV or Excel file"),
        validators=[FileRequired(_l("Choose a CSV or Excel file."))],
        render_kw={
            "accept": ".csv,.xlsx,text/csv,"
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        },
    )


class ImportCommitForm(Form):
    payload = HiddenField(validators=[DataRequired()])


class SheetApplyForm(ImportCommitForm):
    """The checked file travels back with the digest of the changes the person saw."""

    fingerprint = HiddenField(validators=[DataRequired()])


def _same_name(text: str) -> str:
    return " ".join(text.split()).casefold()


class EraseForm(Form):
    """Typing the business name makes an irreversible erasure a deliberate act."""

    business_name = StringField(
        _l("Type the business name to confirm"),
        validators=[DataRequired(_l("Type the business name to confirm."))],
        render_kw={"autocomplete": "off", "autocapitalize": "none", "spellcheck": "false"},
    )

    def __init__(self, expected_name: str, **kwargs):
        super().__init__(**kwargs)
        self.expected_name = expected_name

    def validate_business_name(self, field) -> None:
        if _same_name(field.data or "") != _same_name(self.expected_name):
            raise ValidationError(_l("This is not the business name. Type it as shown above."))


# A print job of more than a month of stalls is a mistake, not a day's work.
MAX_PRINT_DAYS = 31


class PrintForm(Form):
    """Which stalls' posters (and hang tags) to print: a GET form, so no CSRF token; the dates
    default to today."""

    class Meta:
        csrf = False

    campaign = SelectField(_l("Campaign"), coerce=int, default=0)
    market = SelectField(_l("Market"), coerce=int, default=0)
    first = DateField(_l("Published from"), validators=[Optional()])
    last = DateField(_l("Published until"), validators=[Optional()])
    tags = BooleanField(_l("With the hang tags of their goods"))
    size = SelectField(
        _l("Poster paper"),
        choices=[SelectChoice("a5", "A5"), SelectChoice("a4", "A4")],
        default="a5",
    )

    def __init__(self, *args, today: date, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today
        # The days a chosen campaign has run so far, which replace today as the default.
        self.span = (today, today)

    def days(self) -> tuple[date, date]:
        """The first and last day asked for: today (or the campaign's days so far) when
        neither is given, up to that when only the first is."""
        start, end = self.span
        last = self.last.data or end
        return self.first.data or min(last, start), last

    def validate(self, extra_validators=None) -> bool:
        # Checked here, not on the field: an empty date still counts (as today).
        if not super().validate(extra_validators):
            return False
        first, last = self.days()
        if last < first:
            self.last.errors.append(str(_l("The last day comes before the first.")))
        elif (last - first).days >= MAX_PRINT_DAYS:
            self.last.errors.append(str(_l("At most %(n)d days at once.", n=MAX_PRINT_DAYS)))
        return not self.last.errors


class AuditFilterForm(Form):
    """The admins' audit log filters: a GET form (no CSRF token); the choices are set by the
    view."""

    class Meta:
        csrf = False

    market = SelectField(_l("Market"), coerce=int, default=0)
    actor = SelectField(_l("Person"), coerce=int, default=0)
    action = SelectField(_l("Kind of change"), default="")
    first = DateField(_l("From"), validators=[Optional()])
    last = DateField(_l("Until"), validators=[Optional()])

    def validate_last(self, field) -> None:
        if self.first.data and field.data and field.data < self.first.data:
            raise ValidationError(_l("The last day comes before the first."))


class SynonymForm(Form):
    """A search synonym: what shoppers type, and the words the stalls use for it."""

    phrase = StringField(
        _l("When shoppers search for"),
        description=_l("A spelling, a common typo or an English word, e.g. kripik or honey."),
        render_kw={"maxlength": 80, "autocomplete": "off", "autocapitalize": "none"},
    )
    means = StringField(
        _l("also find"),
        description=_l("The word on the stalls and goods, e.g. keripik or madu."),
        render_kw={"maxlength": 80, "autocomplete": "off", "autocapitalize": "none"},
    )
    both_ways = BooleanField(
        _l("Both ways (two spellings of the same word)"),
        description=_l("Then a search for the second also finds the first."),
    )
