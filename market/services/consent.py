"""Consent: the vendor agrees, in words read to them, that Pasar shows their stall publicly;
withdrawing it takes the stall off every public page at once."""

from flask_babel import lazy_gettext as _l

from market.models import User, Vendor, VendorStatus, utcnow
from market.services.audit import MAX_REASON, record, security_event
from market.services.errors import Invalid
from market.services.soft_delete import check_live_vendor
from market.services.vendors import commit_versioned

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
    check_live_vendor(vendor)
    if language not in CONSENT_LANGUAGES:
        raise Invalid(_l("Choose the language the vendor read the text in."))
    set_consent(vendor, actor=actor, language=language)
    commit_versioned()
    security_event("consent", actor, vendor=vendor.id, version=CONSENT_VERSION)


def set_consent(vendor: Vendor, *, actor: User, language: str) -> None:
    """Note the vendor's agreement to the current text in the session (audited, not committed)."""
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
    commit_versioned()
    security_event("consent_withdrawn", actor, vendor=vendor.id)
