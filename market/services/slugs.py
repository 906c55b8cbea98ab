"""Slugs: the readable, unique part of a market's, vendor's or product's address."""

import re
import unicodedata


def slugify(text: str, max_length: int = 60) -> str:
    """ASCII, lowercase, hyphenated: 'Amplang Ikan Pipih Bu Sri!' → 'amplang-ikan-pipih-bu-sri'."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:max_length].rstrip("-") or "item"


def unique_slug(text: str, taken: set[str]) -> str:
    base = slugify(text)
    slug, n = base, 2
    while slug in taken:
        slug = f"{base}-{n}"
        n += 1
    return slug
