"""Settings read from MARKET_* environment variables, with defaults for the embedded setup."""

import os
import secrets
from pathlib import Path

DEVELOPMENT_SECRET_MARKER = "dev-"  # noqa: S105 - a prefix, not a secret
# A Redis that stops answering costs a request at most this long, not a hung worker.
REDIS_TIMEOUTS = {"socket_timeout": 1.0, "socket_connect_timeout": 1.0}


class ConfigError(RuntimeError):
    """The configuration cannot run safely; the message says what to set."""


def _env(name: str, default: str | None = None) -> str | None:
    return os.environ.get(f"MARKET_{name}", default)


def _env_int(name: str, default: int) -> int:
    value = _env(name)
    return int(value) if value not in (None, "") else default


def _env_list(name: str) -> list[str]:
    value = _env(name) or ""
    return [item.strip() for item in value.split(",") if item.strip()]


def _development_secret(instance_path: Path) -> str:
    """Generate the secret once into instance/ so sessions survive restarts."""
    path = instance_path / "secret_key"
    if not path.exists():
        instance_path.mkdir(parents=True, exist_ok=True)
        path.write_text(DEVELOPMENT_SECRET_MARKER + secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def load_settings(instance_path: str, overrides: dict | None = None) -> dict:
    """Return Flask config values from the environment, then ``overrides`` (a test's config).

    Nothing is written into instance/ for a setting the overrides give: a test run must leave
    the installation's folder untouched."""
    overrides = overrides or {}
    instance = Path(instance_path)
    environment = _env("ENV", "development")
    production = environment == "production"
    secret = _env("SECRET_KEY")
    if production and (
        not secret or secret.startswith(DEVELOPMENT_SECRET_MARKER) or len(secret) < 32
    ):
        raise ConfigError(
            "MARKET_ENV=production needs MARKET_SECRET_KEY set to a random value "
            "of at least 32 characters (python -c 'import secrets; print(secrets.token_hex(32))')."
        )
    database_url = _env("DATABASE_URL") or f"sqlite:///{instance / 'market.sqlite3'}"
    redis_url = _env("REDIS_URL")
    if not secret and "SECRET_KEY" not in overrides:
        secret = _development_secret(instance)
    return {
        "MARKET_ENV": environment,
        "SECRET_KEY": secret,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "MARKET_REDIS_URL": redis_url,
        "MARKET_STORAGE_URL": _env("STORAGE_URL") or f"file://{instance / 'uploads'}",
        "MARKET_PUBLIC_URL": (_env("PUBLIC_URL") or "").rstrip("/"),
        "MARKET_PROXY_HOPS": _env_int("PROXY_HOPS", 0),
        "MARKET_SQLITE_BUSY_TIMEOUT_MS": _env_int("SQLITE_BUSY_TIMEOUT_MS", 5000),
        # How long browsers and proxies may reuse a public page without asking again. 0: they
        # revalidate every time (a cheap 304), so a withdrawn consent or a hidden stall is
        # gone at once everywhere.
        "MARKET_CACHE_SECONDS": _env_int("CACHE_SECONDS", 0),
        # How long a shared cache in front (nginx, Varnish, a CDN: s-maxage) may serve a public
        # page without asking, and serve a market's listings stale while it asks again
        # (stale-while-revalidate). Changes are purged at once when MARKET_PURGE_URL is set;
        # these bound how long a failed purge leaves a page stale.
        "MARKET_SHARED_CACHE_SECONDS": _env_int("SHARED_CACHE_SECONDS", 60),
        "MARKET_STALE_SECONDS": _env_int("STALE_SECONDS", 30),
        # Where the shared cache in front accepts PURGE requests naming surrogate keys
        # (market.purge); empty: nothing is sent.
        "MARKET_PURGE_URL": _env("PURGE_URL", ""),
        "MARKET_PURGE_TIMEOUT": float(_env("PURGE_TIMEOUT", "2")),
        # Rendered public pages kept for anonymous visitors; 0 turns it off (benchmarks).
        "MARKET_PAGE_CACHE": _env("PAGE_CACHE", "1") != "0",
        # Benchmarks and tests only: an X-Cache header (HIT, MISS, BYPASS) on every response
        # and this process's counts per page kind at /_pagecache/stats.
        "MARKET_CACHE_DEBUG_HEADER": _env("CACHE_DEBUG_HEADER", "0") == "1",
        # Without Redis, how long a process keeps its page views before adding them to the
        # database (a restart loses at most these).
        "MARKET_VIEWS_FLUSH_SECONDS": _env_int("VIEWS_FLUSH_SECONDS", 300),
        "MARKET_PHOTO_MAX_BYTES": _env_int("PHOTO_MAX_BYTES", 15 * 1024 * 1024),
        "MARKET_PHOTO_MAX_PIXELS": _env_int("PHOTO_MAX_PIXELS", 50_000_000),
        # Memory each worker process may spend decoding uploads at once (with the ~200 MB the
        # app itself takes, a worker stays under 600 MB), and how long an upload waits for
        # room before it is answered "busy, try again" (docs/RELIABILITY.md).
        "MARKET_PHOTO_DECODE_MB": _env_int("PHOTO_DECODE_MB", 400),
        "MARKET_PHOTO_BUSY_SECONDS": _env_int("PHOTO_BUSY_SECONDS", 3),
        "MARKET_MIN_PRODUCTS": _env_int("MIN_PRODUCTS", 3),
        "MARKET_INVITATION_DAYS": _env_int("INVITATION_DAYS", 7),
        "MARKET_LOGIN_LIMIT": _env("LOGIN_LIMIT", "5 per minute"),
        "MAX_CONTENT_LENGTH": _env_int("MAX_REQUEST_BYTES", 64 * 1024 * 1024),
        "TRUSTED_HOSTS": _env_list("TRUSTED_HOSTS") or None,
        "RATELIMIT_STORAGE_URI": redis_url or "memory://",
        # Redis out of reach: limits are counted in each process meanwhile (logged), and
        # pages are rendered uncached (market.pagecache), rather than failing requests.
        "RATELIMIT_STORAGE_OPTIONS": dict(REDIS_TIMEOUTS) if redis_url else {},
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        "RATELIMIT_SWALLOW_ERRORS": True,
        "CACHE_TYPE": "RedisCache" if redis_url else "SimpleCache",
        "CACHE_REDIS_URL": redis_url,
        "CACHE_OPTIONS": dict(REDIS_TIMEOUTS) if redis_url else None,
        "CACHE_KEY_PREFIX": "pasar:",
        "CACHE_DEFAULT_TIMEOUT": 600,
        "CACHE_THRESHOLD": 2000,
        "RATELIMIT_HEADERS_ENABLED": True,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": production,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": production,
        "PERMANENT_SESSION_LIFETIME": _env_int("SESSION_HOURS", 12) * 3600,
        "MARKET_SESSION_IDLE_MINUTES": _env_int("SESSION_IDLE_MINUTES", 120),
        "WTF_CSRF_TIME_LIMIT": None,
        "BABEL_DEFAULT_LOCALE": "id",
        "BABEL_DEFAULT_TIMEZONE": _env("TIMEZONE", "Asia/Makassar"),
        "COMPRESS_MIMETYPES": [
            "text/html",
            "text/css",
            "text/xml",
            "application/json",
            "application/javascript",
            "image/svg+xml",
        ],
        "COMPRESS_ALGORITHM": ["br", "gzip"],
        "COMPRESS_MIN_SIZE": 500,
    } | overrides
