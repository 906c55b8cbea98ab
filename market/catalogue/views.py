"""Back office for a stall's catalogue: products, photos, vlog links, QRIS.

Open to the vendor who owns the stall and to the staff of its market; everyone else gets a 404.
"""

import json
from collections.abc import Callable, Iterable

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.datastructures import FileStorage

from market.catalogue.forms import (
    EditProductForm,
    NewProductForm,
    PhotoUploadForm,
    ProductForm,
    QrisForm,
    VlogForm,
)
from market.models import Photo, Product, Vendor, VlogLink
from market.permissions import (
    can_edit_photo,
    can_edit_product,
    can_edit_vendor,
    can_edit_vlog,
    can_publish_vendor,
    can_see_numbers,
    load_or_404,
    login_required,
)
from market.services import feeds, marketplaces, stats
from market.services.categories import all_categories
from market.services.errors import Busy, DomainError, Invalid
from market.services.photos import (
    MAX_PHOTOS,
    PhotoNotStored,
    Refusal,
    Upload,
    add_photos,
    delete_photo,
    deleted_photos,
    move_photo,
    restore_photo,
    set_alt_text,
)
from market.services.products import (
    InvalidProduct,
    StaleProduct,
    clean_product,
    create_product,
    delete_product,
    deleted_products,
    list_products,
    move_product,
    product_snapshot,
    restore_product,
    set_availability,
    update_product,
)
from market.services.qris import get_qris, save_qris, unverify_qris, verify_qris
from market.services.vlog_links import (
    add_vlog,
    delete_vlog,
    deleted_vlogs,
    list_vlogs,
    restore_vlog,
)
from market.web import channel_image_url

# When the photo storage (a disk, a bucket) failed: long enough for a blip to pass.
STORAGE_RETRY_SECONDS = 30
bp = Blueprint("catalogue", __name__, url_prefix="/manage")


# --- loading records the user may work on ----------------------------------------------------


def _vendor(vendor_id: int) -> Vendor:
    return load_or_404(Vendor, vendor_id, can_edit_vendor)


def _product(product_id: int) -> Product:
    return load_or_404(Product, product_id, can_edit_product)


# --- small helpers -------------------------------------------------------------------------


def _locale() -> str:
    return str(get_locale())


def uploads_from(files: Iterable[FileStorage | None]) -> list[Upload]:
    # One byte over the limit is enough for the pipeline to refuse a file by its size.
    limit = current_app.config["MARKET_PHOTO_MAX_BYTES"] + 1
    # A tampered form can send text where a file belongs: it is no upload.
    return [
        Upload(f.filename, f.stream.read(limit))
        for f in files
        if isinstance(f, FileStorage) and f.filename
    ]


def flash_refusals(refused: list[Refusal]) -> None:
    for refusal in refused:
        flash(
            _("Not added: %(file)s. %(reason)s", file=refusal.filename, reason=refusal.message),
            "error",
        )


def _attempt(action: Callable[[], object], done: str | None = None) -> None:
    """Run a small action; a broken rule becomes an error message instead of a change."""
    try:
        action()
    except DomainError as exc:
        flash(str(exc), "error")
        return
    if done:
        flash(done, "success")


def upload_refused(field, exc: DomainError) -> tuple[int, dict[str, str]]:
    """Show beside the upload field why the photos did not go in; the status and headers to
    answer with: 503 and when to try again for the server's own trouble (busy, storage out of
    reach), so that a phone's outbox keeps the item; 422 for what the person must change."""
    field.errors = [str(exc)]
    if isinstance(exc, Busy):
        return 503, {"Retry-After": str(exc.retry_after)}
    if isinstance(exc, PhotoNotStored):
        return 503, {"Retry-After": str(STORAGE_RETRY_SECONDS)}
    return 422, {}


def add_product_from(
    vendor: Vendor, form: ProductForm, uploads: list[Upload]
) -> tuple[Product | None, list[Refusal], int, dict[str, str]]:
    """Create a product from a submitted form: the product and the refused files, or None
    with the form's errors set; and the status and headers to answer with."""
    try:
        fields = clean_product(form.raw())
        product, refused = create_product(vendor, fields, actor=current_user, uploads=uploads)
    except InvalidProduct as exc:
        form.show_errors(exc.errors)
        if uploads:
            # Browsers never keep a chosen file in a form that comes back.
            form.photos.errors = [_("Choose the photos again, please.")]
        return None, [], 422, {}
    except (Busy, PhotoNotStored) as exc:
        return None, [], *upload_refused(form.photos, exc)
    except Invalid as exc:
        flash(str(exc), "error")
        return None, [], 422, {}
    return product, refused, 200, {}


def _base_snapshot(raw: str | None) -> dict | None:
    try:
        base = json.loads(raw or "")
    except ValueError:
        return None
    return base if isinstance(base, dict) else None


# --- products -------------------------------------------------------------------------------


def _back_home(anchor: str) -> str | None:
    """The vendor's home lists the goods with the same small forms: they lead back there."""
    if request.form.get("back") == "home":
        return url_for("manage.home", _anchor=anchor)
    return None


def _products_page(product: Product) -> str:
    return _back_home(f"product-{product.id}") or url_for(
        ".products", vendor_id=product.vendor_id, _anchor=f"product-{product.id}"
    )


@bp.get("/vendors/<int:vendor_id>/products")
@login_required
def products(vendor_id: int):
    vendor = _vendor(vendor_id)
    return render_template(
        "manage/products.html",
        vendor=vendor,
        products=list_products(vendor),
        deleted=deleted_products(vendor),
    )


@bp.route("/vendors/<int:vendor_id>/products/new", methods=["GET", "POST"])
@login_required
def new_product(vendor_id: int):
    vendor = _vendor(vendor_id)
    form = NewProductForm(all_categories(), _locale())
    status, headers = 200, {}
    if form.validate_on_submit():
        uploads = uploads_from(form.photos.data or [])
        product, refused, status, headers = add_product_from(vendor, form, uploads)
        if product:
            if product.photos:
                flash(_("“%(name)s” is saved.", name=product.name), "success")
                location = _products_page(product)
            else:
                flash(
                    _("“%(name)s” is saved. Now add a photo of it.", name=product.name), "success"
                )
                location = url_for(".edit_product", product_id=product.id, _anchor="photos")
            flash_refusals(refused)
            return redirect(location, code=303)
    elif form.is_submitted():
        status = 422
    return render_template("manage/products_new.html", vendor=vendor, form=form), status, headers


@bp.route("/products/<int:product_id>/edit", methods=["GET", "POST"])
@login_required
def edit_product(product_id: int):
    product = _product(product_id)
    categories = all_categories()
    form = EditProductForm(categories, _locale())
    conflict = None
    status = 200
    if not form.is_submitted():
        form.fill_from(product)
        form.version.data = product.version
        form.base.data = json.dumps(product_snapshot(product))
    elif form.validate_on_submit():
        try:
            fields = clean_product(form.raw())
            changes = update_product(
                product,
                fields,
                actor=current_user,
                version=form.version.data,
                base=_base_snapshot(form.base.data),
            )
        except InvalidProduct as exc:
            form.show_errors(exc.errors)
            status = 422
        except StaleProduct as exc:
            # Keep what was typed, but base the next save on what is saved now: saving again
            # is then a deliberate choice made after seeing the other person's values.
            conflict = exc.changed
            # An IntegerField shows what was submitted (raw_data) rather than its data.
            form.version.data, form.version.raw_data = product.version, None
            form.base.data = json.dumps(product_snapshot(product))
            status = 409
        except Invalid as exc:
            flash(str(exc), "error")
            status = 422
        else:
            flash(_("Saved.") if changes else _("Nothing was changed."), "success")
            return redirect(_products_page(product), code=303)
    else:
        status = 422
    return _edit_page(product, form, categories, conflict=conflict), status


def _edit_page(
    product: Product,
    form: EditProductForm,
    categories: list,
    *,
    conflict: dict | None = None,
    photo_form: PhotoUploadForm | None = None,
) -> str:
    return render_template(
        "manage/products_edit.html",
        vendor=product.vendor,
        product=product,
        form=form,
        conflict=conflict,
        category_names={c.slug: c.name_for(_locale()) for c in categories},
        photo_form=photo_form or PhotoUploadForm(),
        deleted_photos=deleted_photos(product),
        max_photos=MAX_PHOTOS,
    )


@bp.post("/products/<int:product_id>/availability")
@login_required
def product_availability(product_id: int):
    product = _product(product_id)
    _attempt(
        lambda: set_availability(product, request.form.get("availability", ""), actor=current_user)
    )
    return redirect(_products_page(product), code=303)


@bp.post("/products/<int:product_id>/move")
@login_required
def product_move(product_id: int):
    product = _product(product_id)
    _attempt(lambda: move_product(product, request.form.get("direction", ""), actor=current_user))
    return redirect(_products_page(product), code=303)


@bp.post("/products/<int:product_id>/delete")
@login_required
def product_delete(product_id: int):
    product = _product(product_id)
    _attempt(
        lambda: delete_product(product, actor=current_user),
        _(
            "“%(name)s” is deleted. You can restore it from the deleted products below.",
            name=product.name,
        ),
    )
    location = _back_home(f"deleted-{product.vendor_id}") or url_for(
        ".products", vendor_id=product.vendor_id, _anchor="deleted"
    )
    return redirect(location, code=303)


@bp.post("/products/<int:product_id>/restore")
@login_required
def product_restore(product_id: int):
    product = _product(product_id)
    _attempt(
        lambda: restore_product(product, actor=current_user),
        _("“%(name)s” is back, at the end of the list.", name=product.name),
    )
    return redirect(_products_page(product), code=303)


# --- photos ---------------------------------------------------------------------------------


def _photo_page(photo: Photo) -> str:
    if photo.product_id is not None:
        return url_for(".edit_product", product_id=photo.product_id, _anchor="photos")
    return url_for(".stall_photos", vendor_id=photo.vendor_id, _anchor="photos")


def _add_photos(
    owner: Vendor | Product, form: PhotoUploadForm, location: str, page: Callable[[], str]
):
    """Add the chosen photos, then go to ``location``; when none can go in (the server busy,
    storage out of reach, no room left), answer with ``page`` showing the upload form and why."""
    uploads = uploads_from(form.photos.data or [])
    if not uploads:
        flash(_("Choose one or more photos first."), "error")
        return redirect(location, code=303)
    try:
        _report(*add_photos(owner, uploads, actor=current_user))
    except DomainError as exc:
        # Nothing went in: the form comes back with the reason, and a phone's outbox keeps the
        # photos instead of taking a redirect for "saved".
        status, headers = upload_refused(form.photos, exc)
        return page(), status, headers
    return redirect(location, code=303)


def _report(added: list[Photo], refused: list[Refusal]) -> None:
    if added:
        flash(
            ngettext("%(num)d photo added.", "%(num)d photos added.", len(added)),
            "success",
        )
    flash_refusals(refused)


@bp.post("/products/<int:product_id>/photos")
@login_required
def product_photos(product_id: int):
    product = _product(product_id)
    form = PhotoUploadForm()
    location = _back_home(f"product-{product.id}") or url_for(
        ".edit_product", product_id=product.id, _anchor="photos"
    )

    def page() -> str:
        categories = all_categories()
        edit_form = EditProductForm(categories, _locale(), formdata=None)
        edit_form.fill_from(product)
        edit_form.version.data = product.version
        edit_form.base.data = json.dumps(product_snapshot(product))
        return _edit_page(product, edit_form, categories, photo_form=form)

    return _add_photos(product, form, location, page)


@bp.route("/vendors/<int:vendor_id>/photos", methods=["GET", "POST"])
@login_required
def stall_photos(vendor_id: int):
    vendor = _vendor(vendor_id)
    form = PhotoUploadForm()

    def page() -> str:
        return render_template(
            "manage/photos.html",
            vendor=vendor,
            form=form,
            photos=vendor.photos,
            deleted_photos=deleted_photos(vendor),
            max_photos=MAX_PHOTOS,
        )

    if form.validate_on_submit():
        location = url_for(".stall_photos", vendor_id=vendor.id, _anchor="photos")
        return _add_photos(vendor, form, location, page)
    return page()


@bp.post("/photos/<int:photo_id>/move")
@login_required
def photo_move(photo_id: int):
    photo = load_or_404(Photo, photo_id, can_edit_photo)
    _attempt(lambda: move_photo(photo, request.form.get("direction", ""), actor=current_user))
    return redirect(_photo_page(photo), code=303)


@bp.post("/photos/<int:photo_id>/alt")
@login_required
def photo_alt(photo_id: int):
    photo = load_or_404(Photo, photo_id, can_edit_photo)
    _attempt(
        lambda: set_alt_text(photo, request.form.get("alt_text", ""), actor=current_user),
        _("Photo description saved."),
    )
    return redirect(_photo_page(photo), code=303)


@bp.post("/photos/<int:photo_id>/delete")
@login_required
def photo_delete(photo_id: int):
    photo = load_or_404(Photo, photo_id, can_edit_photo)
    _attempt(
        lambda: delete_photo(photo, actor=current_user),
        _("Photo deleted. You can restore it below."),
    )
    return redirect(_photo_page(photo), code=303)


@bp.post("/photos/<int:photo_id>/restore")
@login_required
def photo_restore(photo_id: int):
    photo = load_or_404(Photo, photo_id, can_edit_photo)
    _attempt(lambda: restore_photo(photo, actor=current_user), _("Photo restored."))
    return redirect(_photo_page(photo), code=303)


# --- vlog links -----------------------------------------------------------------------------


@bp.route("/vendors/<int:vendor_id>/vlogs", methods=["GET", "POST"])
@login_required
def vlogs(vendor_id: int):
    vendor = _vendor(vendor_id)
    products = list_products(vendor)
    form = VlogForm(products)
    status = 200
    if not form.is_submitted():
        form.product_id.data = request.args.get("product", 0, type=int)
    if form.validate_on_submit():
        try:
            add_vlog(
                vendor,
                form.url.data,
                actor=current_user,
                product_id=form.product_id.data or None,
                title=form.title.data,
            )
        except Invalid as exc:
            form.url.errors = [str(exc)]
            status = 422
        else:
            flash(_("Link added."), "success")
            return redirect(url_for(".vlogs", vendor_id=vendor.id), code=303)
    elif form.is_submitted():
        status = 422
    return render_template(
        "manage/vlogs.html",
        vendor=vendor,
        form=form,
        vlogs=list_vlogs(vendor),
        deleted=deleted_vlogs(vendor),
    ), status


@bp.post("/vlogs/<int:vlog_id>/delete")
@login_required
def vlog_delete(vlog_id: int):
    vlog = load_or_404(VlogLink, vlog_id, can_edit_vlog)
    _attempt(
        lambda: delete_vlog(vlog, actor=current_user),
        _("Link deleted. You can restore it below."),
    )
    return redirect(url_for(".vlogs", vendor_id=vlog.vendor_id), code=303)


@bp.post("/vlogs/<int:vlog_id>/restore")
@login_required
def vlog_restore(vlog_id: int):
    vlog = load_or_404(VlogLink, vlog_id, can_edit_vlog)
    _attempt(lambda: restore_vlog(vlog, actor=current_user), _("Link restored."))
    return redirect(url_for(".vlogs", vendor_id=vlog.vendor_id), code=303)


# --- QRIS -----------------------------------------------------------------------------------


@bp.route("/vendors/<int:vendor_id>/qris", methods=["GET", "POST"])
@login_required
def qris(vendor_id: int):
    vendor = _vendor(vendor_id)
    code = get_qris(vendor)
    form = QrisForm()
    status, headers = 200, {}
    if not form.is_submitted() and code is not None:
        form.merchant_name.data = code.merchant_name
    if form.validate_on_submit():
        uploads = uploads_from([form.photo.data])
        try:
            save_qris(
                vendor,
                actor=current_user,
                merchant_name=form.merchant_name.data,
                upload=uploads[0] if uploads else None,
            )
        except (Busy, PhotoNotStored) as exc:
            status, headers = upload_refused(form.photo, exc)
        except Invalid as exc:
            flash(str(exc), "error")
            status = 422
        else:
            flash(
                _("Saved. Shoppers see the QRIS code once a volunteer has verified it."), "success"
            )
            return redirect(url_for(".qris", vendor_id=vendor.id), code=303)
    return (
        render_template(
            "manage/qris.html",
            vendor=vendor,
            qris=code,
            form=form,
            may_verify=can_publish_vendor(current_user, vendor),
        ),
        status,
        headers,
    )


@bp.post("/vendors/<int:vendor_id>/qris/verify")
@login_required
def qris_verify(vendor_id: int):
    vendor = load_or_404(Vendor, vendor_id, can_publish_vendor)
    _attempt(
        lambda: verify_qris(
            vendor,
            actor=current_user,
            photo_id=request.form.get("photo_id", type=int),
            merchant_name=request.form.get("merchant_name", ""),
        ),
        _("Verified: shoppers now see this QRIS code."),
    )
    return redirect(url_for(".qris", vendor_id=vendor.id), code=303)


@bp.post("/vendors/<int:vendor_id>/qris/unverify")
@login_required
def qris_unverify(vendor_id: int):
    vendor = _vendor(vendor_id)
    _attempt(
        lambda: unverify_qris(vendor, actor=current_user),
        _("Shoppers no longer see the QRIS code until it is verified again."),
    )
    return redirect(url_for(".qris", vendor_id=vendor.id), code=303)


# --- selling online: product feeds and marketplace uploads -----------------------------------


@bp.get("/vendors/<int:vendor_id>/online")
@login_required
def channels(vendor_id: int):
    """Where the stall's catalogue goes online: the feed addresses to paste into Meta and
    Google, the products they leave out and why, and the marketplace spreadsheets."""
    vendor = _vendor(vendor_id)
    products = marketplaces.export_products(vendor)
    return render_template(
        "manage/channels.html",
        vendor=vendor,
        left_out=[(p, reasons) for p in products if (reasons := feeds.gaps(p))],
        marketplaces=marketplaces.MARKETPLACES,
        missing={
            key: [(p, gaps) for p in products if (gaps := marketplaces.missing_fields(p, place))]
            for key, place in marketplaces.MARKETPLACES.items()
        },
        field_names=marketplaces.FIELD_NAMES,
        products=products,
    )


@bp.get("/vendors/<int:vendor_id>/online/<any(tokopedia, shopee):marketplace>.xlsx")
@login_required
def marketplace_export(vendor_id: int, marketplace: str):
    vendor = _vendor(vendor_id)
    data = marketplaces.workbook(
        marketplaces.export_products(vendor),
        marketplaces.MARKETPLACES[marketplace],
        channel_image_url,
    )
    filename = f"{vendor.slug}-{marketplace}.xlsx"
    return Response(
        data,
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "private, no-store",
        },
    )


# --- numbers --------------------------------------------------------------------------------


@bp.route("/vendors/<int:vendor_id>/numbers")
@login_required
def numbers(vendor_id: int):
    vendor = load_or_404(Vendor, vendor_id, can_see_numbers)
    return render_template(
        "manage/numbers.html",
        vendor=vendor,
        numbers=stats.numbers(vendor, list_products(vendor)),
    )
