"""Invitations: single-use, expiring links that let a vendor set a password and claim a stall.

Only the SHA-256 of a token is stored, so a database leak reveals no working link. A new
invitation revokes the older ones, which is also how a vendor who forgot the password gets back
in: the volunteer makes a new link, no email or SMS needed.
"""

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from babel.dates import format_date
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from market.extensions import db
from market.models import Invitation, Role, User, Vendor, utcnow
from market.services import accounts
from market.services.audit import record, security_event
from market.services.errors import Invalid, NotFound, NotReady
from market.services.soft_delete import check_live_vendor
from market.services.whatsapp import chat_link, display_phone

TOKEN_BYTES = 32  # 256 bits: far beyond guessing, even at millions of tries a second


@dataclass(frozen=True)
class NewInvitation:
    invitation: Invitation
    token: str


def invitation_days() -> int:
    return current_app.config["MARKET_INVITATION_DAYS"]


def create_invitation(vendor: Vendor, *, actor: User) -> NewInvitation:
    """A fresh link for the vendor; older links stop working. The token is returned once."""
    check_live_vendor(vendor)
    if not vendor.whatsapp and vendor.owner is None:
        raise NotReady([str(_l("WhatsApp number: the vendor logs in with it"))])
    now = utcnow()
    revoked = revoke_open(vendor, now)
    token = secrets.token_urlsafe(TOKEN_BYTES)
    invitation = Invitation(
        vendor_id=vendor.id,
        token_hash=accounts.token_digest(token),
        created_by_id=actor.id,
        created_at=now,
        expires_at=now + timedelta(days=invitation_days()),
    )
    db.session.add(invitation)
    db.session.flush()
    record(
        actor,
        "vendor.invite",
        vendor,
        {"invitation": [None, invitation.id], "expires_at": [None, invitation.expires_at]},
        reason=f"revoked {revoked}" if revoked else "",
    )
    db.session.commit()
    return NewInvitation(invitation, token)


def revoke_open(vendor: Vendor, now: datetime) -> int:
    """End the vendor's unused invitations; returns how many there were."""
    result = db.session.execute(
        update(Invitation)
        .where(
            Invitation.vendor_id == vendor.id,
            Invitation.used_at.is_(None),
            Invitation.revoked_at.is_(None),
        )
        .values(revoked_at=now)
    )
    return result.rowcount


def latest_invitation(vendor: Vendor) -> Invitation | None:
    return db.session.scalar(
        select(Invitation)
        .where(Invitation.vendor_id == vendor.id)
        .order_by(Invitation.created_at.desc(), Invitation.id.desc())
        .limit(1)
    )


def find_usable(token: str) -> Invitation | None:
    """The open invitation with this token, or None (unknown, used, revoked or expired)."""
    if not token or len(token) > 100:
        return None
    invitation = db.session.scalar(
        select(Invitation).where(Invitation.token_hash == accounts.token_digest(token))
    )
    if invitation is None or not invitation.is_usable(utcnow()):
        return None
    if invitation.vendor.deleted_at is not None:
        return None
    return invitation


def login_for(vendor: Vendor) -> str:
    """The login the vendor will use: their account's, or the stall's WhatsApp number."""
    return vendor.owner.login if vendor.owner is not None else (vendor.whatsapp or "")


def claim(token: str, password: str) -> User:
    """Set the password of the vendor's account (creating it when needed) and use up the link.

    The account logs in with the vendor's WhatsApp number. Raises NotFound for a link that does
    not work (any reason: the person is told to ask for a new one) and Invalid for a password
    the policy refuses, in which case the link stays usable."""
    invitation = find_usable(token)
    if invitation is None:
        raise NotFound(_l("This invitation link does not work any more."))
    accounts.check_password_policy(password)
    vendor = invitation.vendor
    user = vendor.owner or _account_for(vendor)
    if not user.active:
        raise Invalid(_l("This account is switched off. Ask the coordinator of your market."))
    # Single use even when two phones open the link at the same moment: only one update wins.
    now = utcnow()
    used = db.session.execute(
        update(Invitation)
        .where(
            Invitation.id == invitation.id,
            Invitation.used_at.is_(None),
            Invitation.revoked_at.is_(None),
        )
        .values(used_at=now)
    )
    if used.rowcount != 1:
        db.session.rollback()
        raise NotFound(_l("This invitation link does not work any more."))
    accounts.set_password(user, password)
    changes = {"invitation": [invitation.id, "used"]}
    if vendor.owner_id != user.id:
        changes["owner_id"] = [vendor.owner_id, user.id]
        vendor.owner = user
    user.last_login_at = now
    record(user, "vendor.claim", vendor, changes)
    db.session.commit()
    security_event("invitation_claimed", user, vendor=vendor.id)
    return user


def _account_for(vendor: Vendor) -> User:
    """The vendor account with the stall's WhatsApp number, created when there is none."""
    phone = vendor.whatsapp
    if not phone:
        raise Invalid(_l("The stall has no WhatsApp number. Ask the volunteer to add it."))
    user = db.session.scalar(select(User).where(User.phone == phone))
    if user is None:
        user = User(
            role=Role.VENDOR,
            phone=phone,
            name=vendor.owner_name or vendor.business_name,
            session_version=1,
        )
        db.session.add(user)
        db.session.flush()
        record(user, "user.create", user, {"phone": [None, phone], "role": [None, Role.VENDOR]})
    elif user.role != Role.VENDOR:
        raise Invalid(
            _l(
                "This WhatsApp number belongs to a staff account. Ask the volunteer to check "
                "the stall's number."
            )
        )
    return user


def whatsapp_share_url(vendor: Vendor, link: str, expires_at: datetime) -> str:
    """A link that opens a WhatsApp chat with the vendor, the message already typed.

    The message is always Indonesian: the vendors' language, whatever the volunteer's screen
    shows."""
    local = expires_at.astimezone(ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"]))
    until = format_date(local.date(), format="long", locale="id")
    greeting = f"Halo {vendor.owner_name}," if vendor.owner_name else "Halo,"
    login = display_phone(login_for(vendor))
    message = (
        f"{greeting} ini tautan untuk mengelola lapak {vendor.business_name} di Pasar:\n"
        f"{link}\n\n"
        f"Buka tautannya, buat kata sandi, lalu masuk dengan nomor WhatsApp {login}. "
        f"Tautan hanya bisa dipakai sekali dan berlaku sampai {until}."
    )
    return chat_link(vendor.whatsapp, message)
