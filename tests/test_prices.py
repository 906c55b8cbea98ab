"""Rupiah prices: what vendors and volunteers type, and how prices are printed."""

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from market.services.prices import MAX_PRICE_IDR, PriceRejected, format_rupiah, parse_price

UNREADABLE = "Enter the price in rupiah, for example 25.000."
FRACTIONAL = "Enter the price in whole rupiah, without cents."
NEGATIVE = "A price cannot be negative."
TOO_HIGH = "That price is too high: the most is Rp1.000.000.000."

amounts = st.integers(min_value=0, max_value=MAX_PRICE_IDR)


def with_dots(amount: int) -> str:
    return f"{amount:,}".replace(",", ".")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("25000", 25_000),
        ("25.000", 25_000),
        ("Rp 25.000", 25_000),
        ("Rp25.000", 25_000),
        ("Rp25.000,-", 25_000),
        ("Rp 25.000,-", 25_000),
        ("Rp. 25.000,-", 25_000),
        ("Rp 25.000.-", 25_000),
        ("rp. 25.000", 25_000),
        ("RP 25.000", 25_000),
        ("IDR 25,000", 25_000),
        ("IDR 25.000", 25_000),
        ("25.000,00", 25_000),
        ("Rp 25.000,00", 25_000),
        ("25,000.00", 25_000),
        ("1.500.000", 1_500_000),
        ("1,500,000", 1_500_000),
        ("1 500 000", 1_500_000),
        ("  15000  ", 15_000),
        ("25rb", 25_000),
        ("25 rb", 25_000),
        ("25 ribu", 25_000),
        ("25RB", 25_000),
        ("25k", 25_000),
        ("2,5rb", 2_500),
        ("1,5jt", 1_500_000),
        ("1.5 juta", 1_500_000),
        ("1 juta", 1_000_000),
        ("Rp 1,5 jt", 1_500_000),
        ("1.250rb", 1_250_000),
        ("0", 0),
        ("Rp0", 0),
        ("000", 0),
        ("Rp 1.000.000.000", MAX_PRICE_IDR),
        ("1000jt", MAX_PRICE_IDR),
        ("１２.０００", 12_000),  # full-width digits from some phone keyboards
        ("25,00", 25),
        ("", None),
        ("   ", None),
        (None, None),
    ],
)
def test_examples(raw, expected):
    assert parse_price(raw) == expected


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("25,5", FRACTIONAL),
        ("25.000,50", FRACTIONAL),
        ("25.50", FRACTIONAL),
        ("1,2345rb", FRACTIONAL),
        ("0,5", FRACTIONAL),
        ("-25000", NEGATIVE),
        ("-25.000", NEGATIVE),
        ("Rp -25.000", NEGATIVE),
        ("-Rp 25.000", NEGATIVE),
        ("\u221225.000", NEGATIVE),  # the typographic minus sign
        ("-5rb", NEGATIVE),
        ("-0", NEGATIVE),
        ("abc", UNREADABLE),
        ("Rp", UNREADABLE),
        ("gratis", UNREADABLE),
        ("25.000 per pcs", UNREADABLE),
        ("25.00.000", UNREADABLE),
        ("25..000", UNREADABLE),
        ("1.500.000rb", UNREADABLE),
        ("1e6", UNREADABLE),
        ("0x10", UNREADABLE),
        ("٢٥٠٠٠", UNREADABLE),  # Arabic-Indic digits that int() would accept
        ("25_000", UNREADABLE),
        ("9" * 5000, UNREADABLE),
        ("1.000.000.001", TOO_HIGH),
        ("Rp 2.000.000.000", TOO_HIGH),
        ("1,1 juta juta", UNREADABLE),
        ("1001jt", TOO_HIGH),
        ("99999999999999999999", TOO_HIGH),
    ],
)
def test_refusals(raw, message):
    with pytest.raises(PriceRejected) as caught:
        parse_price(raw)
    assert str(caught.value) == message
    assert isinstance(caught.value, ValueError)


def test_messages_are_lazy_translations():
    with pytest.raises(PriceRejected) as caught:
        parse_price("abc")
    assert type(caught.value.message).__name__ == "LazyString"


@pytest.mark.parametrize(
    ("amount", "text"),
    [
        (0, "Rp0"),
        (5, "Rp5"),
        (999, "Rp999"),
        (1_000, "Rp1.000"),
        (25_000, "Rp25.000"),
        (1_500_000, "Rp1.500.000"),
        (MAX_PRICE_IDR, "Rp1.000.000.000"),
    ],
)
def test_format_rupiah(amount, text):
    assert format_rupiah(amount) == text


@given(
    amount=amounts,
    prefix=st.sampled_from(["", "Rp", "Rp ", "Rp. ", "rp", "IDR "]),
    suffix=st.sampled_from(["", ",-", ",00", " ,-"]),
)
@example(amount=0, prefix="Rp ", suffix=",-")
@example(amount=MAX_PRICE_IDR, prefix="Rp ", suffix=",-")
def test_dotted_amounts_parse_back(amount, prefix, suffix):
    assert parse_price(f"{prefix}{with_dots(amount)}{suffix}") == amount
    assert parse_price(f"{prefix}{amount}{suffix}") == amount


@given(amounts)
def test_formatted_amounts_parse_back(amount):
    text = format_rupiah(amount)
    assert text.startswith("Rp") and " " not in text and "," not in text
    assert parse_price(text) == amount


@given(
    amount=st.integers(min_value=0, max_value=10**15),
    form=st.sampled_from(["-{}", "- {}", "-Rp{}", "Rp -{}", "Rp-{}", "\u2212{}", "-{},-"]),
)
def test_negative_amounts_are_always_refused(amount, form):
    with pytest.raises(PriceRejected) as caught:
        parse_price(form.format(with_dots(amount)))
    assert str(caught.value) == NEGATIVE


@given(st.integers(min_value=MAX_PRICE_IDR + 1, max_value=10**30))
def test_absurd_amounts_are_refused(amount):
    with pytest.raises(PriceRejected):
        parse_price(with_dots(amount))


PRICE_ALPHABET = st.sampled_from(
    [*"0123456789.,- \u2212", "Rp", "rb", "jt", "ribu", "k", "IDR", ",-"]
)


@given(st.one_of(st.text(), st.lists(PRICE_ALPHABET, max_size=12).map("".join)))
def test_any_text_gives_an_amount_none_or_a_clear_refusal(text):
    try:
        result = parse_price(text)
    except PriceRejected as refused:
        assert str(refused) in (UNREADABLE, FRACTIONAL, NEGATIVE, TOO_HIGH)
    else:
        assert result is None or (isinstance(result, int) and 0 <= result <= MAX_PRICE_IDR)
        if result is None:
            assert not text.strip()
