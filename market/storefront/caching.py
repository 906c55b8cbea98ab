"""HTTP caching of public pages and absolute URLs for links that leave the site.

An anonymous visitor gets ``Cache-Control: public`` for a short while and a weak ETag derived
from the version of the data the page shows (see services.public), so an edit changes the ETag
at once and an unchanged page is answered with 304 before anything is rendered. Logged-in
people see personal headers (their name, a logout form with a CSRF token): no ETag, and
web.py marks the response ``private, no-store``.
"""

import hashlib
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urljoin

from flask import Response, current_app, make_response, request, session, url_for
from flask_babel import get_locale
from flask_login import current_user

_build_tokens: dict[int, str] = {}


def _build_token() -> str:
    """Changes when the templates or static files of this installation change (a deploy), so
    browsers do not keep pages that point at old, fingerprinted stylesheets."""
    app = current_app._get_current_object()
    token = _build_tokens.get(id(app))
    if token is None:
        digest = hashlib.sha256()
        for folder in (app.template_folder, app.static_folder):
            for path in sorted(Path(app.root_path, folder).rglob("*")):
                if path.is_file():
                    stat = path.stat()
                    digest.update(f"{path.name}{stat.st_size}{stat.st_mtime_ns}".encode())
        token = _build_tokens[id(app)] = digest.hexdigest()[:16]
    return token


def shared_cacheable() -> bool:
    """Whether the response is the same for every anonymous visitor in this language."""
    return not current_user.is_authenticated and not session.get("_flashes")


def cached(version: str, render: Callable[[], object], *, by_language: bool = True) -> Response:
    """Answer 304 when the visitor has this version already, else render it with an ETag."""
    if not shared_cacheable():
        return make_response(render())
    parts = [_build_token(), version]
    if by_language:
        parts.append(str(get_locale()))
    etag = hashlib.sha256("|".join(parts).encode()).hexdigest()[:32]
    if request.if_none_match.contains_weak(etag):
        response = Response(status=304)
    else:
        response = make_response(render())
    response.set_etag(etag, weak=True)
    response.cache_control.public = True
    response.cache_control.max_age = current_app.config["MARKET_CACHE_SECONDS"]
    if by_language:
        response.vary.add("Accept-Language")
    return response


def absolute(url: str) -> str:
    """An absolute URL for a path of this site (MARKET_PUBLIC_URL when set, else the host of
    the request), for canonical links, sharing, sitemaps, QR codes and the API."""
    base = current_app.config["MARKET_PUBLIC_URL"] or request.host_url.rstrip("/")
    return urljoin(base + "/", url)


def absolute_url_for(endpoint: str, **values) -> str:
    return absolute(url_for(endpoint, **values))
