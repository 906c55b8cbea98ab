"""Reading what people type into services: text by the rules of market.text, length limits,
a choice from a fixed list."""

from collections.abc import Callable, Mapping
from typing import Any

from flask_babel import lazy_gettext as _l

from market import text
from market.services.errors import Invalid


def read_text(
    raw: Mapping[str, Any],
    key: str,
    errors: dict[str, str],
    rule: Callable[[object], str] = text.one_line,
) -> str:
    """The field ``key`` of ``raw`` as kept by ``rule`` (text.one_line, text.multi_line or
    text.name); a broken rule becomes ``errors[key]`` and the field reads as empty."""
    try:
        return rule(raw.get(key))
    except Invalid as exc:
        errors[key] = str(exc)
        return ""


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


def english_texts(
    raw: Mapping[str, Any], errors: dict[str, str], max_name: int, max_description: int
) -> dict[str, str]:
    """The optional English name and description of a stall or product (``name_en``,
    ``description_en``), checked like their Indonesian originals; empty when not given."""
    values = {
        "name_en": read_text(raw, "name_en", errors, text.name),
        "description_en": read_text(raw, "description_en", errors, text.multi_line),
    }
    for key, limit in (("name_en", max_name), ("description_en", max_description)):
        if len(values[key]) > limit:
            errors[key] = too_long(limit, len(values[key]))
    return values
