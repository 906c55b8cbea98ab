"""Everything templates may call beyond Jinja's own, registered once for the whole app."""

from flask import Flask
from flask_babel import get_locale
from jinja2 import pass_context
from markupsafe import Markup, escape

from market.models.base import LocalText
from market.permissions import can_coordinate, can_manage_account, can_unassign_staff, is_vendor
from market.qr import qr_svg
from market.services.campaigns import campaign_banners
from market.services.hours import day_names, open_now_data, week_summary
from market.services.prices import format_rupiah, price_label
from market.services.reports import local_today
from market.services.vlogs import start_seconds, youtube_embed
from market.services.whatsapp import display_phone
from market.storefront.seo import og_width
from market.web import (
    LOCALES,
    absolute,
    absolute_url_for,
    photo_srcset,
    photo_url,
    url_with_lang,
)


# A stall's or product's text in another language than the page is marked as such, so screen
# readers and translators read Indonesian as Indonesian on an English page. Python rather than
# macros: a stall page asks once per card, and a macro call costs ten times a function call.
@pass_context
def lang_attr(context, text: LocalText) -> Markup:
    """` lang="…"` for an element holding the text, or nothing in the page's own language."""
    if text.lang == context["current_locale"]:
        return Markup("")
    return Markup(' lang="%s"') % text.lang


@pass_context
def said(context, text: LocalText) -> Markup:
    """The text, in a span marking its language when it is not the page's."""
    if text.lang == context["current_locale"]:
        return escape(text.text)
    return Markup('<span lang="%s">%s</span>') % (text.lang, text.text)


TEMPLATE_GLOBALS = (
    lang_attr,
    said,
    absolute,
    absolute_url_for,
    url_with_lang,
    photo_url,
    photo_srcset,
    og_width,
    qr_svg,
    youtube_embed,
    start_seconds,
    day_names,
    week_summary,
    open_now_data,
    campaign_banners,
    local_today,
)
# Templates ask the same predicates as the views to decide which links and buttons to show.
TEMPLATE_PREDICATES = (is_vendor, can_coordinate, can_unassign_staff, can_manage_account)
TEMPLATE_FILTERS = {
    "rupiah": format_rupiah,
    "price_label": price_label,
    "phone": display_phone,
}


def register_template_helpers(app: Flask) -> None:
    @app.context_processor
    def _locale():
        return {"current_locale": str(get_locale()), "locales": LOCALES}

    for helper in (*TEMPLATE_GLOBALS, *TEMPLATE_PREDICATES):
        app.add_template_global(helper)
    for name, helper in TEMPLATE_FILTERS.items():
        app.add_template_filter(helper, name)
