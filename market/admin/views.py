"""Coordinator and admin pages: markets, staff, progress reports, moderation, CSV import and
export, the audit log; and, for admins, a vendor's personal data on request."""

import json

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from market.admin.forms import (
    AuditFilterForm,
    DeactivateForm,
    EraseForm,
    ImportCommitForm,
    ImportForm,
    InviteStaffForm,
    MarketForm,
    PrintForm,
    ReasonRequiredForm,
    SheetApplyForm,
    SheetForm,
    StaffForm,
    SynonymForm,
)
from market.extensions import db
from market.manage.invitation_links import remember_account_link, shown_account_link
from market.models import LinkPurpose, Market, MarketStaff, Product, Role, Synonym, User, Vendor
from market.permissions import (
    can_edit_synonyms,
    can_manage_account,
    can_manage_market,
    can_moderate_product,
    can_moderate_vendor,
    coordinator_required,
    is_admin,
    load_or_404,
    manageable_markets,
    role_required,
)
from market.services import (
    account_links,
    accounts,
    campaigns,
    exports,
    hours,
    imports,
    privacy,
    reports,
    spreadsheets,
    synonyms,
)
from market.services.audit import security_event
from market.services.audit_log import (
    ACTION_LABELS,
    AuditFilters,
    all_actors,
    all_markets_page,
    audit_page,
    readable_changes,
)
from market.services.errors import Conflict, DomainError, Invalid
from market.services.markets import create_market, update_market
from market.services.moderation import hide_product, hide_vendor, unhide_product
from market.services.staff import assign_staff, market_staff, unassign_staff
from market.services.vendors import InvalidFields, restore_vendor
from market.storefront import printing
from market.web import page_number

bp = Blueprint("admin", __name__, url_prefix="/admin")

AUDIT_PER_PAGE = 50
PREVIEW_ROWS = 200

# A vendor's personal data leaves the system, or is destroyed, only by an admin's hand.
admin_required = role_required(Role.ADMIN)


def _market(market_id: int) -> Market:
    return load_or_404(Market, market_id, can_manage_market)


def _show_errors(form, error: InvalidFields) -> None:
    for key, message in error.errors.items():
        name, _dash, index = key.partition("-")
        field = getattr(form, name, None)
        if index.isdigit() and field is not None:  # a row of a list: hours-3 is Thursday
            field = field[int(index)].opens
        if field is None:
            flash(str(message), "error")
        else:
            field.errors = [*field.errors, str(message)]


@bp.route("/")
@coordinator_required
def index():
    markets = manageable_markets(current_user)
    return render_template(
        "admin/index.html", markets=markets, overview=reports.markets_overview(markets)
    )


@bp.route("/markets/new", methods=["GET", "POST"])
@coordinator_required
def market_new():
    form = MarketForm()
    if form.validate_on_submit():
        try:
            market = create_market(form.data, actor=current_user)
        except InvalidFields as error:
            _show_errors(form, error)
        else:
            flash(_("Market created. Next: assign its volunteers."), "success")
            return redirect(url_for(".staff", market_id=market.id))
    return render_template("admin/market_form.html", form=form, market=None)


@bp.route("/markets/<int:market_id>")
@coordinator_required
def market(market_id: int):
    market = _market(market_id)
    return render_template(
        "admin/market.html",
        market=market,
        summary=reports.market_summary(market),
        per_day=reports.onboarded_per_day(market, days=7),
        volunteers=reports.volunteer_progress(market),
        follow_ups=reports.follow_ups(market),
        most_tapped=reports.most_tapped(market),
        today=reports.local_today(),
    )


@bp.route("/markets/<int:market_id>/edit", methods=["GET", "POST"])
@coordinator_required
def market_edit(market_id: int):
    market = _market(market_id)
    form = MarketForm(obj=market, hours=hours.form_rows(market.weekly_hours))
    del form.slug
    if form.validate_on_submit():
        try:
            update_market(market, form.data, actor=current_user)
        except InvalidFields as error:
            _show_errors(form, error)
        else:
            flash(_("Saved."), "success")
            return redirect(url_for(".market", market_id=market.id))
    return render_template("admin/market_form.html", form=form, market=market)


@bp.route("/markets/<int:market_id>/staff", methods=["GET", "POST"])
@coordinator_required
def staff(market_id: int):
    market = _market(market_id)
    form = StaffForm()
    if form.validate_on_submit():
        try:
            assigned = assign_staff(
                market,
                actor=current_user,
                email=form.email.data or "",
                name=form.name.data or "",
                role=form.role.data,
                password=form.password.data or "",
            )
        except InvalidFields as error:
            _show_errors(form, error)
        else:
            flash(_("%(name)s is assigned to this market.", name=assigned.user.name), "success")
            return redirect(url_for(".staff", market_id=market.id))
    return render_template(
        "admin/staff.html",
        market=market,
        form=form,
        staff=market_staff(market),
        invite_form=_invite_form(),
        join_links=[
            (role, shown)
            for role in (Role.VOLUNTEER, Role.COORDINATOR)
            if (shown := shown_account_link(_join_key(market, role), LinkPurpose.JOIN))
        ],
    )


def _join_key(market: Market, role: Role) -> str:
    return f"join-{market.id}-{role}"


def _invite_form() -> InviteStaffForm:
    form = InviteStaffForm()
    if not is_admin(current_user):
        del form.role
    return form


@bp.route("/markets/<int:market_id>/staff/invite", methods=["POST"])
@coordinator_required
def staff_invite(market_id: int):
    """A single-use link with which a new volunteer (from an admin, also a coordinator) makes
    their own account, assigned to this market."""
    market = _market(market_id)
    form = _invite_form()
    if not form.validate_on_submit():
        abort(400)
    role = Role(form.role.data) if form.role is not None else Role.VOLUNTEER
    try:
        made = account_links.create_join_link(market, role, actor=current_user)
    except DomainError as error:
        flash(str(error), "error")
    else:
        remember_account_link(_join_key(market, role), made.token)
        flash(_("The link is ready: send it on WhatsApp or let the person scan it."), "success")
    return redirect(url_for(".staff", market_id=market.id) + "#invite-title")


def _person(user_id: int) -> User:
    return load_or_404(User, user_id, can_manage_account)


def _reset_key(person: User) -> str:
    return f"reset-{person.id}"


@bp.route("/people/<int:user_id>")
@coordinator_required
def person(user_id: int):
    """One account: switched on or off (with the reason), and a new-password link."""
    person = _person(user_id)
    return render_template(
        "admin/person.html",
        person=person,
        form=DeactivateForm(),
        reset=shown_account_link(_reset_key(person), LinkPurpose.RESET),
    )


@bp.route("/people/<int:user_id>/deactivate", methods=["POST"])
@coordinator_required
def person_deactivate(user_id: int):
    person = _person(user_id)
    form = DeactivateForm()
    if form.validate_on_submit():
        try:
            accounts.deactivate(person, actor=current_user, reason=form.reason.data)
        except DomainError as error:
            form.reason.errors = [str(error)]
        else:
            flash(_("%(name)s is switched off and logged out.", name=person.name), "success")
            return redirect(url_for(".person", user_id=person.id))
    # What was typed stays in the form, with the error beside it.
    return render_template("admin/person.html", person=person, form=form, reset=None), 422


@bp.route("/people/<int:user_id>/reactivate", methods=["POST"])
@coordinator_required
def person_reactivate(user_id: int):
    person = _person(user_id)
    accounts.reactivate(person, actor=current_user)
    flash(_("%(name)s can log in again.", name=person.name), "success")
    return redirect(url_for(".person", user_id=person.id))


@bp.route("/people/<int:user_id>/reset", methods=["POST"])
@coordinator_required
def person_reset(user_id: int):
    person = _person(user_id)
    try:
        made = account_links.create_reset_link(person, actor=current_user)
    except DomainError as error:
        flash(str(error), "error")
    else:
        remember_account_link(_reset_key(person), made.token)
    return redirect(url_for(".person", user_id=person.id) + "#reset-title")


@bp.route("/markets/<int:market_id>/staff/<int:staff_id>/remove", methods=["POST"])
@coordinator_required
def staff_remove(market_id: int, staff_id: int):
    market = _market(market_id)
    assignment = db.session.get(MarketStaff, staff_id)
    if assignment is None or assignment.market_id != market.id:
        abort(404)
    name = assignment.user.name
    try:
        unassign_staff(assignment, actor=current_user)
    except DomainError as error:
        flash(str(error), "error")
    else:
        flash(_("%(name)s is no longer assigned to this market.", name=name), "success")
    return redirect(url_for(".staff", market_id=market.id))


@bp.route("/markets/<int:market_id>/volunteers/<int:user_id>")
@coordinator_required
def volunteer(market_id: int, user_id: int):
    market = _market(market_id)
    person = next(
        (p for p in reports.volunteer_progress(market) if p.user.id == user_id), None
    ) or abort(404)
    return render_template(
        "admin/volunteer.html",
        market=market,
        person=person,
        per_day=reports.onboarded_per_day(market, user_id=user_id),
        per_week=reports.onboarded_per_week(market, user_id=user_id),
        drafts=reports.open_drafts(market, user_id),
        follow_ups={v.id for v in reports.follow_ups(market, user_id)},
    )


@bp.route("/print")
@coordinator_required
def print_batch():
    """Posters, and hang tags if asked, of every stall published today (or between two days,
    or in a campaign so far) in the markets one coordinates, or one of them: one document for
    one print job."""
    markets = manageable_markets(current_user)
    today = reports.local_today()
    form = PrintForm(request.args, today=today)
    form.market.choices = [SelectChoice(0, _("All my markets"))] + [
        SelectChoice(m.id, m.name) for m in markets
    ]
    visible = campaigns.visible_campaigns(current_user)
    form.campaign.choices = [SelectChoice(0, _("None"))] + [
        SelectChoice(c.id, c.name) for c in visible
    ]
    campaign = next((c for c in visible if c.id == form.campaign.data), None)
    if campaign is not None:
        form.span = (campaign.starts_on, max(campaign.starts_on, min(campaign.ends_on, today)))
    stalls = []
    if form.validate():
        first, last = form.first.data, form.last.data = form.days()
        chosen = [m for m in markets if m.id == form.market.data] or markets
        if campaign is not None:
            covered = {target.market_id for target in campaign.targets}
            chosen = [m for m in chosen if m.id in covered]
        stalls = printing.published_between(
            chosen, first, last, current_app.config["BABEL_DEFAULT_TIMEZONE"]
        )
    response = Response(
        render_template("admin/print.html", form=form, stalls=stalls, size=form.size.data or "a5"),
        200 if not form.errors else 422,
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/markets/<int:market_id>/moderation")
@coordinator_required
def moderation(market_id: int):
    market = _market(market_id)
    return render_template(
        "admin/moderation.html",
        market=market,
        hidden_vendors=reports.hidden_vendors(market),
        hidden_products=reports.hidden_products(market),
        deleted_vendors=reports.deleted_vendors(market),
    )


@bp.route("/vendors/<int:vendor_id>/moderate")
@coordinator_required
def vendor_moderate(vendor_id: int):
    vendor = load_or_404(Vendor, vendor_id, can_moderate_vendor)
    return render_template(
        "admin/vendor_moderate.html",
        vendor=vendor,
        products=reports.live_products(vendor),
        personal_data=is_admin(current_user),
    )


def _back_to(vendor: Vendor):
    return redirect(url_for(".vendor_moderate", vendor_id=vendor.id))


@bp.route("/vendors/<int:vendor_id>/hide", methods=["POST"])
@coordinator_required
def vendor_hide(vendor_id: int):
    vendor = load_or_404(Vendor, vendor_id, can_moderate_vendor)
    form = ReasonRequiredForm()
    if form.validate_on_submit():
        hide_vendor(vendor, actor=current_user, reason=form.reason.data)
        flash(_("Hidden: shoppers no longer see the stall."), "success")
    else:
        flash(" ".join(str(error) for error in form.reason.errors), "error")
    return _back_to(vendor)


@bp.route("/vendors/<int:vendor_id>/restore", methods=["POST"])
@coordinator_required
def vendor_restore(vendor_id: int):
    vendor = load_or_404(Vendor, vendor_id, can_moderate_vendor)
    restore_vendor(vendor, actor=current_user)
    flash(_("%(name)s is restored.", name=vendor.business_name), "success")
    return redirect(url_for("manage.vendor", vendor_id=vendor.id))


@bp.route("/products/<int:product_id>/hide", methods=["POST"])
@coordinator_required
def product_hide(product_id: int):
    product = load_or_404(Product, product_id, can_moderate_product)
    form = ReasonRequiredForm()
    if form.validate_on_submit():
        hide_product(product, actor=current_user, reason=form.reason.data)
        flash(_("%(name)s is hidden.", name=product.name), "success")
    else:
        flash(" ".join(str(error) for error in form.reason.errors), "error")
    return _back_to(product.vendor)


@bp.route("/products/<int:product_id>/unhide", methods=["POST"])
@coordinator_required
def product_unhide(product_id: int):
    product = load_or_404(Product, product_id, can_moderate_product)
    # A button without fields, like the other restores: CSRFProtect checks the token.
    unhide_product(product, actor=current_user)
    flash(_("%(name)s is shown again.", name=product.name), "success")
    return _back_to(product.vendor)


@bp.route("/markets/<int:market_id>/import", methods=["GET", "POST"])
@coordinator_required
def import_vendors(market_id: int):
    market = _market(market_id)
    form = ImportForm()
    preview = commit_form = None
    if form.validate_on_submit():
        data = form.file.data.read(imports.MAX_IMPORT_BYTES + 1)
        try:
            preview = imports.preview_import(market, data)
        except Invalid as error:
            form.file.errors = [*form.file.errors, str(error)]
        else:
            commit_form = ImportCommitForm(payload=imports.pack(data))
    return render_template(
        "admin/import.html",
        market=market,
        form=form,
        preview=preview,
        commit_form=commit_form,
        columns=imports.IMPORT_COLUMNS,
        max_rows=imports.MAX_IMPORT_ROWS,
        shown=PREVIEW_ROWS,
    )


@bp.route("/markets/<int:market_id>/import/commit", methods=["POST"])
@coordinator_required
def import_commit(market_id: int):
    market = _market(market_id)
    form = ImportCommitForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        result = imports.commit_import(
            market, imports.unpack(form.payload.data), actor=current_user
        )
    except DomainError as error:
        flash(str(error), "error")
        return redirect(url_for(".import_vendors", market_id=market.id))
    flash(
        ngettext("Imported %(num)d vendor.", "Imported %(num)d vendors.", result.created)
        + " "
        + ngettext(
            "%(num)d was already in the market.",
            "%(num)d were already in the market.",
            result.existing,
        ),
        "success",
    )
    return redirect(url_for(".market", market_id=market.id))


SHEET_KINDS = "any(vendors, products)"


@bp.route(f"/markets/<int:market_id>/sheets/<{SHEET_KINDS}:kind>", methods=["GET", "POST"])
@coordinator_required
def sheet_import(market_id: int, kind: str):
    market = _market(market_id)
    form = SheetForm()
    preview = apply_form = None
    if form.validate_on_submit():
        data = form.file.data.read(imports.MAX_IMPORT_BYTES + 1)
        try:
            preview = spreadsheets.preview_sheet(kind, market, data, actor=current_user)
        except Invalid as error:
            form.file.errors = [*form.file.errors, str(error)]
        else:
            apply_form = SheetApplyForm(payload=imports.pack(data), fingerprint=preview.fingerprint)
    return _sheet_page(market, kind, form, preview, apply_form)


def _sheet_page(market, kind, form, preview, apply_form, status: int = 200):
    return render_template(
        "admin/sheet.html",
        market=market,
        kind=kind,
        form=form,
        preview=preview,
        apply_form=apply_form,
        shown=PREVIEW_ROWS,
    ), status


@bp.route(f"/markets/<int:market_id>/sheets/<{SHEET_KINDS}:kind>/apply", methods=["POST"])
@coordinator_required
def sheet_apply(market_id: int, kind: str):
    market = _market(market_id)
    form = SheetApplyForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        data = imports.unpack(form.payload.data)
        result = spreadsheets.apply_sheet(
            kind, market, data, form.fingerprint.data, actor=current_user
        )
    except Conflict as error:
        # The file stays: the page checks it again against the market as it is now.
        preview = spreadsheets.preview_sheet(kind, market, data, actor=current_user)
        flash(str(error), "error")
        apply_form = SheetApplyForm(
            formdata=None, payload=form.payload.data, fingerprint=preview.fingerprint
        )
        return _sheet_page(market, kind, SheetForm(formdata=None), preview, apply_form, 409)
    except DomainError as error:
        flash(str(error), "error")
        return redirect(url_for(".sheet_import", market_id=market.id, kind=kind))
    done = []
    if result.updated:
        done.append(ngettext("Changed %(num)d row.", "Changed %(num)d rows.", result.updated))
    if result.created:
        done.append(ngettext("Added %(num)d row.", "Added %(num)d rows.", result.created))
    flash(" ".join(done) or _("Nothing changed: the market already matches the file."), "success")
    return redirect(url_for(".sheet_import", market_id=market.id, kind=kind))


def _csv_response(data: bytes, market: Market, what: str) -> Response:
    filename = f"{market.slug}-{what}-{reports.local_today().isoformat()}.csv"
    return Response(
        data,
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Content-Type": "text/csv; charset=utf-8",
        },
    )


def _delimiter() -> str:
    # Excel with Indonesian regional settings splits columns on semicolons, not commas.
    return ";" if request.args.get("delimiter") == "semicolon" else ","


@bp.route("/markets/<int:market_id>/vendors.csv")
@coordinator_required
def export_vendors(market_id: int):
    market = _market(market_id)
    # The file holds vendors' names and WhatsApp numbers.
    security_event("export", current_user, what="vendors.csv", market=market.id)
    return _csv_response(exports.export_vendors(market, _delimiter()), market, "vendors")


@bp.route("/markets/<int:market_id>/products.csv")
@coordinator_required
def export_products(market_id: int):
    market = _market(market_id)
    security_event("export", current_user, what="products.csv", market=market.id)
    return _csv_response(exports.export_products(market, _delimiter()), market, "products")


@bp.route("/markets/<int:market_id>/audit")
@coordinator_required
def audit(market_id: int):
    market = _market(market_id)
    record_type, _sep, record_id = request.args.get("record", "").partition(":")
    log = audit_page(
        market,
        actor_id=request.args.get("actor", type=int),
        record_type=record_type if record_id.isdigit() else None,
        record_id=int(record_id) if record_id.isdigit() else None,
        page=page_number(),
        per_page=AUDIT_PER_PAGE,
    )
    return render_template(
        "admin/audit.html",
        market=market,
        log=log,
        actor_id=request.args.get("actor", type=int),
        record=request.args.get("record", ""),
        labels=ACTION_LABELS,
        changes=readable_changes,
    )


def _audit_filters() -> tuple[AuditFilterForm, AuditFilters | None]:
    """The admins' filter form from the address, and the filters it gives (None when a
    value is refused: the form shows why)."""
    form = AuditFilterForm(request.args)
    form.market.choices = [SelectChoice(0, _("All markets"))] + [
        SelectChoice(m.id, m.name) for m in manageable_markets(current_user)
    ]
    form.actor.choices = [SelectChoice(0, _("Everyone"))] + [
        SelectChoice(p.id, f"{p.name} ({p.login})") for p in all_actors()
    ]
    kinds = (SelectChoice(action, str(label)) for action, label in ACTION_LABELS.items())
    form.action.choices = [
        SelectChoice("", _("Every kind")),
        *sorted(kinds, key=lambda choice: choice.label.casefold()),
    ]
    if not form.validate():
        return form, None
    return form, AuditFilters(
        market_id=form.market.data or None,
        actor_id=form.actor.data or None,
        action=form.action.data or None,
        first=form.first.data,
        last=form.last.data,
    )


@bp.route("/audit")
@admin_required
def audit_all():
    """Every market's audit log for admins, filtered by market, person, kind and days."""
    form, filters = _audit_filters()
    log = None
    if filters is not None:
        log = all_markets_page(
            filters,
            timezone=current_app.config["BABEL_DEFAULT_TIMEZONE"],
            page=page_number(),
            per_page=AUDIT_PER_PAGE,
        )
    return render_template(
        "admin/audit_all.html", form=form, log=log, labels=ACTION_LABELS, changes=readable_changes
    ), (200 if log is not None else 422)


@bp.route("/audit.csv")
@admin_required
def audit_all_csv():
    _form, filters = _audit_filters()
    if filters is None:
        return redirect(url_for(".audit_all", **request.args))
    security_event("export", current_user, what="audit.csv")
    data = exports.export_audit(
        filters, timezone=current_app.config["BABEL_DEFAULT_TIMEZONE"], delimiter=_delimiter()
    )
    filename = f"pasar-audit-{reports.local_today().isoformat()}.csv"
    return Response(
        data,
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Content-Type": "text/csv; charset=utf-8",
        },
    )


# --- a vendor's personal data (UU 27/2022): a copy on request, erasure on request ----------


@bp.route("/vendors/<int:vendor_id>/data.json")
@admin_required
def vendor_export(vendor_id: int):
    vendor = load_or_404(Vendor, vendor_id, can_moderate_vendor)
    data = privacy.export_vendor(vendor)
    security_event("export", current_user, what="vendor.json", vendor=vendor.id)
    filename = f"pasar-vendor-{vendor.id}-{reports.local_today().isoformat()}.json"
    return Response(
        json.dumps(data, ensure_ascii=False, indent=2),
        mimetype="application/json",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@bp.route("/vendors/<int:vendor_id>/erase", methods=["GET", "POST"])
@admin_required
def vendor_erase(vendor_id: int):
    vendor = load_or_404(Vendor, vendor_id, can_moderate_vendor)
    form = EraseForm(vendor.business_name)
    if form.validate_on_submit():
        market_id = vendor.market_id
        privacy.erase_vendor(vendor, actor=current_user)
        # No name in the message: the flash travels in a cookie, and nothing of them may stay.
        flash(_("The vendor and everything about them are erased."), "success")
        return redirect(url_for(".market", market_id=market_id))
    return render_template(
        "admin/vendor_erase.html", vendor=vendor, form=form, data=privacy.export_vendor(vendor)
    )


@bp.route("/synonyms", methods=["GET", "POST"])
@coordinator_required
def synonym_list():
    form = SynonymForm()
    status = 200
    if form.validate_on_submit():
        try:
            added = synonyms.add_synonym(
                {
                    "phrase": form.phrase.data,
                    "means": form.means.data,
                    "both_ways": form.both_ways.data,
                },
                actor=current_user,
            )
        except synonyms.InvalidSynonym as error:
            form.show_errors(error.errors)
            status = 422
        else:
            first = added[0]
            flash(
                _(
                    "Search now also finds “%(means)s” for “%(phrase)s”.",
                    phrase=first.phrase,
                    means=first.means,
                ),
                "success",
            )
            return redirect(url_for(".synonym_list"), code=303)
    elif form.is_submitted():
        status = 422
    return (
        render_template(
            "admin/synonyms.html",
            form=form,
            synonyms=synonyms.list_synonyms(),
            removals=synonyms.recent_removals(),
        ),
        status,
    )


@bp.route("/synonyms/<int:synonym_id>/remove", methods=["POST"])
@coordinator_required
def synonym_remove(synonym_id: int):
    synonym = load_or_404(Synonym, synonym_id, can_edit_synonyms)
    phrase, means = synonym.phrase, synonym.means
    synonyms.remove_synonym(synonym, actor=current_user)
    flash(
        _(
            "Removed: “%(phrase)s” → “%(means)s”. It can be added back below.",
            phrase=phrase,
            means=means,
        ),
        "success",
    )
    return redirect(url_for(".synonym_list"), code=303)
