"""What works at a stall: page views of its stall and product pages, WhatsApp contacts and
shopping-list sends, per product over the last days, for the people who may edit the stall.

Page views are counted without cookies or anything about the visitor: one counter per page and
day. Counting happens in the page-cache middleware, so that pages answered from the cache count
as much as rendered ones, and it never writes to the database on the way: a view is an INCR in
Redis (MARKET_REDIS_URL, shared by every process) or a number in this process's memory, added to
the `page_view` rows by `flask flush-counters` (Redis) or by the process itself every few
minutes (memory). What is not counted, because it is not a person looking at the page: known
crawlers, HEAD requests, prefetches (Sec-Purpose/Purpose: prefetch), answers other than 200,
and the back office (only the public stall and product pages are counted). A CDN in front
answers some pages without asking the app: those views are never counted."""

import re
import threading
import time
from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta

from flask import Flask
from sqlalchemy import func, select

from market.extensions import db
from market.models import ContactClick, ListSend, Market, PageView, Product, Vendor
from market.services.contacts import bump, today

DAYS = 30
# The public pages whose views a stall sees, by endpoint.
COUNTED_PAGES = {"storefront.vendor", "storefront.product"}
# Tokens in the user agents of crawlers, link previewers and monitors: a person's browser
# names none of them. Matching words rather than a list of exact agents keeps new bots out too.
_BOTS = re.compile(
    r"bot\b|bot/|crawl|spider|slurp|scrape|preview|facebookexternalhit|whatsapp|telegram|"
    r"embedly|lighthouse|headless|pingdom|uptime|monitor|curl|wget|python-|httpx|go-http|"
    r"java/|okhttp|feedfetcher|mediapartners|ia_archiver|^$",
    re.IGNORECASE,
)
_HASH = "pageviews:"


def counted_request(environ) -> bool:
    """Whether a request is a person's visit: a GET, not a prefetch, not a known bot."""
    purpose = environ.get("HTTP_SEC_PURPOSE", "") + environ.get("HTTP_PURPOSE", "")
    return (
        environ.get("REQUEST_METHOD") == "GET"
        and "prefetch" not in purpose.lower()
        and not _BOTS.search(environ.get("HTTP_USER_AGENT", "").strip())
    )


def page_key(endpoint: str, args: dict) -> str | None:
    """The counter of a stall or product page: its address's slugs, since the middleware
    knows no ids (finding them would cost a query per view)."""
    if endpoint not in COUNTED_PAGES:
        return None
    parts = (args["market_slug"], args["vendor_slug"], args.get("product_slug", ""))
    return "/".join(parts)


class _Memory:
    """Counts of one process, flushed by the process itself."""

    def __init__(self, seconds: int):
        self.seconds = seconds
        self.counts: Counter[tuple[str, str]] = Counter()
        self.lock = threading.Lock()
        self.flushed_at = time.monotonic()

    def add(self, day: str, key: str) -> None:
        with self.lock:
            self.counts[day, key] += 1

    def take(self) -> dict[str, Counter]:
        with self.lock:
            counts, self.counts = self.counts, Counter()
            self.flushed_at = time.monotonic()
        taken: dict[str, Counter] = {}
        for (day, key), count in counts.items():
            taken.setdefault(day, Counter())[key] += count
        return taken

    def due(self) -> bool:
        return bool(self.counts) and time.monotonic() - self.flushed_at >= self.seconds


class _Redis:
    """Counts shared by every process: one hash per day, a field per page."""

    def __init__(self, url: str):
        import redis

        self.client = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)

    def add(self, day: str, key: str) -> None:
        with self.client.pipeline(transaction=False) as pipe:
            pipe.hincrby(_HASH + day, key, 1)
            # A day's counts that nobody flushes do not pile up for ever.
            pipe.expire(_HASH + day, 40 * 24 * 3600)
            pipe.execute()

    def take(self) -> dict[str, Counter]:
        """Each day's counts, read and removed in one transaction: a view counted meanwhile
        goes to a fresh hash and waits for the next flush, never counted twice. (Should the
        database then refuse the rows, those views are lost: counts, not records.)"""
        taken: dict[str, Counter] = {}
        for name in self.client.scan_iter(match=_HASH + "*"):
            name = name.decode()
            day = name.removeprefix(_HASH)
            if ":" in day:
                continue
            with self.client.pipeline() as pipe:
                pipe.hgetall(name)
                pipe.delete(name)
                values, _deleted = pipe.execute()
            counts = taken.setdefault(day, Counter())
            for key, count in values.items():
                counts[key.decode()] += int(count)
        return taken

    def due(self) -> bool:
        return False


def store(app: Flask):
    found = app.extensions.get("market_page_views")
    if found is None:
        url = app.config["MARKET_REDIS_URL"]
        memory = app.config["MARKET_VIEWS_FLUSH_SECONDS"]
        found = _Redis(url) if url else _Memory(memory)
        app.extensions["market_page_views"] = found
    return found


def count_view(app: Flask, key: str) -> None:
    store(app).add(today().isoformat(), key)


def flush_due(app: Flask) -> bool:
    return store(app).due()


def _ids(key: str) -> tuple[int, int | None] | None:
    market_slug, vendor_slug, product_slug = key.split("/")
    vendor_id = db.session.scalar(
        select(Vendor.id)
        .join(Vendor.market)
        .where(Market.slug == market_slug, Vendor.slug == vendor_slug)
    )
    if vendor_id is None or not product_slug:
        return (vendor_id, None) if vendor_id is not None else None
    product_id = db.session.scalar(
        select(Product.id).where(Product.vendor_id == vendor_id, Product.slug == product_slug)
    )
    return (vendor_id, product_id) if product_id is not None else None


def flush(app: Flask) -> int:
    """Add the counted views to each day's `page_view` rows; returns how many views. Views of
    pages that no longer exist (a stall renamed since) are dropped."""
    added = 0
    for day, counts in store(app).take().items():
        for key, count in counts.items():
            ids = _ids(key)
            if ids is None:
                continue
            bump(PageView, ids[0], ids[1], date.fromisoformat(day), count)
            added += count
    db.session.commit()
    return added


@dataclass
class Row:
    name: str
    views: int = 0
    contacts: int = 0
    sends: int = 0


@dataclass
class Numbers:
    days: int
    stall: Row
    products: list[Row]
    totals: Row


def _per_product(model, vendor_id: int, since: date) -> dict[int | None, int]:
    rows = db.session.execute(
        select(model.product_id, func.sum(model.count))
        .where(model.vendor_id == vendor_id, model.day >= since)
        .group_by(model.product_id)
    )
    return {product_id: int(total) for product_id, total in rows}


def numbers(vendor: Vendor, products: list[Product], days: int = DAYS) -> Numbers:
    """A stall's numbers over the last `days` days: per product, the stall page, and totals."""
    since = today() - timedelta(days=days - 1)
    views = _per_product(PageView, vendor.id, since)
    contacts = _per_product(ContactClick, vendor.id, since)
    sends = _per_product(ListSend, vendor.id, since)
    rows = [
        Row(p.name, views.get(p.id, 0), contacts.get(p.id, 0), sends.get(p.id, 0)) for p in products
    ]
    stall = Row(vendor.business_name, views.get(None, 0), contacts.get(None, 0), 0)
    totals = Row(
        vendor.business_name,
        sum(views.values()),
        sum(contacts.values()),
        sum(sends.values()),
    )
    return Numbers(days, stall, rows, totals)
