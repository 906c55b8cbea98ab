"""Categories of vendors and products: reference data created by the first migration."""

from sqlalchemy import select

from market.extensions import db
from market.models import Category


def all_categories() -> list[Category]:
    return list(db.session.scalars(select(Category).order_by(Category.position)))
