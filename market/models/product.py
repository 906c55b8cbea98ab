"""Products on a vendor's stall."""

import enum
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    CheckConstraint,
    Column,
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
    from market.models.market import Category
    from market.models.media import Photo, VlogLink
    from market.models.vendor import Vendor


class PriceKind(enum.StrEnum):
    FIXED = "fixed"
    FROM = "from"
    NEGOTIABLE = "negotiable"


class Availability(enum.StrEnum):
    IN_STOCK = "in_stock"
    SOLD_OUT = "sold_out"
    PRE_ORDER = "pre_order"


product_category = Table(
    "product_category",
    db.metadata,
    Column("product_id", ForeignKey("product.id"), primary_key=True),
    Column("category_id", ForeignKey("category.id"), primary_key=True, index=True),
)


class Product(TimestampMixin, db.Model):
    __table_args__ = (
        UniqueConstraint("vendor_id", "slug"),
        CheckConstraint("price_idr >= 0", name="price_not_negative"),
        Index("ix_product_vendor_position", "vendor_id", "deleted_at", "position"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    vendor_id: Mapped[int] = mapped_column(ForeignKey("vendor.id"))
    slug: Mapped[str] = mapped_column(String(80))
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    # Optional English text, written by a person (never machine-translated unannounced).
    name_en: Mapped[str] = mapped_column(String(120), default="")
    description_en: Mapped[str] = mapped_column(Text, default="")
    price_idr: Mapped[int | None] = mapped_column()
    price_kind: Mapped[PriceKind] = mapped_column(str_enum(PriceKind), default=PriceKind.FIXED)
    price_note: Mapped[str] = mapped_column(String(60), default="")
    availability: Mapped[Availability] = mapped_column(
        str_enum(Availability), default=Availability.IN_STOCK
    )
    halal: Mapped[bool] = mapped_column(default=False)
    permit_number: Mapped[str] = mapped_column(String(40), default="")
    material: Mapped[str] = mapped_column(String(120), default="")
    # Asked by the marketplaces' bulk-upload templates; optional here.
    weight_grams: Mapped[int | None] = mapped_column()
    stock_count: Mapped[int | None] = mapped_column()
    position: Mapped[int] = mapped_column(default=0)
    hidden_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    hidden_reason: Mapped[str] = mapped_column(String(255), default="")
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}

    vendor: Mapped["Vendor"] = relationship(back_populates="products")
    categories: Mapped[list["Category"]] = relationship(
        secondary=product_category, order_by="Category.position"
    )
    # Live photos and vlogs only; deleted ones stay in the database for restore.
    photos: Mapped[list["Photo"]] = relationship(
        primaryjoin="and_(Photo.product_id == Product.id, Photo.deleted_at.is_(None))",
        order_by="Photo.position",
        viewonly=True,
    )
    vlogs: Mapped[list["VlogLink"]] = relationship(
        primaryjoin="and_(VlogLink.product_id == Product.id, VlogLink.deleted_at.is_(None))",
        order_by="VlogLink.position",
        viewonly=True,
    )

    # Neither deleted nor hidden by moderation, written once for Python and for SQL. A product
    # is public when it is listed and its vendor is public (Vendor.is_public); queries join
    # the vendor and filter on both.
    @hybrid_property
    def is_listed(self) -> bool:
        return self.deleted_at is None and self.hidden_at is None

    @is_listed.inplace.expression
    @classmethod
    def _is_listed_expression(cls) -> ColumnElement[bool]:
        return and_(cls.deleted_at.is_(None), cls.hidden_at.is_(None))

    @property
    def is_public(self) -> bool:
        return self.is_listed and self.vendor.is_public

    def name_in(self, locale: str) -> LocalText:
        return in_locale(self.name, self.name_en, locale)

    def description_in(self, locale: str) -> LocalText:
        return in_locale(self.description, self.description_en, locale)

    def __repr__(self) -> str:
        return f"<Product {self.id} {self.slug}>"
