"""Daily counts of what shoppers did with a stall's goods, beside the WhatsApp taps
(ContactClick): shopping-list sends and page views. Counts only, nothing about anyone."""

from datetime import date

from sqlalchemy import Date, ForeignKey, Index
from sqlalchemy.orm import Mapped, mapped_column

from market.extensions import db


class ListSend(db.Model):
    """How many shopping lists sent to a vendor on one day held this product."""

    __table_args__ = (Index("ix_list_send_vendor_day", "vendor_id", "day", "product_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    vendor_id: Mapped[int] = mapped_column(ForeignKey("vendor.id"))
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"))
    day: Mapped[date] = mapped_column(Date)
    count: Mapped[int] = mapped_column(default=0)


class PageView(db.Model):
    """How many times a stall's page (no product) or a product's page was shown on one day."""

    __table_args__ = (Index("ix_page_view_vendor_day", "vendor_id", "day", "product_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    vendor_id: Mapped[int] = mapped_column(ForeignKey("vendor.id"))
    product_id: Mapped[int | None] = mapped_column(ForeignKey("product.id"))
    day: Mapped[date] = mapped_column(Date)
    count: Mapped[int] = mapped_column(default=0)
