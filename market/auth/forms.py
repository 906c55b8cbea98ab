"""Forms of the login pages."""

from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from market.forms import Form

# WTForms has no Indonesian messages of its own: its checks speak through our catalogue.
REQUIRED = DataRequired(_l("This field is required."))


def _at_most(n: int) -> Length:
    return Length(max=n, message=_l("Use at most %(max)d characters."))


class LoginForm(Form):
    login = StringField(
        _l("Email or WhatsApp number"),
        validators=[REQUIRED, _at_most(254)],
        render_kw={"autocomplete": "username", "autocapitalize": "none"},
    )
    password = PasswordField(
        _l("Password"),
        validators=[REQUIRED, _at_most(256)],
        render_kw={"autocomplete": "current-password"},
    )
    next = HiddenField()


class SetPasswordForm(Form):
    password = PasswordField(
        _l("New password"),
        validators=[REQUIRED, _at_most(256)],
        render_kw={"autocomplete": "new-password"},
        description=_l("At least 8 characters. A few words you remember work well."),
    )
    confirm = PasswordField(
        _l("Repeat the password"),
        validators=[REQUIRED, EqualTo("password", message=_l("The passwords differ."))],
        render_kw={"autocomplete": "new-password"},
    )


class ChangePasswordForm(SetPasswordForm):
    current = PasswordField(
        _l("Current password"),
        validators=[REQUIRED, _at_most(256)],
        render_kw={"autocomplete": "current-password"},
    )


class JoinForm(SetPasswordForm):
    """A new volunteer or coordinator makes their own account from a join link."""

    name = StringField(
        _l("Your name"),
        validators=[REQUIRED, _at_most(120)],
        render_kw={"autocomplete": "name"},
    )
    login = StringField(
        _l("Email or WhatsApp number"),
        validators=[REQUIRED, _at_most(254)],
        render_kw={"autocomplete": "username", "autocapitalize": "none"},
        description=_l("You log in with it."),
    )
