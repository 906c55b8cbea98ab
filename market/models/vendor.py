"""Vendors (stalls), their QRIS payment code and the daily count of shoppers' WhatsApp taps."""

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    Column,
    Date,
    ForeignKey,
    Index,
    String,
    Table,
    Text,
    UniqueConstraint,
    and_,
)
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.sql.elements import ColumnElement

from market.extensions import db
from market.models.base import LocalText, TimestampMixin, UTCDateTime, in_locale, str_enum

if TYPE_CHECKING:
    from market.models.market import Category, Market
    from market.models.media import Photo, VlogLink
    from market.models.product import Product
    from market.models.user import User


class VendorStatus(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    HIDDEN = "hidden"


vendor_category = Table(
    "vendor_category",
    db.metadata,
    Column("vendor_id", ForeignKey("vendor.id"), primary_key=True),
    Column("category_id", ForeignKey("category.id"), primary_key=True, index=True),
)


class Vendor(TimestampMixin, db.Model):
    __table_args__ = (
        UniqueConstraint("market_id", "slug"),
        Index("ix_vendor_market_stall", "market_id", "stall_block", "stall_number"),
        Index("ix_vendor_market_status", "market_id", "status", "deleted_at"),
        Index("ix_vendor_market_whatsapp", "market_id", "whatsapp"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    market_id: Mapped[int] = mapped_column(ForeignKey("market.id"))
    slug: Mapped[str] = mapped_column(String(80))
    business_name: Mapped[str] = mapped_column(String(120))
    owner_name: Mapped[str] = mapped_column(String(120), default="")
    stall_block: Mapped[str] = mapped_column(String(10), default="")
    stall_number: Mapped[str] = mapped_column(String(10), default="")
    whatsapp: Mapped[str | None] = mapped_column(String(20))
    description: Mapped[str] = mapped_column(Text, default="")
    # Optional English text for the English pages, written by a person.
    name_en: Mapped[str] = mapped_column(String(120), default="")
    description_en: Mapped[str] = mapped_column(Text, default="")
    opening_hours: Mapped[str] = mapped_column(String(255), default="")
    status: Mapped[VendorStatus] = mapped_column(str_enum(VendorStatus), default=VendorStatus.DRAFT)
    hidden_reason: Mapped[str] = mapped_column(String(255), default="")
    consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    consent_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    consent_version: Mapped[str | None] = mapped_column(String(20))
    onboarded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # "Closed today" or for a holiday: shown to shoppers up to and including this local date.
    closed_until: Mapped[date | None] = mapped_column(Date)
    closed_note: Mapped[str] = mapped_column(String(160), default="")
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}

    market: Mapped["Market"] = relationship(back_populates="vendors")
    owner: Mapped["User | None"] = relationship(back_populates="vendors", foreign_keys=[owner_id])
    onboarded_by: Mapped["User | None"] = relationship(foreign_keys=[onboarded_by_id])
    consent_by: Mapped["User | None"] = relationship(foreign_keys=[consent_by_id])
    categories: Mapped[list["Category"]] = relationship(
        secondary=vendor_category, order_by="Category.position"
    )
    products: Mapped[list["Product"]] = relationship(
        back_populates="vendor", order_by="Product.position"
    )
    photos: Mapped[list["Photo"]] = relationship(
        primaryjoin="and_(Photo.vendor_id == Vendor.id, Photo.product_id.is_(None), "
        "Photo.deleted_at.is_(None))",
        order_by="Photo.position",
        viewonly=True,
    )
    vlogs: Mapped[list["VlogLink"]] = relationship(
        primaryjoin="and_(VlogLink.vendor_id == Vendor.id, VlogLink.product_id.is_(None), "
        "VlogLink.deleted_at.is_(None))",
        order_by="VlogLink.position",
        viewonly=True,
    )
    qris: Mapped["QrisCode | None"] = relationship(back_populates="vendor")

    @property
    def stall_label(self) -> str:
        parts = []
        if self.stall_block:
            parts.append(f"Blok {self.stall_block}")
        if self.stall_number:
            parts.append(f"No. {self.stall_number}")
        return " ".join(parts)

    def closed_on(self, today: date) -> bool:
        return self.closed_until is not None and today <= self.closed_until

    @property
    def has_consent(self) -> bool:
        return self.consent_at is not None

    def name_in(self, locale: str) -> LocalText:
        return in_locale(self.business_name, self.name_en, locale)

    def description_in(self, locale: str) -> LocalText:
        return in_locale(self.description, self.description_en, locale)

    # What "public" means for a vendor, written once for Python and for SQL (every public
    # query filters on Vendor.is_public). A market's own `published` gates its pages on top.
    @hybrid_property
    def is_public(self) -> bool:
        return (
            self.status == VendorStatus.PUBLISHED
            and self.consent_at is not None
            and self.deleted_at is None
        )

    @is_public.inplace.expression
    @classmethod
    def _is_public_expression(cls) -> ColumnElement[bool]:
        return and_(
            cls.status == VendorStatus.PUBLISHED,
            cls.consent_at.is_not(None),
            cls.deleted_at.is_(None),
        )

    def __repr__(self) -> str:
        return f"<Vendor {self.id} {self.slug}>"


class QrisCode(TimestampMixin, db.Model):
    """A photo of the vendor's own QRIS sticker; public only once a volunteer verified it."""

    id: Mapped[int] = mapped_column(primary_key=True)
    vendor_id: Mapped[int] = mapped_column(ForeignKey("vendor.id"), unique=True)
    photo_id: Mapped[int] = mapped_column(ForeignKey("photo.id"))
    merchant_name: Mapped[str] = mapped_column(String(120))
    verified_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    vendor: Mapped[Vendor] = relationship(back_populates="qris")
    photo: Mapped["Photo"] = relationship()
    verified_by: Mapped["User | None"] = relationship()


class ContactClick(db.Model):
    """How many times shoppers tapped WhatsApp for a vendor (or one product) on one day."""

    __table_args__ = (Index("ix_contact_click_vendor_day", "vendor_id", "day", "product_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    vendor_id: Mapped[int] = mapped_column(ForeignKey("vendor.id"))
    product_id: Mapped[int | None] = mapped_column(ForeignKey("product.id"))
    day: Mapped[date] = mapped_column(Date)
    count: Mapped[int] = mapped_column(default=0)
