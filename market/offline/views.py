"""The back office as an installable, offline-capable web app: the manifest, the service worker
(served here so that its scope is /manage/), the page it shows offline, and the two things the
browser side relies on: the user key on every back-office page (drafts, outbox and cached pages
belong to one user) and a JSON answer instead of a redirect for the posts it sends itself."""

import hashlib
import hmac

from flask import (
    Blueprint,
    Response,
    current_app,
    json,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required

from market.models import User
from market.web import static_digest

bp = Blueprint("offline", __name__, url_prefix="/manage")

SCOPE = "/manage/"
USER_HEADER = "X-Pasar-User"
THEME_COLOUR = "#9a3412"
# Loaded by the service worker with importScripts, in this order (Workbox modules need core).
WORKER_IMPORTS = (
    "vendor/workbox-core.js",
    "vendor/workbox-routing.js",
    "vendor/workbox-strategies.js",
    "vendor/workbox-expiration.js",
    "vendor/idb-keyval.js",
    "js/outbox.js",
)
# Kept by the service worker from its installation on: what every back-office page needs.
SHELL = ("css/app.css", "vendor/idb-keyval.js", "js/outbox.js", "js/offline.js")
ICONS = (
    ("icons/app-192.png", "192x192", "any"),
    ("icons/app-512.png", "512x512", "any"),
    ("icons/app-maskable-512.png", "512x512", "maskable"),
)


def user_key(user: User) -> str:
    """An opaque name for a user and their session version: what the phone files the user's
    drafts, outbox and cached pages under. Logging out everywhere starts a new one."""
    secret = current_app.config["SECRET_KEY"]
    secret = secret.encode() if isinstance(secret, str) else secret
    message = f"offline:{user.id}:{user.session_version}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()[:24]


def in_back_office() -> bool:
    return request.path.startswith(SCOPE) and current_user.is_authenticated


@bp.app_context_processor
def _offline_globals() -> dict:
    return {"offline_user": user_key(current_user) if in_back_office() else None}


@bp.after_app_request
def _offline_headers(response: Response) -> Response:
    if not current_user.is_authenticated:
        # Anonymous answers are never tied to a user, so the service worker never caches them;
        # and a post of a logged-out phone keeps its redirect to the login page.
        return response
    if request.path.startswith(SCOPE) and not response.cache_control.public:
        response.headers[USER_HEADER] = user_key(current_user)
    if (
        request.method == "POST"
        and response.status_code in (301, 302, 303, 307, 308)
        and request.accept_mimetypes.best == "application/json"
    ):
        # A script that follows the redirect itself would use up the messages flashed for the
        # next page; it is told where to go instead.
        location = response.location
        response.status_code = 200
        response.set_data(json.dumps({"location": location}))
        response.mimetype = "application/json"
        del response.headers["Location"]
    return response


@bp.get("/manifest.webmanifest")
def manifest():
    body = {
        "id": SCOPE,
        "name": "Pasar",
        "short_name": _("Manage Pasar"),
        "description": _("Register market stalls and their goods, even without signal."),
        "lang": str(get_locale()),
        "start_url": url_for("manage.home"),
        "scope": SCOPE,
        "display": "standalone",
        "orientation": "portrait",
        "theme_color": THEME_COLOUR,
        "background_color": "#fdf8f1",
        "icons": [
            {
                "src": static_digest.static_url_for("static", filename=name),
                "sizes": sizes,
                "type": "image/png",
                "purpose": purpose,
            }
            for name, sizes, purpose in ICONS
        ],
    }
    response = Response(json.dumps(body), mimetype="application/manifest+json")
    response.cache_control.max_age = 3600
    response.cache_control.public = True
    return response


@bp.get("/sw.js")
def service_worker():
    def static(name: str) -> str:
        return static_digest.static_url_for("static", filename=name)

    shell = [static(name) for name in SHELL]
    body = render_template(
        "offline/sw.js",
        imports=[static(name) for name in WORKER_IMPORTS],
        shell=shell,
        # A new shell (a changed file) gets a new cache; the old one is dropped on activation.
        shell_version=hashlib.sha256(" ".join(shell).encode()).hexdigest()[:12],
        offline_url=url_for(".offline_page"),
        scope=SCOPE,
        user_header=USER_HEADER,
    )
    response = Response(body, mimetype="text/javascript")
    # The browser checks for a new worker on every visit; the fingerprinted imports in it
    # change its bytes whenever one of them changes.
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Service-Worker-Allowed"] = SCOPE
    return response


@bp.get("/offline")
def offline_page():
    """What the service worker shows for a back-office page this phone has not kept. Fetched
    without cookies when the worker installs, so it holds nobody's data."""
    return render_template("offline/offline.html", title=_("No signal"))


@bp.get("/logout")
@login_required
def logout():
    """Logging out from outside the back office: here the phone's outbox is checked first."""
    return render_template("offline/logout.html")
