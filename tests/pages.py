"""What a test does with the app's pages: a client per browser, logging in, CSRF tokens, the
fields of a form as a browser submits them, counting queries, and the access-matrix check."""

import os
import re
from contextlib import contextmanager
from dataclasses import dataclass
from html.parser import HTMLParser

import pytest
from flask.testing import FlaskClient
from sqlalchemy import event, func, select

from market import create_app
from market.extensions import db
from market.models import AuditEvent, Product, Vendor
from tests.factories import PASSWORD, World

# The photo pipeline's refusals, as the pages show them in English.
UNREADABLE = "This file is not a photo we can read (JPEG, PNG, WebP or HEIC)."
TOO_MANY_PIXELS = "The photo has too many pixels."
DAMAGED = "The photo file is damaged or incomplete."
ANIMATED = "Animated images cannot be used; upload a still photo."


class IsolatedClient(FlaskClient):
    """Each request gets its own app context (own `g`, own database session), as in production,
    even while the test itself holds one for its builders."""

    def open(self, *args, **kwargs):
        with self.application.app_context():
            return super().open(*args, **kwargs)


def another_client(app):
    """A second browser with its own cookies; its requests isolated as the `client` fixture's."""
    app.test_client_class = IsolatedClient
    return app.test_client()


def csrf_token(client, path: str = "/auth/login") -> str:
    page = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def login(client, login_name: str, password: str = PASSWORD):
    token = csrf_token(client, "/auth/login")
    return client.post(
        "/auth/login", data={"login": login_name, "password": password, "csrf_token": token}
    )


def log_in_english(client, user) -> None:
    client.get("/?lang=en")  # remembered in a cookie: the pages' words are English
    response = login(client, user.login)
    assert response.status_code == 302, response.get_data(as_text=True)


def reload() -> None:
    """End the test's own transaction, so that its next read sees what requests committed.

    expire_all() is not enough on SQLite: a read transaction keeps the snapshot it started
    with (WAL), and cannot write once a request has committed after it began."""
    db.session.commit()


def vendor_url(vendor: Vendor) -> str:
    return f"/pasar/{vendor.market.slug}/lapak/{vendor.slug}/"


def product_url(product: Product) -> str:
    return f"{vendor_url(product.vendor)}{product.slug}"


@contextmanager
def counting_queries():
    """Count the SQL statements sent (not BEGIN/COMMIT/ROLLBACK or PRAGMAs)."""
    statements: list[str] = []

    def _count(_conn, _cursor, statement, *_args):
        if not re.match(r"\s*(BEGIN|COMMIT|ROLLBACK|PRAGMA|SAVEPOINT|RELEASE)", statement, re.I):
            statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", _count)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", _count)


# --- forms in pages -------------------------------------------------------------------------


class _FormReader(HTMLParser):
    """Collects what a browser would submit from the form whose action is ``action``."""

    def __init__(self, action: str):
        super().__init__()
        self.action = action
        self.inside = False
        self.found = False
        self.values: dict[str, list[str]] = {}
        self._textarea: str | None = None
        self._select: str | None = None

    def _add(self, name: str | None, value: str) -> None:
        if name:
            self.values.setdefault(name, []).append(value)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        action = attrs.get("action", "").split("#")[0]
        if tag == "form" and not self.found and action == self.action:
            self.inside = self.found = True
        if not self.inside:
            return
        name = attrs.get("name")
        if tag == "input":
            kind = attrs.get("type", "text")
            if kind in ("checkbox", "radio"):
                if "checked" in attrs:
                    self._add(name, attrs.get("value", "on"))
            elif kind not in ("submit", "button", "file"):
                self._add(name, attrs.get("value", ""))
        elif tag == "textarea":
            self._textarea = name
            self._add(name, "")
        elif tag == "select":
            self._select = name
        elif tag == "option" and self._select and "selected" in attrs:
            self._add(self._select, attrs.get("value", ""))

    def handle_data(self, data):
        if self._textarea:
            self.values[self._textarea][-1] += data

    def handle_endtag(self, tag):
        if tag == "textarea":
            if self._textarea:
                # Browsers drop the newline that follows <textarea>.
                self.values[self._textarea][-1] = self.values[self._textarea][-1].removeprefix("\n")
            self._textarea = None
        elif tag == "select":
            self._select = None
        elif tag == "form" and self.inside:
            self.inside = False


def form_values(html: str, action: str) -> dict[str, list[str] | str]:
    """The fields of the form posting to ``action``, single values unwrapped."""
    reader = _FormReader(action)
    reader.feed(html)
    assert reader.found, f"no form posting to {action}"
    return {k: v if len(v) > 1 else v[0] for k, v in reader.values.items()}


# --- access matrices ------------------------------------------------------------------------

STAFF = frozenset({"volunteer", "other_volunteer", "coordinator", "other_coordinator", "admin"})
COORDINATORS = frozenset({"coordinator", "other_coordinator", "admin"})
OF_THIS_MARKET = frozenset({"volunteer", "coordinator", "admin"})
# Who may work on the catalogue of a stocked world's stall: its owner and its market's staff.
ALLOWED = ("vendor", "volunteer", "coordinator", "admin")
DENIED = ("other_vendor", "other_volunteer", "other_coordinator")


@dataclass(frozen=True)
class Route:
    """One route of the matrix: who gets past its decorator (`gate`; the others get 403, or the
    login page when anonymous) and who may act on the world's records (`allowed`; the others
    get 404, so ids of other markets cannot be probed)."""

    endpoint: str
    method: str
    path: object  # World -> str
    gate: frozenset
    allowed: frozenset
    data: object = None  # World -> dict of form fields (POST)

    def expected(self, role: str) -> str:
        if role == "anonymous":
            return "login"
        if role not in self.gate:
            return "403"
        return "ok" if role in self.allowed else "404"


def _audit_events() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count(AuditEvent.id)))


def routes_of(app, blueprint: str) -> set[tuple[str, str]]:
    """Every (endpoint, method) of a blueprint, for the checks that each is in a matrix."""
    routes = {
        (rule.endpoint, method)
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith(f"{blueprint}.")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    # Not a loop over nothing: the blueprint's routes are found under this name.
    assert routes, blueprint
    return routes


def check_access(client, world: World, route: Route, role: str) -> None:
    """The route answers ``role`` as the matrix says; a refused POST leaves no audit event."""
    before = _audit_events() if route.method == "POST" else None
    if role != "anonymous":
        user = world.people[role]
        assert login(client, user.login, PASSWORD).status_code == 302
    path = route.path(world)
    if route.method == "GET":
        response = client.get(path)
    else:
        data = route.data(world) if route.data else {}
        data["csrf_token"] = csrf_token(client, "/auth/login")
        response = client.post(path, data=data)
    expected = route.expected(role)
    status = response.status_code
    location = response.headers.get("Location", "")
    if expected == "login":
        assert status == 302 and location.startswith("/auth/login"), (status, location)
    elif expected == "ok":
        # A form sent back with its errors (422, 409 for a duplicate) got past the checks too.
        assert status in ((200,) if route.method == "GET" else (200, 302, 303, 409, 422)), status
        assert not location.startswith("/auth/login")
    else:
        assert status == int(expected), status
    if before is not None and expected != "ok":
        assert _audit_events() == before


def post_new_product(client, world: World, fields: dict):
    """Log in as the market's volunteer and send the stall's new-product form with ``fields``."""
    assert login(client, world.people["volunteer"].login).status_code == 302
    url = f"/manage/vendors/{world.vendor.id}/products/new"
    return client.post(url, data={"csrf_token": csrf_token(client, url)} | fields)


def app_on_redis(app):
    """A second app on the same database whose page cache, counters and limits live in a
    freshly emptied Redis (MARKET_TEST_REDIS_URL); skips the test when none is set."""
    url = os.environ.get("MARKET_TEST_REDIS_URL")
    if not url:
        pytest.skip("set MARKET_TEST_REDIS_URL (e.g. redis://127.0.0.1:6379/8)")
    import redis

    redis.Redis.from_url(url).flushdb()
    return create_app(
        {
            **{k: v for k, v in app.config.items() if k.startswith(("SQLALCHEMY", "MARKET_"))},
            "TESTING": True,
            "SECRET_KEY": app.config["SECRET_KEY"],
            "MARKET_REDIS_URL": url,
            "CACHE_TYPE": "RedisCache",
            "CACHE_REDIS_URL": url,
        }
    )
