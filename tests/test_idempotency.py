"""Idempotency keys: a form the phone's outbox sends again (the answer was lost on the way, or
two copies left at once) is applied once, and the copy gets the first answer back."""

import io
import threading
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from market.catalogue import views as catalogue_views
from market.extensions import db
from market.models import IdempotencyKey, Photo, Product, Vendor, utcnow
from tests.factories import category, jpeg, make_world
from tests.pages import another_client, csrf_token, log_in_english, reload

pytestmark = pytest.mark.usefixtures("ctx")


def _count(model, *where) -> int:
    reload()
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def _product_form(client, name: str, **extra) -> dict:
    return {
        "csrf_token": csrf_token(client),
        "name": name,
        "price": "Rp 12.000",
        "price_kind": "fixed",
        "availability": "in_stock",
        "categories": [str(category("makanan").id)],
        **extra,
    }


def _send(client, url: str, data: dict, key: str, **options):
    return client.post(
        url,
        data=data,
        headers={"Idempotency-Key": key, **options.pop("headers", {})},
        content_type="multipart/form-data",
        **options,
    )


@pytest.fixture
def world():
    return make_world(stocked=True)


def test_a_replayed_product_with_photos_is_created_once(world, client):
    log_in_english(client, world.people["volunteer"])
    url = f"/manage/vendors/{world.vendor.id}/products/new"
    key = str(uuid.uuid4())
    answers = []
    for _copy in range(2):
        # A file is read once per request: each copy carries its own bytes.
        data = _product_form(client, "Lempeng pisang", photos=[(io.BytesIO(jpeg()), "a.jpg")])
        answers.append(_send(client, url, data, key))
    first, again = answers
    assert first.status_code == 303
    assert again.status_code == 303
    assert again.headers["Location"] == first.headers["Location"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert _count(Product, Product.name == "Lempeng pisang") == 1
    product = db.session.scalar(select(Product).where(Product.name == "Lempeng pisang"))
    assert _count(Photo, Photo.product_id == product.id) == 1
    page = client.get(again.headers["Location"]).get_data(as_text=True)
    assert "This was already sent and saved; it was not saved twice." in page


def test_a_replayed_registration_creates_one_vendor(world, client):
    volunteer = world.people["volunteer"]
    log_in_english(client, volunteer)
    key = uuid.uuid4().hex
    data = {
        "market": world.market.id,
        "business_name": "Kue Lapis Bu Ani",
        "owner_name": "Ani",
        "stall_block": "C",
        "stall_number": "3",
        "whatsapp": "0812 7777 0003",
        "csrf_token": csrf_token(client),
        # The field, for a post the browser makes itself, counts as much as the header.
        "idempotency_key": key,
    }
    first = client.post("/manage/vendors/new", data=data)
    again = client.post("/manage/vendors/new", data=data)
    assert first.status_code == 302
    assert again.headers["Location"] == first.headers["Location"]
    assert _count(Vendor, Vendor.business_name == "Kue Lapis Bu Ani") == 1


def test_a_replayed_stall_photo_is_added_once_and_answers_the_script_in_json(world, client):
    log_in_english(client, world.people["vendor"])
    vendor = world.vendor
    before = _count(Photo, Photo.vendor_id == vendor.id, Photo.product_id.is_(None))
    key = str(uuid.uuid4())
    photo = jpeg(colour=(9, 9, 9))
    answers = [
        _send(
            client,
            f"/manage/vendors/{vendor.id}/photos",
            {"csrf_token": csrf_token(client), "photos": [(io.BytesIO(photo), "s.jpg")]},
            key,
            headers={"Accept": "application/json"},
        )
        for _copy in range(2)
    ]
    assert [a.status_code for a in answers] == [200, 200]
    assert answers[1].headers["Idempotent-Replayed"] == "true"
    assert answers[0].json["location"] == answers[1].json["location"]
    assert answers[0].json["location"].startswith(f"/manage/vendors/{vendor.id}/photos")
    assert _count(Photo, Photo.vendor_id == vendor.id, Photo.product_id.is_(None)) == before + 1


def test_a_refused_form_can_be_sent_again_with_its_key(world, client):
    log_in_english(client, world.people["volunteer"])
    url = f"/manage/vendors/{world.vendor.id}/products/new"
    key = str(uuid.uuid4())
    refused = _send(client, url, _product_form(client, ""), key)
    assert refused.status_code == 422
    assert _count(IdempotencyKey) == 0
    accepted = _send(client, url, _product_form(client, "Nasi kuning"), key)
    assert accepted.status_code == 303
    assert _count(Product, Product.name == "Nasi kuning") == 1


def test_keys_belong_to_their_user(world, client, app):
    log_in_english(client, world.people["volunteer"])
    other = another_client(app)
    log_in_english(other, world.people["vendor"])
    url = f"/manage/vendors/{world.vendor.id}/products/new"
    key = str(uuid.uuid4())
    assert _send(client, url, _product_form(client, "Es pisang ijo"), key).status_code == 303
    answer = _send(other, url, _product_form(other, "Es pisang ijo"), key)
    assert "Idempotent-Replayed" not in answer.headers
    assert _count(Product, Product.name == "Es pisang ijo") == 2


def test_a_malformed_key_is_refused(world, client):
    log_in_english(client, world.people["volunteer"])
    url = f"/manage/vendors/{world.vendor.id}/products/new"
    answer = _send(client, url, _product_form(client, "Soto"), "not a key!")
    assert answer.status_code == 400
    assert _count(Product, Product.name == "Soto") == 0


def test_two_copies_at_the_same_moment_create_one_product(world, app, monkeypatch):
    """The second copy arrives while the first is still being saved: it waits for it (the
    unique key on PostgreSQL, the write lock on SQLite) and then answers as the first did."""
    volunteer = world.people["volunteer"]
    url = f"/manage/vendors/{world.vendor.id}/products/new"
    first_inside = threading.Event()
    create = catalogue_views.create_product

    def slow_create(*args, **kwargs):
        first_inside.set()
        threading.Event().wait(0.5)
        return create(*args, **kwargs)

    monkeypatch.setattr(catalogue_views, "create_product", slow_create)
    clients = [another_client(app), another_client(app)]
    forms = []
    for browser in clients:
        log_in_english(browser, volunteer)
        forms.append(_product_form(browser, "Bingka kentang"))
    key = str(uuid.uuid4())
    answers = [None, None]

    def send(index: int) -> None:
        answers[index] = _send(clients[index], url, forms[index], key)

    first = threading.Thread(target=send, args=(0,))
    first.start()
    assert first_inside.wait(10)
    second = threading.Thread(target=send, args=(1,))
    second.start()
    first.join(20)
    second.join(20)
    assert [a.status_code for a in answers] == [303, 303]
    assert answers[1].headers["Location"] == answers[0].headers["Location"]
    assert answers[1].headers["Idempotent-Replayed"] == "true"
    assert _count(Product, Product.name == "Bingka kentang") == 1


def _unanswered_claim(world, key: str, url: str, age: timedelta) -> None:
    """What a request leaves when it dies after its claim was committed and before it answered
    (photo decoding ends the transaction early): a key with no outcome."""
    user_id = world.people["volunteer"].id
    reload()
    db.session.add(IdempotencyKey(user_id=user_id, key=key, path=url, created_at=utcnow() - age))
    db.session.commit()


def test_a_copy_of_a_request_still_running_is_asked_to_come_back_not_told_it_was_saved(
    world, client, monkeypatch
):
    # The copy waits a moment for the first answer before it gives up on it.
    monkeypatch.setattr("market.idempotency.OUTCOME_WAIT_SECONDS", 0.3)
    log_in_english(client, world.people["volunteer"])
    url = f"/manage/vendors/{world.vendor.id}/products/new"
    key = uuid.uuid4().hex
    _unanswered_claim(world, key, url, timedelta(seconds=1))
    answer = _send(client, url, _product_form(client, "Pisang goreng"), key)
    assert answer.status_code == 409
    assert answer.headers["Retry-After"]
    assert "Idempotent-Replayed" not in answer.headers
    assert _count(Product, Product.name == "Pisang goreng") == 0


def test_a_claim_left_by_a_request_that_died_does_not_stop_the_next_copy(world, client):
    log_in_english(client, world.people["volunteer"])
    url = f"/manage/vendors/{world.vendor.id}/products/new"
    key = uuid.uuid4().hex
    _unanswered_claim(world, key, url, timedelta(minutes=5))
    answer = _send(client, url, _product_form(client, "Pisang goreng"), key)
    assert answer.status_code == 303
    assert _count(Product, Product.name == "Pisang goreng") == 1
    assert _count(IdempotencyKey, IdempotencyKey.key == key) == 1


def test_a_key_used_again_on_another_form_is_refused(world, client):
    log_in_english(client, world.people["volunteer"])
    key = uuid.uuid4().hex
    first_url = f"/manage/vendors/{world.vendor.id}/products/new"
    assert _send(client, first_url, _product_form(client, "Pisang goreng"), key).status_code == 303
    other_url = f"/manage/vendors/{world.neighbour.id}/products/new"
    again = _send(client, other_url, _product_form(client, "Bingka"), key)
    assert again.status_code == 422
    assert _count(Product, Product.name == "Bingka") == 0


def test_photos_the_storage_could_not_take_are_not_recorded_as_saved(world, client, app):
    log_in_english(client, world.people["volunteer"])
    url = f"/manage/products/{world.product.id}/photos"
    key = uuid.uuid4().hex
    storage = app.extensions["market_storage"]
    before = _count(Photo, Photo.product_id == world.product.id)

    def full_disk(*_args, **_kwargs):
        raise OSError("disk full")

    def photo_form():
        return {"csrf_token": csrf_token(client), "photos": [(io.BytesIO(jpeg()), "b.jpg")]}

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(storage, "save", full_disk)
        refused = _send(client, url, photo_form(), key)
    # The phone's outbox keeps an item answered 503 and sends it again later.
    assert refused.status_code == 503
    assert refused.headers["Retry-After"]
    assert "could not store the photo" in refused.get_data(as_text=True)
    assert _count(IdempotencyKey, IdempotencyKey.key == key) == 0
    again = _send(client, url, photo_form(), key)
    assert again.status_code == 303
    assert "Idempotent-Replayed" not in again.headers
    assert _count(Photo, Photo.product_id == world.product.id) == before + 1
