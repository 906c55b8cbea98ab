"""Search synonyms: what a shopper may type, and the words the catalogue uses for it."""

from sqlalchemy import String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from market.extensions import db


class Synonym(db.Model):
    """One way round: a search for ``phrase`` also looks for ``means`` (both normalised, as
    market.services.search.normalise writes them). Spelling variants are stored both ways."""

    __table_args__ = (UniqueConstraint("phrase", "means"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    phrase: Mapped[str] = mapped_column(String(80), index=True)
    means: Mapped[str] = mapped_column(String(80))
