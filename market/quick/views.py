"""Quick add at the stall: register a vendor on one screen (with consent and the stall photo),
add goods one phone screen at a time, then add videos, publish and send the invitation from
one last screen.

Registering and publishing are the staff's; the goods screen is also the vendor's own way to
add goods."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from market.catalogue.views import add_product_from, flash_refusals, upload_refused, uploads_from
from market.manage.invitation_links import remember_invitation, shown_invitation
from market.models import Vendor
from market.permissions import (
    can_edit_vendor,
    can_publish_vendor,
    load_or_404,
    login_required,
    staff_required,
    staffed_markets,
)
from market.quick.forms import QuickProductForm, QuickVendorForm, QuickVlogForm
from market.services import vlog_links
from market.services.categories import all_categories
from market.services.consent import CONSENT_LANGUAGES, CONSENT_VERSION, consent_text
from market.services.errors import Busy, DomainError, Invalid, NotReady
from market.services.products import (
    list_products,
)
from market.services.quick_add import publish_and_invite, register_at_stall
from market.services.readiness import missing_for_publish, vendor_checklist
from market.services.vendors import DuplicateVendor, InvalidFields

bp = Blueprint("quick", __name__, url_prefix="/manage/quick")


def _locale() -> str:
    return str(get_locale())


# --- 1. the vendor --------------------------------------------------------------------------


@bp.route("/register", methods=["GET", "POST"])
@staff_required
def register():
    markets = staffed_markets(current_user)
    if not markets:
        flash(_("You are not assigned to a market yet. Ask your coordinator."), "warning")
        return redirect(url_for("manage.home"))
    form = QuickVendorForm(all_categories(), _locale())
    form.market.choices = [SelectChoice(m.id, m.name) for m in markets]
    if not form.is_submitted():
        asked = request.args.get("market", type=int)
        form.market.data = asked if asked in {m.id for m in markets} else markets[0].id
    duplicates = []
    status, headers = 200, {}
    if form.validate_on_submit():
        market = next(m for m in markets if m.id == form.market.data)
        photos = uploads_from([form.stall_photo.data])
        try:
            vendor = register_at_stall(
                market,
                {
                    "business_name": form.business_name.data,
                    "owner_name": form.owner_name.data,
                    "stall_block": form.stall_block.data,
                    "stall_number": form.stall_number.data,
                    "whatsapp": form.whatsapp.data,
                    "category_ids": form.categories.data or [],
                },
                actor=current_user,
                consent=form.consent.data,
                consent_language=form.consent_language.data,
                stall_photo=photos[0] if photos else None,
                allow_duplicate=form.allow_duplicate.data,
            )
        except InvalidFields as error:
            form.show_errors(error.errors)
            status = 422
        except DuplicateVendor as error:
            duplicates = error.vendors
            status = 409
        except (Busy, Invalid) as error:
            # The stall photo could not go in (the server busy, storage out of reach).
            status, headers = upload_refused(form.stall_photo, error)
        else:
            flash(_("%(name)s is registered. Now the goods.", name=vendor.business_name), "success")
            return redirect(url_for(".products", vendor_id=vendor.id), code=303)
        if photos and not form.stall_photo.errors:
            # Browsers never keep a chosen file in a form that comes back.
            form.stall_photo.errors = [_("Choose the photo again, please.")]
    elif form.is_submitted():
        status = 422
    return (
        render_template(
            "quick/register.html",
            form=form,
            duplicates=duplicates,
            consent_texts={code: consent_text(code) for code in CONSENT_LANGUAGES},
            consent_version=CONSENT_VERSION,
        ),
        status,
        headers,
    )


# --- 2. the goods ---------------------------------------------------------------------------


def _left_empty(form: QuickProductForm) -> bool:
    """Nothing typed and no photo chosen: "Done" then just moves on."""
    typed = (form.name.data or "").strip() or (form.price.data or "").strip()
    chosen = any(f and f.filename for f in [form.camera.data, *(form.photos.data or [])])
    return not typed and not chosen


def _after_goods(vendor: Vendor) -> str:
    if can_publish_vendor(current_user, vendor):
        return url_for(".finish", vendor_id=vendor.id)
    return url_for("manage.home", _anchor=f"goods-{vendor.id}")


@bp.route("/vendors/<int:vendor_id>/products", methods=["GET", "POST"])
@login_required
def products(vendor_id: int):
    vendor = load_or_404(Vendor, vendor_id, can_edit_vendor)
    form = QuickProductForm(all_categories(), _locale())
    finishing = request.form.get("then") == "finish"
    status, headers = 200, {}
    if not form.is_submitted():
        # Most goods of a stall are of its own kind: the vendor's categories are the default.
        form.categories.data = [c.id for c in vendor.categories]
    elif finishing and _left_empty(form):
        return redirect(_after_goods(vendor), code=303)
    if form.validate_on_submit():
        uploads = uploads_from([form.camera.data, *(form.photos.data or [])])
        product, refused, status, headers = add_product_from(vendor, form, uploads)
        if product:
            flash(
                ngettext(
                    "“%(name)s” is saved with %(num)d photo.",
                    "“%(name)s” is saved with %(num)d photos.",
                    len(product.photos),
                    name=product.name,
                ),
                "success",
            )
            flash_refusals(refused)
            if finishing:
                return redirect(_after_goods(vendor), code=303)
            return redirect(url_for(".products", vendor_id=vendor.id), code=303)
    elif form.is_submitted():
        status = 422
    # Fields in the folded part that need fixing are shown unfolded.
    folded_errors = set(form.errors) - {"name", "price", "camera", "photos"}
    return (
        render_template(
            "quick/product.html",
            vendor=vendor,
            form=form,
            products=list_products(vendor),
            staff=can_publish_vendor(current_user, vendor),
            open_more=bool(folded_errors),
        ),
        status,
        headers,
    )


# --- 3. videos, publishing and the invitation -----------------------------------------------


@bp.get("/vendors/<int:vendor_id>/finish")
@staff_required
def finish(vendor_id: int):
    vendor = load_or_404(Vendor, vendor_id, can_publish_vendor)
    return _finish_page(vendor, QuickVlogForm())


def _finish_page(vendor: Vendor, vlog_form: QuickVlogForm) -> str:
    steps = vendor_checklist(vendor)
    return render_template(
        "quick/finish.html",
        vendor=vendor,
        steps=steps,
        missing=missing_for_publish(steps),
        vlogs=vlog_links.list_vlogs(vendor),
        vlog_form=vlog_form,
        shown=shown_invitation(vendor),
    )


@bp.post("/vendors/<int:vendor_id>/videos")
@staff_required
def add_vlog(vendor_id: int):
    vendor = load_or_404(Vendor, vendor_id, can_publish_vendor)
    form = QuickVlogForm()
    if form.validate_on_submit():
        try:
            vlog_links.add_vlog(vendor, form.url.data, actor=current_user)
        except Invalid as exc:
            # Shown with the typed link kept, so that nothing typed is lost.
            form.url.errors = [str(exc)]
        else:
            flash(_("Link added."), "success")
            return redirect(url_for(".finish", vendor_id=vendor.id, _anchor="video"), code=303)
    return _finish_page(vendor, form), 422


@bp.post("/vendors/<int:vendor_id>/publish")
@staff_required
def publish(vendor_id: int):
    vendor = load_or_404(Vendor, vendor_id, can_publish_vendor)
    try:
        created = publish_and_invite(vendor, actor=current_user)
    except NotReady as error:
        flash(_("Not yet: %(steps)s.", steps=", ".join(error.missing)), "error")
    except DomainError as error:
        flash(str(error), "error")
    else:
        remember_invitation(vendor, created.token)
        flash(_("Published: shoppers can see the stall now."), "success")
    return redirect(url_for(".finish", vendor_id=vendor.id, _anchor="publish"), code=303)
