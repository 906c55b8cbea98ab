"""Fuzzing: schemathesis against /api/openapi.json in-process (no 5xx, every response as
documented), and hypothesis for the phone normaliser and the CSV import.

Hypothesis tests of the other parsers: prices in test_prices, vlog URLs in test_vlogs.
"""

import csv
import io
import re

import pytest
import schemathesis
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

from market import text
from market.api.openapi import DOCUMENT
from market.extensions import db
from market.models import Role
from market.services import exports, imports
from market.services.accounts import normalise_phone
from market.services.errors import DomainError, Invalid
from market.services.vendors import clean_profile, register_vendor
from tests.factories import make_market, make_product, make_user, make_vendor
from tests.pages import login

FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

pytestmark = pytest.mark.slow

# --- the API, from its own description ------------------------------------------------------


API_EXAMPLES = 40


def test_api_answers_every_generated_request_as_documented(app):
    """Every operation of the document, API_EXAMPLES generated requests each (valid and
    invalid parameters), against a small catalogue: no 5xx, and status, content type, headers
    and body as documented. schemathesis's own pytest plugin does not run on pytest 9, so its
    strategies drive hypothesis here."""
    with app.app_context():
        market = make_market(slug="pasar-uji", description="Pasar untuk diuji")
        vendor = make_vendor(market, slug="lapak-uji")
        make_product(vendor, slug="produk-uji", price_note="per 3 pcs")
        make_product(vendor, slug="nego", price_idr=None, price_kind="negotiable")
        db.session.remove()
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    # Every path but the document's own, which schemathesis leaves out.
    assert {op.path for op in operations} == set(DOCUMENT["paths"]) - {"/openapi.json"}
    # Sometimes the slugs that exist, so that the 200s are checked and not only the 404s.
    known = {"market_slug": "pasar-uji", "vendor_slug": "lapak-uji", "product_slug": "produk-uji"}
    for operation in operations:
        cases = st.one_of(
            operation.as_strategy(GenerationMode.POSITIVE),
            operation.as_strategy(GenerationMode.NEGATIVE),
        )

        @given(case=cases, real=st.booleans())
        @settings(max_examples=API_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
        def fuzz(case, real):
            if real and case.path_parameters:
                case.path_parameters.update({k: known[k] for k in case.path_parameters})
            # The in-process client does not undo Flask-Compress; compression has its own tests.
            case.call_and_validate(headers={"Accept-Encoding": "identity"})

        fuzz()


def test_any_page_number_in_a_listing_is_answered_without_error(client):
    """Listings read ?page= leniently (a junk number is page 1) but never let a huge one reach
    the database, where the OFFSET would overflow: this was a 500 on three pages."""
    market = make_market()
    make_vendor(market)
    make_user(Role.ADMIN, email="halaman@example.org")
    assert login(client, "halaman@example.org").status_code == 302
    listings = (f"/pasar/{market.slug}/", "/manage/", f"/admin/markets/{market.id}/audit")

    @given(st.one_of(st.integers(-(10**30), 10**30), st.text(max_size=12)))
    @FUZZ
    def check(page):
        # A control character is refused in any query (market.text), a page number's too.
        expected = (400,) if text.has_control(str(page)) else (200, 404)
        for path in listings:
            response = client.get(path, query_string={"page": str(page)})
            assert response.status_code in expected, (path, page, response.status_code)

    check()


# --- phone numbers ------------------------------------------------------------------------------

E164 = re.compile(r"^\+[1-9]\d{6,14}$")


@given(st.text(max_size=40))
@FUZZ
def test_phone_normaliser_returns_e164_or_refuses(raw):
    try:
        phone = normalise_phone(raw)
    except Invalid:
        return
    assert E164.match(phone), phone
    assert normalise_phone(phone) == phone


mobile = st.builds(
    lambda operator, rest: f"8{operator}{rest}",
    st.sampled_from(["11", "12", "13", "21", "22", "52", "53", "55", "56", "57", "58", "77", "78"]),
    st.from_regex(r"\A[0-9]{7,8}\Z"),
)


@given(mobile, st.sampled_from(["0{}", "+62{}", "62{}", "+62 {}", "(0{})", "0{} "]), st.data())
@FUZZ
def test_every_way_of_writing_a_mobile_number_gives_the_same_e164(number, spelling, data):
    try:
        expected = normalise_phone("+62" + number)
    except Invalid:
        assume(False)
    # Dashes and spaces wherever people put them.
    cut = data.draw(st.integers(1, len(number) - 1))
    written = spelling.format(
        number[:cut] + data.draw(st.sampled_from(["", "-", " ", "."])) + number[cut:]
    )
    assert normalise_phone(written) == expected


# --- the CSV import -----------------------------------------------------------------------------


@pytest.fixture
def market(ctx):
    return make_market()


@given(st.binary(max_size=2000))
@FUZZ
def test_any_bytes_are_read_or_refused_with_a_message(market, data):
    try:
        imports.preview_import(market, data)
    except DomainError as error:
        assert str(error)


cell = st.text(max_size=30)


@given(
    st.lists(st.sampled_from(["business_name", "nama_usaha", "wa", "blok", "no", "kategori"])),
    st.lists(st.lists(cell, max_size=8), max_size=6),
    st.sampled_from([",", ";", "\t"]),
)
@FUZZ
def test_any_table_is_read_or_refused_with_a_message(market, header, rows, delimiter):
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter)
    writer.writerow(header)
    writer.writerows(rows)
    try:
        preview = imports.preview_import(market, out.getvalue().encode())
    except DomainError as error:
        assert str(error)
        return
    for row in preview.rows:
        assert row.action in ("create", "existing", "error")
        assert all(isinstance(message, str) and message for message in row.errors)


# Text as people type it into a spreadsheet cell: any printable character, formula starters
# and apostrophes included.
typed = st.text(
    alphabet=st.characters(blacklist_categories=("Cc", "Cs", "Co", "Cn", "Zl", "Zp")),
    max_size=40,
)
formula_like = st.builds(
    lambda start, rest: start + rest, st.sampled_from(["=", "+", "-", "@", "'=", "'"]), typed
)
profile = st.fixed_dictionaries(
    {
        "business_name": st.one_of(typed, formula_like).filter(lambda s: s.strip()),
        "owner_name": st.one_of(typed, formula_like),
        "stall_block": st.text(alphabet="ABCDEFGHJK", max_size=2),
        "description": st.one_of(typed, formula_like),
        "opening_hours": typed,
        "whatsapp": st.booleans(),
    }
)


@given(st.lists(profile, min_size=1, max_size=4))
@settings(FUZZ, max_examples=30)
def test_exported_vendors_import_again_unchanged(ctx, profiles):
    source, target = make_market(), make_market()
    expected = []
    for number, raw in enumerate(profiles, start=1):
        # Numbers and stalls differ per row: a file with a number twice is refused, rightly.
        whatsapp = f"0812-5555-{number:04d}" if raw["whatsapp"] else ""
        raw = raw | {"stall_number": str(number), "whatsapp": whatsapp}
        try:
            cleaned = clean_profile(raw)
        except Invalid:
            assume(False)
        register_vendor(source, raw, actor=_actor(), allow_duplicate=True)
        expected.append(cleaned.values())
    preview = imports.preview_import(target, exports.export_vendors(source))
    assert not preview.error_rows, [row.errors for row in preview.error_rows]
    got = sorted((row.profile.values() for row in preview.rows), key=lambda v: v["stall_number"])
    assert got == sorted(expected, key=lambda v: v["stall_number"])


def _actor():
    return make_user(Role.VOLUNTEER)
