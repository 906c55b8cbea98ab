"""Search over a market: scope, visibility, words as prefixes, accents, categories in both
languages, ranking, bounds, and an index that follows every edit made through the ORM."""

import pytest
from sqlalchemy import text

from market.extensions import db
from market.models import Product, Vendor, VendorStatus, utcnow
from market.services import search
from tests.factories import category, make_market, make_product, make_vendor


def _names(result):
    return [v.business_name for v in result.vendors], [p.name for p in result.products]


def test_normalise_folds_case_accents_and_punctuation():
    assert search.normalise("  Kué LAPIS—Legit! ") == "kue lapis legit"
    assert search.query_terms('"batik" OR *:') == ["batik", "or"]
    assert search.query_terms("a " * 50) == ["a"] * search.MAX_TERMS


def test_words_match_as_prefixes_whatever_the_case_or_accents(ctx):
    market = make_market()
    vendor = make_vendor(market, business_name="Kué Bu Ani")
    make_product(vendor, name="Amplang Kepiting")
    for query in ("amplang", "AMPL", "amp kep", "Kepiting amplang"):
        assert _names(search.search_market(market, query))[1] == ["Amplang Kepiting"], query
    for query in ("kue", "KUÉ", "kuê b"):
        assert _names(search.search_market(market, query))[0] == ["Kué Bu Ani"], query
    assert search.search_market(market, "amplang zzz").empty


def test_category_names_match_in_both_languages(ctx):
    market = make_market()
    vendor = make_vendor(market, business_name="Toko Camilan", categories=[category("makanan")])
    make_product(vendor, name="Keripik", categories=[category("makanan")])
    for query in ("snack", "Snacks & food", "camilan", "makanan"):
        vendors, products = _names(search.search_market(market, query))
        assert vendors == ["Toko Camilan"] and products == ["Keripik"], query


def test_name_matches_rank_above_description_matches(ctx):
    market = make_market()
    vendor = make_vendor(market)
    make_product(vendor, name="Tas rotan", description="Dari batik bekas, dijahit tangan " * 3)
    make_product(vendor, name="Kain batik", description="Katun.")
    assert _names(search.search_market(market, "batik"))[1] == ["Kain batik", "Tas rotan"]


def test_search_is_scoped_to_the_market(ctx):
    here, there = make_market(), make_market()
    make_product(make_vendor(here), name="Batik sini")
    make_product(make_vendor(there), name="Batik sana")
    assert _names(search.search_market(here, "batik"))[1] == ["Batik sini"]


@pytest.mark.parametrize(
    "vendor_change",
    [
        {"status": VendorStatus.HIDDEN},
        {"status": VendorStatus.DRAFT},
        {"consent_at": None},
        {"deleted_at": utcnow()},
    ],
)
def test_non_public_vendors_and_their_products_are_never_found(ctx, vendor_change):
    market = make_market()
    vendor = make_vendor(market, business_name="Batik Rahasia", **vendor_change)
    make_product(vendor, name="Batik tersembunyi")
    assert search.search_market(market, "batik").empty


@pytest.mark.parametrize("change", [{"deleted_at": utcnow()}, {"hidden_at": utcnow()}])
def test_deleted_or_hidden_products_are_never_found(ctx, change):
    market = make_market()
    make_product(make_vendor(market), name="Batik dihapus", **change)
    assert search.search_market(market, "batik").empty


def test_an_orm_edit_is_found_at_once(ctx):
    market = make_market()
    vendor = make_vendor(market, business_name="Lapak Lama")
    product = make_product(vendor, name="Gelang manik")
    product.name = "Kalung mutiara"
    vendor.business_name = "Lapak Baru"
    db.session.flush()
    # Within the same transaction already, and after the commit.
    assert _names(search.search_market(market, "mutiara"))[1] == ["Kalung mutiara"]
    db.session.commit()
    assert search.search_market(market, "gelang").empty
    assert _names(search.search_market(market, "baru"))[0] == ["Lapak Baru"]
    assert search.search_market(market, "lama").empty


def test_a_category_change_is_found_at_once(ctx):
    market = make_market()
    product = make_product(make_vendor(market), name="Sesuatu")
    assert search.search_market(market, "drinks").empty
    product.categories.append(category("minuman"))
    db.session.commit()
    assert _names(search.search_market(market, "drinks"))[1] == ["Sesuatu"]


def test_hiding_and_restoring_through_the_orm(ctx):
    market = make_market()
    vendor = make_vendor(market)
    product = make_product(vendor, name="Batik")
    product.deleted_at = utcnow()
    db.session.commit()
    assert search.search_market(market, "batik").empty
    product.deleted_at = None
    db.session.commit()
    assert _names(search.search_market(market, "batik"))[1] == ["Batik"]


def test_a_vendor_moving_market_takes_its_products_along(ctx):
    old, new = make_market(), make_market()
    vendor = make_vendor(old)
    make_product(vendor, name="Batik pindah")
    vendor.market = new
    db.session.commit()
    assert search.search_market(old, "batik").empty
    assert _names(search.search_market(new, "batik"))[1] == ["Batik pindah"]


def test_results_are_bounded(ctx):
    market = make_market()
    vendor = make_vendor(market)
    for n in range(search.MAX_RESULTS + 5):
        make_product(vendor, name=f"Batik {n}")
    assert len(search.search_market(market, "batik").products) == search.MAX_RESULTS
    assert len(search.search_market(market, "batik", limit=500).products) == search.MAX_RESULTS
    assert len(search.search_market(market, "batik", limit=3).products) == 3


@pytest.mark.parametrize("query", ['"', "*", "AND", "OR NOT", "a:b", "(", "NEAR(", "'", "-", "^"])
def test_query_syntax_is_never_passed_through(ctx, query):
    market = make_market()
    make_product(make_vendor(market), name="Batik")
    search.search_market(market, query)


def test_rebuild_index_restores_a_lost_index(ctx):
    market = make_market()
    make_product(make_vendor(market, business_name="Ukiran"), name="Topeng hudoq")
    table = "search_product"
    db.session.execute(text(f"DELETE FROM {table}"))  # noqa: S608
    db.session.commit()
    assert not search.search_market(market, "topeng").products
    search.rebuild_index(db.session.connection())
    db.session.commit()
    assert _names(search.search_market(market, "topeng"))[1] == ["Topeng hudoq"]


def test_hard_deleted_rows_leave_the_index(ctx):
    market = make_market()
    vendor = make_vendor(market)
    product = make_product(vendor, name="Sementara")
    db.session.delete(product)
    db.session.commit()
    key = "rowid" if db.engine.dialect.name == "sqlite" else "id"
    left = db.session.execute(
        text(f"SELECT count(*) FROM search_product WHERE {key} = :id"),  # noqa: S608
        {"id": product.id},
    ).scalar()
    assert left == 0
    assert db.session.get(Vendor, vendor.id) is not None
    assert db.session.get(Product, product.id) is None


# --- the search page ----------------------------------------------------------------------


def test_search_page_groups_stalls_and_goods(client):
    market = make_market()
    vendor = make_vendor(market, business_name="Batik Borneo")
    make_product(vendor, name="Kain batik")
    body = client.get(f"/pasar/{market.slug}/cari?q=batik&lang=en").get_data(as_text=True)
    stalls, goods = body.index("Stalls"), body.index("Goods")
    assert stalls < body.index("Batik Borneo") < goods < body.index("Kain batik")
    assert 'name="robots" content="noindex' in body


def test_an_empty_result_suggests_the_market_categories(client):
    market = make_market()
    make_vendor(market, categories=[category("kain")])
    body = client.get(f"/pasar/{market.slug}/cari?q=zzz&lang=en").get_data(as_text=True)
    assert "Nothing found for “zzz”" in body
    assert f"/pasar/{market.slug}/?kategori=kain" in body
    assert "kategori=makanan" not in body


def test_search_page_without_words_invites_to_type(client):
    market = make_market()
    body = client.get(f"/pasar/{market.slug}/cari?lang=en").get_data(as_text=True)
    assert "Type what you are looking for" in body
