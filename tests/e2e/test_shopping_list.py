"""A shopper on a small phone gathers goods from three stalls into one shopping list, changes a
quantity, removes an item and sends each stall its order: three wa.me messages, each with that
stall's items and quantities and nothing of the others. With JavaScript off and on, in
Indonesian and in English.

wa.me is answered by a stand-in (page.route): the tests never wait for another site."""

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

from tests.e2e.browser import PHONE, check_page, new_page

SMALL_PHONE = {**PHONE, "viewport": {"width": 360, "height": 740}}
MARKET = "/pasar/pasar-inpres-kebun-sayur/"
BEADS, CRACKERS, CLOTH = (
    "Manik Dayak Bu Sri",
    "Amplang Kepiting Pak Udin",
    "Batik & Sarung Borneo Indah",
)
WORDS = {
    "id": {
        "add": "Tambah ke daftar belanja",
        "quantity": "Jumlah",
        "item": "Barang",
        "save": "Simpan jumlah",
        "remove": "Keluarkan",
        "send": "Kirim pesanan ini lewat WhatsApp",
        "clear": "Kosongkan daftar",
        "greeting": "Halo {vendor}, saya mau pesan",
        "from": "mulai",
        "negotiable": "nego",
        "subtotal": "Subtotal Rp{total}",
        "at least": "Subtotal, paling sedikit Rp{total}",
        "total": "Total Rp{total}.",
        "total at least": "Total paling sedikit Rp{total};",
        "empty": "Daftar Anda kosong",
        "priced": ("(Mulai Rp150.000)", "(Rp85.000, nego)"),
    },
    "en": {
        "add": "Add to my list",
        "quantity": "Quantity",
        "item": "Item",
        "save": "Save quantities",
        "remove": "Remove",
        "send": "Send this order on WhatsApp",
        "clear": "Clear the list",
        "greeting": "Hello {vendor}, I would like to order",
        "from": "from",
        "negotiable": "negotiable",
        "subtotal": "Subtotal Rp{total}",
        "at least": "Subtotal, at least Rp{total}",
        "total": "Total Rp{total}.",
        "total at least": "Total at least Rp{total};",
        "empty": "Your list is empty",
        "priced": ("(from Rp150.000)", "(Rp85.000, negotiable)"),
    },
}
ITEM_LINE = re.compile(r"^- (\d+) × (.+) \(.*\)$")


def _phone(browser, base_url, *, scripts: bool):
    page = new_page(browser, base_url, SMALL_PHONE, locale="id-ID", java_script_enabled=scripts)
    # Short and explicit: a step that cannot happen fails in seconds, not minutes.
    page.set_default_timeout(10_000)
    sent: list[str] = []

    def stand_in(route):
        sent.append(route.request.url)
        route.fulfill(content_type="text/html", body="<!doctype html><title>WhatsApp</title>")

    page.route("https://wa.me/**", stand_in)
    return page, sent


def _open_stall(page, name: str) -> None:
    page.goto(MARKET)
    page.locator(".cards.stalls a", has_text=name).first.click()
    expect(page.locator("h1")).to_have_text(name)


def _add_from_product_page(page, words, stall: str, product: str, quantity: int) -> None:
    _open_stall(page, stall)
    page.locator(".cards a", has_text=product).first.click()
    # The stall page has a quantity field too: fill the product page's, once it is there.
    expect(page.locator("h1")).to_have_text(product)
    page.get_by_label(words["quantity"]).fill(str(quantity))
    page.get_by_role("button", name=words["add"]).click()
    page.wait_for_url(re.compile(rf"{MARKET}daftar/\?ditambah="))


def _add_from_stall_page(page, words, stall: str, product: str, quantity: int) -> None:
    _open_stall(page, stall)
    choice = page.locator("#list-product option", has_text=product)
    page.get_by_label(words["item"]).select_option(choice.get_attribute("value"))
    page.get_by_label(words["quantity"]).fill(str(quantity))
    page.get_by_role("button", name=words["add"]).click()
    page.wait_for_url(re.compile(rf"{MARKET}daftar/\?ditambah="))


def _stall(page, name: str):
    return page.locator("section.stall-order", has_text=name)


def _send(page, sent: list[str], words, stall: str) -> tuple[str, str]:
    """Press a stall's send button; the wa.me number and text it led to."""
    before = len(sent)
    _stall(page, stall).get_by_role("button", name=words["send"]).click()
    page.wait_for_url("https://wa.me/**")
    assert len(sent) == before + 1
    parts = urlsplit(sent[-1])
    (text,) = parse_qs(parts.query)["text"]
    page.goto(f"{MARKET}daftar/")
    return parts.path.strip("/"), text


def _items(text: str) -> dict[str, int]:
    found = [ITEM_LINE.match(line) for line in text.splitlines()]
    return {m[2]: int(m[1]) for m in found if m}


def _fill_the_list(page, words) -> None:
    _add_from_product_page(page, words, BEADS, "Gantungan kunci manik", 2)
    _add_from_stall_page(page, words, CRACKERS, "Kerupuk ikan pipih 500 g", 3)
    _add_from_stall_page(page, words, CRACKERS, "Stik ikan pedas", 1)
    _add_from_product_page(page, words, CLOTH, "Kain batik motif Dayak 2 m", 1)
    _add_from_stall_page(page, words, CLOTH, "Selendang batik", 1)


@pytest.mark.parametrize("lang", ["id", "en"])
def test_without_javascript_a_shopper_orders_from_three_stalls(browser, base_url, lang):
    words = WORDS[lang]
    page, sent = _phone(browser, base_url, scripts=False)
    try:
        page.goto(f"{MARKET}?lang={lang}")
        _fill_the_list(page, words)

        # Grouped by stall, in the order the stalls were first added, with their subtotals.
        assert page.locator("section.stall-order h2 a").all_inner_texts() == [
            BEADS,
            CRACKERS,
            CLOTH,
        ]
        assert words["subtotal"].format(total="30.000") in _stall(page, BEADS).inner_text()
        assert words["subtotal"].format(total="140.000") in _stall(page, CRACKERS).inner_text()
        cloth = _stall(page, CLOTH)
        assert words["at least"].format(total="235.000") in cloth.inner_text()
        sums = cloth.locator(".line-sum").all_inner_texts()
        assert sums == [
            f"Rp150.000 ({words['from']})",
            f"Rp85.000 ({words['negotiable']})",
        ]
        # A badge is as wide as its word, not a bar across the line.
        badge = cloth.locator(".line-name .badge").bounding_box()
        assert badge["width"] < cloth.locator(".line-name").last.bounding_box()["width"] / 2
        check_page(page, f"shopping-list-phone-{lang}")

        # Five packs of crackers instead of three, and no spicy sticks after all.
        crackers = _stall(page, CRACKERS)
        crackers.get_by_label(words["quantity"]).first.fill("5")
        crackers.get_by_role("button", name=words["save"], exact=True).click()
        expect(crackers).to_contain_text(words["subtotal"].format(total="220.000"))
        crackers.get_by_role("button", name=f"{words['remove']} Stik ikan pedas").click()
        expect(page.locator("main")).not_to_contain_text("Stik ikan pedas")
        assert page.locator("section.stall-order h2 a").all_inner_texts() == [
            BEADS,
            CRACKERS,
            CLOTH,
        ]
        assert "Stik ikan pedas" not in page.locator("main").inner_text()
        assert words["subtotal"].format(total="200.000") in _stall(page, CRACKERS).inner_text()

        number, text = _send(page, sent, words, BEADS)
        assert number == "6281200000001"
        assert text.startswith(words["greeting"].format(vendor=BEADS))
        assert _items(text) == {"Gantungan kunci manik": 2}
        assert words["total"].format(total="30.000") in text
        assert f"{base_url}{MARKET}lapak/" in text

        number, text = _send(page, sent, words, CRACKERS)
        assert number == "6281200000002"
        assert _items(text) == {"Kerupuk ikan pipih 500 g": 5}
        assert words["total"].format(total="200.000") in text

        number, text = _send(page, sent, words, CLOTH)
        assert number == "6281200000003"
        assert _items(text) == {"Kain batik motif Dayak 2 m": 1, "Selendang batik": 1}
        assert words["total at least"].format(total="235.000") in text
        assert all(price in text for price in words["priced"])

        # Sending keeps the list; it lives in the browser and survives a reload.
        page.reload()
        assert page.locator("section.stall-order").count() == 3
        page.get_by_role("button", name=words["clear"]).click()
        # Clearing is a form post and a redirect: wait for the page it lands on.
        expect(page.locator(".empty")).to_contain_text(words["empty"])
        assert page.locator("section.stall-order").count() == 0
        assert page.locator(".empty").inner_text().startswith(words["empty"])
        check_page(page, f"shopping-list-empty-phone-{lang}")
    finally:
        page.context.close()


def test_with_javascript_the_list_survives_a_reload_and_sends_each_stall(browser, base_url):
    words = WORDS["id"]
    page, sent = _phone(browser, base_url, scripts=True)
    try:
        page.goto(f"{MARKET}?lang=id")
        _add_from_product_page(page, words, BEADS, "Gantungan kunci manik", 2)
        _add_from_stall_page(page, words, CRACKERS, "Kerupuk ikan pipih 500 g", 3)
        page.reload()
        assert page.locator("section.stall-order h2 a").all_inner_texts() == [BEADS, CRACKERS]
        check_page(page, "shopping-list-phone-js")

        crackers = _stall(page, CRACKERS)
        crackers.get_by_label(words["quantity"]).fill("4")
        # The send button takes the quantity as typed, without saving first.
        number, text = _send(page, sent, words, CRACKERS)
        assert number == "6281200000002"
        assert _items(text) == {"Kerupuk ikan pipih 500 g": 4}
        _number, text = _send(page, sent, words, BEADS)
        assert _items(text) == {"Gantungan kunci manik": 2}

        page.get_by_role("button", name=words["clear"]).click()
        # Reloading before the post's redirect has landed would reload the old list.
        expect(page.locator(".empty")).to_contain_text(words["empty"])
        page.reload()
        assert page.locator("section.stall-order").count() == 0
        assert page.locator(".empty").inner_text().startswith(words["empty"])
    finally:
        page.context.close()
