"""Photos (of stalls, products and markets) and links to the vendors' own vlogs."""

import enum
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from market.extensions import db
from market.models.base import TimestampMixin, UTCDateTime, str_enum

if TYPE_CHECKING:
    from market.models.product import Product
    from market.models.vendor import Vendor


class Photo(TimestampMixin, db.Model):
    """A processed photo. A stall photo has a vendor and no product; a market cover has neither."""

    __table_args__ = (
        Index("ix_photo_vendor", "vendor_id", "product_id", "position"),
        Index("ix_photo_product", "product_id", "position"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    vendor_id: Mapped[int | None] = mapped_column(ForeignKey("vendor.id"))
    product_id: Mapped[int | None] = mapped_column(ForeignKey("product.id"))
    # SHA-256 of the uploaded bytes: storage keys derive from it, so the same photo is stored once.
    content_hash: Mapped[str] = mapped_column(String(64), index=True)
    original_bytes: Mapped[int] = mapped_column()
    width: Mapped[int] = mapped_column()
    height: Mapped[int] = mapped_column()
    # Widths of the stored WebP variants, smallest first.
    variants: Mapped[list[int]] = mapped_column(JSON)
    # Width of the stored JPEG master (for feeds and marketplaces); None until it is made.
    master_width: Mapped[int | None] = mapped_column()
    alt_text: Mapped[str] = mapped_column(String(200), default="")
    position: Mapped[int] = mapped_column(default=0)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    product: Mapped["Product | None"] = relationship()
    # Read-only: the vendor's own photo list is the one that writes the link.
    vendor: Mapped["Vendor | None"] = relationship(viewonly=True)

    def key(self, width: int) -> str:
        return f"photos/{self.content_hash[:2]}/{self.content_hash}-{width}.webp"

    def master_key(self) -> str | None:
        if self.master_width is None:
            return None
        return f"photos/{self.content_hash[:2]}/{self.content_hash}-{self.master_width}.jpg"

    def height_for(self, width: int) -> int:
        return max(1, round(self.height * width / self.width))


class VlogPlatform(enum.StrEnum):
    YOUTUBE = "youtube"
    TIKTOK = "tiktok"
    INSTAGRAM = "instagram"
    FACEBOOK = "facebook"
    OTHER = "other"


class VlogLink(TimestampMixin, db.Model):
    __table_args__ = (
        Index("ix_vlog_vendor", "vendor_id", "product_id", "position"),
        Index("ix_vlog_product", "product_id", "position"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    vendor_id: Mapped[int] = mapped_column(ForeignKey("vendor.id"))
    product_id: Mapped[int | None] = mapped_column(ForeignKey("product.id"))
    url: Mapped[str] = mapped_column(String(500))
    platform: Mapped[VlogPlatform] = mapped_column(str_enum(VlogPlatform))
    video_id: Mapped[str | None] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(120), default="")
    position: Mapped[int] = mapped_column(default=0)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    product: Mapped["Product | None"] = relationship()
    # Read-only: the vendor's own link list is the one that writes the link.
    vendor: Mapped["Vendor"] = relationship(viewonly=True)
