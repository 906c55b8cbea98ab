"""The single answer to "may this user do this to that record?", plus decorators for views."""

from collections.abc import Callable
from functools import wraps

from flask import abort
from flask_login import current_user
from sqlalchemy import select

from market.extensions import db, login_manager
from market.models import (
    Campaign,
    Market,
    MarketStaff,
    Photo,
    Product,
    Role,
    StaffRole,
    User,
    Vendor,
    VlogLink,
)

COORDINATION_ROLES = (Role.ADMIN, Role.COORDINATOR)


def _staff_role(user: User, market_id: int) -> StaffRole | None:
    for assignment in user.staff_assignments:
        if assignment.market_id == market_id:
            return assignment.role
    return None


def is_admin(user: User) -> bool:
    return user.is_authenticated and user.role == Role.ADMIN


def is_vendor(user: User) -> bool:
    """A vendor's account: their own stalls, rather than a market's list of vendors."""
    return user.is_authenticated and user.role == Role.VENDOR


def can_coordinate(user: User) -> bool:
    """Open the coordination pages (each market there is checked by can_manage_market)."""
    return user.is_authenticated and user.role in COORDINATION_ROLES


def can_edit_synonyms(user: User, _synonym: object = None) -> bool:
    """The search synonyms are shared by every market: any coordinator may keep them, as
    they hear what shoppers type at their own market, and admins."""
    return user.is_authenticated and user.role in COORDINATION_ROLES


def can_manage_market(user: User, market: Market) -> bool:
    """Coordinate a market: edit it, assign staff, moderate, read its reports and audit log."""
    if not user.is_authenticated:
        return False
    if user.role == Role.ADMIN:
        return True
    return user.role == Role.COORDINATOR and _staff_role(user, market.id) == StaffRole.COORDINATOR


def can_manage_campaign(user: User, campaign: Campaign) -> bool:
    """Open, edit and report on a campaign: coordinators of every one of its markets (its
    pages name their volunteers and stalls), and admins."""
    if not can_coordinate(user):
        return False
    return user.role == Role.ADMIN or (
        bool(campaign.targets) and all(can_manage_market(user, t.market) for t in campaign.targets)
    )


def can_onboard_in(user: User, market: Market) -> bool:
    """Register vendors in a market: its volunteers and coordinators, and admins."""
    if not user.is_authenticated:
        return False
    if user.role == Role.ADMIN:
        return True
    return (
        user.role in (Role.COORDINATOR, Role.VOLUNTEER) and _staff_role(user, market.id) is not None
    )


def can_view_vendor(user: User, vendor: Vendor) -> bool:
    """See a vendor in the back office: its owner while it lives; staff of its market also
    once it is deleted, so that coordinators can restore it."""
    if not user.is_authenticated:
        return False
    if user.role == Role.VENDOR:
        return vendor.owner_id == user.id and vendor.deleted_at is None
    return can_onboard_in(user, vendor.market)


def can_edit_vendor(user: User, vendor: Vendor) -> bool:
    """Edit a vendor's stall and catalogue: its owner, or staff of its market; nobody edits a
    deleted vendor until it is restored."""
    return vendor.deleted_at is None and can_view_vendor(user, vendor)


def can_see_numbers(user: User, vendor: Vendor) -> bool:
    """A stall's views, contacts and list sends are its business: only who may edit it."""
    return can_edit_vendor(user, vendor)


def can_publish_vendor(user: User, vendor: Vendor) -> bool:
    """Publishing, consent and invitations are the staff's job, never the vendor's own."""
    return user.is_authenticated and user.role != Role.VENDOR and can_edit_vendor(user, vendor)


def can_moderate_vendor(user: User, vendor: Vendor) -> bool:
    """Hide with a reason, show again, restore after a delete: the market's coordinators."""
    return can_manage_market(user, vendor.market)


def can_moderate_product(user: User, product: Product) -> bool:
    return can_moderate_vendor(user, product.vendor)


def can_withdraw_consent(user: User, vendor: Vendor) -> bool:
    """Staff record consent; the vendor may also take it back themselves."""
    return can_edit_vendor(user, vendor)


def can_unassign_staff(user: User, assignment: MarketStaff) -> bool:
    """End an assignment to a market one coordinates; only an admin may remove themselves, so
    that a coordinator cannot lock themselves out by mistake."""
    if not can_manage_market(user, assignment.market):
        return False
    return assignment.user_id != user.id or user.role == Role.ADMIN


def _account_markets(person: User) -> set[int]:
    """The markets an account belongs to: a staff member's assignments, a vendor's stalls."""
    if person.role == Role.VENDOR:
        return {vendor.market_id for vendor in person.vendors}
    return {assignment.market_id for assignment in person.staff_assignments}


def can_manage_account(user: User, person: User) -> bool:
    """Switch an account off or on again: an admin for every other account but admins; a
    coordinator for the volunteers and vendors of a market they coordinate. Nobody for
    themselves, so that nobody locks themselves out."""
    if not user.is_authenticated or user.id == person.id or person.role == Role.ADMIN:
        return False
    if user.role == Role.ADMIN:
        return True
    if user.role != Role.COORDINATOR or person.role not in (Role.VOLUNTEER, Role.VENDOR):
        return False
    return any(
        _staff_role(user, market_id) == StaffRole.COORDINATOR
        for market_id in _account_markets(person)
    )


def can_reset_password(user: User, person: User) -> bool:
    """Make a new-password link: whoever may manage the account, and for a vendor also the
    volunteers of the vendor's market (a vendor's first helper)."""
    if can_manage_account(user, person):
        return True
    return (
        user.is_authenticated
        and user.role == Role.VOLUNTEER
        and person.role == Role.VENDOR
        and any(_staff_role(user, market_id) for market_id in _account_markets(person))
    )


def can_invite_staff(user: User, market: Market, role: Role) -> bool:
    """Invite a volunteer to a market: its coordinators; a coordinator: an admin."""
    if role == Role.VOLUNTEER:
        return can_manage_market(user, market)
    return role == Role.COORDINATOR and is_admin(user)


def can_edit_photo(user: User, photo: Photo) -> bool:
    """A stall or product photo, by whoever may edit the stall (market covers and QRIS
    photos are edited through their own pages)."""
    vendor = photo.vendor
    return vendor is not None and can_edit_vendor(user, vendor)


def can_edit_vlog(user: User, vlog: VlogLink) -> bool:
    return can_edit_vendor(user, vlog.vendor)


def can_edit_product(user: User, product: Product) -> bool:
    return can_edit_vendor(user, product.vendor)


def manageable_markets(user: User) -> list[Market]:
    """Markets a user coordinates (admins: all)."""
    query = select(Market).order_by(Market.name)
    if user.role != Role.ADMIN:
        query = query.join(MarketStaff).where(
            MarketStaff.user_id == user.id, MarketStaff.role == StaffRole.COORDINATOR
        )
    return list(db.session.scalars(query))


def staffed_markets(user: User) -> list[Market]:
    """Markets where a user may onboard vendors (admins: all)."""
    query = select(Market).order_by(Market.name)
    if user.role != Role.ADMIN:
        query = query.join(MarketStaff).where(MarketStaff.user_id == user.id)
    return list(db.session.scalars(query))


def load_or_404(model, record_id: int, predicate: Callable[[User, object], bool]):
    """Load a record and check the predicate. Records the user may not see are a 404, not a 403,
    so ids of other markets' vendors cannot be probed."""
    record = db.session.get(model, record_id)
    if record is None or not predicate(current_user, record):
        abort(404)
    return record


def role_required(*roles: Role):
    """Pages for some roles only: anonymous users go to the login page, others get a 403."""

    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapper

    return decorator


staff_required = role_required(Role.ADMIN, Role.COORDINATOR, Role.VOLUNTEER)
coordinator_required = role_required(*COORDINATION_ROLES)
login_required = role_required(*Role)
