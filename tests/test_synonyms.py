"""Coordinators keep the search synonyms: a pair added or removed counts in every market's search
at once (cached search pages included), bad input is refused with the typing kept, every change
is audited and a removed pair can be added back. Who may use the pages: test_route_access."""

import re

import pytest
from sqlalchemy import func, or_, select

from market.extensions import db
from market.models import AuditEvent, Synonym
from market.services import search
from tests.factories import make_market, make_people, make_product, make_vendor
from tests.pages import csrf_token, log_in_english, login, reload

URL = "/admin/synonyms"


@pytest.fixture
def honey(ctx):
    """A stall in each of two markets selling madu, and the first market's coordinator."""
    market, other = make_market(), make_market()
    people = make_people(market, other)
    products = [make_product(make_vendor(m), name="Madu kelulut") for m in (market, other)]
    return people["coordinator"], products


def _add(client, **fields):
    return client.post(URL, data={"csrf_token": csrf_token(client, URL)} | fields)


def _result_names(client, path: str) -> list[str]:
    page = client.get(path).get_data(as_text=True)
    return re.findall(r'<span class="card-title"[^>]*>([^<]*)<', page)


def test_a_new_synonym_counts_at_once_in_every_market_and_cached_page(app, client, honey):
    coordinator, products = honey
    shopper = app.test_client()
    searches = [f"/pasar/{p.vendor.market.slug}/cari?q=madoe" for p in products] + ["/cari?q=madoe"]
    # Nothing yet; the pages go into the page cache as they are.
    assert [_result_names(shopper, path) for path in searches] == [[], [], []]
    assert [_result_names(shopper, path) for path in searches] == [[], [], []]

    log_in_english(client, coordinator)
    response = _add(client, phrase=" Madoe ", means="MADU")
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Search now also finds “madu” for “madoe”." in page

    assert [_result_names(shopper, path) for path in searches] == [
        ["Madu kelulut"],
        ["Madu kelulut"],
        ["Madu kelulut", "Madu kelulut"],
    ]
    reload()
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "synonym.add"))
    assert (event.actor_id, event.changes) == (
        coordinator.id,
        {"phrase": [None, "madoe"], "means": [None, "madu"]},
    )


def test_two_spellings_are_added_both_ways(client, honey):
    coordinator, _products = honey
    log_in_english(client, coordinator)
    assert _add(client, phrase="Oleh-oleh", means="ole2", both_ways="y").status_code == 303
    reload()
    pairs = db.session.execute(
        select(Synonym.phrase, Synonym.means).where(
            or_(Synonym.phrase == "ole2", Synonym.means == "ole2")
        )
    ).all()
    assert sorted(tuple(p) for p in pairs) == [("ole2", "oleh oleh"), ("oleh oleh", "ole2")]


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"phrase": "", "means": "madu"}, "phrase", "Type what shoppers search for."),
        ({"phrase": "madoe", "means": " -- "}, "means", "Type the word the stalls use."),
        ({"phrase": "madu hutan asli kalimantan", "means": "madu"}, "phrase", "At most 3 words."),
        ({"phrase": "Madu", "means": "madu"}, "means", "That is the same word"),
        ({"phrase": "honey", "means": "madu"}, "phrase", "This pair is in the list already."),
        ({"phrase": "madoe", "means": "m" * 81}, "means", "Use at most 80 characters"),
        ({"phrase": "ma\x07doe", "means": "madu"}, "phrase", "control character"),
    ],
)
def test_bad_input_is_refused_with_the_typing_kept(client, honey, fields, field, message):
    coordinator, _products = honey
    log_in_english(client, coordinator)
    before = db.session.scalar(select(func.count(Synonym.id)))
    response = _add(client, **fields)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    error = re.search(rf'<p class="error" id="{field}-error">([^<]*)</p>', page)
    assert error and message in error.group(1), page
    if "\x07" not in fields["phrase"]:
        assert f'value="{fields["phrase"]}"' in page
    reload()
    assert db.session.scalar(select(func.count(Synonym.id))) == before
    assert db.session.scalar(select(func.count(AuditEvent.id))) == 0


def test_a_removed_synonym_stops_counting_and_can_be_added_back(app, client, honey):
    coordinator, products = honey
    market = products[0].vendor.market
    shopper = app.test_client()
    path = f"/pasar/{market.slug}/cari?q=honey"
    assert _result_names(shopper, path) == ["Madu kelulut"]
    honey_row = db.session.scalar(select(Synonym).where(Synonym.phrase == "honey"))
    log_in_english(client, coordinator)
    page = client.get(URL).get_data(as_text=True)
    assert re.search(r"<strong>honey</strong> → madu", page)

    response = client.post(
        f"{URL}/{honey_row.id}/remove", data={"csrf_token": csrf_token(client, URL)}
    )
    assert response.status_code == 303
    assert _result_names(shopper, path) == []
    page = client.get(URL).get_data(as_text=True)
    assert "Removed: “honey” → “madu”. It can be added back below." in page
    lately = page.split("Removed lately (1)", 1)[1]
    assert re.search(r"<strong>honey</strong> → madu", lately)
    assert coordinator.name in lately
    reload()
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "synonym.remove"))
    assert event.changes == {"phrase": ["honey", None], "means": ["madu", None]}

    # "Add back" sends the pair to the same form.
    assert _add(client, phrase="honey", means="madu").status_code == 303
    assert _result_names(shopper, path) == ["Madu kelulut"]
    assert "Removed lately" not in client.get(URL).get_data(as_text=True)


def test_the_page_speaks_indonesian_by_default(client, honey):
    coordinator, _products = honey
    assert login(client, coordinator.login).status_code == 302
    page = client.get(URL).get_data(as_text=True)
    assert "<h1>Sinonim pencarian</h1>" in page
    assert "Tambah sinonim" in page
    index = client.get("/admin/").get_data(as_text=True)
    assert f'href="{URL}"' in index


def test_search_reads_the_table_on_every_query(honey):
    """No copy of the table is kept in a process: another process's change counts at once."""
    _coordinator, products = honey
    market = products[0].vendor.market
    assert search.search_market(market, "kelulutt").products  # corrected, not a synonym
    assert search.search_market(market, "stingless").products == []
    db.session.add(Synonym(phrase="stingless", means="kelulut"))
    db.session.commit()
    assert search.search_market(market, "stingless").products == products[:1]
