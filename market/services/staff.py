"""The people who run a market: assigning volunteers and coordinators, and removing them."""

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from market import text
from market.extensions import db
from market.models import Market, MarketStaff, Role, StaffRole, User
from market.permissions import can_unassign_staff
from market.services import accounts
from market.services.audit import record, security_event
from market.services.errors import Invalid
from market.services.fields import read_text
from market.services.vendors import MAX_NAME, InvalidFields


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
        name = read_text({"name": name}, "name", errors, text.name)
        if not name and "name" not in errors:
            errors["name"] = _l("There is no account with this email yet: give the name too.")
        try:
            accounts.check_password_policy(password)
        except Invalid as error:
            errors["password"] = str(error)
        if errors:
            raise InvalidFields(errors)
        user = accounts.create_user(role=Role(role), name=name[:MAX_NAME], email=email)
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
    if not can_unassign_staff(actor, staff):
        raise Invalid(_l("You cannot remove yourself; ask another coordinator."))
    record(
        actor, "staff.remove", staff, {"user": [staff.user.login, None], "role": [staff.role, None]}
    )
    user_id, market_id, role = staff.user_id, staff.market_id, str(staff.role)
    db.session.delete(staff)
    db.session.commit()
    security_event("staff_removed", actor, user=user_id, market=market_id, role=role)
