"""The campaign form: name, days, a target per market, the team."""

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateField,
    FieldList,
    FormField,
    HiddenField,
    IntegerField,
    RadioField,
    StringField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import NumberRange, Optional

from market.forms import CheckboxesField, Form
from market.models import TargetKind

# WTForms' own message for a date it cannot read, listed so that it is extracted and translated.
DATE_MESSAGE = _l("Not a valid date value.")

_TARGET = {
    "validators": [Optional(), NumberRange(min=0, message=_l("A target cannot be negative."))],
    "render_kw": {"inputmode": "numeric", "min": 0, "max": 100000, "type": "number"},
}


class MarketTargetForm(Form):
    """One market the coordinator may include; its name is given by the template."""

    class Meta:
        csrf = False

    market_id = HiddenField()
    included = BooleanField(_l("In this campaign"))
    stalls_target = IntegerField(_l("Stalls published"), **_TARGET)
    products_target = IntegerField(_l("Products with a photo"), **_TARGET)


class CampaignForm(Form):
    name = StringField(
        _l("Name"),
        render_kw={"maxlength": 120},
        description=_l("e.g. Gerebek Pasar Balikpapan"),
    )
    starts_on = DateField(_l("First day"), validators=[Optional()])
    ends_on = DateField(_l("Last day"), validators=[Optional()])
    target_kind = RadioField(
        _l("The targets are"),
        choices=[
            SelectChoice(
                TargetKind.TOTAL.value, _l("for the whole campaign, spread over its days")
            ),
            SelectChoice(TargetKind.PER_DAY.value, _l("for each day")),
        ],
        default=TargetKind.TOTAL.value,
    )
    markets = FieldList(FormField(MarketTargetForm))
    volunteers = CheckboxesField(_l("Volunteers in the team"), coerce=int)

    def values(self) -> dict:
        """What the service takes: markets ticked, with their targets (empty is 0)."""
        targets = {}
        for entry in self.markets:
            if entry.included.data and (entry.market_id.data or "").isdigit():
                targets[int(entry.market_id.data)] = (
                    entry.stalls_target.data or 0,
                    entry.products_target.data or 0,
                )
        return {
            "name": self.name.data,
            "starts_on": self.starts_on.data,
            "ends_on": self.ends_on.data,
            "target_kind": self.target_kind.data,
            "targets": targets,
            "volunteer_ids": self.volunteers.data or [],
        }
