"""Stalls and goods in two languages: volunteers and vendors write an optional English name and
description; English pages show them (or the Indonesian, marked as such), link previews and
JSON-LD say which language they hold, search finds the English words and the API exposes them."""

import json
import re

import pytest
from flask_migrate import upgrade
from sqlalchemy import select, text, update

from market import create_app
from market.extensions import db
from market.models import AuditEvent, Market, Product, Vendor
from market.services import search
from market.services.products import InvalidProduct, clean_product, update_product
from tests.factories import make_market, make_product, make_user, make_vendor
from tests.pages import csrf_token, form_values, log_in_english, product_url, reload, vendor_url
from tests.reliability_helpers import CHEAP_HASHING, database_of_its_own
from tests.test_upgrades import first_release_rows


def _jsonld(body: str) -> dict:
    match = re.search(r'<script type="application/ld\+json">(.*?)</script>', body, re.S)
    assert match, "no JSON-LD"
    return json.loads(match.group(1))


def _meta(body: str, key: str) -> str:
    match = re.search(rf'<meta (?:property|name)="{re.escape(key)}" content="([^"]*)"', body)
    assert match, key
    return match.group(1)


def _tag(body: str, name: str) -> str:
    """The opening tag and text of the first ``name`` element, e.g. '<h1 lang="id">Madu'."""
    match = re.search(rf"<{name}\b[^>]*>[^<]*", body)
    assert match, name
    return match.group(0)


# --- typing it -------------------------------------------------------------------------------


def test_the_english_fields_are_checked_like_the_indonesian(en):
    fields = clean_product(
        {
            "name": "Madu kelulut",
            "price": "120rb",
            "name_en": "  Kelulut honey ",
            "description_en": "Runny",
        }
    )
    assert (fields.name_en, fields.description_en) == ("Kelulut honey", "Runny")
    assert (clean_product({"name": "Madu", "price": "1000"}).name_en) == ""
    with pytest.raises(InvalidProduct) as refused:
        clean_product(
            {"name": "Madu", "price": "1000", "name_en": "x" * 121, "description_en": "a\x07b"}
        )
    assert set(refused.value.errors) == {"name_en", "description_en"}
    assert "at most 120 characters" in refused.value.errors["name_en"]


def test_a_volunteer_adds_a_product_with_its_english_name(stocked_world, client):
    w = stocked_world
    log_in_english(client, w.people["volunteer"])
    url = f"/manage/vendors/{w.vendor.id}/products/new"
    page = client.get(url).get_data(as_text=True)
    # Folded away, with the hint that a person writes it.
    assert re.search(r'<details class="more-fields">\s*<summary>In English \(optional\)', page)
    assert "Written by a person who knows the goods" in page
    response = client.post(
        url,
        data={
            "csrf_token": csrf_token(client, url),
            "name": "Madu kelulut 250 ml",
            "price": "120.000",
            "price_kind": "fixed",
            "availability": "in_stock",
            "name_en": "Kelulut honey 250 ml",
            "description_en": "From the forest of Samboja.",
        },
    )
    assert response.status_code == 303
    reload()
    product = db.session.scalar(select(Product).where(Product.name == "Madu kelulut 250 ml"))
    assert (product.name_en, product.description_en) == (
        "Kelulut honey 250 ml",
        "From the forest of Samboja.",
    )
    edit = client.get(f"/manage/products/{product.id}/edit").get_data(as_text=True)
    # Filled in, so unfolded on the edit form.
    assert re.search(r'<details class="more-fields" open>\s*<summary>In English', edit)
    assert 'value="Kelulut honey 250 ml"' in edit


def test_a_too_long_english_name_keeps_what_was_typed(stocked_world, client):
    w = stocked_world
    log_in_english(client, w.people["vendor"])
    url = f"/manage/products/{w.product.id}/edit"
    form = form_values(client.get(url).get_data(as_text=True), url)
    response = client.post(url, data=form | {"name_en": "Crab " * 30, "description_en": "Crisp"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Use at most 120 characters (this has 149)." in page
    assert "Crisp</textarea>" in page
    reload()
    assert w.product.name_en == ""


def test_the_vendor_writes_english_for_their_own_goods_and_stall(stocked_world, client):
    w = stocked_world
    log_in_english(client, w.people["vendor"])
    url = f"/manage/products/{w.product.id}/edit"
    form = form_values(client.get(url).get_data(as_text=True), url)
    assert client.post(url, data=form | {"name_en": "Crab crackers"}).status_code == 303
    url = f"/manage/vendors/{w.vendor.id}/edit"
    vendor = w.vendor
    sent = {
        "csrf_token": csrf_token(client, url),
        "business_name": vendor.business_name,
        "owner_name": vendor.owner_name,
        "stall_block": vendor.stall_block,
        "stall_number": vendor.stall_number,
        "whatsapp": vendor.whatsapp,
        "version": vendor.version,
        "name_en": "Pak Udin's crackers",
        "description_en": "Fried every morning.",
    }
    assert client.post(url, data=sent).status_code == 302
    reload()
    assert w.product.name_en == "Crab crackers"
    assert (w.vendor.name_en, w.vendor.description_en) == (
        "Pak Udin's crackers",
        "Fried every morning.",
    )
    changes = db.session.scalars(
        select(AuditEvent.changes).where(AuditEvent.action.in_(["product.update", "vendor.update"]))
    ).all()
    assert {"name_en": ["", "Crab crackers"]} in changes
    assert any(c.get("description_en") == ["", "Fried every morning."] for c in changes)


def test_quick_add_takes_the_english_name_in_its_folded_part(stocked_world, client):
    w = stocked_world
    log_in_english(client, w.people["volunteer"])
    url = f"/manage/quick/vendors/{w.vendor.id}/products"
    page = client.get(url).get_data(as_text=True)
    folded = re.search(r'<details class="more-fields">(.*?)</details>', page, re.S).group(1)
    assert 'name="name_en"' in folded and 'name="description_en"' in folded
    response = client.post(
        url,
        data={
            "csrf_token": csrf_token(client, url),
            "name": "Amplang udang",
            "price": "40rb",
            "name_en": "Shrimp crackers",
            "then": "more",
        },
    )
    assert response.status_code == 303
    reload()
    product = db.session.scalar(select(Product).where(Product.name == "Amplang udang"))
    assert product.name_en == "Shrimp crackers"


# --- reading it ------------------------------------------------------------------------------


@pytest.fixture
def goods(ctx):
    market = make_market(name="Pasar Inpres")
    vendor = make_vendor(
        market,
        business_name="Amplang Pak Udin",
        name_en="Pak Udin's fish crackers",
        description="Digoreng tiap pagi.",
    )
    english = make_product(
        vendor,
        name="Amplang kepiting",
        name_en="Crab crackers",
        description="Renyah dan gurih.",
        description_en="Crisp & savoury.",
    )
    half = make_product(
        vendor, name="Amplang udang", name_en="Shrimp crackers", description="Gurih."
    )
    plain = make_product(vendor, name="Kerupuk ikan pipih", description="Ikan pipih asli.")
    return vendor, english, half, plain


def test_the_english_page_shows_the_english_text(client, goods):
    _vendor, english, _half, _plain = goods
    body = client.get(product_url(english) + "?lang=en").get_data(as_text=True)
    assert '<html lang="en"' in body
    assert "<title>Crab crackers — Pak Udin&#39;s fish crackers</title>" in body
    assert _tag(body, "h1") == "<h1>Crab crackers"
    assert "<p>Crisp &amp; savoury.</p>" in body
    assert '<meta name="description" content="Crisp &amp; savoury.">' in body
    assert _meta(body, "og:title") == "Crab crackers — Pak Udin&#39;s fish crackers"
    assert _meta(body, "og:description") == "Crisp &amp; savoury."
    data = _jsonld(body)
    assert (data["name"], data["description"], data["inLanguage"]) == (
        "Crab crackers",
        "Crisp & savoury.",
        "en",
    )
    assert data["brand"]["name"] == "Pak Udin's fish crackers"
    # The Indonesian page is as before.
    body = client.get(product_url(english) + "?lang=id").get_data(as_text=True)
    assert _tag(body, "h1") == "<h1>Amplang kepiting"
    assert "<title>Amplang kepiting — Amplang Pak Udin</title>" in body
    data = _jsonld(body)
    assert (data["name"], data["description"], data["inLanguage"]) == (
        "Amplang kepiting",
        "Renyah dan gurih.",
        "id",
    )


def test_indonesian_text_on_an_english_page_is_marked_as_such(client, goods):
    vendor, _english, half, plain = goods
    body = client.get(product_url(plain) + "?lang=en").get_data(as_text=True)
    assert _tag(body, "h1") == '<h1 lang="id">Kerupuk ikan pipih'
    assert '<p lang="id">Ikan pipih asli.</p>' in body
    assert "<title>Kerupuk ikan pipih — Pak Udin&#39;s fish crackers</title>" in body
    data = _jsonld(body)
    assert (data["name"], data["inLanguage"]) == ("Kerupuk ikan pipih", "id")
    # An English name above an Indonesian description: each says its language.
    data = _jsonld(client.get(product_url(half) + "?lang=en").get_data(as_text=True))
    assert (data["name"], data["inLanguage"]) == ("Shrimp crackers", "en")
    assert data["description"] == {"@value": "Gurih.", "@language": "id"}
    # The stall: English name, Indonesian description.
    body = client.get(vendor_url(vendor) + "?lang=en").get_data(as_text=True)
    assert _tag(body, "h1") == "<h1>Pak Udin&#39;s fish crackers"
    assert '<p lang="id">Digoreng tiap pagi.</p>' in body
    assert '<meta name="description" content="Digoreng tiap pagi.">' in body
    data = _jsonld(body)
    assert (data["name"], data["inLanguage"]) == ("Pak Udin's fish crackers", "en")
    assert data["description"] == {"@value": "Digoreng tiap pagi.", "@language": "id"}
    cards = re.findall(r'<span class="card-title"([^>]*)>([^<]*)<', body)
    assert sorted(cards) == [
        ("", "Crab crackers"),
        ("", "Shrimp crackers"),
        (' lang="id"', "Kerupuk ikan pipih"),
    ]
    # Nothing is marked on the Indonesian page, where everything is Indonesian.
    body = client.get(vendor_url(vendor) + "?lang=id").get_data(as_text=True)
    assert re.findall(r'(?<!href)lang="id"', body) == ['lang="id"']  # <html lang="id">


def test_a_stall_named_only_in_indonesian_is_marked_in_an_english_sentence(client, ctx):
    vendor = make_vendor(make_market(), business_name="Ikan Asin <Bu> Ani")
    product, _other = make_product(vendor, name="Ikan peda"), make_product(vendor, name="Terasi")
    body = client.get(product_url(product) + "?lang=en").get_data(as_text=True)
    assert 'More from <span lang="id">Ikan Asin &lt;Bu&gt; Ani</span>' in body
    body = client.get(product_url(product) + "?lang=id").get_data(as_text=True)
    assert "Ikan Asin &lt;Bu&gt; Ani</h2>" in body


def test_the_market_page_and_search_show_english_names(client, goods):
    vendor, *_ = goods
    market = vendor.market
    body = client.get(f"/pasar/{market.slug}/?lang=en").get_data(as_text=True)
    assert '<span class="card-title">Pak Udin&#39;s fish crackers</span>' in body
    body = client.get(f"/pasar/{market.slug}/cari?q=crab&lang=en").get_data(as_text=True)
    assert '<span class="card-title">Crab crackers</span>' in body


# --- finding it ------------------------------------------------------------------------------


def test_search_finds_goods_and_stalls_by_their_english_words(goods):
    vendor, english, half, _plain = goods
    market = vendor.market
    assert [p.id for p in search.search_market(market, "savoury").products] == [english.id]
    assert [p.id for p in search.search_market(market, "shrimp crackers").products] == [half.id]
    assert [v.id for v in search.search_market(market, "pak udin fish").vendors] == [vendor.id]
    # A typo in an English word is corrected from the English words indexed.
    found = search.search_market(market, "savuory")
    assert (found.suggestion, [p.id for p in found.products]) == ("savoury", [english.id])
    assert search.search_city("savoury").products == [english]


def test_an_english_edit_is_searchable_at_once_and_the_old_words_are_gone(goods, en):
    _vendor, _english, _half, plain = goods
    market, editor = plain.vendor.market, make_user()
    typed = {"name": plain.name, "price": "25000", "description": plain.description}
    update_product(
        plain,
        clean_product(typed | {"name_en": "Flatfish crisps"}),
        actor=editor,
        version=plain.version,
        base=None,
    )
    assert search.search_market(market, "flatfish").products == [plain]
    update_product(
        plain,
        clean_product(typed | {"name_en": "Fish crisps"}),
        actor=editor,
        version=plain.version,
        base=None,
    )
    assert search.search_market(market, "flatfish").products == []
    assert search.search_market(market, "fish crisps").products == [plain]


def test_the_api_gives_both_languages(client, goods):
    vendor, english, _half, _plain = goods
    base = f"/api/v1/markets/{vendor.market.slug}"
    data = client.get(f"{base}/vendors/{vendor.slug}").get_json()
    assert (data["name"], data["name_en"]) == ("Amplang Pak Udin", "Pak Udin's fish crackers")
    assert (data["description"], data["description_en"]) == ("Digoreng tiap pagi.", "")
    data = client.get(f"{base}/vendors/{vendor.slug}/products/{english.slug}").get_json()
    assert (data["name_en"], data["description_en"]) == ("Crab crackers", "Crisp & savoury.")
    listed = client.get(f"{base}/products?q=crab").get_json()["items"]
    assert [(p["name"], p["name_en"]) for p in listed] == [("Amplang kepiting", "Crab crackers")]


def _app_of_its_own(url: str, tmp_path):
    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "MARKET_STORAGE_URL": f"file://{tmp_path / 'uploads'}",
            "SECRET_KEY": "english-test-" + "x" * 40,
            "MARKET_PASSWORD_METHOD": CHEAP_HASHING,
            "MARKET_PAGE_CACHE": False,
        }
    )


def test_the_index_is_built_before_the_english_columns_exist(tmp_path):
    """Migrations 0002 and 0004 index with today's code, on a schema that has no English
    columns yet."""
    with database_of_its_own(tmp_path, "before_english") as url:
        app = _app_of_its_own(url, tmp_path)
        with app.app_context():
            upgrade(revision="0001")
            with db.engine.begin() as connection:
                first_release_rows(connection)
            upgrade(revision="0005_market_weekly_hours")
            found = db.session.execute(
                text("SELECT rowid FROM search_product WHERE search_product MATCH 'amplang'")
                if db.engine.dialect.name == "sqlite"
                else text("SELECT id FROM search_product WHERE document @@ 'amplang:*'")
            ).all()
            assert len(found) == 1  # "Amplang kepiting"
            db.session.remove()
            db.engine.dispose()


def _indexed(kind: str, word: str) -> int:
    """How many documents of the index table of ``kind`` hold ``word``, read in SQL."""
    query = (
        f"SELECT count(*) FROM search_{kind} WHERE search_{kind} MATCH :word"  # noqa: S608
        if db.engine.dialect.name == "sqlite"
        else f"SELECT count(*) FROM search_{kind} WHERE document @@ to_tsquery('simple', :word)"  # noqa: S608
    )
    found = db.session.scalar(text(query), {"word": word})
    db.session.rollback()
    return found


def test_the_upgrade_indexes_english_written_before_it(tmp_path):
    """Migration 0012_english_search: English text that reached the rows before the index
    took English words (written before 0012, here straight in SQL, so not indexed at all) is
    found after the upgrade."""
    with database_of_its_own(tmp_path, "english") as url:
        app = _app_of_its_own(url, tmp_path)
        with app.app_context():
            upgrade(revision="0011_account_status")
            with db.engine.begin() as connection:
                first_release_rows(connection)
                connection.execute(update(Product.__table__).values(name_en="Flatfish crisps"))
                connection.execute(update(Vendor.__table__).values(description_en="Since 1998"))
            assert not _indexed("product", "flatfish") and not _indexed("vendor", "1998")

            upgrade(revision="0012_english_search")
            assert _indexed("product", "flatfish") and _indexed("vendor", "1998")

            upgrade()  # the search of today reads the index of the latest revision
            market = db.session.scalar(select(Market))
            assert [p.slug for p in search.search_market(market, "flatfish").products] == [
                "amplang-kepiting"
            ]
            assert [v.slug for v in search.search_market(market, "1998").vendors] == [
                "amplang-bu-sri"
            ]
            db.session.remove()
            db.engine.dispose()
