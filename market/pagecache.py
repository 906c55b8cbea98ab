"""The page cache: public pages rendered once for anonymous visitors and answered before Flask
runs, shared by every process through Redis when MARKET_REDIS_URL is set, and invalidated by any
committed change to what public pages show."""

import hashlib
import logging
import time
from collections import OrderedDict
from functools import wraps
from pathlib import Path

from flask import Flask, current_app, make_response, request, session
from flask_login import current_user
from werkzeug.wrappers import Request

from market.extensions import cache
from market.models import Category, Market, MarketStaff, Photo, Product, QrisCode, Vendor, VlogLink
from market.web import locale_for

# Rows whose change can show on a public page. Contact clicks and audit events cannot.
PUBLIC_MODELS = (Category, Market, MarketStaff, Photo, Product, QrisCode, Vendor, VlogLink)
GENERATION_KEY = "generation"
# Set by cached_page on responses that are the same for every anonymous visitor; the middleware
# removes it before anything leaves the server.
MARKER = "X-Pasar-Page-Cache"
# Headers that describe one response's body, not the page: recomputed by the WSGI server.
_BODY_HEADERS = {"content-length"}

log = logging.getLogger("market.pagecache")


def _backend(app: Flask):
    return app.extensions["cache"][cache]


def generation(app: Flask | None = None) -> int:
    backend = _backend(app or current_app)
    value = backend.get(GENERATION_KEY)
    if value is None:
        # A new or flushed cache starts from the clock, never from a number used before: the
        # processes' own recent entries are keyed by it and must not match again.
        backend.add(GENERATION_KEY, time.time_ns() // 1000, timeout=0)
        value = backend.get(GENERATION_KEY)
    return int(value)


def invalidate(app: Flask | None = None) -> None:
    """Every cached page becomes stale at once; the backend's own increment (INCR on Redis)
    is atomic, so concurrent writers never lose a bump."""
    generation(app)
    _backend(app or current_app).inc(GENERATION_KEY)


def note_public_changes(session, _flush_context, _instances):
    changed = (*session.new, *session.dirty, *session.deleted)
    if any(isinstance(obj, PUBLIC_MODELS) for obj in changed):
        session.info["public_changed"] = True


def invalidate_after_commit(session):
    if session.info.pop("public_changed", False):
        try:
            invalidate()
        except Exception:
            # The change is committed; a cache that cannot be reached serves nothing stale,
            # because the middleware cannot read from it either.
            log.warning("page cache unreachable: not invalidated", exc_info=True)


def forget_after_rollback(session):
    session.info.pop("public_changed", None)


def cached_page(view):
    """Mark an anonymous visitor's page as shareable: an ETag of the page itself (weak, since
    compression changes the bytes) for 304s, public caching headers, and the marker that lets
    the middleware keep it."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        response = make_response(view(*args, **kwargs))
        shareable = (
            response.status_code == 200
            and not current_user.is_authenticated
            and "_flashes" not in session
        )
        if not shareable:
            return response
        response.add_etag(weak=True)
        response.cache_control.public = True
        seconds = current_app.config["MARKET_CACHE_SECONDS"]
        response.cache_control.max_age = seconds
        response.cache_control.no_cache = seconds == 0
        response.vary.update(("Cookie", "Accept-Language"))
        response.headers[MARKER] = "1"
        return response.make_conditional(request)

    return wrapper


_build_tokens: dict[int, str] = {}


def _build_token(app: Flask) -> str:
    """Changes when the templates or static files change (a deploy), so no process serves
    pages that point at old, fingerprinted stylesheets from a shared cache."""
    token = _build_tokens.get(id(app))
    if token is None:
        digest = hashlib.sha256()
        for folder in (app.template_folder, app.static_folder):
            for path in sorted(Path(app.root_path, folder).rglob("*")):
                if path.is_file():
                    stat = path.stat()
                    digest.update(f"{path.name}{stat.st_size}{stat.st_mtime_ns}".encode())
        token = _build_tokens[id(app)] = digest.hexdigest()[:12]
    return token


class PageCache:
    """WSGI middleware in front of Flask: a visitor without a session asking for a page that
    cached_page marked gets the stored response without Flask, the database or the templates.

    Recent entries are also kept in the process: their keys hold the generation, read from the
    shared cache on every request, so a change made anywhere is never served stale."""

    RECENT = 256

    def __init__(self, app: Flask):
        self.app = app
        self.next = app.wsgi_app
        self.session_cookies = (app.config["SESSION_COOKIE_NAME"] + "=", "remember_token=")
        self.recent: OrderedDict[str, tuple] = OrderedDict()
        self.locales: dict[tuple, str] = {}
        self.warned_at = 0.0

    def __call__(self, environ, start_response):
        if not self._eligible(environ):
            return self._forward(None, environ, start_response)
        try:
            key = self._key(environ)
            entry = self.recent.get(key)
            if entry is None:
                entry = _backend(self.app).get(key)
                if entry is not None:
                    self._remember(key, entry)
        except Exception:
            self._warn("page cache unreachable: rendering")
            return self._forward(None, environ, start_response)
        if entry is None:
            return self._forward(key, environ, start_response)
        status, headers, body, etag = entry
        if etag and etag in environ.get("HTTP_IF_NONE_MATCH", ""):
            kept = [
                (k, v) for k, v in headers if k.lower() not in ("content-type", "content-encoding")
            ]
            start_response("304 NOT MODIFIED", kept)
            return [b""]
        start_response(status, [*headers, ("Content-Length", str(len(body)))])
        return [body]

    def _remember(self, key: str, entry: tuple) -> None:
        self.recent[key] = entry
        if len(self.recent) > self.RECENT:
            self.recent.popitem(last=False)

    def _warn(self, message: str) -> None:
        # Once a minute, without a traceback: an outage must not flood the log.
        now = time.monotonic()
        if now - self.warned_at > 60:
            self.warned_at = now
            log.warning(message)

    def _eligible(self, environ) -> bool:
        cookies = environ.get("HTTP_COOKIE", "")
        return (
            environ["REQUEST_METHOD"] == "GET"
            and self.app.config["MARKET_PAGE_CACHE"]
            and not any(name in cookies for name in self.session_cookies)
        )

    def _locale(self, environ) -> str:
        asked = (
            environ.get("QUERY_STRING", ""),
            environ.get("HTTP_COOKIE", ""),
            environ.get("HTTP_ACCEPT_LANGUAGE", ""),
        )
        locale = self.locales.get(asked)
        if locale is None:
            if len(self.locales) > 1000:
                self.locales.clear()
            locale = self.locales[asked] = locale_for(Request(environ))
        return locale

    def _key(self, environ) -> str:
        query = environ.get("QUERY_STRING", "")
        return ":".join(
            (
                "page",
                _build_token(self.app),
                str(generation(self.app)),
                self._locale(environ),
                environ.get("HTTP_ACCEPT_ENCODING", "").replace(" ", "").lower(),
                # Pages hold absolute links made from the scheme and host asked for (unless
                # MARKET_PUBLIC_URL is set): a forged Host must never reach other visitors,
                # and a host that TRUSTED_HOSTS refuses never gets past a miss to Flask.
                environ["wsgi.url_scheme"],
                environ.get("HTTP_HOST") or environ.get("SERVER_NAME", ""),
                environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "") + "?" + query,
            )
        )

    def _forward(self, key: str | None, environ, start_response):
        """Run Flask; keep the response when it is marked, it is a 200 and sets no cookie."""
        captured = {}

        def capture(status, headers, exc_info=None):
            captured["status"], captured["headers"] = status, headers
            kept = [(k, v) for k, v in headers if k != MARKER]
            return start_response(status, kept, exc_info)

        result = self.next(environ, capture)
        headers = captured.get("headers", [])
        storable = (
            key is not None
            and captured.get("status", "").startswith("200")
            and any(k == MARKER for k, _ in headers)
            and not any(k.lower() == "set-cookie" for k, _ in headers)
        )
        if not storable:
            return result
        try:
            body = b"".join(result)
        finally:
            if hasattr(result, "close"):
                result.close()
        kept = [(k, v) for k, v in headers if k != MARKER and k.lower() not in _BODY_HEADERS]
        etag = next((v for k, v in headers if k.lower() == "etag"), None)
        entry = (captured["status"], kept, body, etag)
        self._remember(key, entry)
        try:
            _backend(self.app).set(key, entry)
        except Exception:
            self._warn("page cache unreachable: not stored")
        return [body]
