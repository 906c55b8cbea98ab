"""QR codes, all drawn the same way: error correction M survives a crumpled or stained poster
or a phone screen's glare, and a full-size code (never a micro one) is what every camera reads."""

import segno
from markupsafe import Markup


def _code(url: str) -> segno.QRCode:
    return segno.make(url, error="m", micro=False)


def qr_svg(url: str, title: str = "") -> Markup:
    """A QR code that scales to any size (a viewBox, no fixed width), to inline or serve; the
    quiet zone is the minimum of 4 modules that phone cameras need."""
    return Markup(  # noqa: S704 - segno escapes the title; the rest is numbers
        _code(url).svg_inline(scale=1, border=4, omitsize=True, svgclass="qr", title=title or None)
    )


def qr_data_uri(url: str) -> str:
    """An SVG data URI, for a code scanned from another phone's screen (an invitation link)."""
    return _code(url).svg_data_uri(scale=5, border=2, dark="#2b2118")
