"""A database's catalog and data as one comparable value: what ``check`` compares, and ``dump``/``diff`` will.

A snapshot lists every schema object (tables, columns, indexes, keys, checks, views, routines, triggers,
sequences...) as an ``Item`` and every table's row count and digest. Names the server generated for objects
written without one (``child_email_key1``, ``email_2``, ``child_ibfk_2``, ``sqlite_autoindex_t_1``) are not
part of what an item means, so that two databases built the same way compare equal whatever their history;
duplicates are kept, so that a second unnamed copy of a key still shows. The SQL that reads each catalog
lives in ``sqlrun.catalog.<dialect>``; this module only runs it and compares.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterable, Sequence

# The values the catalog readers build live with them in sqlrun.catalog (and are still importable from
# here): defined in this module, they made each reader import back the module that imports it.
from .catalog import Item, Query, TableData

if TYPE_CHECKING:
    from .dialects import Database

HISTORY_TABLE = "sqlrun_history"
LOCK_TABLE = "sqlrun_lock"  # the lease lock's table (sqlrun/dialects/lease.py), made by --lock=table
SQLRUN_TABLES = frozenset({HISTORY_TABLE, LOCK_TABLE, "sqlrun_repeatable"})  # sqlrun's own bookkeeping, never the schema


@dataclass(frozen=True)
class Snapshot:
    """A database's schema objects (sorted; duplicates kept) and per-table data summaries."""

    kind: str
    items: tuple[Item, ...]
    data: tuple[tuple[str, TableData], ...] = ()

    def meaning(self) -> tuple[tuple[tuple[str, str, str | None, str], ...], tuple[tuple[str, TableData], ...]]:
        """What two snapshots must share to be equivalent (names the server generated left out)."""
        # A generated name is None in the meaning: it sorts before any name (None and str do not compare).
        return tuple(sorted((i.meaning for i in self.items), key=lambda m: (m[0], m[1], m[2] is not None, m[2] or "", m[3]))), self.data

    def equivalent(self, other: Snapshot) -> bool:
        """True when ``other`` holds the same objects and data, whatever the generated names."""
        return self.meaning() == other.meaning()

    def table(self, name: str) -> tuple[Item, ...]:
        """The items that belong to table ``name`` (its columns, indexes, keys, checks, triggers)."""
        return tuple(i for i in self.items if i.table == name)

    def tables(self) -> dict[str, TableData]:
        """Row count and digest by table name."""
        return dict(self.data)


@dataclass(frozen=True)
class Difference:
    """One way two snapshots differ: an object ``added`` or ``removed``, or a table's ``data`` changed."""

    change: str
    subject: str
    detail: str = ""
    rows_lost: int = 0  # rows gone: deleted, or dropped with their table

    def __str__(self) -> str:
        return f"{self.change} {self.subject}{f' ({self.detail})' if self.detail else ''}"


def diff(before: Snapshot, after: Snapshot) -> list[Difference]:
    """How ``after`` differs from ``before``: objects added, removed, and tables whose rows changed."""
    out = _item_changes(before.items, after.items)
    out += _data_changes(before.tables(), after.tables())
    return out


def _item_changes(before: Iterable[Item], after: Iterable[Item]) -> list[Difference]:
    old: Counter = Counter(i.meaning for i in before)
    new: Counter = Counter(i.meaning for i in after)
    out: list[Difference] = []
    # Counting per meaning keeps a second copy of an unnamed key visible (the first copy matches).
    out += _counted(after, before, new - old, "added")
    out += _counted(before, after, old - new, "removed")
    return out


def _counted(items: Iterable[Item], others: Iterable[Item], surplus: Counter, change: str) -> list[Difference]:
    out: list[Difference] = []
    left = Counter(surplus)
    # Of several copies, the one the other snapshot does not have by name is the one that came or went.
    named = {(i.kind, i.table, i.name) for i in others}
    for item in sorted(items, key=lambda i: ((i.kind, i.table, i.name) in named, i.kind, i.table, i.name)):
        if left[item.meaning] > 0:
            left[item.meaning] -= 1
            out.append(Difference(change, item.describe()))
    return out


def _data_changes(before: dict[str, TableData], after: dict[str, TableData]) -> list[Difference]:
    out: list[Difference] = []
    for table in sorted(set(before) & set(after)):
        old, new = before[table], after[table]
        if old == new:
            continue
        if old.rows != new.rows:
            out.append(Difference("rows", f"table {table}", f"{old.rows} -> {new.rows} rows", max(0, old.rows - new.rows)))
        else:
            out.append(Difference("rows", f"table {table}", f"{new.rows} rows, contents changed"))
    for table in sorted(set(before) - set(after)):
        if before[table].rows:
            out.append(Difference("rows", f"table {table}", f"{before[table].rows} rows dropped with the table", before[table].rows))
    return out


def query_of(db: Database) -> Query:
    """A function that runs a catalog query on ``db``'s working session and returns its rows."""
    conn: Any = getattr(db, "conn")
    if db.kind == "mysql":

        def run(sql: str, params: Sequence[Any] = ()) -> list[tuple]:
            with conn.cursor() as cur:
                cur.execute(sql, tuple(params) or None)
                return [tuple(r) for r in cur.fetchall()]

        return run

    def execute(sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        return [tuple(r) for r in conn.execute(sql, tuple(params)).fetchall()]

    return execute


def catalog_for(kind: str) -> Any:
    """The catalog reader of database ``kind`` (importing only that one)."""
    if kind == "postgresql":
        from .catalog.postgresql import PostgreSQLCatalog

        return PostgreSQLCatalog()
    if kind == "mysql":
        from .catalog.mysql import MySQLCatalog

        return MySQLCatalog()
    from .catalog.sqlite import SQLiteCatalog

    return SQLiteCatalog()


@dataclass(frozen=True)
class Scope:
    """What to leave out of a snapshot: tables by name (sqlrun's history and lock by default), and whether to read data."""

    exclude: frozenset[str] = SQLRUN_TABLES
    data: bool = True


def take(db: Database, scope: Scope = Scope()) -> Snapshot:
    """A snapshot of ``db`` as its working session sees it (inside its transaction, if one is open)."""
    return read(db.kind, query_of(db), scope)


def read(kind: str, query: Query, scope: Scope = Scope()) -> Snapshot:
    """A snapshot through ``query``, with the catalog SQL of ``kind``."""
    catalog = catalog_for(kind)
    items = [i for i in catalog.items(query) if i.table not in scope.exclude and not (i.kind == "table" and i.name in scope.exclude)]
    data: list[tuple[str, TableData]] = []
    if scope.data:
        tables = [t for t in catalog.tables(query) if t not in scope.exclude]
        data = sorted(catalog.data(query, tables).items())
    return Snapshot(kind, tuple(sorted(items)), tuple(sorted(data)))


def take_url(url: str) -> Snapshot:
    """A snapshot of the database at ``url`` (opened read-only where the database allows it)."""
    from .config import parse_url
    from .dialects import open_database

    db = open_database(parse_url(url), create=False, readonly=True, notify=lambda _: None)
    if db is None:
        raise LookupError(f"no database at {parse_url(url).redacted()}")
    try:
        return take(db)
    finally:
        db.close()


def table_items(db: Database, table: str) -> tuple[Item, ...]:
    """The items of one table, read from the catalog (no data): what equivalence look-ups need."""
    return tuple(catalog_for(db.kind).items(query_of(db), table=table))
