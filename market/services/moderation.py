"""What shoppers may see: publishing a ready vendor, unpublishing, and hiding a vendor or a
product with a reason, which only a coordinator can undo."""

from flask_babel import lazy_gettext as _l

from market import text
from market.extensions import db
from market.models import Product, User, Vendor, VendorStatus, utcnow
from market.permissions import can_moderate_vendor
from market.services.audit import MAX_REASON, changes_of, record
from market.services.errors import Forbidden, Invalid, NotReady
from market.services.readiness import missing_for_publish, vendor_checklist
from market.services.soft_delete import check_live_vendor
from market.services.vendors import claim_clean_address, commit_versioned


def publish_vendor(vendor: Vendor, *, actor: User) -> None:
    """Make a vendor visible on the storefront; raise NotReady listing what is missing."""
    check_live_vendor(vendor)
    if vendor.status == VendorStatus.PUBLISHED:
        return
    _check_not_moderated(vendor, actor)
    missing = missing_for_publish(vendor_checklist(vendor))
    if missing:
        raise NotReady(str(step.label) for step in missing)
    changes = {"status": [vendor.status, VendorStatus.PUBLISHED]}
    changes |= claim_clean_address(vendor, actor=actor)
    if vendor.hidden_reason:
        changes["hidden_reason"] = [vendor.hidden_reason, ""]
    vendor.status = VendorStatus.PUBLISHED
    vendor.hidden_reason = ""
    vendor.published_at = utcnow()
    record(actor, "vendor.publish", vendor, changes)
    commit_versioned()


def _check_not_moderated(vendor: Vendor, actor: User) -> None:
    """A vendor hidden with a reason was moderated: only a coordinator may show it again."""
    if (
        vendor.status == VendorStatus.HIDDEN
        and vendor.hidden_reason
        and not can_moderate_vendor(actor, vendor)
    ):
        raise Forbidden(
            _l(
                "A coordinator hid this vendor (%(reason)s). Only a coordinator can change that.",
                reason=vendor.hidden_reason,
            )
        )


def unpublish_vendor(vendor: Vendor, *, actor: User) -> None:
    """Back to draft: off the storefront, but everything is kept."""
    if vendor.status == VendorStatus.DRAFT:
        return
    _check_not_moderated(vendor, actor)
    record(actor, "vendor.unpublish", vendor, {"status": [vendor.status, VendorStatus.DRAFT]})
    vendor.status = VendorStatus.DRAFT
    vendor.hidden_reason = ""
    commit_versioned()


def hide_vendor(vendor: Vendor, *, actor: User, reason: str = "") -> None:
    """Take a vendor off every public page. With a reason it is moderation: only coordinators
    may publish it again."""
    reason = text.one_line(reason)[:MAX_REASON]
    if vendor.status == VendorStatus.HIDDEN and vendor.hidden_reason == reason:
        return
    changes = changes_of(vendor, {"status": VendorStatus.HIDDEN, "hidden_reason": reason})
    vendor.status = VendorStatus.HIDDEN
    vendor.hidden_reason = reason
    record(actor, "vendor.hide", vendor, changes, reason=reason)
    commit_versioned()


def hide_product(product: Product, *, actor: User, reason: str) -> None:
    """Moderation: take one product off the storefront, saying why."""
    reason = text.one_line(reason)[:MAX_REASON]
    if not reason:
        raise Invalid(_l("Say why it is hidden; the vendor and volunteers will see it."))
    changes = changes_of(product, {"hidden_reason": reason})
    if product.hidden_at is None:
        product.hidden_at = utcnow()
        changes["hidden_at"] = [None, product.hidden_at]
    if not changes:
        return
    product.hidden_reason = reason
    record(actor, "product.hide", product, changes, reason=reason)
    db.session.commit()


def unhide_product(product: Product, *, actor: User) -> None:
    if product.hidden_at is None:
        return
    record(
        actor,
        "product.unhide",
        product,
        {"hidden_at": [product.hidden_at, None], "hidden_reason": [product.hidden_reason, ""]},
    )
    product.hidden_at = None
    product.hidden_reason = ""
    db.session.commit()
