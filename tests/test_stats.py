"""A stall's numbers: page views counted in the page-cache layer (hits and misses, never bots,
HEAD, prefetches, errors or the back office), flushed into `page_view`, and shown to who may
edit the stall beside its WhatsApp contacts and shopping-list sends."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from market.extensions import db
from market.models import ContactClick, ListSend, PageView
from market.services import stats
from market.services.contacts import today
from tests.factories import make_market, make_product, make_vendor
from tests.pages import app_on_redis, counting_queries, login

PHONE = "Mozilla/5.0 (Linux; Android 13; SM-A145F) AppleWebKit/537.36 Chrome/120 Mobile Safari"


@pytest.fixture(params=["memory", "redis"])
def served(request, app):
    """The app counting in this process's memory, or in Redis, from an empty counter."""
    served = app_on_redis(app) if request.param == "redis" else app
    with served.app_context():
        stats.store(served).take()
        yield served


@pytest.fixture
def stall(served):
    market = make_market(slug="pasar-pagi")
    vendor = make_vendor(market, slug="amplang-bu-ani")
    product = make_product(vendor, slug="amplang", name="Amplang")
    return vendor, product


def _views(vendor_id: int) -> dict[int | None, int]:
    db.session.rollback()
    rows = db.session.execute(
        select(PageView.product_id, PageView.count).where(PageView.vendor_id == vendor_id)
    )
    return dict(rows.all())


STALL = "/pasar/pasar-pagi/lapak/amplang-bu-ani/"
PRODUCT = "/pasar/pasar-pagi/lapak/amplang-bu-ani/amplang"


def test_views_are_counted_on_cache_misses_and_hits(served, stall):
    vendor, product = stall
    client = served.test_client()
    headers = {"User-Agent": PHONE}
    assert client.get(STALL, headers=headers).status_code == 200
    with counting_queries() as statements:
        hit = client.get(STALL, headers=headers)
    # Answered from the page cache without the database, and counted all the same.
    assert hit.status_code == 200 and statements == []
    for _ in range(3):
        assert client.get(PRODUCT, headers=headers).status_code == 200
    assert _views(vendor.id) == {}, "nothing is written while pages are served"
    assert stats.flush(served) == 5
    assert _views(vendor.id) == {None: 2, product.id: 3}


@pytest.mark.parametrize(
    "method, headers, path",
    [
        ("HEAD", {"User-Agent": PHONE}, STALL),
        ("GET", {"User-Agent": "Mozilla/5.0 (compatible; Googlebot/2.1)"}, STALL),
        ("GET", {"User-Agent": "facebookexternalhit/1.1"}, PRODUCT),
        ("GET", {"User-Agent": "WhatsApp/2.23.20.0 A"}, PRODUCT),
        ("GET", {"User-Agent": ""}, STALL),
        ("GET", {"User-Agent": PHONE, "Sec-Purpose": "prefetch;prerender"}, STALL),
        ("GET", {"User-Agent": PHONE, "Purpose": "prefetch"}, PRODUCT),
        ("GET", {"User-Agent": PHONE}, "/pasar/pasar-pagi/lapak/amplang-bu-ani/tidak-ada"),
        ("GET", {"User-Agent": PHONE}, "/pasar/pasar-pagi/"),
    ],
)
def test_what_is_not_a_person_looking_is_not_counted(served, stall, method, headers, path):
    client = served.test_client()
    for _ in range(2):  # a miss, then what the cache may answer
        client.open(path, method=method, headers=headers)
    assert stats.flush(served) == 0
    assert _views(stall[0].id) == {}


def test_a_page_that_is_not_shown_is_not_counted(served, stall):
    hidden = make_vendor(stall[0].market, slug="belum-terbit", published=False)
    response = served.test_client().get(
        "/pasar/pasar-pagi/lapak/belum-terbit/", headers={"User-Agent": PHONE}
    )
    assert response.status_code == 404
    assert stats.flush(served) == 0
    assert _views(hidden.id) == {}


def test_the_back_office_is_not_counted(served, stall):
    vendor, _product = stall
    client = served.test_client()
    client.get(f"/manage/vendors/{vendor.id}/numbers", headers={"User-Agent": PHONE})
    client.get("/manage/", headers={"User-Agent": PHONE})
    assert stats.flush(served) == 0


def test_flush_adds_to_the_days_row_and_twice_adds_nothing_more(served, stall):
    vendor, product = stall
    db.session.add(PageView(vendor_id=vendor.id, product_id=product.id, day=today(), count=5))
    db.session.commit()
    client = served.test_client()
    client.get(PRODUCT, headers={"User-Agent": PHONE})
    client.get(PRODUCT, headers={"User-Agent": PHONE})
    assert stats.flush(served) == 2
    assert stats.flush(served) == 0
    assert _views(vendor.id) == {product.id: 7}
    rows = db.session.scalars(select(PageView).where(PageView.vendor_id == vendor.id)).all()
    assert len(rows) == 1


def test_flush_counters_command_and_housekeeping(served, stall):
    vendor, product = stall
    client = served.test_client()
    runner = served.test_cli_runner()
    client.get(PRODUCT, headers={"User-Agent": PHONE})
    result = runner.invoke(args=["flush-counters"])
    assert result.exit_code == 0 and "1 page views added" in result.output
    client.get(STALL, headers={"User-Agent": PHONE})
    result = runner.invoke(args=["collect-garbage"])
    assert result.exit_code == 0 and "1 page views added" in result.output
    assert _views(vendor.id) == {product.id: 1, None: 1}


def test_without_redis_the_process_flushes_its_own_counts(app, monkeypatch):
    with app.app_context():
        stats.store(app).take()
        market = make_market(slug="pasar-pagi")
        vendor = make_vendor(market, slug="amplang-bu-ani")
        client = app.test_client()
        client.get(STALL, headers={"User-Agent": PHONE})
        assert _views(vendor.id) == {}, "not before its time"
        monkeypatch.setattr(stats.store(app), "seconds", 0)
        client.get(STALL, headers={"User-Agent": PHONE})
        assert _views(vendor.id) == {None: 2}


# --- what the stall sees --------------------------------------------------------------------


def _cells(html: str, row: str) -> list[tuple[str, str, str]]:
    cells = r".*?data-views>([^<]*)<.*?data-contacts>([^<]*)<.*?data-sends>([^<]*)<"
    return re.findall(rf'<tr data-row="{row}">' + cells, html, re.S)


def _chart(html: str) -> dict[str, int]:
    return {k: int(v) for k, v in re.findall(r'data-total="(\w+)" data-value="(\d+)"', html)}


@pytest.fixture
def counted(stocked_world):
    """A stall's rows: views, contacts and list sends, some older than 30 days."""
    world = stocked_world
    vendor, product = world.vendor, world.product
    day = today()
    old = day - timedelta(days=30)
    second = make_product(vendor, name="Kerupuk ikan")
    db.session.add_all(
        [
            PageView(vendor_id=vendor.id, product_id=None, day=day, count=11),
            PageView(vendor_id=vendor.id, product_id=product.id, day=day, count=7),
            PageView(vendor_id=vendor.id, product_id=product.id, day=day - timedelta(1), count=2),
            PageView(vendor_id=vendor.id, product_id=product.id, day=old, count=100),
            PageView(vendor_id=vendor.id, product_id=second.id, day=day, count=4),
            ContactClick(vendor_id=vendor.id, product_id=None, day=day, count=3),
            ContactClick(vendor_id=vendor.id, product_id=product.id, day=day, count=5),
            ContactClick(vendor_id=vendor.id, product_id=product.id, day=old, count=50),
            ListSend(vendor_id=vendor.id, product_id=product.id, day=day, count=2),
            ListSend(vendor_id=vendor.id, product_id=second.id, day=day, count=1),
            # Another stall's numbers never show here.
            PageView(vendor_id=world.neighbour.id, product_id=None, day=day, count=999),
        ]
    )
    db.session.commit()
    return world, product, second


@pytest.mark.parametrize("as_", ["volunteer", "vendor"])
def test_numbers_shown_match_the_rows(client, counted, as_):
    world, product, second = counted
    login(client, world.people[as_].login)
    path = f"/manage/vendors/{world.vendor.id}/numbers" if as_ == "volunteer" else "/manage/"
    html = client.get(path).get_data(as_text=True)
    assert _cells(html, "stall") == [("11", "3", "—")]
    assert _cells(html, "product") == [("9", "5", "2"), ("4", "0", "1")]
    assert _cells(html, "total") == [("24", "8", "3")]
    assert html.index(product.name) < html.index(second.name)
    # The chart draws the same totals as the table's last row.
    assert _chart(html) == {"views": 24, "contacts": 8, "sends": 3}
    assert 'role="img"' in html and "<title" in html and "<desc" in html
    assert "24 page views, 8 WhatsApp contacts, 3 shopping lists" not in html  # Indonesian


def test_numbers_in_indonesian_and_english(client, counted):
    world = counted[0]
    login(client, world.people["vendor"].login)
    path = f"/manage/vendors/{world.vendor.id}/numbers"
    indonesian = client.get(path).get_data(as_text=True)
    assert "30 hari terakhir" in indonesian
    english = client.get(path + "?lang=en").get_data(as_text=True)
    assert "What shoppers did in the last 30 days" in english
    assert "24 page views, 8 WhatsApp contacts, 3 shopping lists." in english


def test_only_who_may_edit_the_stall_sees_its_numbers(client, counted):
    world = counted[0]
    login(client, world.people["other_vendor"].login)
    assert client.get(f"/manage/vendors/{world.vendor.id}/numbers").status_code == 404
    # Their own home shows their own stall's numbers only.
    home = client.get("/manage/").get_data(as_text=True)
    assert _cells(home, "stall") == [("999", "0", "—")]
