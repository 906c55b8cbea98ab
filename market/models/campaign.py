"""Campaigns: a city's go-digital drive through some markets, with a target per market and
the volunteers in its team."""

import enum
from datetime import date
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, Column, Date, ForeignKey, String, Table, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from market.extensions import db
from market.models.base import TimestampMixin, str_enum

if TYPE_CHECKING:
    from market.models.market import Market
    from market.models.user import User


class TargetKind(enum.StrEnum):
    """A market's target is either the whole campaign's, spread evenly over its days, or a
    day's, the same every day."""

    TOTAL = "total"
    PER_DAY = "per_day"


campaign_volunteer = Table(
    "campaign_volunteer",
    db.metadata,
    Column("campaign_id", ForeignKey("campaign.id"), primary_key=True),
    Column("user_id", ForeignKey("user.id"), primary_key=True, index=True),
)


class Campaign(TimestampMixin, db.Model):
    __table_args__ = (CheckConstraint("ends_on >= starts_on", name="ends_after_start"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    starts_on: Mapped[date] = mapped_column(Date, index=True)
    ends_on: Mapped[date] = mapped_column(Date, index=True)
    target_kind: Mapped[TargetKind] = mapped_column(str_enum(TargetKind), default=TargetKind.TOTAL)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    targets: Mapped[list["CampaignMarket"]] = relationship(
        back_populates="campaign", cascade="all, delete-orphan", order_by="CampaignMarket.id"
    )
    volunteers: Mapped[list["User"]] = relationship(
        secondary=campaign_volunteer, order_by="User.name"
    )
    created_by: Mapped["User | None"] = relationship()

    @property
    def days(self) -> int:
        return (self.ends_on - self.starts_on).days + 1

    def __repr__(self) -> str:
        return f"<Campaign {self.id} {self.name}>"


class CampaignMarket(db.Model):
    """One market of a campaign and its targets: stalls published, products with a photo."""

    __table_args__ = (
        UniqueConstraint("campaign_id", "market_id"),
        CheckConstraint("stalls_target >= 0", name="stalls_target_not_negative"),
        CheckConstraint("products_target >= 0", name="products_target_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"))
    market_id: Mapped[int] = mapped_column(ForeignKey("market.id"), index=True)
    stalls_target: Mapped[int] = mapped_column(default=0)
    products_target: Mapped[int] = mapped_column(default=0)

    campaign: Mapped[Campaign] = relationship(back_populates="targets")
    market: Mapped["Market"] = relationship()
