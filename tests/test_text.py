"""What text Pasar accepts (market.text), enforced at every way in: addresses and queries of
every route, every form field, the services; never a 500 and nothing stored, on either database."""

import io
import re

import pytest
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from wtforms.fields.core import UnboundField

from market import text
from market.extensions import db
from market.forms import Form
from market.models import Product
from market.services import markets, vendors
from market.services.errors import Invalid
from market.services.vendors import InvalidFields
from tests.factories import make_campaign, make_world
from tests.pages import csrf_token, login, post_new_product, reload

NUL = "a\x00b"
# The control characters of the probes: NUL, escape (C0), NEL (C1).
CONTROLS = ("\x00", "\x1b", "\x85")
CONTROL_MESSAGE_ID = "Hapus karakter kontrol (seperti NUL) dari teks ini."
# Percent-encoded queries carrying a control character in a value or in a name.
QUERY_PROBES = ("q=a%00b", "a%00=1", "page=1%1B", "vendor=%C2%85", "next=/%00")
# Answered by WhiteNoise before Flask runs for real files; nothing of the app behind it.
NOT_THE_APP = {"static"}


# --- the rules themselves --------------------------------------------------------------------


@pytest.mark.parametrize("char", ["\x00", "\x07", "\x1b", "\x7f", "\x85", "\x9f", "\t", "\n"])
def test_one_line_text_refuses_every_control_character(char):
    with pytest.raises(Invalid):
        text.one_line(f"Amplang{char}kepiting")


def test_multi_line_text_keeps_newlines_and_tabs_but_refuses_other_controls():
    assert text.multi_line("Baris satu\r\n\tBaris dua\r") == "Baris satu\n\tBaris dua"
    with pytest.raises(Invalid):
        text.multi_line("Baris\x00satu")


def test_invisible_and_direction_characters_are_stripped():
    assert text.one_line("Amp\u200blang \u202ekepiting\u202c\u2066\u2069\ufeff") == (
        "Amplang kepiting"
    )
    assert text.displayable("foto\u202egpj.exe\x00\nkedua") == "fotogpj.exe kedua"


@pytest.mark.parametrize("value", ["\u200b\u200b\u200b", "\u202e\u2066 \u2069", "-- !", "\u00ad"])
def test_a_name_needs_a_visible_letter_or_digit(value):
    with pytest.raises(Invalid):
        text.name(value)


@pytest.mark.parametrize("value", ["Kue 7", "ꦥꦱꦂ", "日本", "Bu Sri\u200b"])
def test_names_in_any_script_are_accepted(value):
    assert text.has_visible(text.name(value))


# --- the URL edge: every route, logged out and logged in ---------------------------------------


def _routes(app):
    rules = [r for r in app.url_map.iter_rules() if r.endpoint not in NOT_THE_APP]
    # Logging out ends the logged-in probes: last.
    return sorted(rules, key=lambda r: (r.endpoint == "auth.logout", r.rule))


def _values(world: dict) -> dict[str, str]:
    """A real value for every URL argument of the app, so that a clean address reaches its view."""
    vendor, product = world.vendor, world.product
    return {
        "market_slug": world.market.slug,
        "vendor_slug": vendor.slug,
        "product_slug": product.slug,
        "market_id": str(world.market.id),
        "vendor_id": str(vendor.id),
        "product_id": str(product.id),
        "photo_id": str(world.stall_photo.id),
        "vlog_id": str(world.vlog.id),
        "user_id": str(world.people["volunteer"].id),
        "staff_id": "1",
        "campaign_id": str(make_campaign([world.market], [world.people["volunteer"]]).id),
        "synonym_id": "1",
        "token": "x" * 43,
        "key": world.stall_photo.key(400),
        "kind": "lapak",
        "number": "1",
        "direction": "berikutnya",
        "marketplace": "shopee",
    }


def _url(rule, values: dict[str, str], poisoned: str | None = None) -> str:
    def argument(match: re.Match) -> str:
        name = match.group(1)
        return values[name] + ("%00" if name == poisoned else "")

    return re.sub(r"<(?:[^:>]+:)?([^>]+)>", argument, rule.rule)


def _probe(client, method: str, url: str, token: str):
    data = {"csrf_token": token} if method == "POST" else None
    return client.open(url, method=method, data=data)


def _assert_refused(response, expected: int, url: str, method: str) -> None:
    assert response.status_code == expected, (method, url, response.status_code)
    if url.startswith("/api/"):
        assert response.is_json, (method, url)


def test_control_characters_in_any_address_or_query_are_404_or_400(app, client):
    """Every route and method, logged out and as an admin: a control character in a path
    segment is a 404, in a query name or value a 400 (JSON under /api/)."""
    world = make_world(stocked=True)
    values = _values(world)
    counted = {"path": 0, "query": 0}
    for logged_in in (False, True):
        if logged_in:
            assert login(client, world.people["admin"].login).status_code == 302
        token = csrf_token(client, "/auth/login")
        for rule in _routes(app):
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                for name in rule.arguments:
                    url = _url(rule, values, poisoned=name)
                    _assert_refused(_probe(client, method, url, token), 404, url, method)
                    counted["path"] += 1
                for query in QUERY_PROBES:
                    url = f"{_url(rule, values)}?{query}"
                    _assert_refused(_probe(client, method, url, token), 400, url, method)
                    counted["query"] += 1
    print(f"control-character probes: {counted['path']} paths → 404, {counted['query']} → 400")
    assert counted["path"] > 100 and counted["query"] > 500


# --- forms: a field error, nothing stored --------------------------------------------------------


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def _every_field_name() -> set[str]:
    names = {"alt_text", "merchant_name", "availability", "direction"}  # read by views directly
    for form in _subclasses(Form):
        for name in dir(form):
            if isinstance(getattr(form, name), UnboundField):
                names |= {name, f"delete-{name}", f"withdraw-{name}"}
    return names


def test_every_form_of_the_app_applies_the_text_rules(app):
    ours = [f for f in _subclasses(FlaskForm) if f.__module__.startswith("market.")]
    assert len(ours) > 10
    assert all(issubclass(f, Form) for f in ours), [f for f in ours if not issubclass(f, Form)]


def _stored_controls() -> list[str]:
    """Every stored value, in every table, that holds a control character of the probes."""
    found = []
    for table in db.metadata.sorted_tables:
        for row in db.session.execute(select(table)).mappings():
            for column, value in row.items():
                if any(c in str(value) for c in CONTROLS):
                    found.append(f"{table.name}.{column}")
    return found


def test_control_characters_posted_to_every_form_are_refused_and_never_stored(app, client):
    """Every POST route, as an admin, with every field name any form has, each holding NUL,
    escape and NEL: never a 500, and no table holds one of them afterwards."""
    world = make_world(stocked=True)
    values = _values(world)
    poison = "Nama\x00\x1b\x85"
    body = dict.fromkeys(_every_field_name(), poison)
    assert login(client, world.people["admin"].login).status_code == 302
    token = csrf_token(client, "/auth/login")
    posted = 0
    for rule in _routes(app):
        if "POST" not in rule.methods:
            continue
        url = _url(rule, values)
        response = client.post(url, data=body | {"csrf_token": token})
        assert response.status_code < 500, (url, response.status_code)
        posted += 1
    reload()
    print(f"control-character form probes: {posted} POST routes, {len(body)} fields each")
    assert posted > 30
    assert _stored_controls() == []


def test_a_product_name_with_nul_gets_a_translated_field_error_and_nothing_is_stored(client):
    world = make_world(stocked=True)
    response = post_new_product(
        client,
        world,
        {"name": "Amplang\x00", "price": "25000", "description": "Baris satu\r\n\tBaris dua"},
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert CONTROL_MESSAGE_ID in page
    reload()
    names = db.session.scalars(
        select(Product.name).where(Product.vendor_id == world.vendor.id)
    ).all()
    assert names == [world.product.name]


def test_a_tab_in_a_one_line_field_is_refused_but_allowed_in_a_description(client):
    world = make_world(stocked=True)
    vendor = world.vendor
    assert login(client, world.people["volunteer"].login).status_code == 302
    url = f"/manage/vendors/{vendor.id}/products/new"
    fields = {"csrf_token": csrf_token(client, url), "price": "25000"}
    refused = client.post(url, data=fields | {"name": "Amplang\tudang"})
    assert refused.status_code == 422
    assert CONTROL_MESSAGE_ID in refused.get_data(as_text=True)
    accepted = client.post(
        url, data=fields | {"name": "Amplang udang", "description": "Gurih\r\n\tdan renyah"}
    )
    assert accepted.status_code == 303
    reload()
    saved = db.session.scalar(select(Product).where(Product.name == "Amplang udang"))
    assert saved.description == "Gurih\n\tdan renyah"


@pytest.mark.parametrize("login_name", ["admin\x00@example.org", "0812\x00345678", "\x85"])
def test_a_login_holding_a_control_character_is_a_field_error(client, login_name):
    response = login(client, login_name, "whatever password")
    assert response.status_code == 200
    assert CONTROL_MESSAGE_ID in response.get_data(as_text=True)


# --- names: something visible, nothing invisible -----------------------------------------------

NO_VISIBLE_ID = "Gunakan minimal satu huruf atau angka."


def test_a_product_named_only_with_zero_width_spaces_is_refused(client):
    world = make_world(stocked=True)
    response = post_new_product(client, world, {"name": "\u200b\u200b\u200b", "price": "5000"})
    assert response.status_code == 422
    assert NO_VISIBLE_ID in response.get_data(as_text=True)
    reload()
    assert db.session.scalar(select(func.count(Product.id))) == 1


def test_direction_overrides_and_zero_width_characters_are_stripped_from_a_name(client):
    world = make_world(stocked=True)
    typed = "Amp\u200blang \u202egnitipek\u202c \u2066udang\u2069"
    response = post_new_product(client, world, {"name": typed, "price": "5000"})
    assert response.status_code == 303
    reload()
    names = set(db.session.scalars(select(Product.name)))
    assert names == {world.product.name, "Amplang gnitipek udang"}


def test_an_upload_refusal_echoes_the_file_name_without_invisible_characters(client):
    world = make_world(stocked=True)
    product = world.product
    assert login(client, world.people["volunteer"].login).status_code == 302
    edit = f"/manage/products/{product.id}/edit"
    response = client.post(
        f"/manage/products/{product.id}/photos",
        data={
            "csrf_token": csrf_token(client, edit),
            "photos": (io.BytesIO(b"not an image at all"), "foto\u202egnp.exe\u200b"),
        },
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    page = response.get_data(as_text=True)
    assert "fotognp.exe" in page
    assert "\u202e" not in page and "\u200b" not in page


INVISIBLE_ONLY = "\u200b\u2060\ufeff"


@pytest.mark.parametrize("key", ["business_name", "owner_name"])
def test_a_vendor_name_of_invisible_characters_is_refused(ctx, key):
    raw = {"business_name": "Amplang Bu Sri", "owner_name": "Sri", key: INVISIBLE_ONLY}
    with pytest.raises(InvalidFields) as refused:
        vendors.clean_profile(raw)
    assert set(refused.value.errors) == {key}


def test_market_names_are_kept_without_direction_characters_and_need_a_letter(ctx):
    raw = {"name": "Pasar \u202eKlandasan\u202c", "city": "Balikpapan", "province": "Kaltim"}
    assert markets.clean_market(raw)["name"] == "Pasar Klandasan"
    with pytest.raises(InvalidFields) as refused:
        markets.clean_market(raw | {"city": INVISIBLE_ONLY, "address": "Jl.\x00"})
    assert set(refused.value.errors) == {"city", "address"}
