"""Full-text search over one market's vendors and products, and the index that serves it.

Documents hold lower-cased, accent-free text (normalised here, so both databases agree) in four
fields: a market scope token, the name, the category names in Indonesian and English, and the
rest (description, stall, material). SQLite keeps them in FTS5 tables, PostgreSQL in weighted
tsvectors with GIN indexes; both are created by migration 0002. A session hook rewrites the
document of every Vendor and Product added, changed or deleted, in the same transaction, so
nobody else has to call this module to keep search current. Visibility is not indexed: queries
join the live rows and apply the public filters, so the rule stays in one place.
"""

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import (
    Connection,
    bindparam,
    column,
    func,
    inspect,
    literal_column,
    select,
    table,
    text,
)
from sqlalchemy.orm import Session, contains_eager, selectinload

from market.extensions import db
from market.models import Category, Market, Product, Vendor
from market.models.product import product_category
from market.models.vendor import vendor_category
from market.services.public import attach_photos

TABLE_PREFIX = "search_"
TABLES = {Vendor: "search_vendor", Product: "search_product"}
MAX_RESULTS = 20
MAX_TERMS = 8
MAX_TERM_LENGTH = 40
_CHUNK = 500
_WORD = re.compile(r"[^\W_]+")
# Weights of the fields on PostgreSQL, in ts_rank's {D, C, B, A} order: a name match counts
# most. FTS5's bm25 gets the same order as column weights.
_PG_WEIGHTS = "'{0, 0.1, 0.4, 1}'::real[]"
_FTS_WEIGHTS = (0.0, 10.0, 4.0, 1.0)


def include_in_migrations(name: str, type_: str, _parent_names: dict) -> bool:
    """Alembic's include_name hook: leave out the index tables (and FTS5's shadow tables),
    which migration 0002 makes by hand per database and the models do not describe."""
    return not (type_ == "table" and name.startswith(TABLE_PREFIX))


def normalise(value: str) -> str:
    """Lower case, no accents, words split by single spaces: 'Kué  Lapis!' → 'kue lapis'."""
    decomposed = unicodedata.normalize("NFKD", value.casefold())
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(_WORD.findall(stripped))


def query_terms(query: str) -> list[str]:
    """The words of what a shopper typed, each matched as a prefix; empty when nothing usable."""
    return [term[:MAX_TERM_LENGTH] for term in normalise(query or "").split()[:MAX_TERMS]]


def _scope(market_id: int) -> str:
    return f"m{market_id}"


# --- the index ---------------------------------------------------------------------------


@dataclass
class _Document:
    scope: str
    name: str
    tags: str
    body: str


def _category_names(connection: Connection, link, owner_column, ids) -> dict[int, str]:
    rows = connection.execute(
        select(owner_column, Category.name_id, Category.name_en)
        .join(Category, Category.id == link.c.category_id)
        .where(owner_column.in_(ids))
    )
    names: dict[int, list[str]] = defaultdict(list)
    for owner_id, name_id, name_en in rows:
        names[owner_id] += [name_id, name_en]
    return {owner_id: " ".join(parts) for owner_id, parts in names.items()}


def _vendor_documents(connection: Connection, ids: list[int]) -> dict[int, _Document]:
    tags = _category_names(connection, vendor_category, vendor_category.c.vendor_id, ids)
    rows = connection.execute(
        select(
            Vendor.id,
            Vendor.market_id,
            Vendor.business_name,
            Vendor.owner_name,
            Vendor.stall_block,
            Vendor.stall_number,
            Vendor.description,
        ).where(Vendor.id.in_(ids))
    )
    return {
        row.id: _Document(
            _scope(row.market_id),
            row.business_name,
            tags.get(row.id, ""),
            f"{row.description} {row.owner_name} blok {row.stall_block} no {row.stall_number}",
        )
        for row in rows
    }


def _product_documents(connection: Connection, ids: list[int]) -> dict[int, _Document]:
    tags = _category_names(connection, product_category, product_category.c.product_id, ids)
    rows = connection.execute(
        select(
            Product.id,
            Vendor.market_id,
            Product.name,
            Product.description,
            Product.material,
            Product.price_note,
        )
        .join(Vendor, Vendor.id == Product.vendor_id)
        .where(Product.id.in_(ids))
    )
    return {
        row.id: _Document(
            _scope(row.market_id),
            row.name,
            tags.get(row.id, ""),
            f"{row.description} {row.material} {row.price_note}",
        )
        for row in rows
    }


_DOCUMENTS = {Vendor: _vendor_documents, Product: _product_documents}


def _write(connection: Connection, model, ids: list[int]) -> None:
    name = TABLES[model]
    documents = _DOCUMENTS[model](connection, ids)
    delete_key = "rowid" if connection.dialect.name == "sqlite" else "id"
    connection.execute(
        text(f"DELETE FROM {name} WHERE {delete_key} IN :ids").bindparams(  # noqa: S608
            bindparam("ids", expanding=True)
        ),
        {"ids": ids},
    )
    if not documents:
        return
    values = [
        {
            "id": doc_id,
            "scope": doc.scope,
            "name": normalise(doc.name),
            "tags": normalise(doc.tags),
            "body": normalise(doc.body),
        }
        for doc_id, doc in documents.items()
    ]
    if connection.dialect.name == "sqlite":
        statement = (
            f"INSERT INTO {name} (rowid, scope, name, tags, body) "  # noqa: S608
            "VALUES (:id, :scope, :name, :tags, :body)"
        )
    else:
        statement = (
            f"INSERT INTO {name} (id, document) VALUES (:id, "  # noqa: S608
            "setweight(to_tsvector('simple', :scope), 'D') || "
            "setweight(to_tsvector('simple', :name), 'A') || "
            "setweight(to_tsvector('simple', :tags), 'B') || "
            "setweight(to_tsvector('simple', :body), 'C'))"
        )
    connection.execute(text(statement), values)


def reindex(connection: Connection, vendor_ids: Iterable[int], product_ids: Iterable[int]) -> None:
    """Rewrite the documents of these rows from the database (rows gone are dropped)."""
    for model, ids in ((Vendor, sorted(set(vendor_ids))), (Product, sorted(set(product_ids)))):
        for start in range(0, len(ids), _CHUNK):
            _write(connection, model, ids[start : start + _CHUNK])


def rebuild_index(connection: Connection) -> None:
    """Index every vendor and product, e.g. after the index tables were created."""
    reindex(
        connection,
        connection.scalars(select(Vendor.id)).all(),
        connection.scalars(select(Product.id)).all(),
    )


_index_present: set[str] = set()


def _has_index(connection: Connection) -> bool:
    # A database made without migrations (a throwaway script's create_all) has no index; its
    # flushes must still work. Only a positive answer is remembered, so an upgrade is noticed.
    key = connection.engine.url.render_as_string()
    if key not in _index_present and inspect(connection).has_table(TABLES[Vendor]):
        _index_present.add(key)
    return key in _index_present


def _moved_market(vendor: Vendor) -> bool:
    attrs = inspect(vendor).attrs
    return attrs.market_id.history.has_changes() or attrs.market.history.has_changes()


def keep_index_current(session: Session, _flush_context) -> None:
    """Reindex the vendors and products this flush wrote (the session still lists them)."""
    changed: dict[type, set[int]] = {Vendor: set(), Product: set()}
    moved_vendors = []
    for instance in (*session.new, *session.dirty, *session.deleted):
        model = type(instance)
        if model not in changed:
            continue
        if instance in session.dirty and not session.is_modified(instance):
            continue
        changed[model].add(instance.id)
        if model is Vendor and instance in session.dirty and _moved_market(instance):
            moved_vendors.append(instance.id)
    if not (changed[Vendor] or changed[Product]):
        return
    connection = session.connection()
    if not _has_index(connection):
        return
    if moved_vendors:
        # Products carry their market's scope token: a vendor moving market moves them too.
        changed[Product].update(
            connection.scalars(select(Product.id).where(Product.vendor_id.in_(moved_vendors)))
        )
    reindex(connection, changed[Vendor], changed[Product])


# --- queries -----------------------------------------------------------------------------


@dataclass
class SearchResult:
    terms: list[str]
    vendors: list[Vendor] = field(default_factory=list)
    products: list[Product] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.vendors or self.products)


def _ranked(model, market: Market, terms: list[str]):
    """(join target, match condition, order) for the index table of one model."""
    name = TABLES[model]
    if db.session.get_bind().dialect.name == "sqlite":
        index = table(name, column("rowid"))
        words = " AND ".join(f'"{term}"*' for term in terms)
        expression = f"scope:{_scope(market.id)} AND {{name tags body}} : ({words})"
        match = literal_column(name).op("MATCH")(expression)
        rank = func.bm25(literal_column(name), *_FTS_WEIGHTS)
        return index, index.c.rowid == model.id, match, rank
    index = table(name, column("id"), column("document"))
    words = " & ".join(f"{term}:*ABC" for term in terms)
    match = index.c.document.op("@@")(func.to_tsquery("simple", f"{_scope(market.id)}:D & {words}"))
    # Ranked on the shopper's words alone: ts_rank scores an AND by how near its terms lie,
    # and the scope token sits far from most of them.
    rank = -func.ts_rank(
        literal_column(_PG_WEIGHTS), index.c.document, func.to_tsquery("simple", words)
    )
    return index, index.c.id == model.id, match, rank


def search_market(market: Market, query: str, limit: int = MAX_RESULTS) -> SearchResult:
    """The best public vendors and products of a market for a query, name matches first.

    Each word is a prefix ("bati" finds "batik"), case and accents do not matter, category
    names match in both languages, and at most ``limit`` (≤ 20) of each kind come back.
    """
    terms = query_terms(query)
    result = SearchResult(terms)
    if not terms:
        return result
    limit = max(1, min(limit, MAX_RESULTS))
    index, joined, match, rank = _ranked(Vendor, market, terms)
    result.vendors = list(
        db.session.scalars(
            select(Vendor)
            .join(index, joined)
            .where(match, Vendor.market_id == market.id, Vendor.is_public)
            .options(selectinload(Vendor.categories))
            .order_by(rank, Vendor.id)
            .limit(limit)
        )
    )
    index, joined, match, rank = _ranked(Product, market, terms)
    result.products = list(
        db.session.scalars(
            select(Product)
            .join(index, joined)
            .join(Product.vendor)
            .where(
                match,
                Vendor.market_id == market.id,
                Vendor.is_public,
                Product.is_listed,
            )
            .options(contains_eager(Product.vendor))
            .order_by(rank, Product.id)
            .limit(limit)
        )
    )
    attach_photos(result.vendors, result.products)
    return result
