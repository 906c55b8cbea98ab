"""Markets, the staff assigned to them, and the shared list of categories."""

import enum
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import JSON, ForeignKey, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from market.extensions import db
from market.models.base import TimestampMixin, str_enum

if TYPE_CHECKING:
    from market.models.media import Photo
    from market.models.user import User
    from market.models.vendor import Vendor


class Market(TimestampMixin, db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    city: Mapped[str] = mapped_column(String(80))
    province: Mapped[str] = mapped_column(String(80))
    address: Mapped[str] = mapped_column(String(255), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    opening_hours: Mapped[str] = mapped_column(String(255), default="")
    # Seven entries, Monday first: {"opens": "07:00", "closes": "17:00"} or None (closed);
    # see services/hours.py. None when not given: the free-text note above still shows.
    weekly_hours: Mapped[list | None] = mapped_column(JSON)
    timezone: Mapped[str] = mapped_column(String(40), default="Asia/Makassar")
    latitude: Mapped[Decimal | None] = mapped_column(Numeric(9, 6))
    longitude: Mapped[Decimal | None] = mapped_column(Numeric(9, 6))
    cover_photo_id: Mapped[int | None] = mapped_column(
        # Photos belong to vendors, which belong to markets: the cycle is closed after creation.
        ForeignKey("photo.id", use_alter=True)
    )
    published: Mapped[bool] = mapped_column(default=False, index=True)

    cover_photo: Mapped["Photo | None"] = relationship(foreign_keys=[cover_photo_id])
    staff: Mapped[list["MarketStaff"]] = relationship(
        back_populates="market", cascade="all, delete-orphan"
    )
    vendors: Mapped[list["Vendor"]] = relationship(back_populates="market")

    def __repr__(self) -> str:
        return f"<Market {self.slug}>"


class StaffRole(enum.StrEnum):
    COORDINATOR = "coordinator"
    VOLUNTEER = "volunteer"


class MarketStaff(db.Model):
    """A coordinator or volunteer assigned to a market; authority over vendors flows from here."""

    __table_args__ = (UniqueConstraint("market_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    market_id: Mapped[int] = mapped_column(ForeignKey("market.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    role: Mapped[StaffRole] = mapped_column(str_enum(StaffRole))

    market: Mapped[Market] = relationship(back_populates="staff")
    user: Mapped["User"] = relationship(back_populates="staff_assignments")


class Category(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    name_id: Mapped[str] = mapped_column(String(60))
    name_en: Mapped[str] = mapped_column(String(60))
    position: Mapped[int] = mapped_column(default=0)

    def name_for(self, locale: str) -> str:
        return self.name_en if locale == "en" else self.name_id
