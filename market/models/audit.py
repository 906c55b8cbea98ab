"""Who did what to which record, when: every change is traceable to a person."""

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from market.extensions import db
from market.models.base import UTCDateTime, utcnow
from market.models.user import User


class AuditEvent(db.Model):
    __table_args__ = (
        Index("ix_audit_market_time", "market_id", "created_at"),
        Index("ix_audit_record", "record_type", "record_id"),
        Index("ix_audit_actor", "actor_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    action: Mapped[str] = mapped_column(String(40))
    record_type: Mapped[str] = mapped_column(String(20))
    record_id: Mapped[int] = mapped_column()
    market_id: Mapped[int | None] = mapped_column(ForeignKey("market.id"))
    changes: Mapped[dict] = mapped_column(JSON, default=dict)
    reason: Mapped[str] = mapped_column(String(255), default="")

    actor: Mapped[User | None] = relationship()
