"""Forms of quick add at the stall: one screen to register a vendor (with consent and the stall
photo), one phone screen per product, and a vlog link on the last screen.

Fields only carry what was typed; market.services decides what is acceptable."""

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, FileField, MultipleFileField, RadioField, StringField
from wtforms.fields.choices import SelectChoice

from market.catalogue.forms import ProductForm
from market.forms import Form
from market.manage.forms import CheckboxesField, VendorForm
from market.models import Category

# Camera first: on a phone this opens the back camera rather than the file picker.
CAMERA_INPUT = {"accept": "image/*", "capture": "environment"}


class QuickVendorForm(VendorForm):
    """Everything a volunteer asks at the stall, on one screen."""

    # What can wait for later, on the full profile form.
    description = None
    opening_hours = None
    name_en = None
    description_en = None
    version = None
    categories = CheckboxesField(_l("What do they sell?"), coerce=int)
    consent_language = RadioField(
        _l("Read in"),
        choices=[SelectChoice("id", "Bahasa Indonesia"), SelectChoice("en", "English")],
        default="id",
    )
    consent = BooleanField(
        _l("The vendor heard this text and agrees"), render_kw={"data-no-draft": True}
    )
    stall_photo = FileField(
        _l("Photo of the stall"),
        description=_l("Take it from the aisle, as a shopper would see the stall."),
        render_kw=CAMERA_INPUT,
    )

    def __init__(self, categories: list[Category], locale: str, **kwargs):
        super().__init__(**kwargs)
        self.categories.choices = [SelectChoice(c.id, c.name_for(locale)) for c in categories]


class QuickProductForm(ProductForm):
    """A product on one phone screen: photos, name, price; the rest folded away."""

    camera = FileField(_l("Take a photo"), render_kw=CAMERA_INPUT)
    photos = MultipleFileField(
        _l("Or choose photos"), render_kw={"accept": "image/*"}, id="photo-files"
    )


class QuickVlogForm(Form):
    url = StringField(
        _l("Link to a video of the stall"),
        description=_l("YouTube, TikTok, Instagram or Facebook: copy it with the Share button."),
        render_kw={"inputmode": "url", "autocomplete": "off", "autocapitalize": "none"},
    )
