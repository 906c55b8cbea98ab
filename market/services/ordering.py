"""Lists people order by hand (products, photos, vlog links): the next place, a move by one."""

from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from market.extensions import db
from market.services.errors import Invalid


def next_position(column, *conditions) -> int:
    """The place after the last of the rows matching ``conditions``."""
    highest = db.session.scalar(select(func.max(column)).where(*conditions))
    return 0 if highest is None else highest + 1


def move(items: list, item, direction: str) -> dict[Any, tuple[int, int]]:
    """Swap ``item`` with its neighbour and number the list 0…n-1; return changed positions."""
    if direction not in ("up", "down"):
        raise Invalid(_l("Move up or down."))
    index = items.index(item)
    other = index - 1 if direction == "up" else index + 1
    if 0 <= other < len(items):
        items[index], items[other] = items[other], items[index]
    moved = {}
    for position, each in enumerate(items):
        if each.position != position:
            moved[each] = (each.position, position)
            each.position = position
    return moved
