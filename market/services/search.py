"""Full-text search over one market's vendors and products, and the index that serves it.

Documents hold lower-cased, accent-free text (normalised here, so both databases agree) in four
fields: a market scope token, the name (Indonesian and English), the category names in both
languages, and the rest (descriptions in both languages, stall, material). SQLite keeps them
in FTS5 tables, PostgreSQL in weighted tsvectors with GIN indexes; both are created by
migration 0002. A session hook rewrites the document of every Vendor and Product added,
changed or deleted, in the same transaction, so nobody else has to call this module to keep
search current. Visibility is not indexed: queries
join the live rows and apply the public filters, so the rule stays in one place.
"""

import enum
import functools
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import (
    Connection,
    String,
    bindparam,
    case,
    cast,
    column,
    func,
    inspect,
    literal,
    literal_column,
    select,
    table,
    text,
)
from sqlalchemy.orm import Session, contains_eager
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.sql.selectable import Subquery

from market.extensions import db
from market.models import Availability, Category, Market, Product, Vendor
from market.models.product import product_category
from market.models.vendor import vendor_category
from market.services.public import attach_photos

TABLE_PREFIX = "search_"
TABLES = {Vendor: "search_vendor", Product: "search_product"}
# Every word the index has seen, for "did you mean": never pruned, so a suggestion is only
# shown when searching for it finds something public.
VOCABULARY = "search_word"
MAX_RESULTS = 20
# Matches of one kind ranked, filtered and counted per search. Ranking every match costs time
# in proportion to the catalogue ("manik" across a million goods matches 160,000); beyond this
# many, the results are the best of the first CANDIDATES the index yields and the count says
# "more than". A market's own search rarely reaches it.
CANDIDATES = 1000
# Across markets, half as many: every result there is labelled with its market, and a shopper
# who wants one market's full ranking narrows to it with the market filter. It keeps a city's
# search (a million goods and more) as quick as a market's.
CITY_CANDIDATES = 500
MAX_TERMS = 8
MAX_TERM_LENGTH = 40
_CHUNK = 500
_WORD = re.compile(r"[^\W_]+")
# Weights of the fields on PostgreSQL, in ts_rank's {D, C, B, A} order: a name match counts
# most. On SQLite the same weights score each field holding a word.
_PG_WEIGHTS = "'{0, 0.1, 0.4, 1}'::real[]"
_FTS_WEIGHTS = (10.0, 4.0, 1.0)


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
    market_id: int
    name: str
    tags: str
    body: str
    # Found by search, but kept out of the vocabulary of corrections: a person's name is
    # personal data, and the vocabulary outlives the stall (it is never pruned).
    people: str = ""


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


def _english(connection: Connection, model) -> tuple:
    """The English name and description columns of ``model``, or empty text in a database
    migrated only up to before 0006 added them: migrations 0002 and 0004 build the index with
    today's code."""
    if _has_column(connection, model.__tablename__, "name_en"):
        return model.name_en, model.description_en
    return literal("").label("name_en"), literal("").label("description_en")


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
            *_english(connection, Vendor),
        ).where(Vendor.id.in_(ids))
    )
    return {
        row.id: _Document(
            row.market_id,
            f"{row.business_name} {row.name_en}",
            tags.get(row.id, ""),
            # "b12" as one word too: shoppers type the code painted on the stall.
            f"{row.description} {row.description_en} blok {row.stall_block} "
            f"no {row.stall_number} {row.stall_block}{row.stall_number}",
            people=row.owner_name,
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
            *_english(connection, Product),
            Product.material,
            Product.price_note,
            Product.halal,
        )
        .join(Vendor, Vendor.id == Product.vendor_id)
        .where(Product.id.in_(ids))
    )
    return {
        row.id: _Document(
            row.market_id,
            f"{row.name} {row.name_en}",
            tags.get(row.id, ""),
            f"{row.description} {row.description_en} {row.material} {row.price_note} "
            f"{'halal' if row.halal else ''}",
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
            "market_id": doc.market_id,
            "scope": _scope(doc.market_id),
            "name": normalise(doc.name),
            "tags": normalise(doc.tags),
            "body": normalise(f"{doc.body} {doc.people}"),
        }
        for doc_id, doc in documents.items()
    ]
    vocabulary_sources = [
        f"{value['name']} {value['tags']} {normalise(doc.body)}"
        for value, doc in zip(values, documents.values(), strict=True)
    ]
    if connection.dialect.name == "sqlite":
        statement = (
            f"INSERT INTO {name} (rowid, scope, name, tags, body) "  # noqa: S608
            "VALUES (:id, :scope, :name, :tags, :body)"
        )
    else:
        # Split by market since migration 0013; rebuilt by earlier migrations before it.
        by_market = _has_column(connection, name, "market_id")
        columns, markets = (", market_id", ", :market_id") if by_market else ("", "")
        statement = (
            f"INSERT INTO {name} (id{columns}, document) VALUES (:id{markets}, "  # noqa: S608
            "setweight(to_tsvector('simple', :scope), 'D') || "
            "setweight(to_tsvector('simple', :name), 'A') || "
            "setweight(to_tsvector('simple', :tags), 'B') || "
            "setweight(to_tsvector('simple', :body), 'C'))"
        )
    connection.execute(text(statement), values)
    if _has_table(connection, VOCABULARY):
        words = {
            word
            for source in vocabulary_sources
            for word in source.split()
            if _is_vocabulary_word(word)
        }
        if words:
            connection.execute(
                text(f"INSERT INTO {VOCABULARY} (word) VALUES (:word) ON CONFLICT DO NOTHING"),  # noqa: S608
                [{"word": word} for word in sorted(words)],
            )


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


_tables_present: set[tuple[str, str]] = set()


def _has_table(connection: Connection, name: str) -> bool:
    # A database made without migrations (a throwaway script's create_all) has no index; its
    # flushes must still work. Only a positive answer is remembered, so an upgrade is noticed.
    key = (connection.engine.url.render_as_string(), name)
    if key not in _tables_present and inspect(connection).has_table(name):
        _tables_present.add(key)
    return key in _tables_present


def _has_column(connection: Connection, table_name: str, name: str) -> bool:
    key = (connection.engine.url.render_as_string(), f"{table_name}.{name}")
    if key not in _tables_present and any(
        c["name"] == name for c in inspect(connection).get_columns(table_name)
    ):
        _tables_present.add(key)
    return key in _tables_present


def _has_index(connection: Connection) -> bool:
    return _has_table(connection, TABLES[Vendor])


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


# --- what the shopper meant ---------------------------------------------------------------

# "oleh2" is how Indonesians write "oleh-oleh" in a hurry; a digit after a lone letter ("b12")
# is a stall code instead, hence at least two letters before the 2.
_REDUPLICATED = re.compile(r"^([^\W\d_]{2,})2$")
_MAX_PHRASE = 3  # words in the longest synonym phrase looked up
MIN_CORRECTED_LENGTH = 3
_NEAR_CANDIDATES = 50
# A word starting at most this many indexed words is searched as those words: an index finds
# whole words by seeking, but a prefix by reading every entry that starts with it (in
# PostgreSQL's GIN, the whole posting list of each), which grows with the catalogue.
_COMPLETIONS = 16


def _is_vocabulary_word(word: str) -> bool:
    return MIN_CORRECTED_LENGTH <= len(word) <= MAX_TERM_LENGTH and word.isalpha()


def expand_shorthand(terms: list[str]) -> list[str]:
    """Indonesian reduplication written with a 2: ['oleh2'] → ['oleh', 'oleh']."""
    words = []
    for term in terms:
        match = _REDUPLICATED.match(term)
        words += [match[1], match[1]] if match else [term]
    return words[:MAX_TERMS]


def edit_distance(a: str, b: str) -> int:
    """Optimal string alignment distance: insertions, deletions, substitutions and swaps of
    two neighbouring letters each count one ('amplng' → 'amplang' is 1, 'mnaik' → 'manik' 1)."""
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], previous2[j - 2] + 1)
        previous2, previous = previous, current
    return previous[-1]


def allowed_distance(word: str) -> int:
    """One slip in a short word, two in a long one."""
    return 1 if len(word) <= 6 else 2


def _after(prefix: str) -> str:
    """The smallest string greater than every string starting with ``prefix``."""
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


@dataclass
class Lookup:
    """What the database knows about a query's words (one statement, see _lookup)."""

    synonyms: dict[str, list[str]] = field(default_factory=dict)
    known: set[str] = field(default_factory=set)
    near: dict[str, list[str]] = field(default_factory=dict)
    # The indexed words each query word starts, up to _COMPLETIONS + 1 of them.
    completions: dict[str, list[str]] = field(default_factory=dict)


def _grams(words: list[str]) -> list[str]:
    return sorted(
        {
            " ".join(words[i : i + n])
            for n in range(1, _MAX_PHRASE + 1)
            for i in range(len(words) - n + 1)
        }
    )


def _lookup(words: list[str]) -> Lookup:
    """Synonyms of every phrase of the query, which words start some indexed word, and near
    words for those that do not: one round trip, however many words."""
    # Only constants and parameter names go into the SQL text; the words are parameters.
    connection = db.session.connection()
    postgres = connection.dialect.name == "postgresql"
    parts = ["SELECT 0 AS kind, phrase AS word, means AS other FROM synonym WHERE phrase IN :grams"]
    params: dict = {"grams": _grams(words)}
    checked = sorted({w for w in words if _is_vocabulary_word(w)})
    for i, word in enumerate(checked):
        params |= {f"w{i}": word, f"u{i}": _after(word)}
        starts = f"SELECT 1 FROM {VOCABULARY} WHERE word >= :w{i} AND word < :u{i}"  # noqa: S608
        parts.append(f"SELECT 1, CAST(:w{i} AS VARCHAR), NULL WHERE EXISTS ({starts})")
        if postgres:
            near = (
                f"SELECT word FROM {VOCABULARY} WHERE word % :w{i} "  # noqa: S608
                f"AND NOT EXISTS ({starts}) ORDER BY similarity(word, :w{i}) DESC"
            )
        else:
            # No trigram index in SQLite: near words share the first letter and nearly the
            # length, which the primary key's order finds as a range.
            params |= {f"f{i}": word[0], f"g{i}": _after(word[0])}
            params |= {f"lo{i}": len(word) - 2, f"hi{i}": len(word) + 2}
            near = (
                f"SELECT word FROM {VOCABULARY} WHERE word >= :f{i} AND word < :g{i} "  # noqa: S608
                f"AND length(word) BETWEEN :lo{i} AND :hi{i} AND NOT EXISTS ({starts})"
            )
        parts.append(
            f"SELECT 2, word, CAST(:w{i} AS VARCHAR) "  # noqa: S608
            f"FROM ({near} LIMIT {_NEAR_CANDIDATES}) AS anon_near{i}"
        )
        parts.append(
            f"SELECT 3, word, CAST(:w{i} AS VARCHAR) FROM (SELECT word FROM {VOCABULARY} "  # noqa: S608
            f"WHERE word >= :w{i} AND word < :u{i} ORDER BY word LIMIT {_COMPLETIONS + 1}) "
            f"AS anon_complete{i}"
        )
    statement = text(" UNION ALL ".join(parts)).bindparams(bindparam("grams", expanding=True))
    found = Lookup()
    for kind, word, other in connection.execute(statement, params):
        if kind == 0:
            found.synonyms.setdefault(word, []).append(other)
        elif kind == 1:
            found.known.add(word)
        elif kind == 2:
            found.near.setdefault(other, []).append(word)
        else:
            found.completions.setdefault(other, []).append(word)
    return found


def _closest(word: str, candidates: list[str]) -> str | None:
    scored = sorted((edit_distance(word, c), abs(len(c) - len(word)), c) for c in candidates)
    if scored and scored[0][0] <= allowed_distance(word):
        return scored[0][2]
    return None


def _without_subsumed(alternatives: list[tuple[str, ...]]) -> list[tuple[str, ...]]:
    """Drop each alternative that needs every word of another one ("manik manik" beside
    "manik"): it can only find what the other finds, and each costs the index a pass."""
    kept: list[tuple[str, ...]] = []
    for alternative in sorted(alternatives, key=lambda words: (len(set(words)), len(words))):
        if not any(set(other) <= set(alternative) for other in kept):
            kept.append(alternative)
    return kept


@dataclass
class Understood:
    """A query as groups of alternatives: every group must match, by any one alternative,
    each a run of words matched as prefixes. ``corrected`` lists the shopper's words with the
    unknown ones replaced, when any was."""

    groups: list[list[tuple[str, ...]]]
    corrected: list[str] | None = None
    # Words known to start only these indexed words (and themselves, for the words the
    # vocabulary leaves out, such as a person's name): searched as whole words.
    completions: dict[str, list[str]] = field(default_factory=dict)


def understand(terms: list[str]) -> Understood:
    """Expand shorthand, add synonyms and spelling variants, and replace a word the index has
    never seen by the nearest one it has."""
    words = expand_shorthand(terms)
    if not words:
        return Understood([])
    found = _lookup(words)
    groups: list[list[tuple[str, ...]]] = []
    corrected, changed = [], False
    i = 0
    while i < len(words):
        for n in range(min(_MAX_PHRASE, len(words) - i), 0, -1):
            phrase = " ".join(words[i : i + n])
            if phrase in found.synonyms:
                alternatives = [tuple(words[i : i + n])]
                alternatives += [tuple(means.split()) for means in found.synonyms[phrase]]
                groups.append(_without_subsumed(alternatives))
                corrected += words[i : i + n]
                i += n
                break
        else:
            word = words[i]
            replacement = None
            if _is_vocabulary_word(word) and word not in found.known:
                replacement = _closest(word, found.near.get(word, []))
            groups.append([(replacement or word,)])
            corrected.append(replacement or word)
            changed = changed or replacement is not None
            i += 1
    completions = {
        word: sorted({word, *found_words})
        for word, found_words in found.completions.items()
        if len(found_words) <= _COMPLETIONS
    }
    return Understood(groups, corrected if changed else None, completions)


# --- queries -----------------------------------------------------------------------------


class Sort(enum.StrEnum):
    """Orders of the goods found; the values are the URL's words."""

    RELEVANCE = "relevan"
    CHEAPEST = "termurah"
    DEAREST = "termahal"
    NEWEST = "terbaru"


@dataclass
class Filters:
    """What a shopper narrowed the goods to. Price, availability and halal are facts of
    goods, so with any of them set no stalls are listed."""

    category: Category | None = None
    price_min: int | None = None
    price_max: int | None = None
    availability: Availability | None = None
    halal: bool = False
    market: Market | None = None
    sort: Sort = Sort.RELEVANCE

    @property
    def goods_only(self) -> bool:
        return bool(
            self.price_min is not None
            or self.price_max is not None
            or self.availability
            or self.halal
        )


class Total(int):
    """How many public matches were found; ``more`` when the search stopped at its candidates
    and there may be more than that."""

    more: bool

    def __new__(cls, value: int, more: bool = False):
        total = super().__new__(cls, value)
        total.more = more
        return total


@dataclass
class SearchResult:
    terms: list[str]
    vendors: list[Vendor] = field(default_factory=list)
    products: list[Product] = field(default_factory=list)
    vendor_total: Total = field(default_factory=lambda: Total(0))
    product_total: Total = field(default_factory=lambda: Total(0))
    # The shopper's query with unknown words replaced, when that is what was searched.
    suggestion: str | None = None

    @property
    def empty(self) -> bool:
        return not (self.vendors or self.products)


def _fts_words(groups, completions=None) -> str:
    def term(word):
        if word in (completions or {}):
            return "(" + " OR ".join(f'"{whole}"' for whole in completions[word]) + ")"
        return f'"{word}"*'

    def alternative(words):
        return " AND ".join(term(word) for word in words)

    return " AND ".join(
        "(" + " OR ".join(f"({alternative(a)})" for a in group) + ")" for group in groups
    )


def _ts_words(groups, completions=None) -> str:
    def term(word):
        if word in (completions or {}):
            return "(" + " | ".join(f"{whole}:ABC" for whole in completions[word]) + ")"
        return f"{word}:*ABC"

    def alternative(words):
        return " & ".join(term(word) for word in words)

    return " & ".join(
        "(" + " | ".join(f"({alternative(a)})" for a in group) + ")" for group in groups
    )


def _matches(model, market: Market | None, meant: Understood) -> tuple[Subquery, dict]:
    """The matching rows of one model's index table as a subquery of (id, rank, considered):
    at most _candidates(market) of them, in the index's own order, ranked, with how many that
    is; without a market the whole index is searched (the caller keeps to public markets).
    With it, the parameters that carry the shopper's words into it."""
    sqlite = db.session.get_bind().dialect.name == "sqlite"
    if sqlite:
        expression = f"{{name tags body}} : ({_fts_words(meant.groups, meant.completions)})"
        if market is not None:
            expression = f"scope:{_scope(market.id)} AND {expression}"
        words = sorted({word for group in meant.groups for words in group for word in words})
        params = {"search_match": expression} | {
            f"search_word_{i}": f"% {word}%" for i, word in enumerate(words)
        }
    else:
        words = []
        params = {"search_words": _ts_words(meant.groups, meant.completions)}
        if market is not None:
            params |= {
                "search_scoped": f"{_scope(market.id)}:D & ({params['search_words']})",
                "search_market": market.id,
            }
    statement = _match_statement(model, sqlite, len(words), market is not None, _candidates(market))
    return statement, params


@functools.cache
def _match_statement(model, sqlite: bool, words: int, scoped: bool, limit: int) -> Subquery:
    """_matches' statement for one shape of search, built once: building SQLAlchemy expressions
    costs more than running them (a third of a search on SQLite). A subquery, because FTS5
    refuses bm25() in a statement that also has a window function."""
    name = TABLES[model]
    if sqlite:
        index = table(name, column("rowid"), *(column(f, String) for f in ("name", "tags", "body")))
        # Not bm25(): its first call per query counts every row holding each term, the scope
        # token's included - a whole market, or the catalogue - before ranking any.
        rank = -sum(
            case(((" " + index.c[field]).like(bindparam(f"search_word_{i}")), weight), else_=0)
            for field, weight in zip(("name", "tags", "body"), _FTS_WEIGHTS, strict=True)
            for i in range(words)
        )
        ranked = (
            select(index.c.rowid.label("id"), rank.label("rank"))
            .where(literal_column(name).op("MATCH")(bindparam("search_match")))
            .limit(limit)
        )
    else:
        index = table(name, column("id"), column("market_id"), column("document"))
        words_query = func.to_tsquery("simple", bindparam("search_words", type_=String))
        # Ranked on the shopper's words alone: ts_rank scores an AND by how near its terms
        # lie, and the scope token sits far from most of them.
        rank = -func.ts_rank(literal_column(_PG_WEIGHTS), index.c.document, words_query)
        ranked = select(index.c.id, rank.label("rank")).limit(limit)
        if scoped:
            # The market picks the index's partition; its scope token narrows the partition's
            # matches.
            scoped_query = func.to_tsquery("simple", bindparam("search_scoped", type_=String))
            ranked = ranked.where(
                index.c.market_id == bindparam("search_market"),
                index.c.document.op("@@")(scoped_query),
            )
        else:
            ranked = ranked.where(index.c.document.op("@@")(words_query))
    ranked = ranked.subquery()
    return select(ranked, func.count().over().label("considered")).subquery()


def _candidates(market: Market | None) -> int:
    return CANDIDATES if market is not None else CITY_CANDIDATES


_PRODUCT_ORDER = {
    Sort.CHEAPEST: (Product.price_idr.is_(None), Product.price_idr),
    Sort.DEAREST: (Product.price_idr.is_(None), Product.price_idr.desc()),
    Sort.NEWEST: (Product.created_at.desc(),),
}


def _vendor_category_ids():
    return (
        select(func.aggregate_strings(cast(vendor_category.c.category_id, String), ","))
        .where(vendor_category.c.vendor_id == Vendor.id)
        .scalar_subquery()
    )


def _find_vendors(market, meant, filters: Filters, limit: int, categories) -> tuple[list, int]:
    found, params = _matches(Vendor, market, meant)
    query = (
        select(Vendor, func.count().over(), _vendor_category_ids(), found.c.considered)
        .join(found, found.c.id == Vendor.id)
        .join(Vendor.market)
        .where(Vendor.is_public, Market.published.is_(True))
        .options(contains_eager(Vendor.market))
        .order_by(found.c.rank, Vendor.id)
        .limit(limit)
    )
    if market is not None:
        query = query.where(Vendor.market_id == market.id)
    if filters.category is not None:
        query = query.where(
            Vendor.id.in_(
                select(vendor_category.c.vendor_id).where(
                    vendor_category.c.category_id == filters.category.id
                )
            )
        )
    rows = db.session.execute(query, params).all()
    for vendor, _count, category_ids, _considered in rows:
        ids = {int(i) for i in (category_ids or "").split(",") if i}
        # Set from the row (the page has the categories already) rather than one query more.
        set_committed_value(vendor, "categories", [c for c in categories if c.id in ids])
    return [row[0] for row in rows], _total(rows, market)


def _find_products(market, meant, filters: Filters, limit: int) -> tuple[list, int]:
    found, params = _matches(Product, market, meant)
    query = (
        select(Product, func.count().over(), found.c.considered)
        .join(found, found.c.id == Product.id)
        .join(Product.vendor)
        .join(Vendor.market)
        .where(Vendor.is_public, Product.is_listed, Market.published.is_(True))
        .options(contains_eager(Product.vendor).contains_eager(Vendor.market))
        .order_by(*_PRODUCT_ORDER.get(filters.sort, ()), found.c.rank, Product.id)
        .limit(limit)
    )
    if market is not None:
        query = query.where(Vendor.market_id == market.id)
    if filters.category is not None:
        query = query.where(
            Product.id.in_(
                select(product_category.c.product_id).where(
                    product_category.c.category_id == filters.category.id
                )
            )
        )
    if filters.price_min is not None:
        query = query.where(Product.price_idr >= filters.price_min)
    if filters.price_max is not None:
        query = query.where(Product.price_idr <= filters.price_max)
    if filters.availability is not None:
        query = query.where(Product.availability == filters.availability)
    if filters.halal:
        query = query.where(Product.halal.is_(True))
    rows = db.session.execute(query, params).all()
    return [row[0] for row in rows], _total(rows, market)


def _total(rows, market: Market | None) -> Total:
    """The count of a page of results (the window count, then the candidates considered)."""
    if not rows:
        return Total(0)
    return Total(rows[0][1], more=rows[0][-1] >= _candidates(market))


def _search(
    market: Market | None,
    query: str,
    filters: Filters | None,
    limit: int,
    categories: list[Category] | None,
    stalls: bool = True,
) -> SearchResult:
    terms = query_terms(query)
    result = SearchResult(terms)
    if not terms:
        return result
    filters = filters or Filters()
    limit = max(1, min(limit, MAX_RESULTS))
    stalls = stalls and not filters.goods_only
    if categories is None and stalls:
        categories = list(db.session.scalars(select(Category).order_by(Category.position)))
    meant = understand(terms)
    if stalls:
        result.vendors, result.vendor_total = _find_vendors(
            market, meant, filters, limit, categories
        )
    result.products, result.product_total = _find_products(market, meant, filters, limit)
    # Offered only when it finds something public, so no hidden record's words leak out.
    if meant.corrected and not result.empty:
        result.suggestion = " ".join(meant.corrected)
    attach_photos(result.vendors, result.products)
    return result


def search_market(
    market: Market,
    query: str,
    limit: int = MAX_RESULTS,
    filters: Filters | None = None,
    categories: list[Category] | None = None,
    *,
    stalls: bool = True,
) -> SearchResult:
    """The best public vendors and products of a market for a query, name matches first.

    Each word is a prefix ("bati" finds "batik"), case and accents do not matter, category
    names match in both languages, shorthand ("oleh2"), spelling variants and English words
    of the synonym table are understood, a word the index has never seen is replaced by the
    nearest it has ("amplng" → "amplang", see ``suggestion``), and at most ``limit`` (≤ 20)
    of each kind come back, with the count of all that match (``Total.more`` past
    CANDIDATES). ``categories`` (all of them) saves a query when the caller has them already;
    ``stalls=False`` looks for goods alone.
    """
    return _search(market, query, filters, limit, categories, stalls)


def search_city(
    query: str,
    filters: Filters | None = None,
    limit: int = MAX_RESULTS,
    categories: list[Category] | None = None,
) -> SearchResult:
    """As search_market, across every published market (or the one of ``filters.market``);
    each vendor and product comes with its market loaded, to label the results."""
    filters = filters or Filters()
    return _search(filters.market, query, filters, limit, categories)
