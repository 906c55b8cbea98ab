"""Quick add at the stall: the steps a volunteer takes standing at a stall, each done in one go
(the vendor with consent and stall photo; publishing with the vendor's invitation)."""

from collections.abc import Mapping
from typing import Any

from flask_babel import lazy_gettext as _l

from market.extensions import db
from market.models import Market, User, Vendor
from market.services.audit import security_event
from market.services.consent import CONSENT_LANGUAGES, CONSENT_VERSION, set_consent
from market.services.imaging import PhotoRejected
from market.services.invitations import NewInvitation, create_invitation
from market.services.moderation import publish_vendor
from market.services.photos import Upload, process_upload, store_accepted
from market.services.vendors import InvalidFields, add_vendor, clean_profile


def register_at_stall(
    market: Market,
    raw: Mapping[str, Any],
    *,
    actor: User,
    consent: bool,
    consent_language: str,
    stall_photo: Upload | None = None,
    allow_duplicate: bool = False,
) -> Vendor:
    """Register a vendor standing at the stall: the profile, the vendor's consent to the
    current text and the stall photo, saved together or not at all.

    Raises InvalidFields naming every problem (``consent``, ``consent_language`` and
    ``stall_photo`` included) and DuplicateVendor as register_vendor does."""
    errors: dict[str, Any] = {}
    processed = None
    if stall_photo is not None:
        # Decoding first, before any write: the CPU-heavy part holds no database lock.
        try:
            processed = process_upload(stall_photo.data)
        except PhotoRejected as exc:
            errors["stall_photo"] = exc.message
    if not consent:
        errors["consent"] = _l("Tick the box once the vendor has agreed.")
    if consent_language not in CONSENT_LANGUAGES:
        errors["consent_language"] = _l("Choose the language the vendor read the text in.")
    try:
        profile = clean_profile(raw)
    except InvalidFields as error:
        errors = error.errors | errors
    if errors:
        raise InvalidFields(errors)
    vendor = add_vendor(market, profile, actor=actor, allow_duplicate=allow_duplicate)
    set_consent(vendor, actor=actor, language=consent_language)
    if processed is not None:
        store_accepted(vendor, [processed], actor=actor)
    db.session.commit()
    security_event("consent", actor, vendor=vendor.id, version=CONSENT_VERSION)
    return vendor


def publish_and_invite(vendor: Vendor, *, actor: User) -> NewInvitation:
    """The last step at the stall: put it online and make the vendor's invitation link.

    Raises NotReady (nothing changed) while a required step is missing."""
    publish_vendor(vendor, actor=actor)
    return create_invitation(vendor, actor=actor)
