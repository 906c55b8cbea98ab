"""HTTP concerns shared by all blueprints: language, security headers, error pages, files."""

import logging
import re
from pathlib import Path
from urllib.parse import urljoin

from flask import (
    Flask,
    current_app,
    g,
    has_request_context,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_login import current_user
from flask_static_digest import FlaskStaticDigest
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Request
from whitenoise import WhiteNoise

from market.extensions import db, write_intent
from market.models import Photo
from market.services.prices import format_rupiah
from market.storage import storage_from_url

LOCALES = ("id", "en")
LANGUAGE_COOKIE = "lang"
STATIC_DIR = Path(__file__).resolve().parent / "static"
# Files named with an MD5 by Flask-Static-Digest never change, so browsers may keep them forever.
FINGERPRINTED = re.compile(r"-[0-9a-f]{32}\.\w+(\.gz|\.br)?$")
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: https://i.ytimg.com",
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

    @app.after_request
    def _security_headers(response):
        headers = response.headers
        headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Permissions-Policy", "geolocation=(), microphone=(), camera=(self)")
        headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        if app.config["MARKET_ENV"] == "production":
            headers.setdefault("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
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
        if "Cache-Control" not in headers and current_user and current_user.is_authenticated:
            headers["Cache-Control"] = "private, no-store"
        response.vary.add("Cookie")
        return response

    @app.context_processor
    def _template_globals():
        return {"current_locale": str(get_locale()), "locales": LOCALES}

    app.add_template_global(url_with_lang)
    app.add_template_global(photo_url)
    app.add_template_filter(format_rupiah, "rupiah")


def url_with_lang(code: str) -> str:
    """The current page in another language."""
    args = request.args.to_dict()
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
    key = photo.key(width)
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


def register_error_handlers(app: Flask) -> None:
    def render_error(error: HTTPException):
        code = error.code or 500
        template = f"errors/{code}.html" if code in (403, 404, 429) else "errors/generic.html"
        return render_template(template, error=error, code=code), code

    for code in (400, 403, 404, 405, 413, 429):
        app.register_error_handler(code, render_error)

    @app.errorhandler(500)
    def _server_error(error):
        # A failed flush leaves the session unusable; the error page itself may need the database.
        db.session.rollback()
        log.exception("unhandled error on %s %s", request.method, request.path)
        return render_template("errors/generic.html", error=error, code=500), 500


def serve_static(app: Flask) -> None:
    """Serve static files (fingerprinted, pre-compressed) before Flask sees the request."""
    app.wsgi_app = WhiteNoise(
        app.wsgi_app,
        root=str(STATIC_DIR),
        prefix="static/",
        max_age=3600,
        immutable_file_test=lambda _path, url: bool(FINGERPRINTED.search(url)),
    )
