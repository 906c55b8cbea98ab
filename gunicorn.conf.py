"""gunicorn settings for Pasar, read automatically when gunicorn starts in this folder."""

import os

# Rate limits and the page cache live in the process unless Redis is configured; several
# processes would each keep their own and multiply the limits.
MULTI_PROCESS_WITHOUT_REDIS = (
    "PASAR: %d gunicorn workers without MARKET_REDIS_URL: each worker counts rate limits and "
    "caches on its own, so login limits are multiplied and cached pages may be stale. "
    "Set MARKET_REDIS_URL, or run one worker with threads (the default of `make run`)."
)

forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
graceful_timeout = 20
timeout = 60


def on_starting(server):
    workers = server.cfg.workers
    if workers > 1 and not os.environ.get("MARKET_REDIS_URL"):
        banner = "!" * 78
        server.log.error(banner)
        server.log.error(MULTI_PROCESS_WITHOUT_REDIS, workers)
        server.log.error(banner)
