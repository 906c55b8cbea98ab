"""Campaign pages for coordinators and admins: the list, creating and editing a campaign, its
progress at a glance, and the report for the city (a printable page and a CSV file)."""

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from market.campaigns.forms import CampaignForm
from market.models import Campaign
from market.permissions import (
    can_manage_campaign,
    coordinator_required,
    load_or_404,
    manageable_markets,
)
from market.services import campaigns
from market.services.audit import security_event
from market.services.reports import local_today
from market.services.vendors import InvalidFields

bp = Blueprint("campaigns", __name__, url_prefix="/admin/campaigns")


def _campaign(campaign_id: int) -> Campaign:
    return load_or_404(Campaign, campaign_id, can_manage_campaign)


def _form(campaign: Campaign | None) -> CampaignForm:
    markets = manageable_markets(current_user)
    targets = {t.market_id: t for t in campaign.targets} if campaign else {}
    rows = [
        {
            "market_id": str(m.id),
            "included": m.id in targets,
            "stalls_target": targets[m.id].stalls_target if m.id in targets else None,
            "products_target": targets[m.id].products_target if m.id in targets else None,
        }
        for m in markets
    ]
    data = {"markets": rows}
    if campaign is not None:
        data |= {
            "name": campaign.name,
            "starts_on": campaign.starts_on,
            "ends_on": campaign.ends_on,
            "target_kind": campaign.target_kind.value,
            "volunteers": [u.id for u in campaign.volunteers],
        }
    form = CampaignForm(data=data) if request.method == "GET" else CampaignForm()
    form.volunteers.choices = [
        SelectChoice(u.id, u.name) for u in campaigns.campaign_volunteer_choices(markets)
    ]
    form.market_names = {str(m.id): m.name for m in markets}
    return form


def _edit(campaign: Campaign | None):
    form = _form(campaign)
    if form.validate_on_submit():
        try:
            saved = campaigns.save_campaign(campaign, form.values(), actor=current_user)
        except InvalidFields as error:
            form.show_errors(error.errors)
        else:
            flash(_("Campaign saved."), "success")
            return redirect(url_for(".progress", campaign_id=saved.id))
    status = 422 if form.is_submitted() else 200
    return render_template("campaigns/form.html", form=form, campaign=campaign), status


@bp.route("/")
@coordinator_required
def index():
    return render_template(
        "campaigns/index.html",
        campaigns=campaigns.visible_campaigns(current_user),
        today=local_today(),
    )


@bp.route("/new", methods=["GET", "POST"])
@coordinator_required
def new():
    return _edit(None)


@bp.route("/<int:campaign_id>/edit", methods=["GET", "POST"])
@coordinator_required
def edit(campaign_id: int):
    return _edit(_campaign(campaign_id))


@bp.route("/<int:campaign_id>")
@coordinator_required
def progress(campaign_id: int):
    campaign = _campaign(campaign_id)
    return render_template(
        "campaigns/progress.html",
        campaign=campaign,
        report=campaigns.progress(campaign),
        leaderboard=campaigns.leaderboard(campaign),
        stuck=campaigns.stuck_drafts(campaign),
    )


@bp.route("/<int:campaign_id>/laporan")
@coordinator_required
def report(campaign_id: int):
    campaign = _campaign(campaign_id)
    return render_template(
        "campaigns/report.html",
        campaign=campaign,
        report=campaigns.progress(campaign),
        leaderboard=campaigns.leaderboard(campaign),
    )


@bp.route("/<int:campaign_id>/laporan.csv")
@coordinator_required
def report_csv(campaign_id: int):
    campaign = _campaign(campaign_id)
    security_event("export", current_user, what="campaign.csv", campaign=campaign.id)
    delimiter = ";" if request.args.get("delimiter") == "semicolon" else ","
    data = campaigns.report_csv(campaigns.progress(campaign), delimiter)
    filename = f"kampanye-{campaign.id}-{local_today().isoformat()}.csv"
    return Response(
        data,
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Content-Type": "text/csv; charset=utf-8",
        },
    )
