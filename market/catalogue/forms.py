"""Forms of the catalogue pages: products, photos, vlog links and the QRIS code.

Fields are declared here; what makes a value acceptable (a price, a link, a photo) is decided by
market.services.products, so the same rules hold for every way in.
"""

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    FileField,
    HiddenField,
    IntegerField,
    MultipleFileField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional
from wtforms.widgets import HiddenInput

from market.forms import ENGLISH_HINT, CheckboxesField, Form
from market.models import Availability, Category, PriceKind, Product

PHOTO_INPUT = {"accept": "image/*"}
# Not "photos": that is the id of the photos section, which redirects jump to.
PHOTO_INPUT_ID = "photo-files"
PHOTOS_HINT = _l("JPEG, PNG, WebP or HEIC; several at once. Large photos are made smaller first.")


class ProductForm(Form):
    name = StringField(_l("Product name"), render_kw={"autocomplete": "off", "maxlength": 120})
    price = StringField(
        _l("Price (Rp)"),
        description=_l("E.g. 25rb, 25.000 or Rp 25.000. May stay empty if negotiable."),
        # A text keyboard: the number pad has no letters for "25rb" and often no dot.
        render_kw={"inputmode": "text", "autocomplete": "off"},
    )
    price_kind = RadioField(
        _l("How the price works"),
        choices=[
            SelectChoice(PriceKind.FIXED.value, _l("Fixed price")),
            SelectChoice(PriceKind.FROM.value, _l("From this price (mulai)")),
            SelectChoice(PriceKind.NEGOTIABLE.value, _l("Negotiable (nego)")),
        ],
        default=PriceKind.FIXED.value,
    )
    price_note = StringField(
        _l("Price note"),
        description=_l("Optional, e.g. “per 3 pcs” or “per kg”."),
        render_kw={"maxlength": 60},
    )
    availability = RadioField(
        _l("Availability"),
        choices=[
            SelectChoice(Availability.IN_STOCK.value, _l("In stock")),
            SelectChoice(Availability.SOLD_OUT.value, _l("Sold out")),
            SelectChoice(Availability.PRE_ORDER.value, _l("Pre-order")),
        ],
        default=Availability.IN_STOCK.value,
    )
    description = TextAreaField(_l("Description"), render_kw={"rows": 4})
    categories = CheckboxesField(_l("Categories"), coerce=int, validators=[Optional()])
    halal = BooleanField(_l("Halal"))
    permit_number = StringField(
        _l("PIRT or BPOM number"),
        description=_l("For food and drinks, as printed on the pack."),
        render_kw={"maxlength": 40},
    )
    material = StringField(
        _l("Material or motif"),
        description=_l("E.g. glass beads, Dayak motif; rattan; sasirangan cloth."),
        render_kw={"maxlength": 120},
    )
    # Asked by the marketplaces' bulk upload; read by market.services.products.
    weight_grams = StringField(
        _l("Weight (gram)"),
        description=_l("With the packaging, for shipping. E.g. 250 or 1,5 kg."),
        render_kw={"maxlength": 20, "autocomplete": "off"},
    )
    stock_count = StringField(
        _l("Stock count"),
        description=_l("How many are ready to sell."),
        render_kw={"inputmode": "numeric", "maxlength": 12, "autocomplete": "off"},
    )
    # For visitors who read English; the same two fields are on the stall's profile form.
    name_en = StringField(
        _l("Name in English"), description=ENGLISH_HINT, render_kw={"maxlength": 120}
    )
    description_en = TextAreaField(_l("Description in English"), render_kw={"rows": 3})

    def __init__(self, categories: list[Category], locale: str, **kwargs):
        super().__init__(**kwargs)
        self.categories.choices = [SelectChoice(c.id, c.name_for(locale)) for c in categories]

    def fill_from(self, product: Product) -> None:
        """Show a saved product in the form."""
        for name in ("name", "description", "price_note", "permit_number", "material", "halal"):
            getattr(self, name).data = getattr(product, name)
        for name in ("name_en", "description_en"):
            getattr(self, name).data = getattr(product, name)
        self.price.data = "" if product.price_idr is None else str(product.price_idr)
        self.price_kind.data = product.price_kind.value
        self.availability.data = product.availability.value
        self.categories.data = [c.id for c in product.categories]
        for name in ("weight_grams", "stock_count"):
            value = getattr(product, name)
            getattr(self, name).data = "" if value is None else str(value)

    def raw(self) -> dict:
        """The typed values, as market.services.products.clean_product reads them."""
        return {
            "name": self.name.data,
            "description": self.description.data,
            "price": self.price.data,
            "price_kind": self.price_kind.data,
            "price_note": self.price_note.data,
            "availability": self.availability.data,
            "halal": self.halal.data,
            "permit_number": self.permit_number.data,
            "material": self.material.data,
            "weight_grams": self.weight_grams.data,
            "stock_count": self.stock_count.data,
            "name_en": self.name_en.data,
            "description_en": self.description_en.data,
            "categories": self.categories.data or [],
        }


class NewProductForm(ProductForm):
    photos = MultipleFileField(
        _l("Photos"), description=PHOTOS_HINT, render_kw=PHOTO_INPUT, id=PHOTO_INPUT_ID
    )


class EditProductForm(ProductForm):
    # The version and the field values the form was opened with: a save based on an older
    # version is checked against what changed meanwhile (see update_product).
    version = IntegerField(widget=HiddenInput(), validators=[Optional()])
    base = HiddenField()


class PhotoUploadForm(Form):
    photos = MultipleFileField(
        _l("Add photos"), description=PHOTOS_HINT, render_kw=PHOTO_INPUT, id=PHOTO_INPUT_ID
    )


class VlogForm(Form):
    url = StringField(
        _l("Link to the video"),
        description=_l(
            "YouTube, TikTok, Instagram or Facebook: copy it with the app's Share button."
        ),
        render_kw={"inputmode": "url", "autocomplete": "off", "autocapitalize": "none"},
    )
    title = StringField(_l("Title (optional)"), render_kw={"maxlength": 120})
    product_id = SelectField(_l("Shows"), coerce=int, validators=[Optional()])

    def __init__(self, products: list[Product], **kwargs):
        super().__init__(**kwargs)
        self.product_id.choices = [SelectChoice(0, _l("The whole stall"))] + [
            SelectChoice(p.id, p.name) for p in products
        ]


class QrisForm(Form):
    photo = FileField(
        _l("Photo of the QRIS sticker"),
        description=_l("Take it straight on, with the whole code and the merchant name sharp."),
        render_kw=PHOTO_INPUT,
    )
    merchant_name = StringField(
        _l("Merchant name"),
        description=_l("Exactly as printed on the sticker, under the code."),
        render_kw={"maxlength": 120},
    )
