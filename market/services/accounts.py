"""Accounts: logins by email or Indonesian phone number, passwords, roles."""

import hashlib
import secrets
from pathlib import Path

import phonenumbers
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from market import text
from market.extensions import db
from market.models import Market, MarketStaff, Role, StaffRole, User, utcnow
from market.permissions import can_manage_account
from market.services.audit import record, security_event
from market.services.errors import Forbidden, Invalid

# scrypt with N=2^15, r=8, p=3: one of OWASP's recommended minimum settings, using 32 MiB.
PASSWORD_METHOD = "scrypt:32768:8:3"  # noqa: S105 - hashing parameters
MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 256
COMMON_PASSWORDS = frozenset(
    (Path(__file__).resolve().parent.parent / "common_passwords.txt").read_text().split()
)
# Compared against when the account does not exist, so both paths take the same time.
_DUMMY_HASH = generate_password_hash(secrets.token_hex(8), method="scrypt:1024:8:1")


def normalise_phone(raw: str, region: str = "ID") -> str:
    """Return a phone number in E.164 (+6281234567890); raise Invalid if it is not a real number."""
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        raise Invalid(_l("This is not a valid phone number.")) from None
    if not phonenumbers.is_valid_number(number):
        raise Invalid(_l("This is not a valid phone number."))
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalise_email(raw: str) -> str:
    return raw.strip().casefold()


def _parse_login(login: str) -> tuple[str, str]:
    """("email", address), ("phone", E.164 number), or ("", the text case-folded)."""
    login = login.strip()
    if "@" in login:
        return "email", normalise_email(login)
    try:
        return "phone", normalise_phone(login)
    except Invalid:
        return "", login.casefold()


def account_key(login: str) -> str:
    """The one spelling of the account a typed login names: the case-folded email or the E.164
    number (0812…, +62 812…, 62812… and 0812-… are one account). Anything else comes back
    case-folded, so that the login limit still counts it."""
    return _parse_login(login)[1]


def find_by_login(login: str) -> User | None:
    """Find a user by email or by phone number in any common spelling."""
    kind, key = _parse_login(login)
    if kind == "email":
        return db.session.scalar(select(User).where(User.email == key))
    if kind == "phone":
        return db.session.scalar(select(User).where(User.phone == key))
    return None


def check_password_policy(password: str) -> None:
    """Length and a blocklist, no composition rules (NIST SP 800-63B)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise Invalid(_l("Use at least %(n)d characters.", n=MIN_PASSWORD_LENGTH))
    if len(password) > MAX_PASSWORD_LENGTH:
        raise Invalid(_l("Use at most %(n)d characters.", n=MAX_PASSWORD_LENGTH))
    if password.casefold() in COMMON_PASSWORDS:
        raise Invalid(_l("This password is too common; choose another."))


def hash_password(password: str) -> str:
    # Tests lower the cost through config; production keeps PASSWORD_METHOD.
    return generate_password_hash(
        password, method=current_app.config.get("MARKET_PASSWORD_METHOD", PASSWORD_METHOD)
    )


class WrongPassword(Invalid):
    """The password typed to confirm a change is not the account's."""


class SwitchedOff(Invalid):
    """The login and password are right, but a coordinator switched the account off."""


SWITCHED_OFF = _l("This account is switched off. Ask the coordinator of your market.")
MAX_REASON = 255


def _password_matches(user: User, password: str) -> bool:
    return check_password_hash(user.password_hash, password) and user.active


def authenticate(login: str, password: str) -> User | None:
    """Log in: the user if login and password match an active account, else None (always the
    same cost). Records the time of the login. Raises SwitchedOff only to whoever knows the
    password, so a switched-off account is not revealed to someone guessing."""
    user = find_by_login(login)
    if user is None or not user.password_hash:
        check_password_hash(_DUMMY_HASH, password)
        return None
    if not check_password_hash(user.password_hash, password):
        return None
    if not user.active:
        raise SwitchedOff(SWITCHED_OFF)
    user.last_login_at = utcnow()
    db.session.commit()
    return user


def change_password(user: User, current: str, new: str) -> None:
    """Replace a password once the current one is confirmed; ends the user's other sessions.

    Raises WrongPassword, or Invalid when the new password breaks the policy."""
    if not user.password_hash or not _password_matches(user, current):
        raise WrongPassword(_l("The current password is wrong."))
    set_password(user, new)
    db.session.commit()
    security_event("password_change", user)


def set_password(user: User, password: str) -> None:
    """Set a new password and end every other session of this user."""
    check_password_policy(password)
    user.password_hash = hash_password(password)
    user.session_version += 1


def end_sessions(user: User) -> None:
    user.session_version += 1
    db.session.commit()


def deactivate(person: User, *, actor: User, reason: str) -> None:
    """Switch an account off: its sessions end at their next request, its logins are refused
    with a message, and its stalls stay as they are. Needs a reason, kept with the account."""
    if not can_manage_account(actor, person):
        raise Forbidden(_l("You cannot switch off this account."))
    reason = text.one_line(reason)[:MAX_REASON]
    if not reason:
        raise Invalid(_l("Say why the account is switched off."))
    if not person.active:
        return
    person.active = False
    person.deactivated_at = utcnow()
    person.deactivated_reason = reason
    person.deactivated_by_id = actor.id
    person.session_version += 1
    record(actor, "user.deactivate", person, {"active": [True, False]}, reason=reason)
    db.session.commit()
    security_event("account_deactivated", actor, user=person.id)


def reactivate(person: User, *, actor: User) -> None:
    """Switch an account on again; the person logs in with their old password."""
    if not can_manage_account(actor, person):
        raise Forbidden(_l("You cannot switch on this account."))
    if person.active:
        return
    record(
        actor,
        "user.reactivate",
        person,
        {"active": [False, True]},
        reason=person.deactivated_reason,
    )
    person.active = True
    person.deactivated_at = None
    person.deactivated_reason = ""
    person.deactivated_by_id = None
    db.session.commit()
    security_event("account_reactivated", actor, user=person.id)


def create_user(
    *,
    role: Role,
    name: str,
    email: str | None = None,
    phone: str | None = None,
    password: str | None = None,
    market: Market | None = None,
) -> User:
    """Create an account, optionally assigned to a market as staff."""
    user = new_user(
        role=role, name=name, email=email, phone=phone, password=password, market=market
    )
    db.session.commit()
    return user


def new_user(
    *,
    role: Role,
    name: str,
    email: str | None = None,
    phone: str | None = None,
    password: str | None = None,
    market: Market | None = None,
) -> User:
    """The account create_user makes, added to the session for the caller to commit."""
    if not email and not phone:
        raise Invalid(_l("Give an email address or a phone number."))
    user = User(
        role=role,
        name=text.name(name),
        session_version=1,
        email=normalise_email(email) if email else None,
        phone=normalise_phone(phone) if phone else None,
    )
    if user.email and find_by_login(user.email):
        raise Invalid(_l("An account with this email already exists."))
    if user.phone and find_by_login(user.phone):
        raise Invalid(_l("An account with this phone number already exists."))
    if password is not None:
        set_password(user, password)
    db.session.add(user)
    if market is not None and role in (Role.COORDINATOR, Role.VOLUNTEER):
        db.session.add(MarketStaff(market=market, user=user, role=StaffRole(role.value)))
    db.session.flush()
    return user


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
