"""Telling a shared HTTP cache in front (Varnish, nginx, a CDN) which pages went stale: one
PURGE request naming the changed tags (Surrogate-Key header) to MARKET_PURGE_URL, sent from a
background thread so that no save waits for it, bounded in time, failures logged and dropped
(the pages then age out after MARKET_SHARED_CACHE_SECONDS)."""

import http.client
import logging
import queue
import threading
from collections.abc import Iterable
from urllib.parse import urlsplit

from flask import Flask

log = logging.getLogger("market.purge")

# Changes waiting to be sent; beyond this the cache in front is unreachable or far too slow,
# and waiting longer would only delay the pages' own expiry.
BACKLOG = 1000


class Purger:
    def __init__(self, url: str, timeout: float):
        self.url = url
        self.timeout = timeout
        self.waiting: queue.Queue[frozenset[str]] = queue.Queue(BACKLOG)
        self.thread = threading.Thread(target=self._run, name="market-purge", daemon=True)
        self.thread.start()

    def send(self, tags: Iterable[str]) -> None:
        try:
            self.waiting.put_nowait(frozenset(tags))
        except queue.Full:
            log.warning("purge backlog full: %s not purged", " ".join(sorted(tags)))

    def _run(self) -> None:
        while True:
            tags = set(self.waiting.get())
            # Saves come in bursts: what queued meanwhile goes out in the same request.
            while not self.waiting.empty():
                tags |= self.waiting.get_nowait()
            self._purge(sorted(tags))

    def _purge(self, tags: list[str]) -> None:
        address = urlsplit(self.url)
        secure = address.scheme == "https"
        connection = (http.client.HTTPSConnection if secure else http.client.HTTPConnection)(
            address.netloc, timeout=self.timeout
        )
        try:
            connection.request(
                "PURGE", address.path or "/", headers={"Surrogate-Key": " ".join(tags)}
            )
            response = connection.getresponse()
            response.read()
            if response.status >= 300:
                raise OSError(f"answered {response.status} {response.reason}")
        except Exception as error:
            log.warning("purge of %s at %s failed: %s", " ".join(tags), self.url, error)
        finally:
            connection.close()


def send(app: Flask, tags: Iterable[str]) -> None:
    """Queue a purge of these tags when MARKET_PURGE_URL is set; never blocks, never raises."""
    url = app.config["MARKET_PURGE_URL"]
    if not url:
        return
    purger = app.extensions.get("market_purger")
    if purger is None or purger.url != url:
        purger = app.extensions["market_purger"] = Purger(url, app.config["MARKET_PURGE_TIMEOUT"])
    purger.send(tags)
