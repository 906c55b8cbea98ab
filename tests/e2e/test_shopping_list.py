"""A shopper on a small phone, with JavaScript off, gathers goods from three stalls into one
shopping list and sends each stall its order: three wa.me messages, each with that stall's
items, quantities, prices and links. In Indonesian and in English."""

from urllib.parse import parse_qs, urlsplit

import pytest

from tests.e2e.browser import PHONE, check_page, new_page

pytestmark = pytest.mark.e2e

SMALL_PHONE = {**PHONE, "viewport": {"width": 360, "height": 740}}
MARKET = "/pasar/pasar-inpres-kebun-sayur/"
WORDS = {
    "id": {
        "add": "Tambah ke daftar belanja",
        "quantity": "Jumlah",
        "item": "Barang",
        "send": "Kirim pesanan ini lewat WhatsApp",
        "greeting": "Halo {vendor}, saya mau pesan",
    },
    "en": {
        "add": "Add to my list",
        "quantity": "Quantity",
        "item": "Item",
        "send": "Send this order on WhatsApp",
        "greeting": "Hello {vendor}, I would like to order",
    },
}


def _open_stall(page, name: str) -> None:
    page.goto(MARKET)
    page.locator(".cards.stalls a", has_text=name).first.click()
    assert page.locator("h1").inner_text() == name


def _sent_message(page, words, stall: str) -> tuple[str, str]:
    section = page.locator("section.stall-order", has_text=stall)
    with page.expect_request(lambda request: request.url.startswith("https://wa.me/")) as sent:
        section.get_by_role("button", name=words["send"]).click()
    parts = urlsplit(sent.value.url)
    (text,) = parse_qs(parts.query)["text"]
    return parts.path.strip("/"), text


@pytest.mark.parametrize("lang", ["id", "en"])
def test_a_shopper_without_javascript_orders_from_three_stalls(browser, base_url, lang):
    words = WORDS[lang]
    page = new_page(
        browser, base_url, SMALL_PHONE, locale="id-ID", java_script_enabled=False
    )
    try:
        page.goto(f"{MARKET}?lang={lang}")
        # From a product page: two bracelets.
        _open_stall(page, "Manik Dayak Bu Sri")
        page.locator(".cards a", has_text="Gelang manik motif burung enggang").first.click()
        page.get_by_label(words["quantity"]).fill("2")
        page.get_by_role("button", name=words["add"]).click()
        assert page.url.split("?")[0].endswith(f"{MARKET}daftar/")
        # From a stall page: three packs of amplang, chosen from the stall's goods.
        _open_stall(page, "Amplang Kepiting Pak Udin")
        page.get_by_label(words["item"]).select_option(label="Amplang kepiting 250 g · Rp45.000")
        page.get_by_label(words["quantity"]).fill("3")
        page.get_by_role("button", name=words["add"]).click()
        # And one batik cloth, priced "from".
        _open_stall(page, "Batik & Sarung Borneo Indah")
        page.locator(".cards a", has_text="Kain batik motif Dayak 2 m").first.click()
        page.get_by_role("button", name=words["add"]).click()

        page.reload()  # the list lives in the browser: it survives a reload
        assert page.locator("section.stall-order h2 a").all_inner_texts() == [
            "Manik Dayak Bu Sri",
            "Amplang Kepiting Pak Udin",
            "Batik & Sarung Borneo Indah",
        ]
        check_page(page, f"shopping-list-phone-{lang}")

        number, text = _sent_message(page, words, "Manik Dayak Bu Sri")
        assert number == "6281200000001"
        assert text.startswith(words["greeting"].format(vendor="Manik Dayak Bu Sri"))
        assert "- 2 × Gelang manik motif burung enggang (Rp25.000)" in text
        assert "Rp50.000" in text and "Amplang" not in text
        assert f"{base_url}{MARKET}lapak/" in text

        page.goto(f"{MARKET}daftar/")
        _number, text = _sent_message(page, words, "Amplang Kepiting Pak Udin")
        assert "- 3 × Amplang kepiting 250 g (Rp45.000)" in text
        assert "Rp135.000" in text and "Gelang" not in text

        page.goto(f"{MARKET}daftar/")
        number, text = _sent_message(page, words, "Batik & Sarung Borneo Indah")
        assert number == "6281200000003"
        starting = "mulai Rp150.000" if lang == "id" else "from Rp150.000"
        assert f"- 1 × Kain batik motif Dayak 2 m ({starting})" in text
    finally:
        page.context.close()
