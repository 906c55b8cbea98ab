"""Onboarding vendors: register, consent, the checklist derived from the data, publishing,
moderation, soft delete and restore; and the markets and staff that onboarding happens in.

Every change is audited in the same commit. Progress is always computed from the records
(photos, products, consent, owner…), never stored as a second copy that could drift.
"""

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, and_, case, exists, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.exc import StaleDataError

from market.extensions import db
from market.models import (
    Category,
    Market,
    MarketStaff,
    Photo,
    Product,
    Role,
    StaffRole,
    User,
    Vendor,
    VendorStatus,
    VlogLink,
    utcnow,
)
from market.permissions import can_moderate_vendor
from market.services import accounts
from market.services.audit import changes_of, record, security_event
from market.services.categories import all_categories
from market.services.errors import Conflict, Forbidden, Invalid, NotReady
from market.services.invitations import revoke_open
from market.services.slugs import slugify, unique_slug

# --- the vendor's profile -------------------------------------------------------------------

MAX_NAME = 120
MAX_STALL = 10
MAX_DESCRIPTION = 1000
MAX_OPENING_HOURS = 255
MAX_REASON = 255
STALE_MESSAGE = _l("Someone else changed this vendor in the meantime. Check it and try again.")

PROFILE_LABELS = {
    "business_name": _l("Business name"),
    "owner_name": _l("Owner's name"),
    "stall_block": _l("Block"),
    "stall_number": _l("Stall number"),
    "whatsapp": _l("WhatsApp number"),
    "description": _l("Short description"),
    "opening_hours": _l("Opening hours"),
    "categories": _l("Categories"),
}


class InvalidFields(Invalid):
    """Some fields are wrong; ``errors`` maps each field name to a message fit to show."""

    def __init__(self, errors: Mapping[str, Any]):
        self.errors = dict(errors)
        super().__init__(
            "; ".join(f"{PROFILE_LABELS.get(k, k)}: {v}" for k, v in self.errors.items())
        )


class DuplicateVendor(Conflict):
    """The market already has a vendor with this WhatsApp number or stall."""

    def __init__(self, vendors: list[Vendor]):
        self.vendors = vendors
        super().__init__(str(_l("This market already has a vendor with this number or stall.")))


@dataclass
class Profile:
    """A vendor's checked and normalised profile fields."""

    business_name: str
    owner_name: str = ""
    stall_block: str = ""
    stall_number: str = ""
    whatsapp: str | None = None
    description: str = ""
    opening_hours: str = ""
    categories: list[Category] = field(default_factory=list)

    def values(self) -> dict[str, Any]:
        """The plain column values, for comparing with a vendor and for the audit trail."""
        return {
            "business_name": self.business_name,
            "owner_name": self.owner_name,
            "stall_block": self.stall_block,
            "stall_number": self.stall_number,
            "whatsapp": self.whatsapp,
            "description": self.description,
            "opening_hours": self.opening_hours,
        }


def _one_line(value: Any) -> str:
    return re.sub(r"\s+", " ", str(value or "")).strip()


def _too_long(limit: int, length: int) -> str:
    return str(
        _l("Use at most %(limit)d characters (this has %(length)d).", limit=limit, length=length)
    )


def clean_profile(raw: Mapping[str, Any]) -> Profile:
    """Check and normalise typed profile fields; raise InvalidFields naming every problem.

    ``raw`` holds strings (as typed in a form or a CSV cell) and ``category_ids``. The stall
    block is upper-cased ("b" → "B") so that duplicates are found whatever was typed.
    """
    errors: dict[str, str] = {}
    values = {
        key: _one_line(raw.get(key))
        for key in ("business_name", "owner_name", "stall_block", "stall_number", "opening_hours")
    }
    values["stall_block"] = values["stall_block"].upper()
    description = str(raw.get("description") or "").replace("\r\n", "\n").strip()
    limits = {
        "business_name": MAX_NAME,
        "owner_name": MAX_NAME,
        "stall_block": MAX_STALL,
        "stall_number": MAX_STALL,
        "opening_hours": MAX_OPENING_HOURS,
    }
    for key, limit in limits.items():
        if len(values[key]) > limit:
            errors[key] = _too_long(limit, len(values[key]))
    if len(description) > MAX_DESCRIPTION:
        errors["description"] = _too_long(MAX_DESCRIPTION, len(description))
    if not values["business_name"]:
        errors["business_name"] = str(_l("Give the name of the business or stall."))
    whatsapp = None
    typed_phone = _one_line(raw.get("whatsapp"))
    if typed_phone:
        try:
            whatsapp = accounts.normalise_phone(typed_phone)
        except Invalid:
            errors["whatsapp"] = str(
                _l(
                    "“%(number)s” is not a valid phone number. Type it as the vendor says it, "
                    "e.g. 0812-3456-7890.",
                    number=typed_phone[:40],
                )
            )
    wanted = set(raw.get("category_ids") or ())
    categories = [c for c in all_categories() if c.id in wanted]
    if len(categories) != len(wanted):
        errors["categories"] = str(_l("Choose categories from the list."))
    if errors:
        raise InvalidFields(errors)
    return Profile(description=description, whatsapp=whatsapp, categories=categories, **values)


def find_duplicates(
    market: Market,
    *,
    whatsapp: str | None,
    stall_block: str,
    stall_number: str,
    exclude_id: int | None = None,
) -> list[Vendor]:
    """Live vendors of the market with this WhatsApp number or this stall."""
    matches = []
    if whatsapp:
        matches.append(Vendor.whatsapp == whatsapp)
    if stall_number:
        matches.append(and_(Vendor.stall_block == stall_block, Vendor.stall_number == stall_number))
    if not matches:
        return []
    query = select(Vendor).where(
        Vendor.market_id == market.id, Vendor.deleted_at.is_(None), or_(*matches)
    )
    if exclude_id is not None:
        query = query.where(Vendor.id != exclude_id)
    return list(db.session.scalars(query.order_by(Vendor.id)))


def market_slugs(market: Market) -> set[str]:
    """Every slug used in the market, deleted vendors included (the column is unique)."""
    return set(db.session.scalars(select(Vendor.slug).where(Vendor.market_id == market.id)))


def register_vendor(
    market: Market, raw: Mapping[str, Any], *, actor: User, allow_duplicate: bool = False
) -> Vendor:
    """Save a new vendor as a draft at once; raise InvalidFields for bad input and
    DuplicateVendor (unless allowed) when the number or stall is taken in the market."""
    profile = clean_profile(raw)
    if not allow_duplicate:
        duplicates = find_duplicates(
            market,
            whatsapp=profile.whatsapp,
            stall_block=profile.stall_block,
            stall_number=profile.stall_number,
        )
        if duplicates:
            raise DuplicateVendor(duplicates)
    # Two volunteers registering "Toko Sari" at the same moment may pick the same slug; the
    # unique constraint catches it and the next attempt sees the other one.
    for attempt in range(3):
        vendor = Vendor(
            market_id=market.id,
            slug=unique_slug(profile.business_name, market_slugs(market)),
            status=VendorStatus.DRAFT,
            onboarded_by_id=actor.id,
            categories=profile.categories,
            **profile.values(),
        )
        db.session.add(vendor)
        try:
            db.session.flush()
            break
        except IntegrityError:
            db.session.rollback()
            if attempt == 2:
                raise
    created = {k: [None, v] for k, v in profile.values().items() if v}
    if profile.categories:
        created["categories"] = [None, [c.slug for c in profile.categories]]
    record(actor, "vendor.create", vendor, created)
    db.session.commit()
    return vendor


def update_vendor(
    vendor: Vendor,
    raw: Mapping[str, Any],
    *,
    actor: User,
    version: int | None,
    allow_duplicate: bool = False,
) -> dict:
    """Save an edited profile; raise Conflict if someone saved it since the form was opened.

    The slug stays as it is, so links that were already shared keep working."""
    _check_live(vendor)
    profile = clean_profile(raw)
    if version is not None and version != vendor.version:
        raise Conflict(str(STALE_MESSAGE))
    if not allow_duplicate and (
        profile.whatsapp != vendor.whatsapp
        or (profile.stall_block, profile.stall_number) != (vendor.stall_block, vendor.stall_number)
    ):
        duplicates = find_duplicates(
            vendor.market,
            whatsapp=profile.whatsapp,
            stall_block=profile.stall_block,
            stall_number=profile.stall_number,
            exclude_id=vendor.id,
        )
        if duplicates:
            raise DuplicateVendor(duplicates)
    changes = changes_of(vendor, profile.values())
    old_categories = [c.slug for c in vendor.categories]
    new_categories = [c.slug for c in profile.categories]
    if sorted(old_categories) != sorted(new_categories):
        changes["categories"] = [old_categories, new_categories]
        vendor.categories = profile.categories
    if not changes:
        return {}
    for key, (_old, new) in changes.items():
        if key != "categories":
            setattr(vendor, key, new)
    record(actor, "vendor.update", vendor, changes)
    _commit_versioned()
    return changes


def _commit_versioned() -> None:
    try:
        db.session.commit()
    except StaleDataError:
        db.session.rollback()
        raise Conflict(str(STALE_MESSAGE)) from None


def _check_live(vendor: Vendor) -> None:
    if vendor.deleted_at is not None:
        raise Invalid(_l("This vendor is deleted. A coordinator can restore it first."))


# --- consent --------------------------------------------------------------------------------

# The text the vendor agrees to. A changed text needs a new version, so that every stored
# consent says exactly which words the vendor heard: never edit a published version.
CONSENT_VERSION = "2026-01"
CONSENT_TEXTS = {
    "2026-01": {
        "id": (
            "Saya, pemilik usaha ini, setuju bahwa Pasar menampilkan di internet, untuk umum: "
            "nama usaha dan nama saya, lokasi kios, foto kios dan barang dagangan saya, serta "
            "nomor WhatsApp saya supaya pembeli dapat menghubungi saya. Saya boleh menarik "
            "persetujuan ini kapan saja, lewat relawan atau akun saya sendiri; lapak saya lalu "
            "langsung disembunyikan dari semua halaman umum. Pasar tidak memungut komisi dan "
            "tidak memproses pembayaran."
        ),
        "en": (
            "I, the owner of this business, agree that Pasar shows publicly on the internet: "
            "my business name and my name, the stall location, photos of my stall and my goods, "
            "and my WhatsApp number so that shoppers can contact me. I may withdraw this consent "
            "at any time, through the volunteer or my own account; my stall is then hidden from "
            "every public page at once. Pasar takes no commission and processes no payments."
        ),
    }
}
CONSENT_LANGUAGES = ("id", "en")


def consent_text(language: str, version: str = CONSENT_VERSION) -> str:
    texts = CONSENT_TEXTS[version]
    return texts.get(language, texts["id"])


def record_consent(vendor: Vendor, *, actor: User, language: str) -> None:
    """The vendor agreed to the current consent text, read to them in ``language``."""
    _check_live(vendor)
    if language not in CONSENT_LANGUAGES:
        raise Invalid(_l("Choose the language the vendor read the text in."))
    now = utcnow()
    changes = {
        "consent_at": [vendor.consent_at, now],
        "consent_version": [vendor.consent_version, CONSENT_VERSION],
        "language": [None, language],
    }
    vendor.consent_at = now
    vendor.consent_by_id = actor.id
    vendor.consent_version = CONSENT_VERSION
    record(actor, "vendor.consent", vendor, changes)
    _commit_versioned()
    security_event("consent", actor, vendor=vendor.id, version=CONSENT_VERSION)


def withdraw_consent(vendor: Vendor, *, actor: User, reason: str = "") -> None:
    """Forget the consent; a published vendor goes back to draft, so it vanishes at once."""
    if vendor.consent_at is None:
        return
    changes = {"consent_at": [vendor.consent_at, None]}
    vendor.consent_at = None
    vendor.consent_by_id = None
    vendor.consent_version = None
    if vendor.status == VendorStatus.PUBLISHED:
        changes["status"] = [vendor.status, VendorStatus.DRAFT]
        vendor.status = VendorStatus.DRAFT
    record(actor, "vendor.consent_withdraw", vendor, changes, reason=reason[:MAX_REASON])
    _commit_versioned()
    security_event("consent_withdrawn", actor, vendor=vendor.id)


# --- the checklist --------------------------------------------------------------------------


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
            str(_l("%(done)d of %(n)d", done=min(facts.products, needed), n=needed)),
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


# --- publishing, hiding, deleting -----------------------------------------------------------


def publish_vendor(vendor: Vendor, *, actor: User) -> None:
    """Make a vendor visible on the storefront; raise NotReady listing what is missing."""
    _check_live(vendor)
    if vendor.status == VendorStatus.PUBLISHED:
        return
    _check_not_moderated(vendor, actor)
    missing = missing_for_publish(vendor_checklist(vendor))
    if missing:
        raise NotReady(str(step.label) for step in missing)
    changes = {"status": [vendor.status, VendorStatus.PUBLISHED]}
    if vendor.hidden_reason:
        changes["hidden_reason"] = [vendor.hidden_reason, ""]
    vendor.status = VendorStatus.PUBLISHED
    vendor.hidden_reason = ""
    vendor.published_at = utcnow()
    record(actor, "vendor.publish", vendor, changes)
    _commit_versioned()


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
    _commit_versioned()


def hide_vendor(vendor: Vendor, *, actor: User, reason: str = "") -> None:
    """Take a vendor off every public page. With a reason it is moderation: only coordinators
    may publish it again."""
    reason = _one_line(reason)[:MAX_REASON]
    if vendor.status == VendorStatus.HIDDEN and vendor.hidden_reason == reason:
        return
    changes = changes_of(vendor, {"status": VendorStatus.HIDDEN, "hidden_reason": reason})
    vendor.status = VendorStatus.HIDDEN
    vendor.hidden_reason = reason
    record(actor, "vendor.hide", vendor, changes, reason=reason)
    _commit_versioned()


def delete_vendor(vendor: Vendor, *, actor: User, reason: str = "") -> None:
    """Soft delete: gone from every page and list, kept for restore; open invitations end."""
    if vendor.deleted_at is not None:
        return
    now = utcnow()
    vendor.deleted_at = now
    revoke_open(vendor, now)
    record(actor, "vendor.delete", vendor, {"deleted_at": [None, now]}, reason=reason)
    _commit_versioned()


def restore_vendor(vendor: Vendor, *, actor: User) -> None:
    if vendor.deleted_at is None:
        return
    record(actor, "vendor.restore", vendor, {"deleted_at": [vendor.deleted_at, None]})
    vendor.deleted_at = None
    _commit_versioned()


def hide_product(product: Product, *, actor: User, reason: str) -> None:
    """Moderation: take one product off the storefront, saying why."""
    reason = _one_line(reason)[:MAX_REASON]
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


# --- the volunteer's list -------------------------------------------------------------------

STATUS_FILTERS = ("draft", "published", "hidden")
MISSING_FILTERS = ("photos", "consent")


def _missing_photos():
    stall_photo = exists().where(
        Photo.vendor_id == Vendor.id, Photo.product_id.is_(None), Photo.deleted_at.is_(None)
    )
    product_without_photo = exists().where(
        Product.vendor_id == Vendor.id,
        Product.deleted_at.is_(None),
        ~exists().where(Photo.product_id == Product.id, Photo.deleted_at.is_(None)),
    )
    return or_(~stall_photo, product_without_photo)


def vendors_query(
    market_ids: list[int],
    *,
    status: str | None = None,
    missing: str | None = None,
    search: str = "",
    deleted: bool = False,
) -> Select:
    """Vendors of these markets for the back office, newest first, with optional filters."""
    query = (
        select(Vendor)
        .where(Vendor.market_id.in_(market_ids))
        .where(Vendor.deleted_at.is_not(None) if deleted else Vendor.deleted_at.is_(None))
        .options(selectinload(Vendor.market))
        .order_by(Vendor.created_at.desc(), Vendor.id.desc())
    )
    if status in STATUS_FILTERS:
        query = query.where(Vendor.status == VendorStatus(status))
    if missing == "consent":
        query = query.where(Vendor.consent_at.is_(None))
    elif missing == "photos":
        query = query.where(_missing_photos())
    search = _one_line(search)[:60]
    if search:
        pattern = "%" + re.sub(r"([\\%_])", r"\\\1", search) + "%"
        matches = [
            Vendor.business_name.ilike(pattern, escape="\\"),
            Vendor.owner_name.ilike(pattern, escape="\\"),
        ]
        # "B12", "b 12" and "B-12" all find the stall Blok B No. 12.
        stall = re.sub(r"[^0-9A-Za-z]", "", search).upper()
        if stall:
            matches.append(Vendor.stall_block + Vendor.stall_number == stall)
        query = query.where(or_(*matches))
    return query


@dataclass(frozen=True)
class VendorListing:
    page: Any  # flask_sqlalchemy.pagination.Pagination of Vendor
    steps: dict[int, list[Step]]

    def progress(self, vendor: Vendor) -> Progress:
        return progress(self.steps[vendor.id])


def list_vendors(
    market_ids: list[int],
    *,
    status: str | None = None,
    missing: str | None = None,
    search: str = "",
    page: int = 1,
    per_page: int = 30,
) -> VendorListing:
    """One page of the back-office vendor list, each vendor with its checklist."""
    pagination = db.paginate(
        vendors_query(market_ids, status=status, missing=missing, search=search),
        page=max(page, 1),
        per_page=per_page,
        max_per_page=per_page,
        error_out=False,
        count=True,
    )
    facts = vendor_facts(vendor.id for vendor in pagination.items)
    return VendorListing(
        pagination, {vendor.id: checklist(vendor, facts[vendor.id]) for vendor in pagination.items}
    )


# --- markets and their staff ----------------------------------------------------------------

MARKET_FIELDS = (
    "name",
    "city",
    "province",
    "address",
    "description",
    "opening_hours",
    "latitude",
    "longitude",
    "published",
)


def clean_market(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Check a market's fields; raise InvalidFields naming every problem."""
    errors: dict[str, str] = {}
    values: dict[str, Any] = {
        "name": _one_line(raw.get("name")),
        "city": _one_line(raw.get("city")),
        "province": _one_line(raw.get("province")),
        "address": _one_line(raw.get("address")),
        "description": str(raw.get("description") or "").strip(),
        "opening_hours": _one_line(raw.get("opening_hours")),
        "published": bool(raw.get("published")),
    }
    for key, limit in (("name", 120), ("city", 80), ("province", 80), ("address", 255)):
        if len(values[key]) > limit:
            errors[key] = _too_long(limit, len(values[key]))
    if len(values["opening_hours"]) > MAX_OPENING_HOURS:
        errors["opening_hours"] = _too_long(MAX_OPENING_HOURS, len(values["opening_hours"]))
    if len(values["description"]) > 4000:
        errors["description"] = _too_long(4000, len(values["description"]))
    for key in ("name", "city", "province"):
        if not values[key]:
            errors[key] = str(_l("This field is required."))
    for key, bound in (("latitude", 90), ("longitude", 180)):
        typed = _one_line(raw.get(key)).replace(",", ".")
        values[key] = None
        if typed:
            try:
                number = Decimal(typed).quantize(Decimal("0.000001"))
            except InvalidOperation:
                number = None
            if number is None or not -bound <= number <= bound:
                errors[key] = str(_l("Give a number between -%(n)d and %(n)d.", n=bound))
            else:
                values[key] = number
    if errors:
        raise InvalidFields(errors)
    return values


def create_market(raw: Mapping[str, Any], *, actor: User) -> Market:
    """A new market; a coordinator who creates one coordinates it."""
    values = clean_market(raw)
    taken = set(db.session.scalars(select(Market.slug)))
    slug = unique_slug(slugify(_one_line(raw.get("slug")) or values["name"]), taken)
    market = Market(slug=slug, **values)
    db.session.add(market)
    if actor.role == Role.COORDINATOR:
        db.session.add(MarketStaff(market=market, user_id=actor.id, role=StaffRole.COORDINATOR))
    db.session.flush()
    record(actor, "market.create", market, {k: [None, v] for k, v in values.items() if v})
    db.session.commit()
    return market


def update_market(market: Market, raw: Mapping[str, Any], *, actor: User) -> dict:
    """Save a market's fields; the slug stays, so shared links keep working."""
    values = clean_market(raw)
    changes = changes_of(market, values)
    if changes:
        for key, (_old, new) in changes.items():
            setattr(market, key, new)
        record(actor, "market.update", market, changes)
        db.session.commit()
    return changes


def market_staff(market: Market) -> list[MarketStaff]:
    return list(
        db.session.scalars(
            select(MarketStaff)
            .where(MarketStaff.market_id == market.id)
            .options(selectinload(MarketStaff.user))
            .join(User)
            .order_by(MarketStaff.role, User.name)
        )
    )


def assign_staff(
    market: Market,
    *,
    actor: User,
    email: str,
    name: str = "",
    role: str = "volunteer",
    password: str = "",
) -> MarketStaff:
    """Assign a person to a market by email, creating a volunteer or coordinator account when
    there is none (the coordinator hands over the first password; the person changes it)."""
    email = accounts.normalise_email(email)
    if "@" not in email:
        raise InvalidFields({"email": _l("Give the person's email address.")})
    user = db.session.scalar(select(User).where(User.email == email))
    created = user is None
    if created:
        errors = {}
        if role not in (Role.VOLUNTEER, Role.COORDINATOR):
            errors["role"] = _l("Choose volunteer or coordinator.")
        if not _one_line(name):
            errors["name"] = _l("There is no account with this email yet: give the name too.")
        try:
            accounts.check_password_policy(password)
        except Invalid as error:
            errors["password"] = str(error)
        if errors:
            raise InvalidFields(errors)
        user = accounts.create_user(role=Role(role), name=_one_line(name)[:MAX_NAME], email=email)
        accounts.set_password(user, password)
        record(actor, "user.create", user, {"email": [None, email], "role": [None, role]})
    if user.role not in (Role.VOLUNTEER, Role.COORDINATOR):
        raise InvalidFields({"email": _l("This account cannot be assigned to a market.")})
    if any(s.market_id == market.id for s in user.staff_assignments):
        raise InvalidFields({"email": _l("This person is already assigned to this market.")})
    staff = MarketStaff(market_id=market.id, user_id=user.id, role=StaffRole(user.role.value))
    db.session.add(staff)
    db.session.flush()
    record(actor, "staff.assign", staff, {"user": [None, user.login], "role": [None, staff.role]})
    db.session.commit()
    security_event(
        "staff_assigned", actor, user=user.id, market=market.id, role=str(staff.role), new=created
    )
    return staff


def unassign_staff(staff: MarketStaff, *, actor: User) -> None:
    """End an assignment (assigning again undoes it); the person's vendors stay as they are."""
    if staff.user_id == actor.id and actor.role != Role.ADMIN:
        raise Invalid(_l("You cannot remove yourself; ask another coordinator."))
    record(
        actor, "staff.remove", staff, {"user": [staff.user.login, None], "role": [staff.role, None]}
    )
    user_id, market_id, role = staff.user_id, staff.market_id, str(staff.role)
    db.session.delete(staff)
    db.session.commit()
    security_event("staff_removed", actor, user=user_id, market=market_id, role=role)
