"""The base of every form (market.forms): ids that stay unique on pages with several forms, and
WTForms' own messages in the visitor's language when a form is tampered with."""

import re
from collections import Counter

import pytest

from market.extensions import db
from market.models import Product
from tests.factories import make_world
from tests.pages import csrf_token, login, post_new_product, reload


def _duplicate_ids(page: str) -> list[str]:
    ids = Counter(re.findall(r'\sid="([^"]+)"', page))
    return [i for i, n in ids.items() if n > 1]


def test_pages_with_several_forms_have_unique_ids(client):
    world = make_world(stocked=True)
    vendor, product = world.vendor, world.product
    assert login(client, world.people["volunteer"].login).status_code == 302
    pages = (
        f"/manage/products/{product.id}/edit",
        f"/manage/vendors/{vendor.id}",
        f"/manage/vendors/{vendor.id}/consent",
        f"/manage/vendors/{vendor.id}/photos",
        f"/manage/vendors/{vendor.id}/products",
    )
    for path in pages:
        response = client.get(path)
        assert response.status_code == 200, path
        assert _duplicate_ids(response.get_data(as_text=True)) == [], path


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("price_kind", "bogus", "Pilihan ini tidak tersedia."),
        ("availability", "gone", "Pilihan ini tidak tersedia."),
        ("categories", "999999", "Pilih hanya dari pilihan yang ditampilkan."),
        ("categories", "abc", "Pilih hanya dari pilihan yang ditampilkan."),
    ],
)
def test_a_tampered_choice_gets_an_indonesian_message(client, field, value, message):
    world = make_world(stocked=True)
    response = post_new_product(client, world, {"name": "Amplang", "price": "5000", field: value})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in page
    assert "valid choice" not in page and "coerce" not in page
    reload()
    assert db.session.query(Product).count() == 1


def test_a_tampered_market_choice_gets_an_indonesian_message(client):
    world = make_world(stocked=True)
    assert login(client, world.people["volunteer"].login).status_code == 302
    url = "/manage/vendors/new"
    response = client.post(
        url,
        data={"csrf_token": csrf_token(client, url), "market": "abc", "business_name": "Toko"},
    )
    page = response.get_data(as_text=True)
    assert "Pilihan ini tidak tersedia." in page
    assert "coerce" not in page
