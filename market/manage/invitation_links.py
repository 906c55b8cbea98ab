"""Invitation links as the volunteer who made them sees them.

A raw invitation token is shown only to the volunteer who made it, kept in their session (never
in the database) so that reloading the page still shows the link."""

from flask import current_app, session, url_for

from market.models import Vendor
from market.qr import qr_data_uri
from market.services import invitations

SESSION_KEY = "invitation_links"
MAX_LINKS_IN_SESSION = 5


def claim_link(token: str) -> str:
    public = current_app.config["MARKET_PUBLIC_URL"]
    if public:
        return public + url_for("auth.claim", token=token)
    return url_for("auth.claim", token=token, _external=True)


def remember_invitation(vendor: Vendor, token: str) -> None:
    """Keep the newest link of each of the last few vendors this person invited."""
    links = {
        key: value for key, value in session.get(SESSION_KEY, {}).items() if key != str(vendor.id)
    }
    links = dict(list(links.items())[-(MAX_LINKS_IN_SESSION - 1) :])
    links[str(vendor.id)] = token
    session[SESSION_KEY] = links


def shown_invitation(vendor: Vendor) -> dict | None:
    """The link, its WhatsApp message and QR code, while the link still works; else None
    (and a link that stopped working is forgotten)."""
    links = session.get(SESSION_KEY, {})
    token = links.get(str(vendor.id))
    if not token:
        return None
    usable = invitations.find_usable(token)
    if usable is None or usable.vendor_id != vendor.id:
        links.pop(str(vendor.id), None)
        session[SESSION_KEY] = links
        return None
    link = claim_link(token)
    return {
        "link": link,
        "whatsapp": invitations.whatsapp_share_url(vendor, link, usable.expires_at),
        "qr": qr_data_uri(link),
    }
