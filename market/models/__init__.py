"""The domain model: one module per aggregate, re-exported here for convenience."""

from market.models.audit import AuditEvent
from market.models.base import LocalText, TimestampMixin, utcnow
from market.models.campaign import Campaign, CampaignMarket, TargetKind
from market.models.idempotency import IdempotencyKey
from market.models.market import Category, Market, MarketStaff, StaffRole
from market.models.media import Photo, VlogLink, VlogPlatform
from market.models.product import Availability, PriceKind, Product
from market.models.stats import ListSend, PageView
from market.models.synonym import Synonym
from market.models.user import AccountLink, Invitation, LinkPurpose, Role, User
from market.models.vendor import ContactClick, QrisCode, Vendor, VendorStatus

__all__ = [
    "AccountLink",
    "AuditEvent",
    "Availability",
    "Campaign",
    "CampaignMarket",
    "Category",
    "ContactClick",
    "IdempotencyKey",
    "Invitation",
    "LinkPurpose",
    "ListSend",
    "LocalText",
    "Market",
    "MarketStaff",
    "PageView",
    "Photo",
    "PriceKind",
    "Product",
    "QrisCode",
    "Role",
    "StaffRole",
    "Synonym",
    "TargetKind",
    "TimestampMixin",
    "User",
    "Vendor",
    "VendorStatus",
    "VlogLink",
    "VlogPlatform",
    "utcnow",
]
