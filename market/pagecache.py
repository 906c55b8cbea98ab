"""The page cache: public pages rendered once for anonymous visitors and answered before Flask
runs, shared by every process through Redis when MARKET_REDIS_URL is set, and invalidated per
market and per stall by the committed changes that show on them.

Every cached page carries tags, read from the market and stall named in its address:

- `pasar`: every page (a category shows everywhere);
- `markets`: pages without a market in their address, which list markets (home, sitemap
  index, the API's list of markets): any public change anywhere may show on them;
- `market-<market>`: every page of one market, stall pages included (its own record: name,
  hours, cover photo);
- `stalls-<market>`: the market's pages that list its stalls or products (storefront, search,
  directory, sitemap parts, API listings);
- `vendor-<market>/<stall>`: one stall's pages (stall, products, poster, hang tags, API).

Each tag has a generation in the cache backend; a page's key holds the generations of its tags,
so bumping a tag (INCR on Redis) makes exactly the pages that carry it stale. The same tags go
out as Surrogate-Key and Cache-Tag headers, so a shared cache in front can purge by them
(market.purge). A cached page must show nothing beyond its address's market and stall: one that
does belongs at a market-wide or cross-market address.
"""

import hashlib
import json
import logging
import time
from collections import Counter, OrderedDict
from collections.abc import Iterable
from datetime import datetime
from email.utils import parsedate_to_datetime
from functools import wraps
from pathlib import Path
from zoneinfo import ZoneInfo

from flask import Flask, current_app, make_response, request, session
from flask_login import current_user
from sqlalchemy import or_, select
from sqlalchemy.orm import Session, attributes
from werkzeug.exceptions import HTTPException
from werkzeug.routing import RequestRedirect
from werkzeug.wrappers import Request

from market import purge
from market.extensions import cache
from market.models import (
    Category,
    Market,
    Photo,
    Product,
    QrisCode,
    Synonym,
    Vendor,
    VlogLink,
    utcnow,
)
from market.services import stats
from market.web import locale_for

EVERYTHING = "pasar"
MARKET_LISTS = "markets"
# Generations outlive every page stored under them (CACHE_DEFAULT_TIMEOUT), so one that expired
# and restarted can never meet a page keyed by its earlier life.
GENERATION_SECONDS = 7 * 24 * 3600
# Set by cached_page on responses that are the same for every anonymous visitor; the middleware
# removes it before anything leaves the server.
MARKER = "X-Pasar-Page-Cache"
# Headers that describe one response's body, not the page: recomputed by the WSGI server.
_BODY_HEADERS = {"content-length"}
# Only for benchmarks and tests (MARKET_CACHE_DEBUG_HEADER): which cache answered, and where
# this process's hit and miss counts per page kind are read.
DEBUG_HEADER = "X-Cache"
STATS_PATH = "/_pagecache/stats"
PRIVATE = "private, no-store"

log = logging.getLogger("market.pagecache")


def page_tags(view_args: dict) -> tuple[str, ...]:
    """The tags of a page, from the market and stall named in its address."""
    market, vendor = view_args.get("market_slug"), view_args.get("vendor_slug")
    if market is None:
        return (EVERYTHING, MARKET_LISTS)
    if vendor is None:
        return (EVERYTHING, f"market-{market}", f"stalls-{market}")
    return (EVERYTHING, f"market-{market}", f"vendor-{market}/{vendor}")


def market_changed(market_slug: str) -> set[str]:
    return {MARKET_LISTS, f"market-{market_slug}"}


def stall_changed(market_slug: str, vendor_slug: str) -> set[str]:
    return {MARKET_LISTS, f"stalls-{market_slug}", f"vendor-{market_slug}/{vendor_slug}"}


def search_changed(market_slugs: Iterable[str]) -> set[str]:
    """A synonym changes what every search finds, in every market: the pages with search
    results are the city's search (under MARKET_LISTS) and each market's search and API
    listings (under its stalls tag). Stall and product pages stay."""
    return {MARKET_LISTS} | {f"stalls-{slug}" for slug in market_slugs}


# --- generations ----------------------------------------------------------------------------


def _backend(app: Flask):
    return app.extensions["cache"][cache]


def _fresh() -> int:
    # A new, flushed or expired generation starts from the clock, never from a number used
    # before: pages stored under that number must not match again.
    return time.time_ns() // 1000


def generations(tags: Iterable[str], app: Flask | None = None) -> list[int]:
    """The current generation of each tag, in one round trip (MGET) once they exist."""
    backend = _backend(app or current_app)
    keys = [f"generation:{tag}" for tag in tags]
    values = backend.get_many(*keys)
    for index, value in enumerate(values):
        if value is None:
            backend.add(keys[index], _fresh(), timeout=GENERATION_SECONDS)
            values[index] = backend.get(keys[index])
    return [int(value) for value in values]


def invalidate(tags: Iterable[str], app: Flask | None = None) -> None:
    """Make every page carrying one of these tags stale, here and in a shared cache in front.
    The backend's own increment (INCR on Redis) is atomic, so concurrent writers never lose a
    bump."""
    app = app or current_app
    backend = _backend(app)
    tags = sorted(set(tags))
    for tag in tags:
        key = f"generation:{tag}"
        backend.add(key, _fresh(), timeout=GENERATION_SECONDS)
        backend.inc(key)
    purge.send(app, tags)


# --- what a commit changed ------------------------------------------------------------------


def _values(instance, name: str) -> set:
    """Every value an attribute held in this flush: a stall moved to another market changes
    both markets."""
    history = attributes.get_history(instance, name, passive=attributes.PASSIVE_NO_INITIALIZE)
    return {value for value in history.sum() if value is not None}


def note_public_changes(session: Session, _flush_context) -> None:
    """After each flush (ids and foreign keys known, the flush's changes still listed), note
    the tags of the pages that the flushed rows show on."""
    tags: set[str] = set()
    stalls: set[tuple[int, str]] = set()  # (market id, stall slug)
    vendor_ids: set[int] = set()
    product_ids: set[int] = set()
    cover_ids: set[int] = set()
    for instance in (*session.new, *session.dirty, *session.deleted):
        if isinstance(instance, Category):
            tags.add(EVERYTHING)
        elif isinstance(instance, Synonym):
            tags |= search_changed(session.scalars(select(Market.slug)))
        elif isinstance(instance, Market):
            tags |= market_changed(instance.slug)
        elif isinstance(instance, Vendor):
            stalls |= {(market_id, instance.slug) for market_id in _values(instance, "market_id")}
        elif isinstance(instance, Product | VlogLink | QrisCode):
            vendor_ids |= _values(instance, "vendor_id")
        elif isinstance(instance, Photo):
            vendor_ids |= _values(instance, "vendor_id")
            product_ids |= _values(instance, "product_id")
            if instance.vendor_id is None and instance.product_id is None:
                cover_ids.add(instance.id)
    if vendor_ids or product_ids:
        of_products = select(Product.vendor_id).where(Product.id.in_(product_ids))
        stalls |= {
            (market_id, slug)
            for market_id, slug in session.execute(
                select(Vendor.market_id, Vendor.slug).where(
                    or_(Vendor.id.in_(vendor_ids), Vendor.id.in_(of_products))
                )
            )
        }
    if stalls or cover_ids:
        wanted = {market_id for market_id, _slug in stalls}
        slugs = {
            market_id: slug
            for market_id, slug in session.execute(
                select(Market.id, Market.slug).where(
                    or_(Market.id.in_(wanted), Market.cover_photo_id.in_(cover_ids))
                )
            )
        }
        for market_id, slug in slugs.items():
            if market_id not in wanted:  # a market's cover photo: all its pages show it
                tags |= market_changed(slug)
        for market_id, vendor_slug in stalls:
            if market_id in slugs:  # else the market went in the same flush, tagged above
                tags |= stall_changed(slugs[market_id], vendor_slug)
    if tags:
        session.info.setdefault("public_tags", set()).update(tags)


def invalidate_after_commit(session: Session) -> None:
    tags = session.info.pop("public_tags", None)
    if tags:
        try:
            invalidate(tags)
        except Exception:
            # The change is committed; a cache that cannot be reached serves nothing stale,
            # because the middleware cannot read from it either.
            log.warning("page cache unreachable: not invalidated", exc_info=True)


def forget_after_rollback(session: Session) -> None:
    session.info.pop("public_tags", None)


# --- marking a page as shareable ------------------------------------------------------------


def cached_page(view):
    """Mark an anonymous visitor's page as shareable: an ETag of the page itself (weak, since
    compression changes the bytes) for 304s, caching headers for browsers and for a shared
    cache in front (with the page's tags to purge by), and the marker that lets the middleware
    keep it."""

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
        tags = page_tags(request.view_args or {})
        config = current_app.config
        control = response.cache_control
        control.public = True
        # A page that says when it goes out of date (the API's "open now") is kept no longer,
        # here (see PageCache) or in any cache in front.
        left = _seconds_left(response.expires)
        control.max_age = min(config["MARKET_CACHE_SECONDS"], left)
        shared = min(config["MARKET_SHARED_CACHE_SECONDS"], left)
        if shared:
            control.s_maxage = shared
            # A stall's pages show its owner's phone number: once consent is withdrawn they
            # must not be served stale, even for a moment; nor a page past its expiry.
            stale = not tags[-1].startswith("vendor-") and response.expires is None
            if stale and config["MARKET_STALE_SECONDS"]:
                control.stale_while_revalidate = config["MARKET_STALE_SECONDS"]
        control.no_cache = not (control.max_age or shared)
        response.headers["Surrogate-Key"] = " ".join(tags)
        response.headers["Cache-Tag"] = ",".join(tags)
        response.vary.update(("Cookie", "Accept-Language"))
        response.headers[MARKER] = "1"
        return response.make_conditional(request)

    wrapper.page_cache = True
    return wrapper


def _seconds_left(expires: datetime | None) -> int:
    if expires is None:
        return GENERATION_SECONDS
    return max(0, int((expires - utcnow()).total_seconds()))


def _expired(headers: list[tuple[str, str]]) -> bool:
    expires = next((v for k, v in headers if k.lower() == "expires"), None)
    return expires is not None and _seconds_left(parsedate_to_datetime(expires)) == 0


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
    cached_page marks gets the stored response without Flask, the database or the templates.

    Recent entries are also kept in the process: their keys hold the generations of the page's
    tags, read from the shared cache on every request, so a change made anywhere is never
    served stale. The middleware also has the last word on sharing: a response that sets a
    cookie is private."""

    RECENT = 256

    def __init__(self, app: Flask):
        self.app = app
        self.next = app.wsgi_app
        self.session_cookies = (app.config["SESSION_COOKIE_NAME"] + "=", "remember_token=")
        self.recent: OrderedDict[str, tuple] = OrderedDict()
        self.locales: dict[tuple, str] = {}
        self.warned_at = 0.0
        self.routes = None
        self.counts: Counter[tuple[str, str]] = Counter()

    @property
    def debug(self) -> bool:
        return self.app.config["MARKET_CACHE_DEBUG_HEADER"]

    def __call__(self, environ, start_response):
        if self.debug and environ.get("PATH_INFO") == STATS_PATH:
            return self._stats(start_response)
        viewed = self._viewed(environ)
        if viewed is None:
            return self._answer(environ, start_response)
        result = self._answer(environ, self._counting(viewed, start_response))
        if stats.flush_due(self.app):
            # Without Redis the counts live in this process: it adds them to the database
            # itself, once every few minutes, after the page is answered.
            with self.app.app_context():
                stats.flush(self.app)
        return result

    def _viewed(self, environ) -> str | None:
        """The view counter of a stall or product page a person asked for (see
        market.services.stats): counted here, on cache hits and misses alike."""
        if not stats.counted_request(environ):
            return None
        try:
            endpoint, args = self._routes().match(environ.get("PATH_INFO") or "/", "GET")
        except (HTTPException, RequestRedirect):
            return None
        return stats.page_key(endpoint, args)

    def _counting(self, key: str, start_response):
        def counted(status, headers, exc_info=None):
            if status.startswith("200"):
                try:
                    stats.count_view(self.app, key)
                except Exception:
                    self._warn("view counter unreachable: not counted")
            return start_response(status, headers, exc_info)

        return counted

    def _routes(self):
        if self.routes is None:
            self.routes = self.app.url_map.bind("localhost")
        return self.routes

    def _answer(self, environ, start_response):
        page = self._page(environ)
        if page is None:
            return self._forward(None, environ, start_response, "BYPASS")
        kind, tags = page
        try:
            key = self._key(environ, tags)
            entry = self.recent.get(key)
            if entry is None:
                entry = _backend(self.app).get(key)
                if entry is not None:
                    self._remember(key, entry)
        except Exception:
            self._warn("page cache unreachable: rendering")
            return self._forward(None, environ, start_response, "BYPASS")
        if entry is not None and _expired(entry[1]):
            entry = None
        if entry is None:
            self._count(kind, "miss")
            return self._forward(key, environ, start_response, "MISS")
        self._count(kind, "hit")
        status, headers, body, etag = entry
        if self.debug:
            headers = [*headers, (DEBUG_HEADER, "HIT")]
        if etag and etag in environ.get("HTTP_IF_NONE_MATCH", ""):
            kept = [
                (k, v) for k, v in headers if k.lower() not in ("content-type", "content-encoding")
            ]
            start_response("304 NOT MODIFIED", kept)
            return [b""]
        start_response(status, [*headers, ("Content-Length", str(len(body)))])
        return [body]

    def _page(self, environ) -> tuple[str, tuple[str, ...]] | None:
        """(page kind, tags) of a request the cache may answer: a GET of a cached_page view
        by a visitor without a session, with the cache on."""
        cookies = environ.get("HTTP_COOKIE", "")
        if (
            environ["REQUEST_METHOD"] != "GET"
            or not self.app.config["MARKET_PAGE_CACHE"]
            or any(name in cookies for name in self.session_cookies)
        ):
            return None
        try:
            endpoint, args = self._routes().match(environ.get("PATH_INFO") or "/", "GET")
        except (HTTPException, RequestRedirect):
            return None
        if not getattr(self.app.view_functions.get(endpoint), "page_cache", False):
            return None
        return endpoint, page_tags(args)

    def _count(self, kind: str, outcome: str) -> None:
        if self.debug:
            self.counts[kind, outcome] += 1

    def _stats(self, start_response):
        stats: dict[str, dict[str, int]] = {}
        for (kind, outcome), count in sorted(self.counts.items()):
            stats.setdefault(kind, {"hit": 0, "miss": 0})[outcome] = count
        body = json.dumps(stats).encode()
        start_response("200 OK", [("Content-Type", "application/json"), ("Cache-Control", PRIVATE)])
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

    def _key(self, environ, tags: tuple[str, ...]) -> str:
        query = environ.get("QUERY_STRING", "")
        return ":".join(
            (
                "page",
                _build_token(self.app),
                ".".join(map(str, generations(tags, self.app))),
                # A stall's "closed until" notice ends with its day, which no commit announces:
                # pages are rendered afresh once a day.
                _local_day(self.app),
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

    def _forward(self, key: str | None, environ, start_response, outcome: str):
        """Run Flask; keep the response when it is marked, it is a 200 and sets no cookie."""
        captured = {}

        def capture(status, headers, exc_info=None):
            captured["status"], captured["headers"] = status, headers
            return start_response(status, _outgoing(headers, outcome if self.debug else None))

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


def _local_day(app: Flask) -> str:
    zone = ZoneInfo(app.config["BABEL_DEFAULT_TIMEZONE"])
    return utcnow().astimezone(zone).date().isoformat()


def _outgoing(headers: list[tuple[str, str]], outcome: str | None) -> list[tuple[str, str]]:
    """The headers that leave the server: without the marker, and private when the response
    sets a cookie (a session, a language): no shared cache may hand that to someone else."""
    kept = [(k, v) for k, v in headers if k != MARKER]
    if any(k.lower() == "set-cookie" for k, _ in kept):
        shared = ("cache-control", "surrogate-key", "cache-tag")
        kept = [(k, v) for k, v in kept if k.lower() not in shared]
        kept.append(("Cache-Control", PRIVATE))
    if outcome:
        kept.append((DEBUG_HEADER, outcome))
    return kept
