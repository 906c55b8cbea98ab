"""The page cache: public pages rendered once for anonymous visitors, shared by every process
through Redis when MARKET_REDIS_URL is set, and invalidated by any committed catalogue change."""

import hashlib
from functools import wraps
from pathlib import Path

from flask import Response, current_app, make_response, request, session
from flask_babel import get_locale
from flask_login import current_user
from sqlalchemy import event
from sqlalchemy.orm import Session

from market.extensions import cache
from market.models import Category, Market, MarketStaff, Photo, Product, QrisCode, Vendor, VlogLink

# Rows whose change can show on a public page. Contact clicks and audit events cannot.
PUBLIC_MODELS = (Category, Market, MarketStaff, Photo, Product, QrisCode, Vendor, VlogLink)
GENERATION_KEY = "generation"


def generation() -> int:
    return int(cache.get(GENERATION_KEY) or 0)


def invalidate() -> None:
    """Every cached page becomes stale at once; the atomic increment is safe across processes."""
    # The backend's own increment: INCR on Redis, so concurrent writers never lose a bump.
    if cache.cache.inc(GENERATION_KEY) is None:
        cache.set(GENERATION_KEY, generation() + 1, timeout=0)


@event.listens_for(Session, "before_flush")
def _note_public_changes(session, _flush_context, _instances):
    if any(
        isinstance(obj, PUBLIC_MODELS) for obj in (*session.new, *session.dirty, *session.deleted)
    ):
        session.info["public_changed"] = True


@event.listens_for(Session, "after_commit")
def _invalidate_after_commit(session):
    if session.info.pop("public_changed", False):
        invalidate()


@event.listens_for(Session, "after_rollback")
def _forget_after_rollback(session):
    session.info.pop("public_changed", None)


_build_tokens: dict[int, str] = {}


def _build_token() -> str:
    """Changes when the templates or static files change (a deploy), so no process serves
    pages that point at old, fingerprinted stylesheets from a shared cache."""
    app = current_app._get_current_object()
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


def _cacheable() -> bool:
    return (
        current_app.config["MARKET_PAGE_CACHE"]
        and request.method == "GET"
        and not current_user.is_authenticated
        and "_flashes" not in session
    )


def cached_page(view):
    """Serve anonymous GETs from the cache; pages carry an ETag so repeat visits get a 304.

    The ETag is a hash of the page itself: weak, because compression changes the bytes."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        if not _cacheable():
            return view(*args, **kwargs)
        key = f"page:{_build_token()}:{generation()}:{get_locale()}:{request.full_path}"
        entry = cache.get(key)
        if entry is None:
            response = make_response(view(*args, **kwargs))
            if response.status_code != 200:
                return response
            body = response.get_data()
            entry = {
                "body": body,
                "mimetype": response.mimetype,
                "etag": hashlib.blake2b(body, digest_size=12).hexdigest(),
            }
            cache.set(key, entry)
        response = Response(entry["body"], mimetype=entry["mimetype"])
        response.set_etag(entry["etag"], weak=True)
        response.cache_control.public = True
        seconds = current_app.config["MARKET_CACHE_SECONDS"]
        response.cache_control.max_age = seconds
        response.cache_control.no_cache = seconds == 0
        response.vary.update(("Cookie", "Accept-Language"))
        return response.make_conditional(request)

    return wrapper
