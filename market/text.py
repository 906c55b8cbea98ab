"""What text Pasar accepts: the one place that decides, for forms, services and URLs alike.

Control characters (NUL, escape, the C1 range…) are refused: PostgreSQL cannot store a NUL at
all, and none of them means anything on a page. Multi-line fields may hold newlines and tabs.
Format characters (zero-width spaces and joiners, direction overrides and isolates, soft hyphens)
are stripped from what is kept: they show nothing but can hide a name or reorder its letters.
A name must keep at least one visible letter or digit.
"""

import re
import unicodedata

from flask_babel import lazy_gettext as _l

from market.services.errors import Invalid

# C0 controls, DEL and C1 controls, as a regular-expression range that Python and the JSON
# Schema of the API document read alike.
CONTROL_RANGES = r"\x00-\x1f\x7f-\x9f"
# Lone surrogates too: no encoding can store them.
_CONTROL = re.compile(f"[{CONTROL_RANGES}\ud800-\udfff]")
# Whitespace that a multi-line field may keep; browsers send newlines as CR LF.
MULTI_LINE_WHITESPACE = frozenset("\n\r\t")
CONTROL_MESSAGE = _l("Remove the control characters (such as NUL) from this text.")
NO_VISIBLE_MESSAGE = _l("Use at least one letter or digit.")
_SPACES = re.compile(r"\s+")


def has_control(text: str, *, multi_line: bool = False) -> bool:
    allowed = MULTI_LINE_WHITESPACE if multi_line else frozenset()
    return any(ch not in allowed for ch in _CONTROL.findall(text))


def check(text: str, *, multi_line: bool = False) -> None:
    """Raise Invalid when `text` holds a character no field accepts."""
    if has_control(text, multi_line=multi_line):
        raise Invalid(CONTROL_MESSAGE)


def is_invisible(ch: str) -> bool:
    """Unicode format characters: U+200B to U+200F, U+202A to U+202E,
    U+2060 to U+2069, U+FEFF, the soft hyphen…"""
    return unicodedata.category(ch) == "Cf"


def strip_invisible(text: str) -> str:
    return "".join(ch for ch in text if not is_invisible(ch))


def displayable(text: str) -> str:
    """Text from outside (a file name, a CSV cell) made safe to echo in a message: no controls,
    no invisible characters, one line."""
    kept = _CONTROL.sub(" ", strip_invisible(text))
    return _SPACES.sub(" ", kept).strip()


def one_line(value: object) -> str:
    """A one-line field as kept: invisible characters gone, runs of spaces made one.
    Raises Invalid on control characters (a tab or newline included)."""
    text = str(value or "")
    check(text)
    return _SPACES.sub(" ", strip_invisible(text)).strip()


def multi_line(value: object) -> str:
    """A multi-line field as kept: newlines normalised, invisible characters gone."""
    text = str(value or "")
    check(text, multi_line=True)
    return strip_invisible(text.replace("\r\n", "\n").replace("\r", "\n")).strip()


def has_visible(text: str) -> bool:
    """At least one letter or digit (of any script)."""
    return any(unicodedata.category(ch)[0] in "LN" for ch in text)


def name(value: object) -> str:
    """A name as kept (see one_line); raises Invalid when something was typed but nothing
    visible is in it. Nothing typed gives "": whether a name is required is the caller's rule."""
    kept = one_line(value)
    if str(value or "").strip() and not has_visible(kept):
        raise Invalid(NO_VISIBLE_MESSAGE)
    return kept
