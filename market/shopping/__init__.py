"""The shopper's list: goods gathered across a market's stalls, sent as one WhatsApp order per
stall."""
