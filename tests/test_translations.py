"""The Indonesian catalogue is complete, current with the code, and keeps every placeholder; the
English one falls back to the msgids with English plural rules."""

import re
from collections import Counter
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from flask_babel import force_locale, ngettext

from tests.factories import make_market, make_product, make_vendor

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "market" / "translations"
# The keywords `make translations` extracts: pybabel's defaults plus the lazy forms.
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "_l": None}
PLACEHOLDER = re.compile(r"%(?:\([^)]*\))?[-#0 +]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa%]")
# Words that must read the same everywhere: the printed posters and the daily vocabulary.
GLOSSARY = {
    "Scan to see the catalogue & chat on WhatsApp": "Scan untuk lihat katalog & chat WhatsApp",
    "Log in": "Masuk",
    "Log out": "Keluar",
    "Save": "Simpan",
    "Sold out": "Habis",
    "In stock": "Ada",
    "Pre-order": "Pre-order",
    "Chat on WhatsApp": "Chat via WhatsApp",
    "Volunteer": "Relawan",
    "Coordinator": "Koordinator",
    "Register a vendor": "Daftarkan pedagang",
}


def catalogue(locale: str):
    with open(TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po", "rb") as f:
        return read_po(f, locale=locale)


def forms(message) -> list[str]:
    return [message.string] if isinstance(message.string, str) else list(message.string)


def source_messages() -> dict[str, tuple[str, ...]]:
    """Every msgid in the code and templates, as `make translations` finds them, with where."""
    with open(ROOT / "babel.cfg") as f:
        method_map, options_map = parse_mapping_cfg(f)

    def only_the_app(path: str) -> bool:
        # Babel's own default skips dot and underscore folders; the app is all under market/.
        parts = Path(path).relative_to(ROOT).parts
        return parts[0] == "market" and not parts[-1].startswith((".", "_"))

    found: dict[str, list[str]] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
        ROOT, method_map, options_map, KEYWORDS, directory_filter=only_the_app
    ):
        msgid = message if isinstance(message, str) else message[0]
        if msgid:
            found.setdefault(msgid, []).append(f"{filename}:{lineno}")
    return {msgid: tuple(places) for msgid, places in found.items()}


def test_every_indonesian_message_is_translated_and_checked():
    untranslated = [m.id for m in catalogue("id") if m.id and not all(forms(m))]
    fuzzy = [m.id for m in catalogue("id") if m.id and m.fuzzy]
    assert not untranslated, f"untranslated in id/messages.po: {untranslated}"
    assert not fuzzy, f"fuzzy (unchecked) in id/messages.po: {fuzzy}"


def test_every_string_in_the_code_has_an_indonesian_translation():
    translated = catalogue("id")
    missing = []
    for msgid, places in sorted(source_messages().items()):
        message = translated.get(msgid)
        if message is None or message.fuzzy or not all(forms(message)):
            missing.append(f"{msgid!r} ({', '.join(places)})")
    assert not missing, (
        "Run `make translations`, then translate these in "
        "market/translations/id/LC_MESSAGES/messages.po:\n" + "\n".join(missing)
    )


def test_translations_keep_the_placeholders():
    wrong = []
    for message in catalogue("id"):
        if not message.id:
            continue
        # Indonesian has one form, used for every count: it follows the plural msgid.
        source = message.id if isinstance(message.id, str) else message.id[1]
        expected = Counter(PLACEHOLDER.findall(source))
        for text in forms(message):
            if Counter(PLACEHOLDER.findall(text)) != expected:
                wrong.append(f"{source!r} -> {text!r}")
    assert not wrong, "placeholders differ:\n" + "\n".join(wrong)


def test_indonesian_has_one_plural_form_and_english_two():
    indonesian, english = catalogue("id"), catalogue("en")
    assert indonesian.num_plurals == 1
    assert english.num_plurals == 2 and english.plural_expr == "(n != 1)"
    for message in indonesian:
        if message.pluralizable:
            assert len(set(forms(message))) == 1, message.id


@pytest.mark.parametrize(("english", "indonesian"), GLOSSARY.items())
def test_the_fixed_phrases(english, indonesian):
    assert catalogue("id").get(english).string == indonesian


def test_english_plurals_follow_the_count(app):
    with app.test_request_context(), force_locale("en"):
        assert ngettext("%(num)d stall", "%(num)d stalls", 1) == "1 stall"
        assert ngettext("%(num)d stall", "%(num)d stalls", 3) == "3 stalls"
    with app.test_request_context(), force_locale("id"):
        assert ngettext("%(num)d stall", "%(num)d stalls", 3) == "3 lapak"


def test_pages_speak_indonesian_by_default_and_english_on_request(client):
    vendor = make_vendor(make_market())
    make_product(vendor)
    make_product(vendor)
    poster = f"/pasar/{vendor.market.slug}/lapak/{vendor.slug}/poster"

    html = client.get(poster).get_data(as_text=True)
    # Compiled catalogues are build output: `make assets` (or `pybabel compile`) makes them.
    assert "Scan untuk lihat katalog & chat WhatsApp" in html
    assert "1 lapak · 2 produk" in client.get("/").get_data(as_text=True)

    assert "Scan to see the catalogue & chat on WhatsApp" in client.get(
        poster + "?lang=en"
    ).get_data(as_text=True)
    assert "1 stall · 2 products" in client.get("/").get_data(as_text=True)
