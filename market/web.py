"""HTTP concerns shared by all blueprints: language, security headers, error pages, files."""

import logging
import re
from pathlib import Path
from urllib.parse import urljoin

from flask import (
    Flask,
    Response,
    abort,
    current_app,
    g,
    has_request_context,
    jsonify,
    render_template,
    request,
    url_for,
)
from flask.globals import request_ctx
from flask_login import current_user
from flask_static_digest import FlaskStaticDigest
from sqlalchemy.exc import DBAPIError, OperationalError
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Request
from whitenoise import WhiteNoise

from market import text
from market.extensions import db, login_manager, write_intent
from market.models import Photo
from market.services.imaging import DecodeBudget
from market.storage import storage_from_url

LOCALES = ("id", "en")
LANGUAGE_COOKIE = "lang"
STATIC_DIR = Path(__file__).resolve().parent / "static"
# Files named with an MD5 by Flask-Static-Digest never change, so browsers may keep them forever.
FINGERPRINTED = re.compile(r"-[0-9a-f]{32}\.\w+(\.gz|\.br)?$")
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Far beyond any listing, and small enough that the offset it makes fits every database.
MAX_PAGE = 100_000
# PostgreSQL's read_only_sql_transaction: a standby, or default_transaction_read_only.
READ_ONLY_SQLSTATE = "25006"
RETRY_AFTER_SECONDS = 60
API_PREFIX = "/api/"

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        # No third-party images: a vlog's poster is drawn locally (privacy before the tap).
        "img-src 'self' data:",
        "frame-src https://www.youtube-nocookie.com",
        "connect-src 'self'",
        "font-src 'none'",
        "object-src 'none'",
        "base-uri 'none'",
        # The WhatsApp buttons post to us and are redirected to wa.me, then api.whatsapp.com;
        # Chrome checks form-action on those redirects too.
        "form-action 'self' https://wa.me https://api.whatsapp.com",
        "frame-ancestors 'none'",
    ]
)

static_digest = FlaskStaticDigest()
log = logging.getLogger("market.web")


def baseline_headers(production: bool) -> dict[str, str]:
    """The security headers of every response: pages, JSON, files, and WhiteNoise's static
    files, which never pass through Flask."""
    headers = {
        "Content-Security-Policy": CONTENT_SECURITY_POLICY,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "strict-origin-when-cross-origin",
        "X-Frame-Options": "DENY",
        "Permissions-Policy": "geolocation=(), microphone=(), camera=(self)",
        "Cross-Origin-Opener-Policy": "same-origin",
    }
    if production:
        headers["Strict-Transport-Security"] = "max-age=63072000; includeSubDomains"
    return headers


def _shadows_url_arguments(name: str) -> bool:
    """A query parameter that url_for would take as its own (`endpoint`, `_external`,
    `_scheme`, `_anchor`, `_method`) or as a path variable of the current page."""
    return name.startswith("_") or name == "endpoint" or name in (request.view_args or {})


def select_locale() -> str | None:
    """The locale of this request; outside a request (commands, jobs) the default applies."""
    if not has_request_context():
        return None
    return locale_for(request, current_user)


def locale_for(request: Request, user=None) -> str:
    """?lang= (remembered in a cookie), then the user's setting, then Accept-Language."""
    asked = request.args.get("lang")
    if asked in LOCALES:
        return asked
    remembered = request.cookies.get(LANGUAGE_COOKIE)
    if remembered in LOCALES:
        return remembered
    if user is not None and user.is_authenticated and user.locale in LOCALES:
        return user.locale
    return request.accept_languages.best_match(LOCALES) or "id"


def register_storage(app: Flask) -> None:
    app.extensions["market_storage"] = storage_from_url(app.config["MARKET_STORAGE_URL"])
    # One per process: the threads of a gunicorn worker share its memory.
    app.extensions["market_decode_budget"] = DecodeBudget(
        app.config["MARKET_PHOTO_DECODE_MB"] * 1024 * 1024
    )


def register_request_hooks(app: Flask) -> None:
    static_digest.init_app(app)

    @app.before_request
    def _mark_write_intent():
        g.write_intent_token = write_intent.set(request.method in WRITE_METHODS)

    @app.teardown_request
    def _clear_write_intent(_exc):
        token = g.pop("write_intent_token", None)
        if token is not None:
            write_intent.reset(token)

    @app.before_request
    def _refuse_control_characters():
        # No address or query holds a control character: answered here, before a lookup
        # sends one to a database (PostgreSQL refuses a NUL with an error).
        if text.has_control(request.path):
            abort(404)
        if any(text.has_control(n) or text.has_control(v) for n, v in request.args.items(True)):
            abort(400)

    @app.before_request
    def _refuse_url_building_arguments():
        # Pages rebuild their own address from the query string (language, canonical and
        # paging links): such a parameter would make that an off-site link, or a 500.
        if any(_shadows_url_arguments(name) for name in request.args):
            abort(400)

    baseline = baseline_headers(app.config["MARKET_ENV"] == "production")

    @app.after_request
    def _security_headers(response):
        headers = response.headers
        for name, value in baseline.items():
            headers.setdefault(name, value)
        asked = request.args.get("lang")
        if asked in LOCALES and request.cookies.get(LANGUAGE_COOKIE) != asked:
            response.set_cookie(
                LANGUAGE_COOKIE,
                asked,
                max_age=365 * 24 * 3600,
                samesite="Lax",
                secure=app.config["SESSION_COOKIE_SECURE"],
                httponly=True,
            )
        # Whatever a view said, a signed-in person's response is theirs alone; only files
        # that are the same for everyone for ever (photos named by their hash) stay shareable.
        if current_user and current_user.is_authenticated and not response.cache_control.immutable:
            headers["Cache-Control"] = "private, no-store"
            for shared in ("Surrogate-Key", "Cache-Tag"):
                headers.pop(shared, None)
        response.vary.add("Cookie")
        return response


def sent_from_this_site() -> bool:
    """Whether a browser says this request came from one of our own pages.

    Forms on cached public pages cannot carry a per-visitor CSRF token, so the browser's own
    word stands in for it: Sec-Fetch-Site (sent by every current browser), else Origin. A
    request with neither comes from an old browser or from no browser at all; neither can be
    made to ride on someone else's cookie, so it passes."""
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None:
        return site in ("same-origin", "none")
    origin = request.headers.get("Origin")
    if origin is None:
        return True
    ours = {request.host_url.rstrip("/"), current_app.config["MARKET_PUBLIC_URL"]} - {""}
    return origin in ours


def page_number() -> int:
    """?page= of a listing: 1 when missing or not a number, never beyond MAX_PAGE (a huge
    number would overflow the database's OFFSET)."""
    return min(max(1, request.args.get("page", 1, type=int)), MAX_PAGE)


def url_with_lang(code: str) -> str:
    """The current page in another language."""
    # Also rendered on the 400 page that refuses such parameters.
    args = {name: value for name, value in request.args.items() if not _shadows_url_arguments(name)}
    args["lang"] = code
    return url_for(request.endpoint or "storefront.index", **(request.view_args or {}), **args)


def absolute(url: str) -> str:
    """An absolute URL for a path of this site (MARKET_PUBLIC_URL when set, else the host of
    the request), for canonical links, sharing, sitemaps, QR codes and the API."""
    base = current_app.config["MARKET_PUBLIC_URL"] or request.host_url.rstrip("/")
    return urljoin(base + "/", url)


def absolute_url_for(endpoint: str, **values) -> str:
    return absolute(url_for(endpoint, **values))


def photo_url(photo: Photo, width: int) -> str:
    """Public URL of a photo variant: the bucket's own address when it has one, else ours."""
    return _media_url(photo.key(width))


def _media_url(key: str) -> str:
    storage = current_app.extensions["market_storage"]
    if storage.public_url:
        return storage.url(key)
    # Pages show dozens of photos: build our own URLs without a url_for per photo.
    base = current_app.extensions.get("market_media_base")
    if base is None:
        base = current_app.extensions["market_media_base"] = url_for("storefront.media", key="-")[
            :-1
        ]
    return base + key


def channel_image_url(photo: Photo) -> str:
    """Absolute URL of the photo that product feeds and marketplace uploads send: the JPEG
    master (not every channel reads WebP; they want at least 500 px, ideally 1024), or the
    largest variant of a photo whose master is not made yet."""
    key = photo.master_key() or photo.key(photo.variants[-1])
    return absolute(_media_url(key))


def register_error_handlers(app: Flask) -> None:
    def render_error(error: HTTPException):
        code = error.code or 500
        # Headers the answer is defined by, such as Allow on a 405 (RFC 9110 requires it).
        headers = [(k, v) for k, v in error.get_headers() if k.lower() != "content-type"]
        if request_ctx.url_adapter is None:
            # A Host that TRUSTED_HOSTS refuses: no link can be built, so no page either.
            return Response(f"{code} {error.name}\n", code, headers, mimetype="text/plain")
        if request.path.startswith(API_PREFIX):
            return api_error(code, error.name, error.description), code, headers
        template = f"errors/{code}.html" if code in (403, 404, 429) else "errors/generic.html"
        return render_template(template, error=error, code=code), code, headers

    for code in (400, 403, 404, 405, 413, 429):
        app.register_error_handler(code, render_error)

    def server_error(error, code: int = 500, headers: dict | None = None):
        if request.path.startswith(API_PREFIX):
            name = "Service Unavailable" if code == 503 else "Internal Server Error"
            return (
                api_error(code, name, "The server could not answer; try again later."),
                code,
                headers,
            )
        return render_template("errors/generic.html", error=error, code=code), code, headers

    def unhandled_error(error):
        # A failed flush leaves the session unusable; the error page itself may need the database.
        db.session.rollback()
        log.exception("unhandled error on %s %s", request.method, request.path)
        return server_error(error)

    app.register_error_handler(500, unhandled_error)

    @app.errorhandler(DBAPIError)
    def _database_error(error: DBAPIError):
        if not database_unavailable(error):
            return unhandled_error(error)
        db.session.rollback()
        # Connections opened while the database refused writes keep refusing them (SQLite opens
        # a read-only file read-only for good): the next requests get fresh ones.
        db.engine.dispose()
        if "_login_user" not in g:
            # The user could not be loaded either; the page must not try again.
            g._login_user = login_manager.anonymous_user()
        log.error("database unavailable on %s %s: %s", request.method, request.path, error.orig)
        return server_error(error, 503, {"Retry-After": str(RETRY_AFTER_SECONDS)})


def api_error(code: int, name: str, message: str) -> Response:
    """The JSON body of every error under /api/: a stable code word and a sentence."""
    response = jsonify(error=name.lower().replace(" ", "_"), message=message)
    response.status_code = code
    return response


def database_unavailable(error: DBAPIError) -> bool:
    """The database's state (down, locked, read-only, out of space) rather than a bug: the
    request may succeed later, so it gets a 503 instead of a 500."""
    return isinstance(error, OperationalError) or (
        getattr(error.orig, "sqlstate", None) == READ_ONLY_SQLSTATE
    )


def serve_static(app: Flask) -> None:
    """Serve static files (fingerprinted, pre-compressed) before Flask sees the request."""
    baseline = baseline_headers(app.config["MARKET_ENV"] == "production")

    def add_headers(headers, _path: str, _url: str) -> None:
        for name, value in baseline.items():
            headers.setdefault(name, value)

    app.wsgi_app = WhiteNoise(
        app.wsgi_app,
        root=str(STATIC_DIR),
        prefix="static/",
        max_age=3600,
        immutable_file_test=lambda _path, url: bool(FINGERPRINTED.search(url)),
        add_headers_function=add_headers,
    )


def photo_srcset(photo: Photo) -> str:
    """Every variant of a photo with its width, for an <img srcset>: one call per photo
    rather than a template loop (a market page shows dozens)."""
    return ", ".join(f"{photo_url(photo, width)} {width}w" for width in photo.variants)
