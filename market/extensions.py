"""The one instance of each Flask extension, and the database engine's connection rules."""

from contextvars import ContextVar

from flask_babel import Babel
from flask_caching import Cache
from flask_compress import Compress
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
compress = Compress()
cache = Cache()
limiter = Limiter(key_func=get_remote_address, default_limits=[])

# Set for requests that write: their SQLite transactions start with BEGIN IMMEDIATE, so a
# read-then-write transaction waits for the write lock (busy timeout) instead of failing
# with "database is locked" when it tries to upgrade a read lock.
write_intent: ContextVar[bool] = ContextVar("write_intent", default=False)


# What PostgreSQL's planner takes a random read to cost against a sequential one. Its default,
# 4, is for spinning disks; Pasar's database lives on SSD or in memory. At 4, a search across
# markets for a word that starts no indexed word read half the partitions of the search index
# row by row instead of asking their GIN indexes: 43 ms instead of 16 over a million goods.
RANDOM_PAGE_COST = 1.1


def configure_postgresql(engine: Engine) -> None:
    """The planner costs of the storage Pasar runs on, for each of its connections."""
    if engine.dialect.name != "postgresql":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Outside a transaction, so that the setting stays for the whole session.
        autocommit = dbapi_connection.autocommit
        dbapi_connection.autocommit = True
        with dbapi_connection.cursor() as cursor:
            cursor.execute(f"SET random_page_cost = {RANDOM_PAGE_COST}")
        dbapi_connection.autocommit = autocommit


def configure_sqlite(engine: Engine, busy_timeout_ms: int) -> None:
    """WAL, a busy timeout and foreign keys, so several processes can write safely."""
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Let SQLAlchemy's "begin" hook below decide how each transaction starts.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write_intent.get() else "BEGIN")
