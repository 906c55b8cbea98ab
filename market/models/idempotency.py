"""Idempotency keys: which form submissions of a user the server has already applied."""

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from market.extensions import db
from market.models.base import UTCDateTime, utcnow


class IdempotencyKey(db.Model):
    """A key sent with a POST by the back office's outbox; the unique constraint makes two
    concurrent copies of one submission collide instead of both being applied."""

    __table_args__ = (UniqueConstraint("user_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(64))
    path: Mapped[str] = mapped_column(String(500))
    # The outcome a replay repeats: the status and where the first answer sent the browser.
    status_code: Mapped[int | None] = mapped_column(Integer)
    location: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
