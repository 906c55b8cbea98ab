"""Links that let a person in without email or SMS: a new volunteer or coordinator joins a
market, or someone who forgot their password sets a new one.

They work like a vendor's invitation (see invitations): single use, expiring, only the SHA-256
of the token stored, a newer link of the same kind cancelling the older ones, and handed over
by WhatsApp or a QR code by the coordinator, admin or volunteer who made it."""

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from babel.dates import format_date
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from market import text
from market.extensions import db
from market.models import AccountLink, LinkPurpose, Market, Role, User, utcnow
from market.permissions import can_invite_staff, can_reset_password
from market.services import accounts
from market.services.audit import record, security_event
from market.services.errors import Forbidden, Invalid, NotFound
from market.services.fields import read_text
from market.services.invitations import TOKEN_BYTES, invitation_days
from market.services.vendors import InvalidFields
from market.services.whatsapp import chat_link, display_phone

# A forgotten password is mended on the spot: the link need not live as long as an invitation.
RESET_HOURS = 24
LINK_GONE = _l("This link does not work any more. Ask for a new one.")


@dataclass(frozen=True)
class NewLink:
    link: AccountLink
    token: str


def _make(purpose: LinkPurpose, *, actor: User, lifetime: timedelta, **fields) -> NewLink:
    now = utcnow()
    token = secrets.token_urlsafe(TOKEN_BYTES)
    link = AccountLink(
        purpose=purpose,
        token_hash=accounts.token_digest(token),
        created_by_id=actor.id,
        created_at=now,
        expires_at=now + lifetime,
        **fields,
    )
    db.session.add(link)
    db.session.flush()
    return NewLink(link, token)


def create_join_link(market: Market, role: Role, *, actor: User) -> NewLink:
    """A link with which one new volunteer (or, from an admin, coordinator) makes an account
    assigned to the market."""
    if not can_invite_staff(actor, market, role):
        raise Forbidden(_l("You cannot invite this person to this market."))
    made = _make(
        LinkPurpose.JOIN,
        actor=actor,
        lifetime=timedelta(days=invitation_days()),
        role=role,
        market_id=market.id,
    )
    record(
        actor,
        "staff.invite",
        market,
        {"role": [None, role], "expires_at": [None, made.link.expires_at]},
    )
    db.session.commit()
    return made


def create_reset_link(person: User, *, actor: User) -> NewLink:
    """A link with which the person sets a new password; older ones stop working."""
    if not can_reset_password(actor, person):
        raise Forbidden(_l("You cannot make a password link for this account."))
    if not person.active:
        raise Invalid(accounts.SWITCHED_OFF)
    now = utcnow()
    db.session.execute(
        update(AccountLink)
        .where(
            AccountLink.user_id == person.id,
            AccountLink.purpose == LinkPurpose.RESET,
            AccountLink.used_at.is_(None),
            AccountLink.revoked_at.is_(None),
        )
        .values(revoked_at=now)
    )
    made = _make(
        LinkPurpose.RESET, actor=actor, lifetime=timedelta(hours=RESET_HOURS), user_id=person.id
    )
    record(actor, "user.reset_link", person, {"expires_at": [None, made.link.expires_at]})
    db.session.commit()
    return made


def find_usable(token: str, purpose: LinkPurpose) -> AccountLink | None:
    """The open link of this kind with this token, or None (unknown, used, cancelled or
    expired, or its account switched off)."""
    if not token or len(token) > 100:
        return None
    link = db.session.scalar(
        select(AccountLink).where(
            AccountLink.token_hash == accounts.token_digest(token), AccountLink.purpose == purpose
        )
    )
    if link is None or not link.is_usable(utcnow()):
        return None
    if link.user is not None and not link.user.active:
        return None
    return link


def _use(link: AccountLink) -> None:
    """Mark the link used; only one of two phones opening it at the same moment wins."""
    used = db.session.execute(
        update(AccountLink)
        .where(
            AccountLink.id == link.id,
            AccountLink.used_at.is_(None),
            AccountLink.revoked_at.is_(None),
        )
        .values(used_at=utcnow())
    )
    if used.rowcount != 1:
        db.session.rollback()
        raise NotFound(LINK_GONE)


def join(token: str, *, name: str, login: str, password: str) -> User:
    """Make the account a join link offers: the person's name, their email or WhatsApp number
    as login, and a password. Raises NotFound for a link that does not work and InvalidFields
    for input the rules refuse (the link then stays usable)."""
    link = find_usable(token, LinkPurpose.JOIN)
    if link is None:
        raise NotFound(LINK_GONE)
    errors = {}
    name = read_text({"name": name}, "name", errors, text.name)
    if not name and "name" not in errors:
        errors["name"] = _l("Give your name.")
    try:
        accounts.check_password_policy(password)
    except Invalid as error:
        errors["password"] = str(error)
    login = login.strip()
    email, phone = (login, None) if "@" in login else (None, login)
    if not errors:
        try:
            user = accounts.new_user(
                role=link.role,
                name=name,
                email=email,
                phone=phone,
                password=password,
                market=link.market,
            )
        except Invalid as error:
            errors["login"] = str(error)
    if errors:
        raise InvalidFields(errors)
    _use(link)
    link.user_id = user.id
    user.last_login_at = utcnow()
    record(
        link.created_by,
        "user.create",
        user,
        {"login": [None, user.login], "role": [None, user.role]},
        reason=f"join link {link.id}",
    )
    db.session.commit()
    security_event("account_joined", user, market=link.market_id, role=str(user.role))
    return user


def reset(token: str, password: str) -> User:
    """Set the new password a reset link offers; every other session of the account ends."""
    link = find_usable(token, LinkPurpose.RESET)
    if link is None:
        raise NotFound(LINK_GONE)
    accounts.check_password_policy(password)
    _use(link)
    user = link.user
    accounts.set_password(user, password)
    user.last_login_at = utcnow()
    record(user, "user.reset_password", user, {"reset_link": [link.id, "used"]})
    db.session.commit()
    security_event("password_reset", user)
    return user


def _until(expires_at: datetime) -> str:
    local = expires_at.astimezone(ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"]))
    return format_date(local.date(), format="long", locale="id")


def whatsapp_share_url(link: AccountLink, url: str) -> str:
    """A WhatsApp message with the link, in Indonesian like every message to people at the
    market: to the account's number for a reset, to whoever the sender picks for a join."""
    if link.purpose == LinkPurpose.JOIN:
        role = "koordinator" if link.role == Role.COORDINATOR else "relawan"
        message = (
            f"Halo, ini tautan untuk bergabung sebagai {role} {link.market.name} di Pasar:\n"
            f"{url}\n\n"
            "Buka tautannya, isi nama, email atau nomor WhatsApp, dan kata sandi. "
            f"Tautan hanya bisa dipakai sekali dan berlaku sampai {_until(link.expires_at)}."
        )
        return chat_link(None, message)
    person = link.user
    login = display_phone(person.phone) if person.phone else person.login
    message = (
        f"Halo {person.name}, ini tautan untuk membuat kata sandi baru di Pasar:\n"
        f"{url}\n\n"
        f"Setelah itu masuk dengan {login}. "
        f"Tautan hanya bisa dipakai sekali dan berlaku sampai {_until(link.expires_at)}."
    )
    return chat_link(person.phone, message)
