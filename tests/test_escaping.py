"""Nothing a user typed reaches a page unescaped: no `|safe` or `Markup(` on user data (the few
legitimate uses allow-listed with their reason), every template autoescaped, and the markup
helpers escape what they are given. The browser check of the same is tests/e2e/test_xss.py."""

import re
from pathlib import Path

from market.qr import qr_svg
from tests.factories import make_market, make_vendor

MARKET = Path(__file__).resolve().parents[1] / "market"
TEMPLATES = MARKET / "templates"

# Constructs that turn escaping off, in templates and in Python.
TEMPLATE_HAZARDS = re.compile(r"\|\s*safe\b|autoescape\s+false|Markup\b|\|\s*tojson\b|\{%\s*raw")
PYTHON_HAZARDS = re.compile(
    r"\bMarkup\s*\(|markupsafe|render_template_string|\.unescape\(|Template\s*\(|autoescape"
)

# file: (pattern, why it is safe)
ALLOWED_IN_TEMPLATES = {
    "macros/storefront.html": (
        '<script type="application/ld+json">{{ jsonld|tojson }}</script>',
        "JSON-LD: tojson escapes <, >, & and ' as \\u sequences, so no value can close the "
        "script element; the block is data (application/ld+json), which browsers never run",
    ),
    # A second entry for a file: its key ends in a space.
    "macros/storefront.html ": (
        "data-open-now='{{ open_now_data(market.weekly_hours, market.timezone)|tojson }}'",
        "the market's opening hours (times checked as HH:MM, a zone from a fixed list) for the "
        "open-now label; tojson escapes ' as \\u0027, so the single-quoted attribute cannot end",
    ),
    "offline/sw.js": (
        "|tojson }}",
        "the service worker's constants: the app's own static paths, scope and header name, "
        "never user data; tojson writes them as JavaScript string and array literals",
    ),
}
ALLOWED_IN_PYTHON = {
    "qr.py": (
        "return Markup(",
        "segno writes the QR code's SVG: numbers for the modules, and the title (a stall or "
        "product name) escaped by segno itself (test_qr_svg_escapes_its_title)",
    ),
    "qr.py ": ("from markupsafe import Markup", "the import of the above"),
    "services/feeds.py": (
        "return Markup(text).striptags()",
        "takes tags out of typed text for the product feeds: the result is a plain str, never "
        "marked safe, and the feeds are CSV and XML built by csv and ElementTree",
    ),
    "services/feeds.py ": ("from markupsafe import Markup", "the import of the above"),
}
# Templates Flask does not autoescape, and why that is safe.
PLAIN_TEXT_TEMPLATES = {
    "storefront/robots.txt": "text/plain; holds only this site's own sitemap address",
    "offline/sw.js": "JavaScript; holds only the app's own settings, written with tojson",
}


def test_no_template_turns_escaping_off():
    found = []
    for path in sorted(TEMPLATES.rglob("*")):
        if not path.is_file():
            continue
        name = str(path.relative_to(TEMPLATES))
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            if TEMPLATE_HAZARDS.search(line):
                patterns = [
                    pattern
                    for key, (pattern, _why) in ALLOWED_IN_TEMPLATES.items()
                    if key.strip() == name
                ]
                if not any(pattern in line for pattern in patterns):
                    found.append(f"{name}:{number}: {line.strip()}")
    assert not found, "escaping turned off:\n" + "\n".join(found)


def test_no_python_builds_markup_from_user_data():
    allowed = {}
    for key, (pattern, _why) in ALLOWED_IN_PYTHON.items():
        allowed.setdefault(key.strip(), []).append(pattern)
    found = []
    for path in sorted(MARKET.rglob("*.py")):
        name = str(path.relative_to(MARKET))
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            if PYTHON_HAZARDS.search(line) and not any(
                pattern in line for pattern in allowed.get(name, [])
            ):
                found.append(f"{name}:{number}: {line.strip()}")
    assert not found, "markup built by hand:\n" + "\n".join(found)


def test_every_template_is_autoescaped(app):
    unescaped = sorted(
        str(path.relative_to(TEMPLATES))
        for path in TEMPLATES.rglob("*")
        if path.is_file() and not app.select_jinja_autoescape(path.name)
    )
    assert unescaped == sorted(PLAIN_TEXT_TEMPLATES)


def test_qr_svg_escapes_its_title():
    title = '</title><script>alert(1)</script><svg onload="alert(2)">'
    svg = str(qr_svg('https://pasar.example/"><script>alert(3)</script>', title))
    assert "<script" not in svg and "<svg onload" not in svg
    assert "&lt;/title&gt;&lt;script&gt;" in svg and "&lt;svg onload" in svg


def test_json_ld_cannot_close_its_script_element(client, ctx):
    market = make_market()
    vendor = make_vendor(market, business_name="</script><script>alert(1)</script>")
    page = client.get(f"/pasar/{market.slug}/lapak/{vendor.slug}/").get_data(as_text=True)
    block = re.search(r'<script type="application/ld\+json">(.*?)</script>', page, re.S)
    assert block and "\\u003c/script\\u003e" in block.group(1)
    assert "<script>alert(1)" not in page
