"""PostgreSQL's catalog as snapshot items: pg_catalog queries, every schema but the system ones."""

from __future__ import annotations

import re
from typing import Any, Iterator, Sequence

from . import Item, Query, TableData
from . import squeeze

# Objects in these schemas belong to the server, not to the scripts.
SYSTEM = "n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%%' AND n.nspname NOT LIKE 'pg\\_temp%%'"
# A name is shown unqualified in the schema every script starts in.
QUALIFIED = "CASE WHEN n.nspname = 'public' THEN c.relname ELSE n.nspname || '.' || c.relname END"
NOT_EXTENSION = "NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = {oid} AND d.deptype = 'e')"

TABLES = f"""SELECT {QUALIFIED}, c.relkind, c.relpersistence FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p') AND {SYSTEM} AND {NOT_EXTENSION.format(oid='c.oid')} AND ({{table}} IS NULL OR {QUALIFIED} = {{table}})"""

COLUMNS = f"""SELECT {QUALIFIED}, a.attname, row_number() OVER (PARTITION BY c.oid ORDER BY a.attnum),
  format_type(a.atttypid, a.atttypmod), a.attnotnull, pg_get_expr(ad.adbin, ad.adrelid), a.attidentity, a.attgenerated,
  CASE WHEN a.attcollation <> t.typcollation THEN (SELECT collname FROM pg_collation WHERE oid = a.attcollation) END
FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_type t ON t.oid = a.atttypid LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
WHERE c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped AND {SYSTEM}
  AND {NOT_EXTENSION.format(oid='c.oid')} AND ({{table}} IS NULL OR {QUALIFIED} = {{table}})"""

CONSTRAINTS = f"""SELECT {QUALIFIED}, co.conname, co.contype, pg_get_constraintdef(co.oid), co.condeferrable, co.condeferred
FROM pg_constraint co JOIN pg_class c ON c.oid = co.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE co.contype IN ('p', 'u', 'f', 'c', 'x') AND {SYSTEM} AND ({{table}} IS NULL OR {QUALIFIED} = {{table}})"""

# Indexes that back a constraint are described by the constraint (a foreign key's conindid is the index it
# leans on in the referenced table: that index is still one of its own).
INDEXES = f"""SELECT {QUALIFIED}, ic.relname, i.indisunique, pg_get_indexdef(i.indexrelid)
FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_class c ON c.oid = i.indrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE {SYSTEM} AND {NOT_EXTENSION.format(oid='c.oid')}
  AND NOT EXISTS (SELECT 1 FROM pg_constraint co WHERE co.conindid = i.indexrelid AND co.contype IN ('p', 'u', 'x'))
  AND ({{table}} IS NULL OR {QUALIFIED} = {{table}})"""

TRIGGERS = f"""SELECT {QUALIFIED}, tg.tgname, pg_get_triggerdef(tg.oid) FROM pg_trigger tg JOIN pg_class c ON c.oid = tg.tgrelid
JOIN pg_namespace n ON n.oid = c.relnamespace WHERE NOT tg.tgisinternal AND {SYSTEM} AND ({{table}} IS NULL OR {QUALIFIED} = {{table}})"""

VIEWS = f"""SELECT {QUALIFIED}, c.relkind, pg_get_viewdef(c.oid) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('v', 'm') AND {SYSTEM} AND {NOT_EXTENSION.format(oid='c.oid')}"""

SEQUENCES = f"""SELECT {QUALIFIED}, format_type(s.seqtypid, NULL), s.seqstart, s.seqincrement, s.seqmin, s.seqmax, s.seqcycle
FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE {SYSTEM} AND {NOT_EXTENSION.format(oid='c.oid')}"""

ROUTINES = f"""SELECT CASE WHEN n.nspname = 'public' THEN p.proname ELSE n.nspname || '.' || p.proname END,
  p.prokind, pg_get_function_identity_arguments(p.oid),
  CASE WHEN p.prokind IN ('f', 'p') THEN pg_get_functiondef(p.oid) ELSE '' END
FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE {SYSTEM} AND {NOT_EXTENSION.format(oid='p.oid')}"""

TYPES = f"""SELECT CASE WHEN n.nspname = 'public' THEN t.typname ELSE n.nspname || '.' || t.typname END, t.typtype,
  CASE t.typtype WHEN 'e' THEN (SELECT string_agg(e.enumlabel, ', ' ORDER BY e.enumsortorder) FROM pg_enum e WHERE e.enumtypid = t.oid)
  WHEN 'd' THEN format_type(t.typbasetype, t.typtypmod) || CASE WHEN t.typnotnull THEN ' NOT NULL' ELSE '' END
    || coalesce(' DEFAULT ' || t.typdefault, '') ELSE '' END
FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
WHERE t.typtype IN ('e', 'd') AND {SYSTEM} AND {NOT_EXTENSION.format(oid='t.oid')}"""

SCHEMAS = f"SELECT n.nspname FROM pg_namespace n WHERE {SYSTEM} AND n.nspname <> 'public' AND {NOT_EXTENSION.format(oid='n.oid')}"
EXTENSIONS = "SELECT extname FROM pg_extension WHERE extname <> 'plpgsql'"

# Each row's text hashed, and the hashes summed: a digest of the rows as a multiset, computed by the server.
DATA = (
    "SELECT {n}, count(*), coalesce(sum(('x' || substr(md5(t::text), 1, 15))::bit(60)::bigint), 0)::text, "
    "coalesce(sum(('x' || substr(md5(t::text), 16, 15))::bit(60)::bigint), 0)::text FROM {relation} t"
)

# The suffixes PostgreSQL gives the names it makes up (ChooseConstraintName/ChooseIndexName), with a
# number added when the name is taken: child_email_key, child_email_key1.
_GENERATED = re.compile(r"_(?:pkey|key|fkey|check|excl|idx)\d*$")
_INDEX_HEAD = re.compile(r"^CREATE (?:UNIQUE )?INDEX \S+ ON (?:ONLY )?", re.IGNORECASE)
KINDS = {"p": "primary key", "u": "unique", "f": "foreign key", "c": "check", "x": "exclusion"}


def generated(table: str, name: str) -> bool:
    """Whether ``name`` has the shape of a name PostgreSQL made up for an object of ``table``."""
    base = table.rsplit(".", 1)[-1]
    # Made-up names are cut to 63 bytes, the table's part first: only a short prefix is sure to survive.
    return bool(_GENERATED.search(name)) and name.startswith(base[: min(len(base), 8)])


class PostgreSQLCatalog:
    """Reads a PostgreSQL database's catalog into snapshot items."""

    def items(self, query: Query, *, table: str | None = None) -> Iterator[Item]:
        """Every schema object, or (``table``) only those of one table."""
        yield from self._tables(query, table)
        yield from self._columns(query, table)
        yield from self._constraints(query, table)
        yield from self._indexes(query, table)
        yield from self._triggers(query, table)
        if table is None:
            yield from self._others(query)

    def tables(self, query: Query) -> list[str]:
        """Names of the tables whose data a snapshot summarises."""
        return [r[0] for r in query(_scoped(TABLES), (None, None))]

    def data(self, query: Query, tables: Sequence[str]) -> dict[str, TableData]:
        """Row count and multiset digest of each of ``tables`` (a query each: measured faster than one UNION ALL)."""
        out: dict[str, TableData] = {}
        for table in tables:
            # psycopg reads % as a placeholder even without parameters: a % in a table name is doubled.
            _, count, low, high = query(DATA.format(n=0, relation=_relation(table)).replace("%", "%%"), ())[0]
            out[table] = TableData(int(count), f"{low}:{high}")
        return out

    def _tables(self, query: Query, table: str | None) -> Iterator[Item]:
        for name, kind, persistence in query(_scoped(TABLES), (table, table)):
            extra = " partitioned" if kind == "p" else ""
            extra += " unlogged" if persistence == "u" else ""
            yield Item("table", name, name, extra.strip())

    def _columns(self, query: Query, table: str | None) -> Iterator[Item]:
        for t, name, pos, typ, notnull, default, identity, gen, collation in query(_scoped(COLUMNS), (table, table)):
            parts = [f"#{pos}", typ, "NOT NULL" if notnull else "NULL"]
            parts += [f"GENERATED {'ALWAYS' if identity == 'a' else 'BY DEFAULT'} AS IDENTITY"] if identity else []
            parts += [f"GENERATED ALWAYS AS ({default}) STORED"] if gen else ([f"DEFAULT {default}"] if default is not None else [])
            parts += [f"COLLATE {collation}"] if collation else []
            yield Item("column", t, name, " ".join(parts))

    def _constraints(self, query: Query, table: str | None) -> Iterator[Item]:
        for t, name, kind, definition, deferrable, deferred in query(_scoped(CONSTRAINTS), (table, table)):
            text = squeeze(definition)
            text += " DEFERRABLE" if deferrable and "DEFERRABLE" not in text else ""
            text += " INITIALLY DEFERRED" if deferred and "INITIALLY DEFERRED" not in text else ""
            yield Item(KINDS[kind], t, name, text, generated(t, name))

    def _indexes(self, query: Query, table: str | None) -> Iterator[Item]:
        for t, name, unique, definition in query(_scoped(INDEXES), (table, table)):
            body = _INDEX_HEAD.sub("", squeeze(definition))
            yield Item("index", t, name, ("UNIQUE " if unique else "") + body, generated(t, name))

    def _triggers(self, query: Query, table: str | None) -> Iterator[Item]:
        for t, name, definition in query(_scoped(TRIGGERS), (table, table)):
            yield Item("trigger", t, name, squeeze(definition))

    def _others(self, query: Query) -> Iterator[Item]:
        for name, kind, definition in query(VIEWS, ()):
            yield Item("materialized view" if kind == "m" else "view", "", name, squeeze(definition))
        for name, typ, start, step, low, high, cycle in query(SEQUENCES, ()):
            yield Item("sequence", "", name, f"{typ} START {start} INCREMENT {step} MINVALUE {low} MAXVALUE {high}{' CYCLE' if cycle else ''}")
        for name, kind, args, definition in query(ROUTINES, ()):
            yield Item(_routine_kind(kind), "", f"{name}({args})", squeeze(definition))
        for name, kind, definition in query(TYPES, ()):
            yield Item("enum" if kind == "e" else "domain", "", name, definition or "")
        for (name,) in query(SCHEMAS, ()):
            yield Item("schema", "", name, "")
        for (name,) in query(EXTENSIONS, ()):
            yield Item("extension", "", name, "")


def _scoped(sql: str) -> str:
    """``sql`` with its optional table filter as two placeholders (the table, twice)."""
    return sql.replace("{table}", "%s::text")


def _relation(table: str) -> str:
    """``table`` (maybe ``schema.table``) as a quoted relation name."""
    return ".".join('"' + part.replace('"', '""') + '"' for part in table.split(".", 1))


def _routine_kind(kind: Any) -> str:
    return {"p": "procedure", "a": "aggregate", "w": "window function"}.get(kind, "function")
