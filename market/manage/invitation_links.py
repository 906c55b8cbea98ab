"""Invitation and account links as the person who made them sees them.

A raw token is shown only to the person who made it, kept in their session (never in the
database) so that reloading the page still shows the link."""

from flask import current_app, session, url_for

from market.models import LinkPurpose, Vendor
from market.qr import qr_data_uri
from market.services import account_links, invitations

SESSION_KEY = "invitation_links"
ACCOUNT_SESSION_KEY = "account_links"
MAX_LINKS_IN_SESSION = 5
ENDPOINTS = {LinkPurpose.JOIN: "auth.join", LinkPurpose.RESET: "auth.reset"}


def _external(endpoint: str, token: str) -> str:
    public = current_app.config["MARKET_PUBLIC_URL"]
    if public:
        return public + url_for(endpoint, token=token)
    return url_for(endpoint, token=token, _external=True)


def claim_link(token: str) -> str:
    return _external("auth.claim", token)


def _remember(session_key: str, key: str, token: str) -> None:
    """Keep the newest link of each of the last few records this person made links for."""
    links = {k: v for k, v in session.get(session_key, {}).items() if k != key}
    links = dict(list(links.items())[-(MAX_LINKS_IN_SESSION - 1) :])
    links[key] = token
    session[session_key] = links


def _forget(session_key: str, key: str) -> None:
    links = session.get(session_key, {})
    links.pop(key, None)
    session[session_key] = links


def remember_invitation(vendor: Vendor, token: str) -> None:
    _remember(SESSION_KEY, str(vendor.id), token)


def shown_invitation(vendor: Vendor) -> dict | None:
    """The link, its WhatsApp message and QR code, while the link still works; else None
    (and a link that stopped working is forgotten)."""
    token = session.get(SESSION_KEY, {}).get(str(vendor.id))
    if not token:
        return None
    usable = invitations.find_usable(token)
    if usable is None or usable.vendor_id != vendor.id:
        _forget(SESSION_KEY, str(vendor.id))
        return None
    link = claim_link(token)
    return {
        "link": link,
        "whatsapp": invitations.whatsapp_share_url(vendor, link, usable.expires_at),
        "qr": qr_data_uri(link),
        "expires_at": usable.expires_at,
    }


def remember_account_link(key: str, token: str) -> None:
    """`key` names what the link is for: "join-<market id>-<role>" or "reset-<user id>"."""
    _remember(ACCOUNT_SESSION_KEY, key, token)


def shown_account_link(key: str, purpose: LinkPurpose) -> dict | None:
    """As shown_invitation, for a join or reset link."""
    token = session.get(ACCOUNT_SESSION_KEY, {}).get(key)
    if not token:
        return None
    usable = account_links.find_usable(token, purpose)
    if usable is None:
        _forget(ACCOUNT_SESSION_KEY, key)
        return None
    link = _external(ENDPOINTS[purpose], token)
    return {
        "link": link,
        "whatsapp": account_links.whatsapp_share_url(usable, link),
        "qr": qr_data_uri(link),
        "expires_at": usable.expires_at,
    }
