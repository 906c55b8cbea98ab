"""Reading what people type: one line of text, length limits, a choice from a fixed list."""

import re
from typing import Any

from flask_babel import lazy_gettext as _l


def one_line(value: Any) -> str:
    """The text with every run of whitespace (newlines included) made one space."""
    return re.sub(r"\s+", " ", str(value or "")).strip()


def too_long(limit: int, length: int) -> str:
    return str(
        _l("Use at most %(limit)d characters (this has %(length)d).", limit=limit, length=length)
    )


def enum_value(enum_class, value: Any, default):
    """The member for ``value``; ``default`` when nothing was chosen, None when it is not one."""
    if value in (None, ""):
        return default
    try:
        return enum_class(value)
    except ValueError:
        return None
