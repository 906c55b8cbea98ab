"""Everything templates may call beyond Jinja's own, registered once for the whole app."""

from flask import Flask
from flask_babel import get_locale

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

TEMPLATE_GLOBALS = (
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
