"""Search that forgives: typos, shorthand, spelling variants, English words, stall codes and
product facts, per market and across the city, checked on the demo data as a shopper would."""

import pytest
from sqlalchemy import text

from market.extensions import db
from market.models import Availability, Synonym
from market.seed.demo import seed_demo
from market.services import search
from market.services.search import Filters, Sort
from tests.factories import category, make_market, make_product, make_vendor

# query → the kind of the first result that answers it, a word its name must hold, and the
# "did you mean" offered (None when the shopper's words were found as typed).
DEMO_TABLE = [
    ("amplng", "product", "amplang", "amplang"),
    ("amplag", "product", "amplang", "amplang"),
    ("mnik", "product", "manik", "manik"),
    ("tengiri", "product", "tenggiri", "tenggiri"),
    ("oleh2", "vendor", "oleh-oleh", None),
    ("manik2", "product", "manik", None),
    ("kripik", "product", "ripik", None),
    ("keripik", "product", "ripik", None),
    ("beads", "product", "manik", None),
    ("honey", "product", "madu", None),
    ("souvenir", "vendor", "oleh-oleh", None),
    ("woven rattan", "product", "rotan", None),
    ("dried fish", "product", "ikan asin", None),
    ("sambel", "product", "sambal", None),
    ("B12", "vendor", "amplang kepiting", None),
    ("Blok B No 12", "vendor", "amplang kepiting", None),
    ("halal", "product", "", None),
    # English words of the goods' English names and descriptions (not of the synonym table).
    ("mackerel", "product", "amplang", None),
    ("crab crackers", "product", "amplang kepiting", None),
    ("hornbill", "product", "enggang", None),
    ("stingless bee", "product", "madu kelulut", None),
    ("ámplang", "product", "amplang", None),
    ("ampl", "product", "amplang", None),
]


def _first(result, kind):
    items = result.vendors if kind == "vendor" else result.products
    return items[0] if items else None


def _name(item) -> str:
    return (item.business_name if hasattr(item, "business_name") else item.name).casefold()


def test_every_query_of_the_table_finds_what_the_shopper_meant(ctx):
    seed_demo()
    misses = []
    for query, kind, word, suggestion in DEMO_TABLE:
        city = search.search_city(query)
        item = _first(city, kind)
        if item is None or word not in _name(item) or city.suggestion != suggestion:
            misses.append(("city", query, item and _name(item), city.suggestion))
            continue
        if query == "halal" and not item.halal:
            misses.append(("city", query, _name(item), "not halal"))
        # The market's own search answers the same within the market of that result.
        market = (item.vendor if kind == "product" else item).market
        local = search.search_market(market, query)
        if _first(local, kind) is not item or local.suggestion != suggestion:
            misses.append((market.slug, query, _first(local, kind), local.suggestion))
    assert misses == []


def test_the_city_search_finds_amplang_in_both_markets(ctx):
    seed_demo()
    for query in ("amplang", "amplng"):
        markets = {p.vendor.market.slug for p in search.search_city(query).products}
        assert markets == {"pasar-inpres-kebun-sayur", "pasar-klandasan"}, query


def test_edit_distance_counts_one_per_slip():
    assert search.edit_distance("amplng", "amplang") == 1
    assert search.edit_distance("mnaik", "manik") == 1  # two letters swapped
    assert search.edit_distance("tengiri", "tenggiri") == 1
    assert search.edit_distance("batik", "manik") == 2
    assert search.edit_distance("", "abc") == 3


def test_shorthand_doubles_the_word_but_leaves_stall_codes_alone():
    assert search.expand_shorthand(["oleh2", "b12", "manik2", "x2"]) == [
        "oleh",
        "oleh",
        "b12",
        "manik",
        "manik",
        "x2",
    ]


def test_a_word_never_indexed_is_corrected_only_within_reach(ctx):
    market = make_market()
    make_product(make_vendor(market), name="Amplang kepiting")
    assert search.search_market(market, "amplng").suggestion == "amplang"
    assert search.search_market(market, "kepitng amplng").suggestion == "kepiting amplang"
    far = search.search_market(market, "ampxyz")
    assert far.empty and far.suggestion is None


def test_no_suggestion_leads_to_a_hidden_record(ctx):
    market = make_market()
    make_product(make_vendor(market, consent_at=None), name="Rahasia")
    result = search.search_market(market, "rahasa")
    assert result.empty and result.suggestion is None


def test_a_synonym_added_as_data_is_used_at_once(ctx):
    market = make_market()
    make_product(make_vendor(market), name="Lampit rotan")
    assert search.search_market(market, "floor mat").empty
    db.session.add(Synonym(phrase="floor mat", means="lampit"))
    db.session.commit()
    try:
        assert [p.name for p in search.search_market(market, "floor mat").products] == [
            "Lampit rotan"
        ]
    finally:
        db.session.delete(db.session.query(Synonym).filter_by(phrase="floor mat").one())
        db.session.commit()


@pytest.fixture
def shelf(ctx):
    market = make_market()
    food = make_vendor(market, business_name="Warung Amplang", categories=[category("makanan")])
    crafts = make_vendor(market, business_name="Amplang Art", categories=[category("kerajinan")])
    make_product(food, name="Amplang murah", price_idr=10000, halal=True)
    make_product(food, name="Amplang pesan", price_idr=50000, availability=Availability.PRE_ORDER)
    make_product(food, name="Amplang besar", price_idr=90000, categories=[category("makanan")])
    make_product(crafts, name="Amplang hiasan", price_idr=30000, categories=[category("kerajinan")])
    return market


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"price_min": 20000, "price_max": 60000}, ["Amplang hiasan", "Amplang pesan"]),
        ({"availability": Availability.PRE_ORDER}, ["Amplang pesan"]),
        ({"halal": True}, ["Amplang murah"]),
        (
            {"sort": Sort.CHEAPEST},
            ["Amplang murah", "Amplang hiasan", "Amplang pesan", "Amplang besar"],
        ),
        (
            {"sort": Sort.DEAREST},
            ["Amplang besar", "Amplang pesan", "Amplang hiasan", "Amplang murah"],
        ),
    ],
)
def test_filters_and_sorts_of_goods(shelf, filters, expected):
    result = search.search_market(shelf, "amplang", filters=Filters(**filters))
    names = [p.name for p in result.products]
    if "sort" not in filters:
        names.sort()
    assert names == expected and result.product_total == len(expected)
    # Price, stock and halal are facts of goods: no stall is listed beside them.
    assert len(result.vendors) == (2 if set(filters) == {"sort"} else 0)


def test_the_category_filter_narrows_stalls_and_goods(shelf):
    result = search.search_market(shelf, "amplang", filters=Filters(category=category("kerajinan")))
    assert [v.business_name for v in result.vendors] == ["Amplang Art"]
    assert [p.name for p in result.products] == ["Amplang hiasan"]
    assert [c.slug for c in result.vendors[0].categories] == ["kerajinan"]


def test_the_count_covers_every_match_beyond_the_page(shelf):
    result = search.search_market(shelf, "amplang", limit=2)
    assert len(result.products) == 2 and result.product_total == 4 and result.vendor_total == 2
    assert not (result.product_total.more or result.vendor_total.more)


def test_past_the_candidates_the_count_says_there_may_be_more(shelf, client, monkeypatch):
    # Ranking work is bounded: beyond CANDIDATES index matches the search stops and says so.
    monkeypatch.setattr(search, "CANDIDATES", 3)
    result = search.search_market(shelf, "amplang")
    assert len(result.products) == 3 and result.product_total == 3
    assert result.product_total.more and not result.vendor_total.more
    page = client.get(f"/pasar/{shelf.slug}/cari?q=amplang&lang=en").get_data(as_text=True)
    assert "(3+)" in page and "and more: add a word to narrow the search" in page
    assert "(2)" in page


def test_across_markets_the_search_stops_at_its_own_candidates(shelf, monkeypatch):
    monkeypatch.setattr(search, "CITY_CANDIDATES", 3)
    across = search.search_city("amplang")
    assert len(across.products) == 3 and across.product_total == 3
    assert across.product_total.more
    # Narrowed to one market, the same goods are all ranked.
    within = search.search_market(shelf, "amplang")
    assert within.product_total == 4 and not within.product_total.more


def test_a_word_starting_few_indexed_words_is_searched_as_those_words(shelf):
    meant = search.understand(["ampl", "hias"])
    # The typed word itself stays, for the words the vocabulary leaves out (people's names).
    assert meant.completions == {"ampl": ["ampl", "amplang"], "hias": ["hias", "hiasan"]}
    expression = search._fts_words(meant.groups, meant.completions)
    assert "*" not in expression
    assert '"amplang"' in expression and '"hiasan"' in expression
    assert [p.name for p in search.search_market(shelf, "ampl hias").products] == ["Amplang hiasan"]


def test_a_word_starting_too_many_indexed_words_stays_a_prefix(shelf, monkeypatch):
    monkeypatch.setattr(search, "_COMPLETIONS", 0)
    meant = search.understand(["amplang"])
    assert meant.completions == {}
    assert search._fts_words(meant.groups, meant.completions) == '(("amplang"*))'
    assert len(search.search_market(shelf, "amplang").products) == 4


def test_an_owners_name_is_found_but_never_learnt_as_a_word(ctx):
    """Search finds a stall by its owner's name, but the vocabulary of corrections (kept after
    a stall is erased) holds no person's name."""
    market = make_market()
    vendor = make_vendor(market, business_name="Amplang Bu Sumiyati", owner_name="Wiryosentono")
    db.session.commit()
    assert [v.id for v in search.search_market(market, "wiryosentono").vendors] == [vendor.id]
    learnt = set(db.session.scalars(text("SELECT word FROM search_word")))
    assert "sumiyati" in learnt
    assert "wiryosentono" not in learnt


def test_an_alternative_that_can_only_find_less_is_not_searched(ctx):
    # "manik" ↔ "manik manik" (manik-manik) are synonyms both ways; prefix matching makes
    # "manik AND manik" find exactly what "manik" finds, so it is not asked of the index.
    assert search.understand(["manik"]).groups == [[("manik",)]]
    assert search.understand(["manik", "manik"]).groups == [[("manik",)]]
    assert search.understand(["beads"]).groups == [[("beads",), ("manik",)]]
