"""WhatsApp: numbers written the way Indonesians write them, and the wa.me links that open a
chat with the message already typed (a shopper's question, a volunteer's invitation)."""

from urllib.parse import quote

import phonenumbers


def display_phone(e164: str) -> str:
    """+6281234567890 → 0812-3456-7890, the way Indonesians write it; foreign numbers keep
    their country code."""
    try:
        number = phonenumbers.parse(e164, "ID")
    except phonenumbers.NumberParseException:
        return e164
    style = (
        phonenumbers.PhoneNumberFormat.NATIONAL
        if number.country_code == 62
        else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    return phonenumbers.format_number(number, style)


def chat_link(number: str | None, message: str) -> str:
    """The wa.me link to a chat with ``number`` (E.164), ``message`` typed in; without a number
    WhatsApp asks whom to send it to."""
    digits = "".join(ch for ch in number or "" if ch.isdigit())
    return f"https://wa.me/{digits}?text={quote(message, safe='')}"
