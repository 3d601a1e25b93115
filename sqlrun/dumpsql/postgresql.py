"""PostgreSQL's schema as SQL, read from pg_catalog: what ``pg_dump --schema-only`` shows, without owners,
grants, OIDs or sequence values, in an order that depends only on names.

The server writes the hard parts (``format_type``, ``pg_get_expr``, ``pg_get_constraintdef``, ``pg_get_indexdef``,
``pg_get_viewdef``, ``pg_get_functiondef``, ``pg_get_triggerdef``, ``quote_ident``, ``quote_literal``), so the
text is what this server reads back. Names in ``public`` are written unqualified (as the server's own
deparsing writes them for a schema on the search_path); names elsewhere are qualified.

The order is by kind, each kind sorted by schema and name (code points, not the database's collation):
schemas, extensions, collations, enums, ranges, domains, composite types, sequences, routines, aggregates,
domains whose default or check calls one of those routines, operators, casts, tables (a partition or child
after its parent), sequence ownership, keys and checks, views together with the routines and aggregates that
take or return a table's or view's row (each after the views and routines it reads), indexes, extended
statistics, CLUSTER ON, REPLICA IDENTITY, an inherited column's own default or NOT NULL, column settings,
triggers, rules, row security, policies, foreign keys, comments (a comment on a foreign key needs it), event
triggers (they would fire on the file's own DDL).

Not written: owners, grants, tablespaces, and the rarer kinds (foreign data wrappers and tables, operator
classes, text search, publications).
"""

from __future__ import annotations

import contextlib
import heapq
import re
from typing import TYPE_CHECKING, Any, Iterable, Sequence

from ..catalog.postgresql import SYSTEM
from ..snapshot import SQLRUN_TABLES

if TYPE_CHECKING:
    from ..catalog import Query

Node = tuple[str, int]  # ("r", a relation's oid) or ("p", a routine's): to order the late lot, never written
Routine = tuple[bool, Node, tuple, str]  # written after the tables?, its node, its sort key, its text



def _not_sqlrun(relation: str) -> str:
    """SQL: ``relation`` is not one of sqlrun's own bookkeeping tables (in whatever schema the session put them)."""
    return f"{relation}.relname <> ALL(ARRAY[" + ", ".join(f"'{t}'" for t in sorted(SQLRUN_TABLES)) + "]::name[])"


NOT_SQLRUN = _not_sqlrun("c")


def _not_member(catalog: str, oid: str) -> str:
    """SQL: the object is not part of an extension (CREATE EXTENSION makes those)."""
    return f"NOT EXISTS (SELECT 1 FROM pg_depend x WHERE x.classid = '{catalog}'::regclass AND x.objid = {oid} AND x.deptype = 'e')"


def _name(schema: str, name: str) -> str:
    """SQL: the quoted name, qualified unless it lives in public."""
    return f"CASE WHEN {schema} = 'public' THEN quote_ident({name}) ELSE quote_ident({schema}) || '.' || quote_ident({name}) END"


def _function(column: str, option: str) -> str:
    """SQL: ``OPTION = function`` when the regproc ``column`` names one, else NULL."""
    return f"CASE WHEN {column}::oid <> 0 THEN '{option} = ' || {column}::regproc::text END"


# An operator named as CREATE OPERATOR's options take it: OPERATOR(schema.op).
OPERATOR_NAME = """(SELECT 'OPERATOR(' || quote_ident(xn.nspname) || '.' || xo.oprname || ')' FROM pg_operator xo
  JOIN pg_namespace xn ON xn.oid = xo.oprnamespace WHERE xo.oid = {oid})"""


REL = _name("n.nspname", "c.relname")
# A collation named only when it is not the type's own (that one is implied).
COLLATION = """(SELECT CASE WHEN cn.nspname = 'pg_catalog' THEN quote_ident(cl.collname) ELSE quote_ident(cn.nspname) || '.' || quote_ident(cl.collname) END
  FROM pg_collation cl JOIN pg_namespace cn ON cn.oid = cl.collnamespace WHERE cl.oid = {oid})"""
# The relations (and what hangs on them) that are the user's: no system schema, extension or sqlrun table.
USERS = f"{SYSTEM} AND {_not_member('pg_class', 'c.oid')} AND {NOT_SQLRUN}"
RELATIONS = f"pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE {USERS}"

SCHEMAS = f"""SELECT n.nspname, quote_ident(n.nspname) FROM pg_namespace n
WHERE {SYSTEM} AND n.nspname <> 'public' AND {_not_member('pg_namespace', 'n.oid')}"""

# plpgsql is in every database already (pg_dump leaves it out too).
EXTENSIONS = """SELECT e.extname, quote_ident(e.extname), quote_ident(n.nspname) FROM pg_extension e
JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname <> 'plpgsql'"""

TYPES = f"pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE {SYSTEM} AND {_not_member('pg_type', 't.oid')}"
ENUMS = f"""SELECT n.nspname, t.typname, {_name('n.nspname', 't.typname')},
  (SELECT string_agg(quote_literal(e.enumlabel), ', ' ORDER BY e.enumsortorder) FROM pg_enum e WHERE e.enumtypid = t.oid)
FROM {TYPES} AND t.typtype = 'e'"""

# A domain whose default or check calls one of the user's functions waits for the routines. A check added
# NOT VALID is added so again (CREATE DOMAIN does not take NOT VALID).
DOMAINS = f"""SELECT n.nspname, t.typname, {_name('n.nspname', 't.typname')}, format_type(t.typbasetype, t.typtypmod),
  CASE WHEN t.typcollation <> b.typcollation THEN {COLLATION.format(oid='t.typcollation')} END, t.typdefault, t.typnotnull,
  ARRAY(SELECT 'CONSTRAINT ' || quote_ident(co.conname) || ' ' || pg_get_constraintdef(co.oid) FROM pg_constraint co
        WHERE co.contypid = t.oid AND co.contype = 'c' AND co.convalidated ORDER BY co.conname COLLATE "C"),
  ARRAY(SELECT 'CONSTRAINT ' || quote_ident(co.conname) || ' ' || pg_get_constraintdef(co.oid) FROM pg_constraint co
        WHERE co.contypid = t.oid AND co.contype = 'c' AND NOT co.convalidated ORDER BY co.conname COLLATE "C"),
  EXISTS (SELECT 1 FROM pg_depend d JOIN pg_proc p ON p.oid = d.refobjid JOIN pg_namespace pn ON pn.oid = p.pronamespace
          WHERE d.refclassid = 'pg_proc'::regclass AND pn.nspname <> 'pg_catalog'
            AND ((d.classid = 'pg_type'::regclass AND d.objid = t.oid)
                 OR (d.classid = 'pg_constraint'::regclass AND d.objid IN (SELECT oid FROM pg_constraint WHERE contypid = t.oid))))
FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace JOIN pg_type b ON b.oid = t.typbasetype
WHERE {SYSTEM} AND {_not_member('pg_type', 't.oid')} AND t.typtype = 'd'"""

COMPOSITES = f"""SELECT n.nspname, t.typname, {_name('n.nspname', 't.typname')},
  ARRAY(SELECT quote_ident(a.attname) || ' ' || format_type(a.atttypid, a.atttypmod)
          || coalesce(' COLLATE ' || CASE WHEN a.attcollation <> at.typcollation THEN {COLLATION.format(oid='a.attcollation')} END, '')
        FROM pg_attribute a JOIN pg_type at ON at.oid = a.atttypid
        WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum)
FROM {TYPES} AND t.typtype = 'c' AND (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c'"""

# Read through to_jsonb: the locale columns have been renamed between versions (colliculocale, colllocale).
COLLATIONS = f"""SELECT n.nspname, c.collname, {_name('n.nspname', 'c.collname')}, c.collprovider, c.collisdeterministic,
  to_jsonb(c) ->> 'collcollate', to_jsonb(c) ->> 'collctype', coalesce(to_jsonb(c) ->> 'colllocale', to_jsonb(c) ->> 'colliculocale')
FROM pg_collation c JOIN pg_namespace n ON n.oid = c.collnamespace WHERE {SYSTEM} AND {_not_member('pg_collation', 'c.oid')}"""

RANGES = f"""SELECT n.nspname, t.typname, {_name('n.nspname', 't.typname')}, array_remove(ARRAY[
    'SUBTYPE = ' || format_type(r.rngsubtype, NULL),
    (SELECT 'SUBTYPE_OPCLASS = ' || quote_ident(ocn.nspname) || '.' || quote_ident(oc.opcname) FROM pg_opclass oc
     JOIN pg_namespace ocn ON ocn.oid = oc.opcnamespace WHERE oc.oid = r.rngsubopc AND NOT oc.opcdefault),
    CASE WHEN r.rngcollation <> 0 AND r.rngcollation <> st.typcollation THEN 'COLLATION = ' || {COLLATION.format(oid='r.rngcollation')} END,
    {_function('r.rngsubdiff', 'SUBTYPE_DIFF')}], NULL), mt.typname
FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace JOIN pg_range r ON r.rngtypid = t.oid
JOIN pg_type st ON st.oid = r.rngsubtype JOIN pg_type mt ON mt.oid = r.rngmultitypid
WHERE {SYSTEM} AND {_not_member('pg_type', 't.oid')}"""

# An identity column's sequence is written with its column; a serial's is written here, its owner below.
SEQUENCES = f"""SELECT n.nspname, c.relname, {REL}, format_type(s.seqtypid, NULL), s.seqstart, s.seqincrement,
  s.seqmin, s.seqmax, s.seqcache, s.seqcycle, c.relpersistence
FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE {USERS} AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'i')"""

OWNED_BY = f"""SELECT n.nspname, c.relname, {REL}, {_name('tn.nspname', 'tc.relname')} || '.' || quote_ident(a.attname)
FROM pg_depend d JOIN pg_class c ON c.oid = d.objid JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_class tc ON tc.oid = d.refobjid JOIN pg_namespace tn ON tn.oid = tc.relnamespace
JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass AND d.deptype = 'a' AND c.relkind = 'S'
  AND {SYSTEM} AND {_not_member('pg_class', 'c.oid')} AND {_not_sqlrun('tc')}"""

# A range type's constructor functions come with CREATE TYPE (an internal dependency): not written, and not
# replaced (CREATE OR REPLACE would make them the user's).
NOT_INTERNAL = "NOT EXISTS (SELECT 1 FROM pg_depend i WHERE i.classid = 'pg_proc'::regclass AND i.objid = p.oid AND i.deptype = 'i')"
# A routine whose arguments or result name a table's row type must wait for that table.
AFTER_TABLES = """EXISTS (SELECT 1 FROM pg_depend d JOIN pg_type t ON t.oid = d.refobjid JOIN pg_class r ON r.oid = t.typrelid
  WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.refclassid = 'pg_type'::regclass AND r.relkind <> 'c')"""
ROUTINES = f"""SELECT p.oid, n.nspname, p.proname, pg_get_function_identity_arguments(p.oid), pg_get_functiondef(p.oid), {AFTER_TABLES}
FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE p.prokind IN ('f', 'p', 'w') AND {SYSTEM} AND {_not_member('pg_proc', 'p.oid')} AND {NOT_INTERNAL}"""


AGGREGATES = f"""SELECT p.oid, n.nspname, p.proname, pg_get_function_identity_arguments(p.oid), {_name('n.nspname', 'p.proname')},
  pg_get_function_arguments(p.oid), array_remove(ARRAY[
    {_function('a.aggtransfn', 'SFUNC')}, 'STYPE = ' || format_type(a.aggtranstype, NULL),
    {_function('a.aggfinalfn', 'FINALFUNC')}, CASE WHEN a.aggfinalextra THEN 'FINALFUNC_EXTRA' END,
    {_function('a.aggcombinefn', 'COMBINEFUNC')}, {_function('a.aggserialfn', 'SERIALFUNC')},
    {_function('a.aggdeserialfn', 'DESERIALFUNC')}, 'INITCOND = ' || quote_literal(a.agginitval),
    {_function('a.aggmtransfn', 'MSFUNC')}, {_function('a.aggminvtransfn', 'MINVFUNC')},
    CASE WHEN a.aggmtranstype <> 0 THEN 'MSTYPE = ' || format_type(a.aggmtranstype, NULL) END,
    {_function('a.aggmfinalfn', 'MFINALFUNC')}, 'MINITCOND = ' || quote_literal(a.aggminitval),
    'SORTOP = ' || {OPERATOR_NAME.format(oid='a.aggsortop')},
    CASE p.proparallel WHEN 's' THEN 'PARALLEL = SAFE' WHEN 'r' THEN 'PARALLEL = RESTRICTED' END,
    CASE WHEN a.aggkind = 'h' THEN 'HYPOTHETICAL' END], NULL), {AFTER_TABLES}
FROM pg_proc p JOIN pg_aggregate a ON a.aggfnoid = p.oid JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE {SYSTEM} AND {_not_member('pg_proc', 'p.oid')}"""

OPERATORS = f"""SELECT n.nspname, o.oprname, format_type(o.oprleft, NULL), format_type(o.oprright, NULL),
  CASE WHEN n.nspname = 'public' THEN o.oprname ELSE quote_ident(n.nspname) || '.' || o.oprname END, array_remove(ARRAY[
    'FUNCTION = ' || o.oprcode::regproc::text,
    CASE WHEN o.oprleft <> 0 THEN 'LEFTARG = ' || format_type(o.oprleft, NULL) END,
    CASE WHEN o.oprright <> 0 THEN 'RIGHTARG = ' || format_type(o.oprright, NULL) END,
    'COMMUTATOR = ' || {OPERATOR_NAME.format(oid='o.oprcom')}, 'NEGATOR = ' || {OPERATOR_NAME.format(oid='o.oprnegate')},
    {_function('o.oprrest', 'RESTRICT')}, {_function('o.oprjoin', 'JOIN')},
    CASE WHEN o.oprcanhash THEN 'HASHES' END, CASE WHEN o.oprcanmerge THEN 'MERGES' END], NULL)
FROM pg_operator o JOIN pg_namespace n ON n.oid = o.oprnamespace
WHERE {SYSTEM} AND {_not_member('pg_operator', 'o.oid')}"""

# The casts the user made: OIDs below 16384 are the server's own, and a range's cast to its multirange
# comes with CREATE TYPE (an internal dependency).
CASTS = f"""SELECT format_type(c.castsource, NULL), format_type(c.casttarget, NULL), c.castmethod,
  CASE WHEN c.castfunc <> 0 THEN c.castfunc::regprocedure::text END, c.castcontext
FROM pg_cast c WHERE c.oid >= 16384 AND {_not_member('pg_cast', 'c.oid')}
  AND NOT EXISTS (SELECT 1 FROM pg_depend i WHERE i.classid = 'pg_cast'::regclass AND i.objid = c.oid AND i.deptype = 'i')"""

TABLES = f"""SELECT c.oid, n.nspname, c.relname, {REL}, c.relkind, c.relpersistence, c.reloptions,
  CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) END,
  CASE WHEN c.relispartition THEN pg_get_expr(c.relpartbound, c.oid) END,
  ARRAY(SELECT i.inhparent FROM pg_inherits i WHERE i.inhrelid = c.oid ORDER BY i.inhseqno),
  ARRAY(SELECT {_name('pn.nspname', 'pc.relname')} FROM pg_inherits i JOIN pg_class pc ON pc.oid = i.inhparent
        JOIN pg_namespace pn ON pn.oid = pc.relnamespace WHERE i.inhrelid = c.oid ORDER BY i.inhseqno)
FROM {RELATIONS} AND c.relkind IN ('r', 'p')"""

# Columns a table inherits (from a parent or a partitioned table) are written by the parent.
COLUMNS = f"""SELECT a.attrelid, quote_ident(a.attname), format_type(a.atttypid, a.atttypmod), a.attnotnull,
  pg_get_expr(ad.adbin, ad.adrelid), a.attidentity, a.attgenerated,
  CASE WHEN a.attcollation <> t.typcollation THEN {COLLATION.format(oid='a.attcollation')} END,
  s.seqstart, s.seqincrement, s.seqmin, s.seqmax, s.seqcache, s.seqcycle, format_type(s.seqtypid, NULL),
  sc.relname, c.relname || '_' || a.attname || '_seq', quote_ident(sc.relname)
FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_type t ON t.oid = a.atttypid LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
LEFT JOIN pg_depend d ON a.attidentity <> '' AND d.refclassid = 'pg_class'::regclass AND d.refobjid = a.attrelid
  AND d.refobjsubid = a.attnum AND d.classid = 'pg_class'::regclass AND d.deptype = 'i'
LEFT JOIN pg_sequence s ON s.seqrelid = d.objid LEFT JOIN pg_class sc ON sc.oid = d.objid
WHERE c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped AND a.attislocal AND {SYSTEM} AND {NOT_SQLRUN}
ORDER BY a.attrelid, a.attnum"""

# A partition's copy of its parent's constraint comes back with the parent's.
CONSTRAINTS = f"""SELECT n.nspname, c.relname, co.conname, {REL}, quote_ident(co.conname), co.contype, pg_get_constraintdef(co.oid)
FROM pg_constraint co JOIN pg_class c ON c.oid = co.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE {USERS} AND co.contype IN ('p', 'u', 'c', 'x', 'f') AND co.conislocal AND co.conparentid = 0"""

# Indexes behind a key or an exclusion come back with the constraint.
INDEXES = f"""SELECT i.indexrelid, n.nspname, c.relname, ic.relname, pg_get_indexdef(i.indexrelid), c.relkind,
  (SELECT h.inhparent FROM pg_inherits h WHERE h.inhrelid = i.indexrelid)
FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_class c ON c.oid = i.indrelid
JOIN pg_namespace n ON n.oid = c.relnamespace WHERE {USERS}
  AND NOT EXISTS (SELECT 1 FROM pg_constraint co WHERE co.conindid = i.indexrelid AND co.conrelid = i.indrelid AND co.contype IN ('p', 'u', 'x'))"""

VIEWS = f"""SELECT c.oid, n.nspname, c.relname, {REL}, c.relkind, pg_get_viewdef(c.oid), c.reloptions, c.relispopulated
FROM {RELATIONS} AND c.relkind IN ('v', 'm')"""

# Views and the routines that must wait for the tables are written as one lot, each after what it needs:
# the relations and routines a view's rule reads ('r' a relation, 'p' a routine), the views whose row
# type a routine takes or returns.
LATE_DEPENDENCIES = """SELECT DISTINCT 'r', r.ev_class, CASE WHEN d.refclassid = 'pg_class'::regclass THEN 'r' ELSE 'p' END, d.refobjid
FROM pg_rewrite r JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = r.oid
WHERE d.refclassid IN ('pg_class'::regclass, 'pg_proc'::regclass) AND d.refobjid <> r.ev_class
UNION
SELECT 'p', d.objid, 'r', t.typrelid FROM pg_depend d JOIN pg_type t ON t.oid = d.refobjid
WHERE d.classid = 'pg_proc'::regclass AND d.refclassid = 'pg_type'::regclass AND t.typrelid <> 0"""

# A partition's copy of its parent's trigger comes back with the parent's.
TRIGGERS = f"""SELECT n.nspname, c.relname, tg.tgname, {REL}, quote_ident(tg.tgname), pg_get_triggerdef(tg.oid), tg.tgenabled
FROM pg_trigger tg JOIN pg_class c ON c.oid = tg.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE {USERS} AND NOT tg.tgisinternal AND tg.tgparentid = 0"""

# What ALTER TABLE sets apart from CREATE: the index CLUSTER uses, and a replica identity other than the key.
CLUSTER_ON = f"""SELECT n.nspname, c.relname, {REL}, quote_ident(ic.relname) FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE {USERS} AND i.indisclustered"""
REPLICA_IDENTITY = f"""SELECT n.nspname, c.relname, {REL}, c.relreplident,
  (SELECT quote_ident(ic.relname) FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid WHERE i.indrelid = c.oid AND i.indisreplident)
FROM {RELATIONS} AND c.relkind IN ('r', 'p') AND c.relreplident <> 'd'"""

# A column's statistics target, storage and compression when not the defaults (statistics target read
# through to_jsonb: -1 up to PostgreSQL 16, NULL from 17).
COLUMN_SETTINGS = f"""SELECT n.nspname, c.relname, a.attnum, {REL}, quote_ident(a.attname),
  nullif(coalesce((to_jsonb(a) ->> 'attstattarget')::int, -1), -1),
  CASE WHEN a.attstorage <> t.typstorage THEN a.attstorage END, nullif(a.attcompression, '')
FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_type t ON t.oid = a.atttypid
WHERE {USERS} AND c.relkind IN ('r', 'p', 'm') AND a.attnum > 0 AND NOT a.attisdropped
  AND (coalesce((to_jsonb(a) ->> 'attstattarget')::int, -1) <> -1 OR a.attstorage <> t.typstorage OR a.attcompression <> '')"""

# An inherited column (a partition's, an INHERITS child's) comes with its parent's default and NOT NULL:
# what the child has otherwise is set on it alone.
PARENT_COLUMN = """FROM pg_inherits i JOIN pg_attribute pa ON pa.attrelid = i.inhparent AND pa.attname = a.attname
  LEFT JOIN pg_attrdef pd ON pd.adrelid = pa.attrelid AND pd.adnum = pa.attnum WHERE i.inhrelid = c.oid"""
INHERITED_COLUMNS = f"""SELECT * FROM (SELECT n.nspname, c.relname, a.attnum, {REL}, quote_ident(a.attname),
  pg_get_expr(ad.adbin, ad.adrelid) AS own, (SELECT pg_get_expr(pd.adbin, pd.adrelid) {PARENT_COLUMN} ORDER BY i.inhseqno LIMIT 1) AS parent,
  a.attnotnull AND NOT coalesce((SELECT bool_or(pa.attnotnull) {PARENT_COLUMN}), false) AS not_null
FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
WHERE {USERS} AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped AND NOT a.attislocal AND a.attgenerated = '') x
WHERE own IS DISTINCT FROM parent OR not_null"""

ROW_SECURITY = f"""SELECT n.nspname, c.relname, {REL}, c.relforcerowsecurity FROM {RELATIONS} AND c.relrowsecurity"""

POLICIES = f"""SELECT n.nspname, c.relname, p.polname, {REL}, quote_ident(p.polname), p.polpermissive, p.polcmd,
  ARRAY(SELECT CASE WHEN r = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(r)) END FROM unnest(p.polroles) r ORDER BY 1),
  pg_get_expr(p.polqual, p.polrelid), pg_get_expr(p.polwithcheck, p.polrelid)
FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE {USERS}"""

# A view's own rule (_RETURN) is the view.
RULES = f"""SELECT n.nspname, c.relname, r.rulename, {REL}, quote_ident(r.rulename), pg_get_ruledef(r.oid), r.ev_enabled
FROM pg_rewrite r JOIN pg_class c ON c.oid = r.ev_class JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE {USERS} AND r.rulename <> '_RETURN'"""

STATISTICS = f"""SELECT n.nspname, s.stxname, pg_get_statisticsobjdef(s.oid)
FROM pg_statistic_ext s JOIN pg_namespace n ON n.oid = s.stxnamespace JOIN pg_class c ON c.oid = s.stxrelid WHERE {USERS}"""

# Event triggers belong to the database, not to a schema; an extension's come back with it. Written last.
EVENT_TRIGGERS = f"""SELECT e.evtname, quote_ident(e.evtname), e.evtevent, e.evttags, e.evtfoid::regproc::text, e.evtenabled
FROM pg_event_trigger e WHERE {_not_member('pg_event_trigger', 'e.oid')}"""

# COMMENT ON's object, per catalog; the extensions' own objects and comments come back with CREATE EXTENSION.
RELATION_KINDS = """CASE c.relkind WHEN 'r' THEN 'TABLE' WHEN 'p' THEN 'TABLE' WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW'
  WHEN 'i' THEN 'INDEX' WHEN 'I' THEN 'INDEX' WHEN 'S' THEN 'SEQUENCE' WHEN 'c' THEN 'TYPE' WHEN 'f' THEN 'FOREIGN TABLE' END"""
COMMENTS = f"""SELECT CASE WHEN d.objsubid > 0 THEN 'COLUMN ' || {REL} || '.' || quote_ident(a.attname) ELSE {RELATION_KINDS} || ' ' || {REL} END,
  quote_literal(d.description)
FROM pg_description d JOIN pg_class c ON d.classoid = 'pg_class'::regclass AND d.objoid = c.oid JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = d.objsubid
WHERE {USERS}
UNION ALL
SELECT CASE p.prokind WHEN 'p' THEN 'PROCEDURE ' WHEN 'a' THEN 'AGGREGATE ' ELSE 'FUNCTION ' END || {_name('n.nspname', 'p.proname')}
  || '(' || CASE WHEN p.prokind = 'a' AND p.pronargs = 0 THEN '*' ELSE pg_get_function_identity_arguments(p.oid) END || ')', quote_literal(d.description)
FROM pg_description d JOIN pg_proc p ON d.classoid = 'pg_proc'::regclass AND d.objoid = p.oid JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE {SYSTEM} AND {_not_member('pg_proc', 'p.oid')} AND {NOT_INTERNAL}
UNION ALL
SELECT CASE t.typtype WHEN 'd' THEN 'DOMAIN ' ELSE 'TYPE ' END || {_name('n.nspname', 't.typname')}, quote_literal(d.description)
FROM pg_description d JOIN pg_type t ON d.classoid = 'pg_type'::regclass AND d.objoid = t.oid JOIN pg_namespace n ON n.oid = t.typnamespace
WHERE {SYSTEM} AND {_not_member('pg_type', 't.oid')}
UNION ALL
SELECT 'SCHEMA ' || quote_ident(n.nspname), quote_literal(d.description)
FROM pg_description d JOIN pg_namespace n ON d.classoid = 'pg_namespace'::regclass AND d.objoid = n.oid
WHERE {SYSTEM} AND {_not_member('pg_namespace', 'n.oid')} AND (n.nspname, d.description) <> ('public', 'standard public schema')
UNION ALL
SELECT 'CONSTRAINT ' || quote_ident(co.conname) || ' ON ' || CASE WHEN co.contypid <> 0 THEN 'DOMAIN ' || {_name('n.nspname', 't.typname')} ELSE {REL} END,
  quote_literal(d.description)
FROM pg_description d JOIN pg_constraint co ON d.classoid = 'pg_constraint'::regclass AND d.objoid = co.oid
LEFT JOIN pg_class c ON c.oid = co.conrelid LEFT JOIN pg_type t ON t.oid = co.contypid
JOIN pg_namespace n ON n.oid = coalesce(c.relnamespace, t.typnamespace)
WHERE {SYSTEM} AND (c.oid IS NULL OR {USERS})
UNION ALL
SELECT 'TRIGGER ' || quote_ident(tg.tgname) || ' ON ' || {REL}, quote_literal(d.description)
FROM pg_description d JOIN pg_trigger tg ON d.classoid = 'pg_trigger'::regclass AND d.objoid = tg.oid
JOIN pg_class c ON c.oid = tg.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE {USERS}
UNION ALL
SELECT 'POLICY ' || quote_ident(p.polname) || ' ON ' || {REL}, quote_literal(d.description)
FROM pg_description d JOIN pg_policy p ON d.classoid = 'pg_policy'::regclass AND d.objoid = p.oid
JOIN pg_class c ON c.oid = p.polrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE {USERS}
UNION ALL
SELECT 'RULE ' || quote_ident(r.rulename) || ' ON ' || {REL}, quote_literal(d.description)
FROM pg_description d JOIN pg_rewrite r ON d.classoid = 'pg_rewrite'::regclass AND d.objoid = r.oid
JOIN pg_class c ON c.oid = r.ev_class JOIN pg_namespace n ON n.oid = c.relnamespace WHERE {USERS} AND r.rulename <> '_RETURN'
UNION ALL
SELECT 'COLLATION ' || {_name('n.nspname', 'co.collname')}, quote_literal(d.description)
FROM pg_description d JOIN pg_collation co ON d.classoid = 'pg_collation'::regclass AND d.objoid = co.oid
JOIN pg_namespace n ON n.oid = co.collnamespace WHERE {SYSTEM} AND {_not_member('pg_collation', 'co.oid')}
UNION ALL
SELECT 'OPERATOR ' || CASE WHEN n.nspname = 'public' THEN o.oprname ELSE quote_ident(n.nspname) || '.' || o.oprname END
  || ' (' || coalesce(format_type(o.oprleft, NULL), 'NONE') || ', ' || format_type(o.oprright, NULL) || ')', quote_literal(d.description)
FROM pg_description d JOIN pg_operator o ON d.classoid = 'pg_operator'::regclass AND d.objoid = o.oid
JOIN pg_namespace n ON n.oid = o.oprnamespace WHERE {SYSTEM} AND {_not_member('pg_operator', 'o.oid')}
UNION ALL
SELECT 'STATISTICS ' || {_name('n.nspname', 's.stxname')}, quote_literal(d.description)
FROM pg_description d JOIN pg_statistic_ext s ON d.classoid = 'pg_statistic_ext'::regclass AND d.objoid = s.oid
JOIN pg_namespace n ON n.oid = s.stxnamespace JOIN pg_class c ON c.oid = s.stxrelid WHERE {USERS}"""

# The server deparses names relative to the reading session's search_path, which the URL (options=-c
# search_path=...) or a role's setting may have changed: the reading is done with public alone, and the file
# says so, so that it reads back the same under any client's search_path.
READ_PATH = "SELECT current_setting('search_path'), set_config('search_path', 'public', false)"
RESTORE_PATH = "SELECT set_config('search_path', %s, false)"
SEARCH_PATH = "SET search_path = public;"
# CREATE TABLE's column defaults and CHECKs may call a function written before the tables it reads: pg_dump
# turns the body check off too, for the rest of this session only.
NO_BODY_CHECK = "SET check_function_bodies = false;"
TYPE_RANGE = {"smallint": 2**15, "integer": 2**31, "bigint": 2**63}
STATES = {"D": "DISABLE", "R": "ENABLE REPLICA", "A": "ENABLE ALWAYS"}  # a trigger's or rule's, when not the usual ENABLE
STORAGES = {"p": "PLAIN", "e": "EXTERNAL", "m": "MAIN", "x": "EXTENDED"}
COMPRESSIONS = {"p": "pglz", "l": "lz4"}
REPLICA_IDENTITIES = {"n": "NOTHING", "f": "FULL"}  # else "i": USING INDEX
VIEW, FUNCTION, AGGREGATE = 0, 1, 2  # the order of kinds among routines, and among the late lot
CAST_CONTEXTS = {"a": " AS ASSIGNMENT", "i": " AS IMPLICIT"}  # else "e": explicit only
POLICY_COMMANDS = {"r": "SELECT", "a": "INSERT", "w": "UPDATE", "d": "DELETE"}
# The first " ON " of an index or trigger definition, the first " TO " of a rule's: the table comes next.
_ON_ONLY = re.compile(r"^(CREATE (?:UNIQUE )?INDEX (?:(?! ON ).)* ON )ONLY ")
# pg_get_functiondef, pg_get_indexdef, pg_get_triggerdef, pg_get_ruledef and pg_get_statisticsobjdef qualify
# the object they create (or its table) even in public, unlike the rest of their text: that "public." goes,
# as everywhere else here. Only there: a routine's body is the user's text.
PUBLIC_HEADS = {
    "routine": re.compile(r"^(CREATE OR REPLACE (?:FUNCTION|PROCEDURE) )public\."),
    "index": re.compile(r"^(CREATE (?:UNIQUE )?INDEX (?:(?! ON ).)* ON (?:ONLY )?)public\."),
    "trigger": re.compile(r"^(CREATE (?:CONSTRAINT )?TRIGGER (?:(?! ON ).)* ON )public\."),
    "rule": re.compile(r"^(CREATE RULE (?:(?! TO ).)* TO )public\.", re.DOTALL),
    "statistics": re.compile(r"^(CREATE STATISTICS )public\."),
}


def dump(query: Query) -> str:
    """The schema of the database behind ``query`` as SQL statements, one object per paragraph."""
    previous = query(READ_PATH, ())[0][0]
    try:
        return _dump(query)
    finally:
        # Put back even after a failure; in an aborted transaction nothing can be run (and the SET goes with it).
        with contextlib.suppress(Exception):
            query(RESTORE_PATH, (previous,))


def _dump(query: Query) -> str:
    routines, domains = _routines(query) + _aggregates(query), _domains(query)
    blocks = [
        *_schemas(query),
        *_extensions(query),
        *_collations(query),
        *_enums(query),
        *_ranges(query),
        *domains[False],
        *_composites(query),
        *_sequences(query),
        *(text for after, _, _, text in sorted(routines, key=lambda r: r[2]) if not after),
        *domains[True],
        *_operators(query),
        *_casts(query),
        *_tables(query),
        *_owned_by(query),
        *_constraints(query, foreign=False),
        *_views_and_late_routines(query, [r[1:] for r in routines if r[0]]),
        *_indexes(query),
        *_statistics(query),
        *_table_settings(query),
        *_triggers(query),
        *_rules(query),
        *_row_security(query),
        *_policies(query),
        *_constraints(query, foreign=True),
        *_comments(query),
        # last, as pg_dump does: an event trigger would fire on the rest of the file's DDL
        *_event_triggers(query),
    ]
    if blocks:
        blocks.insert(0, SEARCH_PATH + ("\n" + NO_BODY_CHECK if any(key[0] == FUNCTION for _, _, key, _ in routines) else ""))
    return "\n\n".join(blocks) + "\n" if blocks else ""


def _sorted(rows: Iterable[Sequence[Any]], width: int = 2) -> list[Sequence[Any]]:
    """``rows`` by their first ``width`` columns (schema, name...), compared as Python strings, not by the database's collation."""
    return sorted(rows, key=lambda r: tuple(v or "" for v in r[:width]))


def _schemas(query: Query) -> list[str]:
    return [f"CREATE SCHEMA {name};" for _, name in _sorted(query(SCHEMAS, ()), 1)]


def _extensions(query: Query) -> list[str]:
    return [f"CREATE EXTENSION IF NOT EXISTS {name} WITH SCHEMA {schema};" for _, name, schema in _sorted(query(EXTENSIONS, ()), 1)]


def _enums(query: Query) -> list[str]:
    return [f"CREATE TYPE {name} AS ENUM ({labels or ''});" for _, _, name, labels in _sorted(query(ENUMS, ()))]


def _domains(query: Query) -> dict[bool, list[str]]:
    """CREATE DOMAIN statements, split by whether they must wait for the routines."""
    out: dict[bool, list[str]] = {False: [], True: []}
    for _, _, name, base, collation, default, notnull, checks, unchecked, after_routines in _sorted(query(DOMAINS, ())):
        parts = [f"CREATE DOMAIN {name} AS {base}"]
        parts += [f"COLLATE {collation}"] if collation else []
        parts += [f"DEFAULT {default}"] if default is not None else []
        parts += ["NOT NULL"] if notnull else []
        later = "".join(f"\nALTER DOMAIN {name} ADD {check};" for check in unchecked)
        out[after_routines].append(" ".join(parts + list(checks)) + ";" + later)
    return out


def _composites(query: Query) -> list[str]:
    return [f"CREATE TYPE {name} AS ({_lines(fields)});" for _, _, name, fields in _sorted(query(COMPOSITES, ()))]


def _lines(items: Sequence[str]) -> str:
    """``items`` one per indented line, comma-separated, as the body of a parenthesis."""
    return "\n" + ",\n".join(f"    {item}" for item in items) + "\n" if items else ""


def _sequences(query: Query) -> list[str]:
    out = []
    for _, _, name, typ, start, step, low, high, cache, cycle, persistence in _sorted(query(SEQUENCES, ())):
        options = ([f"AS {typ}"] if typ != "bigint" else []) + _sequence_options(typ, start, step, low, high, cache, cycle)
        out.append(" ".join([f"CREATE {'UNLOGGED ' if persistence == 'u' else ''}SEQUENCE {name}", *options]) + ";")
    return out


def _sequence_options(typ: str, start: int, step: int, low: int, high: int, cache: int, cycle: bool) -> list[str]:
    """The options that differ from CREATE SEQUENCE's defaults for ``typ``: short text, and no noise in a diff."""
    span = TYPE_RANGE.get(typ, 2**63)
    lowest, highest = (1, span - 1) if step > 0 else (-span, -1)
    out = [f"INCREMENT BY {step}"] if step != 1 else []
    out += [f"MINVALUE {low}"] if low != lowest else []
    out += [f"MAXVALUE {high}"] if high != highest else []
    out += [f"START WITH {start}"] if start != (low if step > 0 else high) else []
    out += [f"CACHE {cache}"] if cache != 1 else []
    return out + (["CYCLE"] if cycle else [])


def _routines(query: Query) -> list[Routine]:
    """CREATE FUNCTION/PROCEDURE statements, each with whether it must wait for the tables."""
    rows = query(ROUTINES, ())
    return [(late, ("p", oid), (FUNCTION, schema, name, args), _unqualified("routine", text.rstrip()) + ";") for oid, schema, name, args, text, late in rows]


def _aggregates(query: Query) -> list[Routine]:
    """CREATE AGGREGATE statements, each with whether it must wait for the tables."""
    out = []
    for oid, schema, raw, args, name, arguments, options, late in query(AGGREGATES, ()):
        out.append((late, ("p", oid), (AGGREGATE, schema, raw, args), f"CREATE AGGREGATE {name}({arguments or '*'}) ({_lines(options)});"))
    return out


def _operators(query: Query) -> list[str]:
    return [f"CREATE OPERATOR {name} ({', '.join(options)});" for *_, name, options in _sorted(query(OPERATORS, ()), 4)]


def _casts(query: Query) -> list[str]:
    out = []
    for source, target, method, function, context in _sorted(query(CASTS, ())):
        how = {"f": f"WITH FUNCTION {function}", "i": "WITH INOUT", "b": "WITHOUT FUNCTION"}[method]
        out.append(f"CREATE CAST ({source} AS {target}) {how}{CAST_CONTEXTS.get(context, '')};")
    return out


def _collations(query: Query) -> list[str]:
    out = []
    for _, _, name, provider, deterministic, collate, ctype, locale in _sorted(query(COLLATIONS, ())):
        if provider == "i":
            options = ["provider = icu", f"locale = {_literal(locale)}"]
        elif collate == ctype:
            options = ["provider = libc", f"locale = {_literal(collate)}"]
        else:
            options = ["provider = libc", f"lc_collate = {_literal(collate)}", f"lc_ctype = {_literal(ctype)}"]
        out.append(f"CREATE COLLATION {name} ({', '.join(options + ([] if deterministic else ['deterministic = false']))});")
    return out


def _literal(text: str | None) -> str:
    """A string literal (locale names: no backslashes, quotes doubled)."""
    return "'" + (text or "").replace("'", "''") + "'"


def _ranges(query: Query) -> list[str]:
    out = []
    for _, typname, name, options, multirange in _sorted(query(RANGES, ())):
        # The server names the multirange type after the range: written only when it was named otherwise.
        usual = typname.replace("range", "multirange", 1) if "range" in typname else typname + "_multirange"
        extra = [f"MULTIRANGE_TYPE_NAME = {_quoted(multirange)}"] if multirange != usual else []
        out.append(f"CREATE TYPE {name} AS RANGE ({', '.join(list(options) + extra)});")
    return out


def _quoted(name: str) -> str:
    """``name`` as an identifier, quoted unless it is plainly lower-case (a keyword is quoted too, harmlessly)."""
    return name if re.fullmatch(r"[a-z_][a-z0-9_]*", name) else '"' + name.replace('"', '""') + '"'


def _tables(query: Query) -> list[str]:
    tables = {row[0]: row for row in query(TABLES, ())}
    columns: dict[Any, list[str]] = {}
    for row in query(COLUMNS, ()):
        columns.setdefault(row[0], []).append(_column(*row[1:]))
    parents = {oid: {p for p in row[9] if p in tables} for oid, row in tables.items()}
    order = _ordered({oid: (row[1], row[2]) for oid, row in tables.items()}, parents)
    return [_table(tables[oid], columns.get(oid, [])) for oid in order]


def _table(row: Sequence[Any], columns: list[str]) -> str:
    _, _, _, name, kind, persistence, options, partition_key, bound, _, parents = row
    head = f"CREATE {'UNLOGGED ' if persistence == 'u' else ''}TABLE {name}"
    if bound is not None:
        # A partition's columns are its parent's: the bound is all it adds.
        text = f"{head} PARTITION OF {parents[0]} {bound}"
    else:
        text = f"{head} ({_lines(columns)})" + (f" INHERITS ({', '.join(parents)})" if parents else "")
    text += f" PARTITION BY {partition_key}" if kind == "p" else ""
    return text + (f" WITH ({', '.join(options)})" if options else "") + ";"


def _column(name: str, typ: str, notnull: bool, default: str | None, identity: str, generated: str, collation: str | None, *sequence: Any) -> str:
    parts = [name, typ] + ([f"COLLATE {collation}"] if collation else [])
    if generated:
        parts.append(f"GENERATED ALWAYS AS ({default}) STORED")
    elif identity:
        parts.append(f"GENERATED {'ALWAYS' if identity == 'a' else 'BY DEFAULT'} AS IDENTITY{_identity_options(*sequence)}")
    elif default is not None:
        parts.append(f"DEFAULT {default}")
    return " ".join(parts + (["NOT NULL"] if notnull else []))


def _identity_options(start: int, step: int, low: int, high: int, cache: int, cycle: bool, typ: str, name: str, usual: str, quoted: str) -> str:
    """An identity's sequence options that are not the defaults (its name too, when the server would choose another)."""
    options = ([f"SEQUENCE NAME {quoted}"] if name != usual[:63] else []) + _sequence_options(typ, start, step, low, high, cache, cycle)
    return f" ({' '.join(options)})" if options else ""


def _owned_by(query: Query) -> list[str]:
    return [f"ALTER SEQUENCE {name} OWNED BY {column};" for _, _, name, column in _sorted(query(OWNED_BY, ()))]


def _constraints(query: Query, *, foreign: bool) -> list[str]:
    rows = [r for r in query(CONSTRAINTS, ()) if (r[5] == "f") == foreign]
    return [f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition};" for _, _, _, table, name, _, definition in _sorted(rows, 3)]


def _views_and_late_routines(query: Query, routines: list[tuple[Node, tuple, str]]) -> list[str]:
    """Views, and routines on a table's or view's row type, each after what it reads (else by kind and name)."""
    lot = {node: (key, text) for node, key, text in routines}
    for oid, schema, raw, *view in query(VIEWS, ()):
        lot[("r", oid)] = ((VIEW, schema, raw, ""), _view(*view))
    needs: dict[Node, set[Node]] = {node: set() for node in lot}
    for kind, oid, needed_kind, needed in query(LATE_DEPENDENCIES, ()):
        if (kind, oid) in lot:
            needs[(kind, oid)].add((needed_kind, needed))
    return [lot[node][1] for node in _ordered({node: key for node, (key, _) in lot.items()}, needs)]


def _view(name: str, kind: str, definition: str, options: list[str] | None, populated: bool) -> str:
    what = "MATERIALIZED VIEW" if kind == "m" else "VIEW"
    text = f"CREATE {what} {name}" + (f" WITH ({', '.join(options)})" if options else "") + " AS\n" + definition.rstrip().rstrip(";")
    # An unpopulated materialized view stays so; a populated one is filled from the (empty) tables.
    return text + ("\n  WITH NO DATA;" if kind == "m" and not populated else ";")


def _indexes(query: Query) -> list[str]:
    """CREATE INDEX statements; a partition's index before its parent's, which adopts it (name and all)."""
    rows = {row[0]: row for row in query(INDEXES, ())}
    needs: dict[int, set[int]] = {}
    for oid, *_, parent in rows.values():
        needs.setdefault(parent, set()).add(oid)
    order = _ordered({oid: tuple(row[1:4]) for oid, row in rows.items()}, needs)
    # ON ONLY makes a partitioned table's index adopt nothing: without it, the partitions' indexes written just
    # before are attached, and any partition still without one gets a new one.
    return [_unqualified("index", _ON_ONLY.sub(r"\1", rows[oid][4]) if rows[oid][5] == "p" else rows[oid][4]) + ";" for oid in order]


def _triggers(query: Query) -> list[str]:
    out = []
    for _, _, _, table, name, definition, enabled in _sorted(query(TRIGGERS, ()), 3):
        state = f"\nALTER TABLE {table} {STATES[enabled]} TRIGGER {name};" if enabled in STATES else ""
        out.append(_unqualified("trigger", definition) + ";" + state)
    return out


def _table_settings(query: Query) -> list[str]:
    out = [f"ALTER TABLE {table} CLUSTER ON {index};" for _, _, table, index in _sorted(query(CLUSTER_ON, ()))]
    for _, _, table, identity, index in _sorted(query(REPLICA_IDENTITY, ())):
        out.append(f"ALTER TABLE {table} REPLICA IDENTITY {REPLICA_IDENTITIES.get(identity) or f'USING INDEX {index}'};")
    return out + _inherited_columns(query) + _column_settings(query)


def _inherited_columns(query: Query) -> list[str]:
    out = []
    for _, _, _, table, column, own, parent, not_null in _sorted(query(INHERITED_COLUMNS, ()), 3):
        settings = [f"SET DEFAULT {own}" if own is not None else "DROP DEFAULT"] if own != parent else []
        out.append(_alter_column(f"ONLY {table}", column, settings + (["SET NOT NULL"] if not_null else [])))
    return out


def _column_settings(query: Query) -> list[str]:
    out = []
    for _, _, _, table, column, target, storage, compression in _sorted(query(COLUMN_SETTINGS, ()), 3):
        settings = [f"SET STATISTICS {target}"] if target is not None else []
        settings += [f"SET STORAGE {STORAGES[storage]}"] if storage else []
        settings += [f"SET COMPRESSION {COMPRESSIONS[compression]}"] if compression else []
        out.append(_alter_column(table, column, settings))
    return out


def _alter_column(table: str, column: str, settings: list[str]) -> str:
    """One ALTER TABLE with an ALTER COLUMN action per setting."""
    return f"ALTER TABLE {table} " + ", ".join(f"ALTER COLUMN {column} {setting}" for setting in settings) + ";"


def _statistics(query: Query) -> list[str]:
    return [_unqualified("statistics", definition) + ";" for *_, definition in _sorted(query(STATISTICS, ()))]


def _rules(query: Query) -> list[str]:
    out = []
    for _, _, _, table, name, definition, enabled in _sorted(query(RULES, ()), 3):
        state = f"\nALTER TABLE {table} {STATES[enabled]} RULE {name};" if enabled in STATES else ""
        out.append(_unqualified("rule", definition.rstrip()) + state)
    return out


def _row_security(query: Query) -> list[str]:
    out = []
    for _, _, table, forced in _sorted(query(ROW_SECURITY, ())):
        out.append(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY;" + (f"\nALTER TABLE {table} FORCE ROW LEVEL SECURITY;" if forced else ""))
    return out


def _policies(query: Query) -> list[str]:
    out = []
    for _, _, _, table, name, permissive, command, roles, using, check in _sorted(query(POLICIES, ()), 3):
        parts = [f"CREATE POLICY {name} ON {table}"] + ([] if permissive else ["AS RESTRICTIVE"])
        parts += [f"FOR {POLICY_COMMANDS[command]}"] if command in POLICY_COMMANDS else []
        parts += [f"TO {', '.join(roles)}"] if list(roles) != ["PUBLIC"] else []
        parts += [f"USING ({using})"] if using is not None else []
        parts += [f"WITH CHECK ({check})"] if check is not None else []
        out.append(" ".join(parts) + ";")
    return out


def _event_triggers(query: Query) -> list[str]:
    out = []
    for _, name, event, tags, function, enabled in _sorted(query(EVENT_TRIGGERS, ()), 1):
        when = f" WHEN TAG IN ({', '.join(_literal(tag) for tag in tags)})" if tags else ""
        state = f"\nALTER EVENT TRIGGER {name} {STATES[enabled]};" if enabled in STATES else ""
        out.append(f"CREATE EVENT TRIGGER {name} ON {event}{when} EXECUTE FUNCTION {function}();" + state)
    return out


def _comments(query: Query) -> list[str]:
    return [f"COMMENT ON {target} IS {text};" for target, text in _sorted(query(COMMENTS, ()), 1)]


def _unqualified(kind: str, definition: str) -> str:
    """``definition`` with the ``public.`` of the object it creates (or of its table) dropped (see ``PUBLIC_HEADS``)."""
    return PUBLIC_HEADS[kind].sub(r"\1", definition, count=1)


def _ordered(keys: dict[Any, tuple], needs: dict[Any, set[Any]]) -> list[Any]:
    """``keys`` sorted by their sort key, each after the ones it needs (a cycle, impossible in a catalog, breaks by key)."""
    waiting = {k: set(needs.get(k, ())) & keys.keys() for k in keys}
    ready = [(keys[k], k) for k in keys if not waiting[k]]
    heapq.heapify(ready)
    out: list[Any] = []
    while len(out) < len(keys):
        if not ready:  # a cycle: take the first of what is left
            first = min((k for k in keys if k not in out), key=lambda k: keys[k])
            waiting[first] = set()
            ready.append((keys[first], first))
        _, k = heapq.heappop(ready)
        out.append(k)
        for other, wanted in waiting.items():
            if k in wanted:
                wanted.discard(k)
                if not wanted and other not in out:
                    heapq.heappush(ready, (keys[other], other))
    return out
