"""Whether a vendor is ready to publish: the onboarding checklist, always computed from the
records (photos, products, consent, owner…), never stored as a second copy that could drift."""

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext
from sqlalchemy import case, exists, func, select

from market.extensions import db
from market.models import Photo, Product, Vendor, VendorStatus, VlogLink
from market.services.vendors import PROFILE_LABELS
from market.services.vlog_links import SHOWN_TO_SHOPPERS


@dataclass(frozen=True)
class VendorFacts:
    """Counts the checklist is derived from."""

    stall_photos: int = 0
    products: int = 0
    products_with_photo: int = 0
    vlogs: int = 0


@dataclass(frozen=True)
class Step:
    key: str
    label: Any
    done: bool
    required: bool
    endpoint: str | None = None
    values: dict = field(default_factory=dict)
    detail: str = ""
    # Not needed to publish, but shoppers miss it: shown as "recommended", not "optional".
    recommended: bool = False


def vendor_facts(vendor_ids: Iterable[int]) -> dict[int, VendorFacts]:
    """The checklist counts of many vendors in three queries."""
    ids = list(vendor_ids)
    if not ids:
        return {}
    stall_photos = dict(
        db.session.execute(
            select(Photo.vendor_id, func.count(Photo.id))
            .where(Photo.vendor_id.in_(ids), Photo.product_id.is_(None), Photo.deleted_at.is_(None))
            .group_by(Photo.vendor_id)
        ).all()
    )
    has_photo = exists().where(Photo.product_id == Product.id, Photo.deleted_at.is_(None))
    products = {
        vendor_id: (total, with_photo or 0)
        for vendor_id, total, with_photo in db.session.execute(
            select(
                Product.vendor_id,
                func.count(Product.id),
                func.sum(case((has_photo, 1), else_=0)),
            )
            .where(Product.vendor_id.in_(ids), Product.deleted_at.is_(None))
            .group_by(Product.vendor_id)
        )
    }
    vlogs = dict(
        db.session.execute(
            select(VlogLink.vendor_id, func.count(VlogLink.id))
            .outerjoin(Product, Product.id == VlogLink.product_id)
            .where(
                VlogLink.vendor_id.in_(ids),
                VlogLink.deleted_at.is_(None),
                SHOWN_TO_SHOPPERS,
                Product.deleted_at.is_(None),
            )
            .group_by(VlogLink.vendor_id)
        ).all()
    )
    return {
        vendor_id: VendorFacts(
            stall_photos=stall_photos.get(vendor_id, 0),
            products=products.get(vendor_id, (0, 0))[0],
            products_with_photo=int(products.get(vendor_id, (0, 0))[1]),
            vlogs=vlogs.get(vendor_id, 0),
        )
        for vendor_id in ids
    }


def min_products() -> int:
    return current_app.config["MARKET_MIN_PRODUCTS"]


def profile_gaps(vendor: Vendor) -> list[Any]:
    """The profile fields still empty (a stall needs at least its number)."""
    gaps = []
    for key in ("business_name", "owner_name"):
        if not getattr(vendor, key):
            gaps.append(PROFILE_LABELS[key])
    if not vendor.stall_number:
        gaps.append(_l("Stall location"))
    if not vendor.whatsapp:
        gaps.append(PROFILE_LABELS["whatsapp"])
    return gaps


def checklist(vendor: Vendor, facts: VendorFacts) -> list[Step]:
    """The onboarding steps and whether each is done, in the order a volunteer does them."""
    needed = min_products()
    gaps = profile_gaps(vendor)
    args = {"vendor_id": vendor.id}
    return [
        Step(
            "profile",
            _l("Profile complete"),
            not gaps,
            True,
            "manage.vendor_edit",
            args,
            str(_l("Missing: %(fields)s", fields=", ".join(str(g) for g in gaps))) if gaps else "",
        ),
        Step("consent", _l("Consent recorded"), vendor.has_consent, True, "manage.consent", args),
        Step(
            "stall_photo",
            _l("A photo of the stall"),
            facts.stall_photos > 0,
            True,
            "catalogue.stall_photos",
            args,
        ),
        Step(
            "products",
            _l("At least %(n)d products", n=needed),
            facts.products >= needed,
            True,
            "catalogue.products",
            args,
            # Beyond the minimum the real count, not "3 of 3" for seven products.
            str(_l("%(done)d of %(n)d", done=facts.products, n=needed))
            if facts.products < needed
            else str(lazy_ngettext("%(num)d product", "%(num)d products", facts.products)),
        ),
        Step(
            "product_photos",
            _l("Every product has a photo"),
            facts.products > 0 and facts.products_with_photo == facts.products,
            False,
            "catalogue.products",
            args,
            str(
                _l(
                    "%(done)d of %(n)d",
                    done=facts.products_with_photo,
                    n=facts.products,
                )
            )
            if facts.products
            else "",
            recommended=True,
        ),
        Step("vlog", _l("A vlog link"), facts.vlogs > 0, False, "catalogue.vlogs", args),
        Step(
            "account",
            _l("The vendor claimed their account"),
            vendor.owner_id is not None,
            False,
            "manage.invitation",
            args,
        ),
        Step("published", _l("Published"), vendor.status == VendorStatus.PUBLISHED, True),
    ]


def missing_for_publish(steps: list[Step]) -> list[Step]:
    return [s for s in steps if s.required and not s.done and s.key != "published"]


@dataclass(frozen=True)
class Progress:
    done: int
    total: int

    @property
    def complete(self) -> bool:
        return self.done == self.total


def progress(steps: list[Step]) -> Progress:
    """Required steps done, publishing included."""
    required = [s for s in steps if s.required]
    return Progress(sum(s.done for s in required), len(required))


def vendor_checklist(vendor: Vendor) -> list[Step]:
    return checklist(vendor, vendor_facts([vendor.id])[vendor.id])
