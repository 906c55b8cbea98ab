"""People who log in, the invitations that let a vendor claim an account, and the links that
let staff join a market or anyone set a new password."""

import enum
from datetime import datetime
from typing import TYPE_CHECKING

from flask_login import UserMixin
from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from market.extensions import db
from market.models.base import TimestampMixin, UTCDateTime, str_enum, utcnow

if TYPE_CHECKING:
    from market.models.market import Market, MarketStaff
    from market.models.vendor import Vendor


class Role(enum.StrEnum):
    ADMIN = "admin"
    COORDINATOR = "coordinator"
    VOLUNTEER = "volunteer"
    VENDOR = "vendor"


class User(UserMixin, TimestampMixin, db.Model):
    __table_args__ = (CheckConstraint("email IS NOT NULL OR phone IS NOT NULL", name="has_login"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stored case-folded, so the unique index holds whatever case people type.
    email: Mapped[str | None] = mapped_column(String(254), unique=True)
    # E.164, e.g. +6281234567890: the login of vendors, who often have no email.
    phone: Mapped[str | None] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(str_enum(Role))
    locale: Mapped[str] = mapped_column(String(5), default="id")
    active: Mapped[bool] = mapped_column(default=True)
    # Bumped on logout, password change and deactivation: older session cookies stop working.
    session_version: Mapped[int] = mapped_column(default=1)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Switched off by a coordinator or admin, with their reason; `active` is what logins check.
    deactivated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deactivated_reason: Mapped[str] = mapped_column(String(255), default="")
    deactivated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    staff_assignments: Mapped[list["MarketStaff"]] = relationship(
        back_populates="user", cascade="all, delete-orphan"
    )
    vendors: Mapped[list["Vendor"]] = relationship(
        back_populates="owner", foreign_keys="Vendor.owner_id"
    )
    deactivated_by: Mapped["User | None"] = relationship(
        remote_side=[id], foreign_keys=[deactivated_by_id]
    )

    @property
    def is_active(self) -> bool:
        return self.active

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"

    @property
    def login(self) -> str:
        return self.email or self.phone or ""

    def __repr__(self) -> str:
        return f"<User {self.id} {self.role} {self.login}>"


class Invitation(db.Model):
    """A single-use, expiring link that lets a vendor set a password; only its hash is kept."""

    id: Mapped[int] = mapped_column(primary_key=True)
    vendor_id: Mapped[int] = mapped_column(ForeignKey("vendor.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    vendor: Mapped["Vendor"] = relationship()
    created_by: Mapped[User] = relationship()

    def is_usable(self, now: datetime) -> bool:
        return self.used_at is None and self.revoked_at is None and now < self.expires_at


class LinkPurpose(enum.StrEnum):
    JOIN = "join"  # a new volunteer or coordinator creates their account
    RESET = "reset"  # an existing account gets a new password


class AccountLink(db.Model):
    """A single-use, expiring link made by a coordinator or admin (or a volunteer, for a
    vendor's password); like an invitation, only its hash is kept."""

    id: Mapped[int] = mapped_column(primary_key=True)
    purpose: Mapped[LinkPurpose] = mapped_column(str_enum(LinkPurpose))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # RESET: the account; JOIN: the account the link created, once used.
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    # JOIN: the role and the market the new account is assigned to.
    role: Mapped[Role | None] = mapped_column(str_enum(Role))
    market_id: Mapped[int | None] = mapped_column(ForeignKey("market.id"))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User | None] = relationship(foreign_keys=[user_id])
    market: Mapped["Market | None"] = relationship()
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])

    def is_usable(self, now: datetime) -> bool:
        return self.used_at is None and self.revoked_at is None and now < self.expires_at
