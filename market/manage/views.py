"""The back office of volunteers (their vendors, registering, consent, checklist, publishing,
invitations) and of vendors (their own stall)."""

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from market.manage.forms import ClosedForm, ConsentForm, ReasonForm, VendorForm
from market.manage.invitation_links import remember_invitation, shown_invitation
from market.models import Vendor, utcnow
from market.permissions import (
    can_edit_vendor,
    can_moderate_vendor,
    can_publish_vendor,
    can_view_vendor,
    can_withdraw_consent,
    is_vendor,
    load_or_404,
    login_required,
    staff_required,
    staffed_markets,
)
from market.services import invitations, products, stats
from market.services.categories import all_categories
from market.services.consent import (
    CONSENT_LANGUAGES,
    CONSENT_VERSION,
    consent_text,
    record_consent,
)
from market.services.consent import withdraw_consent as withdraw_vendor_consent
from market.services.contacts import clicks_by_vendor
from market.services.errors import DomainError, NotReady
from market.services.moderation import hide_vendor, publish_vendor, unpublish_vendor
from market.services.readiness import missing_for_publish, progress, vendor_checklist
from market.services.reports import local_today
from market.services.vendor_list import MISSING_FILTERS, STATUS_FILTERS, list_vendors
from market.services.vendors import (
    DuplicateVendor,
    InvalidFields,
    close_stall,
    delete_vendor,
    owned_stalls,
    register_vendor,
    reopen_stall,
    update_vendor,
)
from market.services.whatsapp import display_phone
from market.web import page_number

bp = Blueprint("manage", __name__, url_prefix="/manage")

VENDORS_PER_PAGE = 30


@bp.route("/")
@login_required
def home():
    if is_vendor(current_user):
        return _vendor_home(owned_stalls(current_user))
    markets = staffed_markets(current_user)
    selected = next((m for m in markets if m.id == request.args.get("market", type=int)), None)
    status = request.args.get("status")
    status = status if status in STATUS_FILTERS else None
    missing = request.args.get("missing")
    missing = missing if missing in MISSING_FILTERS else None
    search = request.args.get("q", "")
    listing = list_vendors(
        [selected.id] if selected else [m.id for m in markets],
        status=status,
        missing=missing,
        search=search,
        page=page_number(),
        per_page=VENDORS_PER_PAGE,
    )
    return render_template(
        "manage/home.html",
        markets=markets,
        selected=selected,
        status=status,
        missing=missing,
        search=search,
        listing=listing,
    )


def _vendor_form(markets=None, **kwargs) -> VendorForm:
    form = VendorForm(**kwargs)
    locale = str(get_locale())
    form.categories.choices = [SelectChoice(c.id, c.name_for(locale)) for c in all_categories()]
    if markets is None:
        del form.market
    else:
        form.market.choices = [SelectChoice(m.id, m.name) for m in markets]
    return form


def _profile_input(form: VendorForm) -> dict:
    return {
        "business_name": form.business_name.data,
        "owner_name": form.owner_name.data,
        "stall_block": form.stall_block.data,
        "stall_number": form.stall_number.data,
        "whatsapp": form.whatsapp.data,
        "description": form.description.data,
        "opening_hours": form.opening_hours.data,
        "name_en": form.name_en.data,
        "description_en": form.description_en.data,
        "category_ids": form.categories.data or [],
    }


@bp.route("/vendors/new", methods=["GET", "POST"])
@staff_required
def vendor_new():
    markets = staffed_markets(current_user)
    if not markets:
        flash(_("You are not assigned to a market yet. Ask your coordinator."), "warning")
        return redirect(url_for(".home"))
    form = _vendor_form(markets)
    if request.method == "GET":
        asked = request.args.get("market", type=int)
        form.market.data = asked if asked in {m.id for m in markets} else markets[0].id
    duplicates = []
    if form.validate_on_submit():
        market = next(m for m in markets if m.id == form.market.data)
        try:
            vendor = register_vendor(
                market,
                _profile_input(form),
                actor=current_user,
                allow_duplicate=form.allow_duplicate.data,
            )
        except InvalidFields as error:
            form.show_errors(error.errors)
        except DuplicateVendor as error:
            duplicates = error.vendors
        else:
            flash(_("Draft saved: %(name)s.", name=vendor.business_name), "success")
            return redirect(url_for(".vendor", vendor_id=vendor.id))
    return render_template("manage/vendor_form.html", form=form, duplicates=duplicates, vendor=None)


def _vendor_home(vendors: list[Vendor], sent: tuple[int, ClosedForm] | None = None):
    """A vendor's own page: their goods, in plain words; the checklist is the volunteers'.
    `sent` is a stall's closing form sent back with its errors."""
    stalls = []
    for vendor in vendors:
        goods = products.list_products(vendor)
        stalls.append(
            {
                "vendor": vendor,
                "products": goods,
                "numbers": stats.numbers(vendor, goods),
                "deleted": products.deleted_products(vendor),
                "closed_form": sent[1]
                if sent and sent[0] == vendor.id
                else ClosedForm(prefix=f"closed-{vendor.id}", formdata=None),
            }
        )
    return render_template(
        "manage/vendor_home.html",
        stalls=stalls,
        withdraw_form=ReasonForm(prefix="withdraw"),
        today=local_today(),
    )


@bp.route("/vendors/<int:vendor_id>/closed", methods=["POST"])
@login_required
def close(vendor_id: int):
    """The vendor says the stall is closed today, or until a day, with a note for shoppers."""
    vendor = load_or_404(Vendor, vendor_id, can_edit_vendor)
    form = ClosedForm(prefix=f"closed-{vendor.id}")
    if form.validate_on_submit():
        try:
            close_stall(vendor, actor=current_user, until=form.until.data, note=form.note.data)
        except InvalidFields as error:
            form.show_errors(error.errors)
        else:
            flash(_("Shoppers now see that your stall is closed."), "success")
            return redirect(url_for(".home") + f"#stall-{vendor.id}")
    stalls = owned_stalls(current_user) if is_vendor(current_user) else [vendor]
    return _vendor_home(stalls, sent=(vendor.id, form)), 422


@bp.route("/vendors/<int:vendor_id>/open", methods=["POST"])
@login_required
def reopen(vendor_id: int):
    vendor = load_or_404(Vendor, vendor_id, can_edit_vendor)
    reopen_stall(vendor, actor=current_user)
    flash(_("Shoppers now see that your stall is open."), "success")
    return redirect(url_for(".home") + f"#stall-{vendor.id}")


@bp.route("/vendors/<int:vendor_id>")
@login_required
def vendor(vendor_id: int):
    vendor = load_or_404(Vendor, vendor_id, can_view_vendor)
    if is_vendor(current_user):
        return _vendor_home([vendor])
    steps = vendor_checklist(vendor)
    return render_template(
        "manage/vendor.html",
        vendor=vendor,
        steps=steps,
        progress=progress(steps),
        missing=missing_for_publish(steps),
        taps=clicks_by_vendor([vendor.id]).get(vendor.id, 0),
        invitation=invitations.latest_invitation(vendor),
        now=utcnow(),
        can_edit=can_edit_vendor(current_user, vendor),
        can_publish=can_publish_vendor(current_user, vendor),
        can_moderate=can_moderate_vendor(current_user, vendor),
        delete_form=ReasonForm(prefix="delete"),
        withdraw_form=ReasonForm(prefix="withdraw"),
    )


@bp.route("/vendors/<int:vendor_id>/edit", methods=["GET", "POST"])
@login_required
def vendor_edit(vendor_id: int):
    vendor = load_or_404(Vendor, vendor_id, can_edit_vendor)
    form = _vendor_form(obj=vendor)
    if request.method == "GET":
        form.categories.data = [c.id for c in vendor.categories]
        form.version.data = vendor.version
    duplicates = []
    if form.validate_on_submit():
        try:
            update_vendor(
                vendor,
                _profile_input(form),
                actor=current_user,
                version=form.version.data,
                allow_duplicate=form.allow_duplicate.data,
            )
        except InvalidFields as error:
            form.show_errors(error.errors)
        except DuplicateVendor as error:
            duplicates = error.vendors
        except DomainError as error:
            flash(str(error), "error")
        else:
            flash(_("Saved."), "success")
            return redirect(url_for(".vendor", vendor_id=vendor.id))
    return render_template(
        "manage/vendor_form.html", form=form, duplicates=duplicates, vendor=vendor
    )


@bp.route("/vendors/<int:vendor_id>/consent", methods=["GET", "POST"])
@staff_required
def consent(vendor_id: int):
    vendor = load_or_404(Vendor, vendor_id, can_publish_vendor)
    form = ConsentForm()
    if request.method == "GET":
        asked = request.args.get("language")
        form.language.data = asked if asked in CONSENT_LANGUAGES else "id"
    if form.validate_on_submit():
        try:
            record_consent(vendor, actor=current_user, language=form.language.data)
        except DomainError as error:
            flash(str(error), "error")
        else:
            flash(_("Consent recorded."), "success")
            return redirect(url_for(".vendor", vendor_id=vendor.id))
    language = form.language.data if form.language.data in CONSENT_LANGUAGES else "id"
    return render_template(
        "manage/consent.html",
        vendor=vendor,
        form=form,
        language=language,
        text=consent_text(language),
        version=CONSENT_VERSION,
        withdraw_form=ReasonForm(prefix="withdraw"),
    )


@bp.route("/vendors/<int:vendor_id>/consent/withdraw", methods=["POST"])
@login_required
def withdraw_consent(vendor_id: int):
    vendor = load_or_404(Vendor, vendor_id, can_withdraw_consent)
    form = ReasonForm(prefix="withdraw")
    if form.validate_on_submit():
        withdraw_vendor_consent(vendor, actor=current_user, reason=form.reason.data or "")
        flash(_("Consent withdrawn: the stall is no longer shown to the public."), "success")
    return redirect(url_for(".vendor", vendor_id=vendor.id))


def _status_change(vendor_id: int, change, done_message: str):
    vendor = load_or_404(Vendor, vendor_id, can_publish_vendor)
    try:
        change(vendor, actor=current_user)
    except NotReady as error:
        flash(
            _("Not published yet. Still to do: %(steps)s.", steps=", ".join(error.missing)),
            "error",
        )
    except DomainError as error:
        flash(str(error), "error")
    else:
        flash(done_message, "success")
    return redirect(url_for(".vendor", vendor_id=vendor.id))


@bp.route("/vendors/<int:vendor_id>/publish", methods=["POST"])
@staff_required
def publish(vendor_id: int):
    return _status_change(
        vendor_id, publish_vendor, _("Published: shoppers can see the stall now.")
    )


@bp.route("/vendors/<int:vendor_id>/unpublish", methods=["POST"])
@staff_required
def unpublish(vendor_id: int):
    return _status_change(
        vendor_id, unpublish_vendor, _("Unpublished: the stall is a draft again.")
    )


@bp.route("/vendors/<int:vendor_id>/hide", methods=["POST"])
@staff_required
def hide(vendor_id: int):
    return _status_change(vendor_id, hide_vendor, _("Hidden: shoppers no longer see the stall."))


@bp.route("/vendors/<int:vendor_id>/delete", methods=["POST"])
@staff_required
def delete(vendor_id: int):
    vendor = load_or_404(Vendor, vendor_id, can_publish_vendor)
    form = ReasonForm(prefix="delete")
    if not form.validate_on_submit():
        abort(400)
    delete_vendor(vendor, actor=current_user, reason=form.reason.data or "")
    flash(
        _("%(name)s is deleted. A coordinator can restore it.", name=vendor.business_name),
        "success",
    )
    return redirect(url_for(".home"))


@bp.route("/vendors/<int:vendor_id>/invitation")
@staff_required
def invitation(vendor_id: int):
    vendor = load_or_404(Vendor, vendor_id, can_publish_vendor)
    latest = invitations.latest_invitation(vendor)
    shown = shown_invitation(vendor)
    return render_template(
        "manage/invitation.html",
        vendor=vendor,
        latest=latest,
        shown=shown,
        now=utcnow(),
        login=display_phone(invitations.login_for(vendor)) if invitations.login_for(vendor) else "",
    )


@bp.route("/vendors/<int:vendor_id>/invitation", methods=["POST"])
@staff_required
def invite(vendor_id: int):
    vendor = load_or_404(Vendor, vendor_id, can_publish_vendor)
    try:
        created = invitations.create_invitation(vendor, actor=current_user)
    except NotReady as error:
        flash(_("First add: %(steps)s.", steps=", ".join(error.missing)), "error")
        return redirect(url_for(".vendor", vendor_id=vendor.id))
    except DomainError as error:
        flash(str(error), "error")
        return redirect(url_for(".vendor", vendor_id=vendor.id))
    remember_invitation(vendor, created.token)
    return redirect(url_for(".invitation", vendor_id=vendor.id))
