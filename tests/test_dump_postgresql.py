"""The PostgreSQL schema dump (sqlrun.dumpsql.postgresql): SQL that PostgreSQL and psql run back into the same
catalog, the same bytes whatever the creation order, every object kind pg_dump writes.

Each round trip: dump the database, apply the dump to an empty database (with sqlrun, or with psql), dump
that: the two texts must be identical and the two catalog snapshots equivalent.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Iterator

import pytest

import corpora
from conftest import TempDatabase, make_database, need_client, unavailable
from test_dump import schema as snapshot
from sqlrun.config import parse_url
from sqlrun.dialects import open_database
from sqlrun.dumpsql import dump_sql
from sqlrun.snapshot import query_of

pytestmark = pytest.mark.parametrize("db", ["postgresql"], indirect=True)
SAMPLE_APP = Path(__file__).resolve().parent.parent / "data" / "migrations"

# One statement or a few per object kind, and what the dump must say about it.
KINDS: dict[str, tuple[str, list[str | re.Pattern[str]]]] = {
    "schema": ("CREATE SCHEMA extra; CREATE TABLE extra.t (a int)", ["CREATE SCHEMA extra;", "CREATE TABLE extra.t ("]),
    "extension": ("CREATE EXTENSION pgcrypto", ["CREATE EXTENSION IF NOT EXISTS pgcrypto WITH SCHEMA public;"]),
    "enum": ("CREATE TYPE mood AS ENUM ('sad', 'it''s ok', 'happy')", ["CREATE TYPE mood AS ENUM ('sad', 'it''s ok', 'happy');"]),
    "domain": (
        "CREATE DOMAIN positive AS integer DEFAULT 1 NOT NULL CONSTRAINT positive_check CHECK (VALUE > 0); "
        "CREATE DOMAIN later AS int; ALTER DOMAIN later ADD CONSTRAINT later_small CHECK (VALUE < 10) NOT VALID",
        [
            "CREATE DOMAIN positive AS integer DEFAULT 1 NOT NULL CONSTRAINT positive_check CHECK ((VALUE > 0));",
            "CREATE DOMAIN later AS integer;\nALTER DOMAIN later ADD CONSTRAINT later_small CHECK ((VALUE < 10)) NOT VALID;",
        ],
    ),
    "composite": ('CREATE TYPE pair AS (a integer, b text COLLATE "C")', ['CREATE TYPE pair AS (\n    a integer,\n    b text COLLATE "C"\n);']),
    "sequence": (
        "CREATE SEQUENCE tickets INCREMENT BY 5 START WITH 100 CACHE 10; CREATE SEQUENCE small AS smallint MAXVALUE 1000 CYCLE",
        ["CREATE SEQUENCE tickets INCREMENT BY 5 START WITH 100 CACHE 10;", "CREATE SEQUENCE small AS smallint MAXVALUE 1000 CYCLE;"],
    ),
    "serial": (
        "CREATE TABLE s (id serial PRIMARY KEY)",
        ["CREATE SEQUENCE s_id_seq AS integer;", "id integer DEFAULT nextval('s_id_seq'::regclass) NOT NULL", "ALTER SEQUENCE s_id_seq OWNED BY s.id;"],
    ),
    "columns": (
        "CREATE TABLE t (id bigint GENERATED ALWAYS AS IDENTITY (START WITH 10 INCREMENT BY 2), name text COLLATE \"C\" NOT NULL DEFAULT 'x', "
        "twice bigint GENERATED ALWAYS AS (id * 2) STORED, price numeric(10,2), at timestamptz DEFAULT now())",
        [
            "id bigint GENERATED ALWAYS AS IDENTITY (INCREMENT BY 2 START WITH 10) NOT NULL,",
            "name text COLLATE \"C\" DEFAULT 'x'::text NOT NULL,",
            "twice bigint GENERATED ALWAYS AS ((id * 2)) STORED,",
            "price numeric(10,2),",
            "at timestamp with time zone DEFAULT now()\n);",
        ],
    ),
    "table options": (
        "CREATE UNLOGGED TABLE scratch (k text) WITH (fillfactor = 70); CREATE TABLE base (a int); CREATE TABLE derived (b int) INHERITS (base)",
        ["CREATE UNLOGGED TABLE scratch (\n    k text\n) WITH (fillfactor=70);", "CREATE TABLE derived (\n    b integer\n) INHERITS (base);"],
    ),
    "partitions": (
        "CREATE TABLE m (at date NOT NULL, v int) PARTITION BY RANGE (at); "
        "CREATE TABLE m_2024 PARTITION OF m FOR VALUES FROM ('2024-01-01') TO ('2025-01-01'); CREATE INDEX m_at ON m (at); ALTER TABLE m ADD PRIMARY KEY (at)",
        [
            ") PARTITION BY RANGE (at);",
            "CREATE TABLE m_2024 PARTITION OF m FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');",
            "CREATE INDEX m_at ON m USING btree (at);",
            "ALTER TABLE m ADD CONSTRAINT m_pkey PRIMARY KEY (at);",
        ],
    ),
    "partition indexes": (
        "CREATE TABLE m (at date NOT NULL, v int) PARTITION BY RANGE (at); CREATE TABLE m_1 (at date NOT NULL, v int); "
        "CREATE INDEX my_own_name ON m_1 (v); ALTER TABLE m ATTACH PARTITION m_1 FOR VALUES FROM ('2024-01-01') TO ('2025-01-01'); "
        "CREATE INDEX m_v ON m (v); CREATE TABLE m_2 PARTITION OF m FOR VALUES FROM ('2025-01-01') TO ('2026-01-01')",
        # a partition's index keeps its own name: written before the parent's, which adopts it
        ["CREATE INDEX my_own_name ON m_1 USING btree (v);\n\nCREATE INDEX m_2_v_idx ON m_2 USING btree (v);\n\nCREATE INDEX m_v ON m USING btree (v);"],
    ),
    "inherited columns": (
        "CREATE TABLE m (at date NOT NULL, v int DEFAULT 1, w int DEFAULT 2) PARTITION BY RANGE (at); "
        "CREATE TABLE m_1 PARTITION OF m (v DEFAULT 5, w NOT NULL) FOR VALUES FROM ('2024-01-01') TO ('2025-01-01'); "
        "ALTER TABLE ONLY m_1 ALTER COLUMN w DROP DEFAULT; CREATE TABLE base (a int DEFAULT 1); CREATE TABLE kid (b int) INHERITS (base); "
        "ALTER TABLE kid ALTER COLUMN a SET DEFAULT 9",
        [
            "ALTER TABLE ONLY m_1 ALTER COLUMN v SET DEFAULT 5;",
            "ALTER TABLE ONLY m_1 ALTER COLUMN w DROP DEFAULT, ALTER COLUMN w SET NOT NULL;",
            "ALTER TABLE ONLY kid ALTER COLUMN a SET DEFAULT 9;",
        ],
    ),
    "constraints": (
        "CREATE EXTENSION btree_gist; CREATE TABLE c (id int PRIMARY KEY, email text UNIQUE, r int4range, CHECK (id > 0), "
        "CONSTRAINT no_overlap EXCLUDE USING gist (r WITH &&), CONSTRAINT later UNIQUE (email, id) DEFERRABLE INITIALLY DEFERRED)",
        [
            "ALTER TABLE c ADD CONSTRAINT c_pkey PRIMARY KEY (id);",
            "ALTER TABLE c ADD CONSTRAINT c_email_key UNIQUE (email);",
            "ALTER TABLE c ADD CONSTRAINT c_id_check CHECK ((id > 0));",
            "ALTER TABLE c ADD CONSTRAINT no_overlap EXCLUDE USING gist (r WITH &&);",
            "ALTER TABLE c ADD CONSTRAINT later UNIQUE (email, id) DEFERRABLE INITIALLY DEFERRED;",
        ],
    ),
    "foreign keys": (
        "CREATE TABLE b (id int PRIMARY KEY, a_id int); CREATE TABLE a (id int PRIMARY KEY, b_id int REFERENCES b (id) ON DELETE CASCADE); "
        "ALTER TABLE b ADD CONSTRAINT b_a FOREIGN KEY (a_id) REFERENCES a (id) NOT VALID",
        ["ALTER TABLE a ADD CONSTRAINT a_b_id_fkey FOREIGN KEY (b_id) REFERENCES b(id) ON DELETE CASCADE;", "ALTER TABLE b ADD CONSTRAINT b_a FOREIGN KEY (a_id) REFERENCES a(id) NOT VALID;"],
    ),
    "indexes": (
        "CREATE TABLE t (id int PRIMARY KEY, email text, code int); CREATE INDEX ON t (id) WHERE id > 0; CREATE UNIQUE INDEX t_lower ON t (lower(email)); "
        # a unique index (not a constraint) that a foreign key leans on is still an index of its own
        "CREATE UNIQUE INDEX t_code ON t (code); CREATE TABLE r (code int REFERENCES t (code))",
        [
            "CREATE INDEX t_id_idx ON t USING btree (id) WHERE (id > 0);",
            "CREATE UNIQUE INDEX t_lower ON t USING btree (lower(email));",
            "CREATE UNIQUE INDEX t_code ON t USING btree (code);",
            "ALTER TABLE r ADD CONSTRAINT r_code_fkey FOREIGN KEY (code) REFERENCES t(code);",
        ],
    ),
    "views": (
        "CREATE TABLE t (id int, name text); CREATE VIEW z_base AS SELECT id, name FROM t; CREATE VIEW a_top AS SELECT id FROM z_base; "
        "CREATE VIEW guarded WITH (security_barrier) AS SELECT id FROM t",
        # (z_base first: a_top reads it; the column list as the server deparses it, qualified before PostgreSQL 16)
        [re.compile(r"CREATE VIEW z_base AS\n SELECT (t\.)?id,\n    (t\.)?name\n   FROM t;\n\nCREATE VIEW a_top AS"), "CREATE VIEW guarded WITH (security_barrier=true) AS"],
    ),
    "materialized views": (
        "CREATE TABLE t (id int); CREATE MATERIALIZED VIEW counted AS SELECT count(*) AS n FROM t; CREATE UNIQUE INDEX counted_n ON counted (n); "
        "CREATE MATERIALIZED VIEW later AS SELECT id FROM t WITH NO DATA",
        ["CREATE MATERIALIZED VIEW counted AS\n SELECT count(*) AS n\n   FROM t;", "CREATE UNIQUE INDEX counted_n ON counted USING btree (n);", "   FROM t\n  WITH NO DATA;"],
    ),
    "routines": (
        "CREATE FUNCTION extra_add(a integer, b integer DEFAULT 1) RETURNS integer LANGUAGE sql IMMUTABLE AS 'SELECT a + b'; "
        "CREATE TABLE t (id int); CREATE PROCEDURE wipe() LANGUAGE sql AS 'DELETE FROM t'; "
        "CREATE FUNCTION first_t() RETURNS SETOF t LANGUAGE sql AS 'SELECT * FROM t LIMIT 1'",
        [
            "SET search_path = public;\nSET check_function_bodies = false;\n\n",
            "CREATE OR REPLACE FUNCTION extra_add(a integer, b integer DEFAULT 1)\n RETURNS integer\n LANGUAGE sql\n IMMUTABLE\nAS $function$SELECT a + b$function$;",
            "CREATE OR REPLACE PROCEDURE wipe()",
            "CREATE TABLE t (\n    id integer\n);\n\nCREATE OR REPLACE FUNCTION first_t()\n RETURNS SETOF t",
        ],
    ),
    "views and routines on rows": (
        "CREATE TABLE t (id int, name text); CREATE FUNCTION first_t() RETURNS SETOF t LANGUAGE sql AS 'SELECT * FROM t LIMIT 1'; "
        "CREATE VIEW a_firsts AS SELECT id FROM first_t(); CREATE VIEW names AS SELECT name FROM t; "
        "CREATE FUNCTION b_names() RETURNS SETOF names LANGUAGE sql AS 'SELECT * FROM names'; CREATE VIEW c_all AS SELECT name FROM b_names()",
        # a view after the routine it calls, a routine after the view whose rows it returns; of what is ready, views
        # first, then by name
        [re.compile(r"CREATE VIEW names(.|\n)*FUNCTION b_names\(\)(.|\n)*CREATE VIEW c_all(.|\n)*FUNCTION first_t\(\)(.|\n)*CREATE VIEW a_firsts")],
    ),
    "triggers": (
        "CREATE TABLE t (id int, note text); CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.note := 'x'; RETURN NEW; END $$; "
        "CREATE TRIGGER t_touch BEFORE INSERT ON t FOR EACH ROW EXECUTE FUNCTION touch(); "
        "CREATE TRIGGER t_off AFTER UPDATE ON t FOR EACH ROW EXECUTE FUNCTION touch(); ALTER TABLE t DISABLE TRIGGER t_off",
        [
            "CREATE TRIGGER t_touch BEFORE INSERT ON t FOR EACH ROW EXECUTE FUNCTION touch();",
            "CREATE TRIGGER t_off AFTER UPDATE ON t FOR EACH ROW EXECUTE FUNCTION touch();\nALTER TABLE t DISABLE TRIGGER t_off;",
        ],
    ),
    "collations": (
        "CREATE COLLATION nocase (provider = icu, locale = 'und-u-ks-level2', deterministic = false); CREATE COLLATION plain (locale = 'C'); "
        "CREATE TABLE t (title text COLLATE nocase)",
        [
            "CREATE COLLATION nocase (provider = icu, locale = 'und-u-ks-level2', deterministic = false);",
            "CREATE COLLATION plain (provider = libc, locale = 'C');",
            "title text COLLATE public.nocase",
        ],
    ),
    "ranges": (
        "CREATE TYPE floatrange AS RANGE (subtype = float8, subtype_diff = float8mi); "
        'CREATE TYPE textspan AS RANGE (subtype = text, collation = "C", multirange_type_name = textspans)',
        ["CREATE TYPE floatrange AS RANGE (SUBTYPE = double precision, SUBTYPE_DIFF = float8mi);", 'CREATE TYPE textspan AS RANGE (SUBTYPE = text, COLLATION = "C", MULTIRANGE_TYPE_NAME = textspans);'],
    ),
    "operators": (
        "CREATE FUNCTION int_plus(integer, integer) RETURNS integer LANGUAGE sql IMMUTABLE AS 'SELECT $1 + $2'; "
        "CREATE OPERATOR #+# (LEFTARG = integer, RIGHTARG = integer, FUNCTION = int_plus, COMMUTATOR = #+#)",
        ["CREATE OPERATOR #+# (FUNCTION = int_plus, LEFTARG = integer, RIGHTARG = integer, COMMUTATOR = OPERATOR(public.#+#));"],
    ),
    "aggregates": (
        "CREATE FUNCTION int_plus(integer, integer) RETURNS integer LANGUAGE sql IMMUTABLE AS 'SELECT $1 + $2'; "
        "CREATE AGGREGATE total(integer) (SFUNC = int_plus, STYPE = integer, INITCOND = '0', PARALLEL = SAFE); "
        "CREATE AGGREGATE biggest(integer) (SFUNC = int4larger, STYPE = integer, SORTOP = >); "
        "CREATE TABLE t (id int); CREATE VIEW totals AS SELECT total(id) AS n FROM t",
        [
            "CREATE AGGREGATE biggest(integer) (\n    SFUNC = int4larger,\n    STYPE = integer,\n    SORTOP = OPERATOR(pg_catalog.>)\n);",
            "CREATE AGGREGATE total(integer) (\n    SFUNC = int_plus,\n    STYPE = integer,\n    INITCOND = '0',\n    PARALLEL = SAFE\n);",
        ],
    ),
    "table settings": (
        "CREATE TABLE t (id int PRIMARY KEY, code int NOT NULL); CREATE UNIQUE INDEX t_code ON t (code); ALTER TABLE t CLUSTER ON t_pkey; "
        "ALTER TABLE t REPLICA IDENTITY USING INDEX t_code; CREATE TABLE f (id int); ALTER TABLE f REPLICA IDENTITY FULL; "
        "CREATE UNLOGGED SEQUENCE u; ALTER TABLE t ALTER COLUMN code SET STATISTICS 500",
        [
            "ALTER TABLE t ALTER COLUMN code SET STATISTICS 500;",
            "ALTER TABLE t CLUSTER ON t_pkey;",
            "ALTER TABLE t REPLICA IDENTITY USING INDEX t_code;",
            "ALTER TABLE f REPLICA IDENTITY FULL;",
            "CREATE UNLOGGED SEQUENCE u;",
        ],
    ),
    "domains calling functions": (
        "CREATE FUNCTION is_email(text) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$SELECT $1 LIKE '%@%'$$; "
        "CREATE DOMAIN email AS text CHECK (is_email(VALUE)); CREATE TABLE people (mail email)",
        ["AS $function$SELECT $1 LIKE '%@%'$function$;\n\nCREATE DOMAIN email AS text CONSTRAINT email_check CHECK (is_email(VALUE));"],
    ),
    "event triggers": (
        "CREATE FUNCTION audit() RETURNS event_trigger LANGUAGE plpgsql AS $$ BEGIN NULL; END $$; "
        "CREATE EVENT TRIGGER on_ddl ON ddl_command_end WHEN TAG IN ('CREATE TABLE', 'ALTER TABLE') EXECUTE FUNCTION audit(); "
        "CREATE EVENT TRIGGER off_ddl ON sql_drop EXECUTE FUNCTION audit(); ALTER EVENT TRIGGER off_ddl DISABLE",
        [
            "CREATE EVENT TRIGGER on_ddl ON ddl_command_end WHEN TAG IN ('CREATE TABLE', 'ALTER TABLE') EXECUTE FUNCTION audit();",
            "CREATE EVENT TRIGGER off_ddl ON sql_drop EXECUTE FUNCTION audit();\nALTER EVENT TRIGGER off_ddl DISABLE;\n\n"
            "CREATE EVENT TRIGGER on_ddl",  # last of all, by name
        ],
    ),
    "casts": (
        "CREATE TYPE money2 AS (cents bigint); CREATE FUNCTION to_money2(bigint) RETURNS money2 LANGUAGE sql AS 'SELECT ROW($1)::money2'; "
        "CREATE CAST (bigint AS money2) WITH FUNCTION to_money2(bigint) AS ASSIGNMENT; CREATE DOMAIN label AS text; "
        "CREATE CAST (money2 AS text) WITH INOUT",
        ["CREATE CAST (bigint AS money2) WITH FUNCTION to_money2(bigint) AS ASSIGNMENT;", "CREATE CAST (money2 AS text) WITH INOUT;"],
    ),
    "statistics": ("CREATE TABLE t (a int, b int); CREATE STATISTICS t_ab ON a, b FROM t", ["CREATE STATISTICS t_ab ON a, b FROM t;"]),
    "rules": (
        "CREATE TABLE t (id int); CREATE RULE t_keep AS ON DELETE TO t DO INSTEAD NOTHING",
        ["CREATE RULE t_keep AS\n    ON DELETE TO t DO INSTEAD NOTHING;"],
    ),
    "row security": (
        "CREATE TABLE t (id int, owner text); ALTER TABLE t ENABLE ROW LEVEL SECURITY; ALTER TABLE t FORCE ROW LEVEL SECURITY; "
        "CREATE POLICY mine ON t FOR SELECT USING (owner = current_user); CREATE POLICY strict ON t AS RESTRICTIVE TO CURRENT_USER WITH CHECK (id > 0)",
        [
            "ALTER TABLE t ENABLE ROW LEVEL SECURITY;\nALTER TABLE t FORCE ROW LEVEL SECURITY;",
            "CREATE POLICY mine ON t FOR SELECT USING ((owner = CURRENT_USER));",
            "CREATE POLICY strict ON t AS RESTRICTIVE TO ",
        ],
    ),
    "other schemas": (
        "CREATE TABLE t (id int); CREATE SCHEMA extra; CREATE TABLE extra.e (id int PRIMARY KEY REFERENCES extra.e (id)); CREATE INDEX e_i ON extra.e (id); "
        "CREATE FUNCTION extra.g() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM 1 FROM t JOIN public.t u ON public.t.id = u.id; RETURN NEW; END $$; "
        "CREATE TRIGGER e_g BEFORE INSERT ON extra.e FOR EACH ROW EXECUTE FUNCTION extra.g(); CREATE VIEW extra.v AS SELECT id FROM extra.e",
        [
            "CREATE TABLE extra.e (",
            "ALTER TABLE extra.e ADD CONSTRAINT e_pkey PRIMARY KEY (id);",
            "ALTER TABLE extra.e ADD CONSTRAINT e_id_fkey FOREIGN KEY (id) REFERENCES extra.e(id);",
            "CREATE INDEX e_i ON extra.e USING btree (id);",
            "CREATE OR REPLACE FUNCTION extra.g()",
            "JOIN public.t u ON public.t.id = u.id;",  # a routine's body is the user's text, public. and all
            "CREATE TRIGGER e_g BEFORE INSERT ON extra.e FOR EACH ROW EXECUTE FUNCTION extra.g();",
            re.compile(r"CREATE VIEW extra\.v AS\n SELECT (e\.)?id\n   FROM extra\.e;"),
        ],
    ),
    "comments": (
        "CREATE SCHEMA extra; CREATE TABLE t (id int CONSTRAINT t_key UNIQUE, name text); CREATE VIEW v AS SELECT id FROM t; "
        "CREATE FUNCTION f() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$; CREATE TRIGGER t_f BEFORE INSERT ON t FOR EACH ROW EXECUTE FUNCTION f(); "
        "CREATE TYPE mood AS ENUM ('ok'); CREATE DOMAIN pos AS int CONSTRAINT pos_check CHECK (VALUE > 0); CREATE SEQUENCE seq; CREATE INDEX t_name ON t (name); "
        "COMMENT ON SCHEMA extra IS 's'; COMMENT ON TABLE t IS 'it''s t'; COMMENT ON COLUMN t.name IS 'n'; COMMENT ON VIEW v IS 'v'; "
        "COMMENT ON FUNCTION f() IS 'f'; COMMENT ON TRIGGER t_f ON t IS 'tr'; COMMENT ON TYPE mood IS 'm'; COMMENT ON DOMAIN pos IS 'd'; "
        "COMMENT ON CONSTRAINT pos_check ON DOMAIN pos IS 'dc'; COMMENT ON CONSTRAINT t_key ON t IS 'k'; COMMENT ON SEQUENCE seq IS 'q'; COMMENT ON INDEX t_name IS 'i'; "
        "CREATE AGGREGATE total(integer) (SFUNC = int4pl, STYPE = integer); COMMENT ON AGGREGATE total(integer) IS 'a'; "
        "CREATE POLICY mine ON t USING (true); COMMENT ON POLICY mine ON t IS 'p'; CREATE RULE t_keep AS ON DELETE TO t DO INSTEAD NOTHING; "
        "COMMENT ON RULE t_keep ON t IS 'r'; CREATE COLLATION plain (locale = 'C'); COMMENT ON COLLATION plain IS 'c'; "
        "CREATE OPERATOR #+# (LEFTARG = integer, RIGHTARG = integer, FUNCTION = int4pl); COMMENT ON OPERATOR #+# (integer, integer) IS 'o'; "
        "CREATE STATISTICS t_s ON id, name FROM t; COMMENT ON STATISTICS t_s IS 's'; "
        "CREATE TABLE r (t_id int CONSTRAINT r_t REFERENCES t (id)); COMMENT ON CONSTRAINT r_t ON r IS 'fk'",
        [
            "COMMENT ON SCHEMA extra IS 's';",
            "COMMENT ON TABLE t IS 'it''s t';",
            "COMMENT ON COLUMN t.name IS 'n';",
            "COMMENT ON VIEW v IS 'v';",
            "COMMENT ON FUNCTION f() IS 'f';",
            "COMMENT ON TRIGGER t_f ON t IS 'tr';",
            "COMMENT ON TYPE mood IS 'm';",
            "COMMENT ON DOMAIN pos IS 'd';",
            "COMMENT ON CONSTRAINT pos_check ON DOMAIN pos IS 'dc';",
            "COMMENT ON CONSTRAINT t_key ON t IS 'k';",
            "COMMENT ON SEQUENCE seq IS 'q';",
            "COMMENT ON INDEX t_name IS 'i';",
            "COMMENT ON AGGREGATE total(integer) IS 'a';",
            "COMMENT ON POLICY mine ON t IS 'p';",
            "COMMENT ON RULE t_keep ON t IS 'r';",
            "COMMENT ON COLLATION plain IS 'c';",
            "COMMENT ON OPERATOR #+# (integer, integer) IS 'o';",
            "COMMENT ON STATISTICS t_s IS 's';",
            "COMMENT ON CONSTRAINT r_t ON r IS 'fk';",
        ],
    ),
}

# Every kind in one database, as a project might have them (the function bodies read tables made later).
EVERYTHING = """SET check_function_bodies = false;
CREATE EXTENSION btree_gist;
CREATE SCHEMA extra;
CREATE EXTENSION IF NOT EXISTS pgcrypto;
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE TYPE extra.pair AS (a integer, b text COLLATE "C");
CREATE DOMAIN positive AS integer DEFAULT 1 NOT NULL CONSTRAINT positive_check CHECK (VALUE > 0);
CREATE SEQUENCE tickets INCREMENT BY 5 START WITH 100 CACHE 10;
CREATE SEQUENCE extra.small AS smallint MAXVALUE 1000 CYCLE;
CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.note := 'x'; RETURN NEW; END $$;
CREATE FUNCTION extra.add(a integer, b integer DEFAULT 1) RETURNS integer LANGUAGE sql IMMUTABLE AS 'SELECT a + b';
CREATE PROCEDURE reset_all() LANGUAGE sql AS $$ DELETE FROM child $$;
CREATE TABLE parent (id serial PRIMARY KEY, name text COLLATE "C" NOT NULL DEFAULT 'x', m mood, p positive, code bigint DEFAULT nextval('tickets'));
CREATE TABLE child (id integer GENERATED ALWAYS AS IDENTITY (START WITH 10 INCREMENT BY 2) PRIMARY KEY, parent_id integer, email text, note text,
  twice integer GENERATED ALWAYS AS (id * 2) STORED, r int4range);
ALTER TABLE child ADD UNIQUE (email);
ALTER TABLE child ADD CONSTRAINT child_parent FOREIGN KEY (parent_id) REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED;
ALTER TABLE child ADD CHECK (id > 0);
ALTER TABLE child ADD CONSTRAINT no_overlap EXCLUDE USING gist (r WITH &&);
CREATE INDEX ON child (parent_id) WHERE parent_id > 0;
CREATE UNIQUE INDEX child_lower_email ON child (lower(email));
CREATE TABLE extra.measures (at date NOT NULL, v numeric(10,2)) PARTITION BY RANGE (at);
CREATE TABLE extra.measures_2024 PARTITION OF extra.measures FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE INDEX ON extra.measures (at);
CREATE UNLOGGED TABLE scratch (k text) WITH (fillfactor = 70);
CREATE TABLE base (a int);
CREATE TABLE derived (b int) INHERITS (base);
CREATE VIEW named AS SELECT id, name FROM parent;
CREATE VIEW a_named AS SELECT id FROM named;
CREATE MATERIALIZED VIEW counts AS SELECT count(*) AS n FROM child;
CREATE UNIQUE INDEX counts_n ON counts (n);
CREATE FUNCTION first_parent() RETURNS SETOF parent LANGUAGE sql AS 'SELECT * FROM parent LIMIT 1';
CREATE TRIGGER child_touch BEFORE INSERT ON child FOR EACH ROW EXECUTE FUNCTION touch();
CREATE TRIGGER child_off AFTER UPDATE ON child FOR EACH ROW EXECUTE FUNCTION touch();
ALTER TABLE child DISABLE TRIGGER child_off;
COMMENT ON TABLE parent IS 'the parents';
COMMENT ON COLUMN parent.name IS 'it''s a name';
COMMENT ON VIEW named IS 'named view';
COMMENT ON MATERIALIZED VIEW counts IS 'counted';
COMMENT ON COLUMN counts.n IS 'how many';
COMMENT ON INDEX child_lower_email IS 'emails';
COMMENT ON SEQUENCE tickets IS 'tickets';
COMMENT ON TYPE mood IS 'moods';
COMMENT ON DOMAIN positive IS 'above zero';
COMMENT ON FUNCTION extra.add(integer, integer) IS 'adds';
COMMENT ON PROCEDURE reset_all() IS 'resets';
COMMENT ON SCHEMA extra IS 'more';
COMMENT ON CONSTRAINT child_email_key ON child IS 'unique email';
COMMENT ON CONSTRAINT positive_check ON DOMAIN positive IS 'dc';
COMMENT ON TRIGGER child_touch ON child IS 'touches';
COMMENT ON TYPE extra.pair IS 'a pair';
COMMENT ON COLUMN extra.pair.a IS 'first';
CREATE COLLATION nocase (provider = icu, locale = 'und-u-ks-level2', deterministic = false);
CREATE COLLATION frc (locale = 'C');
CREATE TYPE floatrange AS RANGE (subtype = float8, subtype_diff = float8mi);
CREATE TYPE textspan AS RANGE (subtype = text, collation = "C", multirange_type_name = textspans);
CREATE FUNCTION anylike(anynonarray, text) RETURNS bool LANGUAGE sql IMMUTABLE AS 'SELECT $1::text LIKE $2';
CREATE OPERATOR ~~ (LEFTARG = anynonarray, RIGHTARG = text, PROCEDURE = anylike);
CREATE FUNCTION int_plus(integer, integer) RETURNS integer LANGUAGE sql IMMUTABLE AS 'SELECT $1 + $2';
CREATE OPERATOR #+# (LEFTARG = integer, RIGHTARG = integer, FUNCTION = int_plus, COMMUTATOR = #+#);
CREATE AGGREGATE total(integer) (SFUNC = int_plus, STYPE = integer, INITCOND = '0', PARALLEL = SAFE);
CREATE AGGREGATE biggest(integer) (SFUNC = int4larger, STYPE = integer, SORTOP = >);
CREATE TABLE docs (id int, owner text, title text COLLATE nocase, a int, b int);
CREATE STATISTICS docs_ab ON a, b FROM docs;
ALTER TABLE docs ENABLE ROW LEVEL SECURITY;
ALTER TABLE docs FORCE ROW LEVEL SECURITY;
CREATE POLICY mine ON docs FOR SELECT USING (owner = current_user);
CREATE POLICY strict ON docs AS RESTRICTIVE TO CURRENT_USER WITH CHECK (id > 0);
CREATE TABLE docs_log (id int);
CREATE RULE docs_no_delete AS ON DELETE TO docs_log DO INSTEAD NOTHING;
CREATE VIEW totals AS SELECT total(id) AS t FROM docs;
CREATE FUNCTION is_email(text) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$SELECT $1 LIKE '%@%'$$;
CREATE DOMAIN email AS text CHECK (is_email(VALUE));
CREATE FUNCTION audit() RETURNS event_trigger LANGUAGE plpgsql AS $$ BEGIN NULL; END $$;
CREATE EVENT TRIGGER on_ddl ON ddl_command_end WHEN TAG IN ('CREATE TABLE') EXECUTE FUNCTION audit();
CREATE CAST (extra.pair AS text) WITH INOUT AS IMPLICIT;
"""

# Quoted names, nested and default partitions, inheritance, checks NO INHERIT, triggers on views, constraint
# triggers, column settings: what a careless text would get wrong.
AWKWARD = """CREATE SCHEMA "My Schema";
CREATE TYPE "My Schema"."Status" AS ENUM ('new', 'old');
CREATE DOMAIN status_domain AS "My Schema"."Status" DEFAULT 'new';
CREATE TYPE point3 AS (x float8, y float8, z float8);
CREATE TABLE "User" ("Id" int GENERATED ALWAYS AS IDENTITY PRIMARY KEY, "order" int, "select" text[] DEFAULT '{}', s "My Schema"."Status"[], p point3, st status_domain,
   CONSTRAINT "Order positive" CHECK ("order" > 0) NOT VALID, CONSTRAINT no_inh CHECK ("Id" > 0) NO INHERIT);
CREATE SEQUENCE down INCREMENT BY -1;
CREATE SEQUENCE down2 INCREMENT BY -2 MINVALUE -100 MAXVALUE 50 START 10;
CREATE TABLE lst (region text NOT NULL, id int NOT NULL, v int) PARTITION BY LIST (region);
CREATE TABLE lst_eu PARTITION OF lst FOR VALUES IN ('eu', 'uk') PARTITION BY HASH (id);
CREATE TABLE lst_eu_0 PARTITION OF lst_eu FOR VALUES WITH (MODULUS 2, REMAINDER 0);
CREATE TABLE lst_eu_1 PARTITION OF lst_eu FOR VALUES WITH (MODULUS 2, REMAINDER 1);
CREATE TABLE lst_other PARTITION OF lst DEFAULT;
ALTER TABLE lst ADD PRIMARY KEY (region, id);
CREATE INDEX lst_v ON lst (v DESC NULLS LAST) INCLUDE (id);
CREATE INDEX lst_other_only ON lst_other (v);
ALTER TABLE lst_other ADD CONSTRAINT other_v CHECK (v > 0);
CREATE TABLE refs (region text, id int, FOREIGN KEY (region, id) REFERENCES lst (region, id) ON UPDATE CASCADE);
CREATE TABLE standalone (region text NOT NULL, id int NOT NULL, v int);
CREATE INDEX u_text ON standalone (region COLLATE "C" text_pattern_ops) WHERE id > 5;
CREATE FUNCTION "Weird Name"(x int) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT x * 2';
CREATE TABLE gen (a int, b int GENERATED ALWAYS AS ("Weird Name"(a)) STORED, c int DEFAULT "Weird Name"(3));
CREATE VIEW checked AS SELECT "Id", "order" FROM "User" WHERE "order" > 0 WITH LOCAL CHECK OPTION;
CREATE RECURSIVE VIEW nums (n) AS VALUES (1) UNION ALL SELECT n + 1 FROM nums WHERE n < 5;
CREATE FUNCTION v_ins() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE TRIGGER checked_ins INSTEAD OF INSERT ON checked FOR EACH ROW EXECUTE FUNCTION v_ins();
CREATE CONSTRAINT TRIGGER late AFTER INSERT ON "User" DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION v_ins();
CREATE TRIGGER lst_trg AFTER INSERT ON lst FOR EACH ROW EXECUTE FUNCTION v_ins();
CREATE TRIGGER when_trg BEFORE UPDATE OF v ON standalone FOR EACH ROW WHEN (OLD.v IS DISTINCT FROM NEW.v) EXECUTE FUNCTION v_ins();
ALTER TABLE standalone ALTER COLUMN v SET STATISTICS 500;
CREATE TABLE par (a int PRIMARY KEY);
CREATE TABLE kid (b int) INHERITS (par);
ALTER TABLE par ADD CONSTRAINT par_a CHECK (a > 0);
CREATE TABLE "ident" (id bigint GENERATED BY DEFAULT AS IDENTITY (SEQUENCE NAME custom_seq MINVALUE 5), x int);
CREATE MATERIALIZED VIEW "Mat" AS SELECT count(*) FROM "User";
COMMENT ON COLUMN "User"."order" IS 'order';
COMMENT ON TYPE "My Schema"."Status" IS 'status';
ALTER TABLE standalone ALTER COLUMN region SET STORAGE MAIN, ALTER COLUMN region SET COMPRESSION pglz;
CREATE TABLE mm (at date NOT NULL, v int DEFAULT 1, w int DEFAULT 2) PARTITION BY RANGE (at);
CREATE TABLE mm_1 PARTITION OF mm (v DEFAULT 5, w NOT NULL) FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
ALTER TABLE ONLY mm_1 ALTER COLUMN w DROP DEFAULT;
ALTER TABLE kid ALTER COLUMN a SET DEFAULT 9;
"""


@pytest.fixture
def empty(tmp_path: Path) -> Iterator[TempDatabase]:
    """A second empty PostgreSQL database, for the dump to be applied to."""
    (tmp_path / "empty").mkdir()
    yield from make_database("postgresql", tmp_path / "empty")


@pytest.fixture
def another(tmp_path: Path) -> Iterator[TempDatabase]:
    """A third empty PostgreSQL database, for psql to apply the dump to."""
    (tmp_path / "another").mkdir()
    yield from make_database("postgresql", tmp_path / "another")


def dump(db: TempDatabase) -> str:
    """The dump of ``db``, read through sqlrun's own session as the dump command would."""
    database = open_database(parse_url(db.url), create=False, readonly=True, notify=lambda _: None)
    assert database is not None
    try:
        return dump_sql("postgresql", query_of(database))
    finally:
        database.close()


def sqlrun_apply(cli, db: TempDatabase, folder: Path) -> None:
    result = cli("--database-url", db.url, "--dir", str(folder))
    assert result.code == 0, result.text


def apply_dump_with_sqlrun(cli, text: str, db: TempDatabase, folder: Path) -> None:
    folder.mkdir()
    (folder / "001_schema.sql").write_text(text, encoding="utf-8")
    sqlrun_apply(cli, db, folder)


def apply_with_psql(db: TempDatabase, path: Path) -> None:
    done = subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", db.url, "-f", str(path)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]


def assert_round_trip(cli, db: TempDatabase, empty: TempDatabase, folder: Path) -> str:
    """Dump ``db``, apply the dump to ``empty`` with sqlrun, dump again: same bytes, equivalent catalogs."""
    text = dump(db)
    apply_dump_with_sqlrun(cli, text, empty, folder)
    assert dump(empty) == text
    assert snapshot(empty).equivalent(snapshot(db))
    return text


def test_the_sample_app_round_trips(db: TempDatabase, empty: TempDatabase, tmp_path: Path, cli) -> None:
    sqlrun_apply(cli, db, SAMPLE_APP)
    text = assert_round_trip(cli, db, empty, tmp_path / "dump")
    assert "CREATE TABLE users (\n    id integer GENERATED BY DEFAULT AS IDENTITY NOT NULL," in text
    assert "CREATE VIEW character_activity AS" in text
    assert "sqlrun_history" not in text and "sqlrun_repeatable" not in text
    # one statement per object, a blank line between objects, a newline at the end
    assert text.endswith(";\n") and not text.endswith("\n\n")
    assert all(block.rstrip().endswith(";") for block in text.split("\n\n"))


def test_an_empty_database_dumps_to_nothing(db: TempDatabase, cli, scripts) -> None:
    assert dump(db) == ""
    sqlrun_apply(cli, db, scripts({"001_nothing.sql": "SELECT 1;\n"}))  # sqlrun's own tables are not the schema
    assert dump(db) == ""


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_each_object_kind_is_dumped_and_round_trips(kind: str, db: TempDatabase, empty: TempDatabase, tmp_path: Path, cli) -> None:
    script, expected = KINDS[kind]
    db.execute(script)
    text = assert_round_trip(cli, db, empty, tmp_path / "dump")
    for statement in expected:
        found = statement.search(text) if isinstance(statement, re.Pattern) else statement in text
        assert found, f"{statement!r} not in the dump:\n{text}"


def test_the_snapshot_sees_a_unique_index_a_foreign_key_leans_on(db: TempDatabase, empty: TempDatabase) -> None:
    # The round trips compare snapshots: an index the snapshot missed would go unchecked.
    db.execute("CREATE TABLE t (id int PRIMARY KEY, code int); CREATE UNIQUE INDEX t_code ON t (code); CREATE TABLE r (code int REFERENCES t (code))")
    empty.execute("CREATE TABLE t (id int PRIMARY KEY, code int); CREATE TABLE r (code int)")
    assert [i.name for i in snapshot(db).items if i.kind == "index"] == ["t_code"]
    assert not snapshot(empty).equivalent(snapshot(db))


def test_the_session_s_search_path_changes_nothing_and_is_put_back(db: TempDatabase) -> None:
    import psycopg

    db.execute("CREATE SCHEMA app; CREATE TABLE app.users (id int PRIMARY KEY); CREATE VIEW app.names AS SELECT id FROM app.users; "
               "CREATE TABLE t (id int REFERENCES app.users (id))")
    expected = dump(db)
    assert expected.startswith("SET search_path = public;\n\n")
    assert re.search(r"CREATE VIEW app\.names AS\n SELECT (users\.)?id\n   FROM app\.users;", expected), expected
    with psycopg.connect(db.url, autocommit=True) as conn:
        conn.execute("SET search_path = app, public")
        assert dump_sql("postgresql", query_of_connection(conn)) == expected
        assert conn.execute("SHOW search_path").fetchone()[0] == "app, public"


def query_of_connection(conn):
    """A catalog query function on a plain psycopg connection."""
    return lambda sql, params=(): [tuple(r) for r in conn.execute(sql, tuple(params)).fetchall()]


def test_the_order_follows_names_not_creation(db: TempDatabase, empty: TempDatabase) -> None:
    one = [
        "CREATE TYPE mood AS ENUM ('ok')",
        "CREATE TABLE a (id int PRIMARY KEY, m mood)",
        "CREATE TABLE b (id int PRIMARY KEY, a_id int REFERENCES a (id))",
        "CREATE INDEX b_a ON b (a_id)",
        "CREATE VIEW vb AS SELECT id FROM b",
        "CREATE VIEW va AS SELECT id FROM vb",
        "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT 1'",
        "CREATE FUNCTION g() RETURNS int LANGUAGE sql AS 'SELECT 2'",
        "COMMENT ON TABLE a IS 'a'",
        "COMMENT ON TABLE b IS 'b'",
    ]
    other = [
        "CREATE FUNCTION g() RETURNS int LANGUAGE sql AS 'SELECT 2'",
        "CREATE TYPE mood AS ENUM ('ok')",
        "CREATE TABLE b (id int PRIMARY KEY, a_id int)",
        "CREATE TABLE a (id int PRIMARY KEY, m mood)",
        "COMMENT ON TABLE b IS 'b'",
        "CREATE VIEW vb AS SELECT id FROM b",
        "ALTER TABLE b ADD CONSTRAINT b_a_id_fkey FOREIGN KEY (a_id) REFERENCES a (id)",
        "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT 1'",
        "CREATE VIEW va AS SELECT id FROM vb",
        "COMMENT ON TABLE a IS 'a'",
        "CREATE INDEX b_a ON b (a_id)",
    ]
    # a column dropped on the way (its attnum stays taken), an enum grown in the middle, a second schema
    one += [
        "CREATE TABLE c (a int, b text)",
        "CREATE TYPE level AS ENUM ('low', 'mid', 'high')",
        "CREATE SCHEMA s2",
        "CREATE SEQUENCE s2.n",
        "CREATE TABLE s2.t (id int)",
    ]
    other += [
        "CREATE TABLE s2.t (id int)",
        "CREATE SEQUENCE s2.n",
        "CREATE TABLE c (a int, gone int, b text)",
        "ALTER TABLE c DROP COLUMN gone",
        "CREATE TYPE level AS ENUM ('low', 'high')",
        "ALTER TYPE level ADD VALUE 'mid' BEFORE 'high'",
    ]
    other.insert(0, "CREATE SCHEMA s2")
    for statement in one:
        db.execute(statement)
    for statement in other:
        empty.execute(statement)
    text = dump(db)
    assert dump(empty) == text
    # kind first, then name; a view after the view it reads
    assert text.index("CREATE TABLE a (") < text.index("CREATE TABLE b (") < text.index("CREATE VIEW vb") < text.index("CREATE VIEW va")
    assert text.index("FUNCTION f()") < text.index("FUNCTION g()") < text.index("CREATE TABLE a (")


def test_psql_runs_the_dump_into_the_same_catalog(db: TempDatabase, empty: TempDatabase, tmp_path: Path, cli) -> None:
    need_client("psql")
    sqlrun_apply(cli, db, SAMPLE_APP)
    db.execute(EVERYTHING)
    path = tmp_path / "schema.sql"
    path.write_text(dump(db), encoding="utf-8")
    apply_with_psql(empty, path)
    assert dump(empty) == path.read_text(encoding="utf-8")
    assert snapshot(empty).equivalent(snapshot(db))


def pg_dump_text(db: TempDatabase) -> str:
    """pg_dump --schema-only's text for ``db``, without its per-run random key (\\restrict) and sqlrun's tables."""
    done = subprocess.run(["pg_dump", "--schema-only", "--no-owner", "--no-privileges", "--exclude-table=sqlrun_*", "-d", db.url],
                          capture_output=True, text=True, timeout=600, check=True)
    return re.sub(r"^\\(?:un)?restrict .*$", "", done.stdout, flags=re.M)


def test_pg_dump_sees_no_difference_after_the_round_trip(db: TempDatabase, empty: TempDatabase, tmp_path: Path, cli) -> None:
    need_client("pg_dump")
    sqlrun_apply(cli, db, SAMPLE_APP)
    db.execute(EVERYTHING)
    db.execute(AWKWARD)
    assert_round_trip(cli, db, empty, tmp_path / "dump")
    assert pg_dump_text(empty) == pg_dump_text(db)


# pg_dump's object types (its "-- Name: ...; Type: X;" headers) and how our dump writes each.
PG_DUMP_TYPES = {
    "SCHEMA": r"^CREATE SCHEMA ",
    "EXTENSION": r"^CREATE EXTENSION ",
    "TYPE": r"^CREATE TYPE ",
    "DOMAIN": r"^CREATE DOMAIN ",
    "FUNCTION": r"^CREATE OR REPLACE FUNCTION ",
    "PROCEDURE": r"^CREATE OR REPLACE PROCEDURE ",
    "SEQUENCE": r"^CREATE SEQUENCE ",
    "SEQUENCE OWNED BY": r"^ALTER SEQUENCE \S+ OWNED BY ",
    "TABLE": r"^CREATE (UNLOGGED )?TABLE ",
    "TABLE ATTACH": r" PARTITION OF ",
    "DEFAULT": r"^    \S+ .* DEFAULT ",
    "VIEW": r"^CREATE VIEW ",
    "MATERIALIZED VIEW": r"^CREATE MATERIALIZED VIEW ",
    "CONSTRAINT": r"^ALTER TABLE \S+ ADD CONSTRAINT \S+ (PRIMARY KEY|UNIQUE|CHECK|EXCLUDE) ",
    "FK CONSTRAINT": r"^ALTER TABLE \S+ ADD CONSTRAINT \S+ FOREIGN KEY ",
    "INDEX": r"^CREATE (UNIQUE )?INDEX ",
    "INDEX ATTACH": r"^CREATE (UNIQUE )?INDEX \S+ ON \S+ ",  # a partitioned table's index, made with its partitions' copies
    "TRIGGER": r"^CREATE TRIGGER ",
    "COMMENT": r"^COMMENT ON ",
    "AGGREGATE": r"^CREATE AGGREGATE ",
    "COLLATION": r"^CREATE COLLATION ",
    "OPERATOR": r"^CREATE OPERATOR ",
    "POLICY": r"^CREATE POLICY ",
    "ROW SECURITY": r"^ALTER TABLE \S+ ENABLE ROW LEVEL SECURITY;",
    "RULE": r"^CREATE RULE ",
    "STATISTICS": r"^CREATE STATISTICS ",
    "EVENT TRIGGER": r"^CREATE EVENT TRIGGER ",
    "CAST": r"^CREATE CAST ",
}


def pg_dump_kinds(db: TempDatabase) -> set[str]:
    """The object types pg_dump --schema-only writes for ``db`` (its "-- Name: ...; Type: X;" headers)."""
    done = subprocess.run(["pg_dump", "--schema-only", "--no-owner", "--no-privileges", "--exclude-table=sqlrun_*", "-d", db.url],
                          capture_output=True, text=True, timeout=600, check=True)
    return set(re.findall(r"^-- Name: .*?; Type: ([A-Z ]+);", done.stdout, flags=re.M))


def assert_kinds_like_pg_dump(db: TempDatabase, ours: str) -> set[str]:
    """Every kind of object pg_dump writes for ``db`` is in ``ours``; returns pg_dump's kinds."""
    theirs = pg_dump_kinds(db)
    assert theirs <= PG_DUMP_TYPES.keys(), f"pg_dump writes kinds this test does not know: {theirs - PG_DUMP_TYPES.keys()}"
    missing = {kind for kind in theirs if not re.search(PG_DUMP_TYPES[kind], ours, flags=re.M)}
    assert not missing, f"pg_dump writes {sorted(missing)}, our dump does not:\n{ours}"
    return theirs


def test_every_kind_pg_dump_writes_is_in_the_dump(db: TempDatabase) -> None:
    need_client("pg_dump")
    db.execute(EVERYTHING)
    theirs = assert_kinds_like_pg_dump(db, dump(db))
    assert len(theirs) >= 27, sorted(theirs)


POSTGRESQL_CORPORA = [c for c in corpora.CORPORA if c.kind == "postgresql"]


@pytest.mark.corpus
@pytest.mark.parametrize("corpus", POSTGRESQL_CORPORA, ids=str)
def test_real_schemas_round_trip_through_sqlrun_and_psql(
    corpus: corpora.Corpus, db: TempDatabase, empty: TempDatabase, another: TempDatabase, tmp_path: Path, cli
) -> None:
    try:
        folder = corpora.migrations(corpus, tmp_path / "migrations")
    except corpora.Unavailable as exc:
        unavailable(f"a corpus cannot be built: {exc}")
    sqlrun_apply(cli, db, folder)
    text = assert_round_trip(cli, db, empty, tmp_path / "dump")
    assert "CREATE TABLE " in text
    need_client("psql", "pg_dump")
    assert_kinds_like_pg_dump(db, text)
    apply_with_psql(another, tmp_path / "dump" / "001_schema.sql")
    assert dump(another) == text
    assert snapshot(another).equivalent(snapshot(db))
    assert pg_dump_text(another) == pg_dump_text(db)
