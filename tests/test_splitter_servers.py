"""Splitter against the real servers and clients: random scripts via psql/mariadb vs us, and real dumps."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sqlrun.splitter import split
try:
    from tests import splitter_servers as srv
except ImportError:  # tests/ is not a package: pytest put it on sys.path
    import splitter_servers as srv  # type: ignore[no-redef]

CASES = Path(__file__).parent / "splitter_cases"

# Characters that break naive splitters; NUL is not storable in either server's text type.
TRICKY = st.text(alphabet=st.sampled_from(list("ab ;'\"\\-#/*$`\n\t(){}[]%:?") + ["ü", "€", "😀"]), max_size=30)
NOISE = ["", " ", "\n", "\n\n", "-- note ; ' \" \n", "/* ; ' \" -- */", "  \t"]
SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def mysql_literal(value: str, style: int) -> str:
    """A MySQL string literal for ``value`` in one of several quoting styles."""
    if style == 0:
        return "'" + value.replace("\\", "\\\\").replace("'", "''") + "'"
    if style == 1:
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
    return '"' + value.replace("\\", "\\\\").replace('"', '""') + '"'


def pg_literal(value: str, style: int) -> str:
    """A PostgreSQL string literal for ``value``: standard, E'', or dollar-quoted."""
    if style == 0:
        return "'" + value.replace("'", "''") + "'"
    if style == 1:
        return "E'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
    tag = "$q$" if "$q" not in value and not value.endswith("$") else "$z$"
    if tag[1:-1] in value:
        return "'" + value.replace("'", "''") + "'"
    return tag + value + tag


def build_script(rows: list[tuple[str, int, int]], literal, comment_char: str) -> str:  # noqa: ANN001
    """CREATE TABLE + one INSERT per row, with comment/whitespace noise between and inside statements."""
    parts = ["DROP TABLE IF EXISTS t;\nCREATE TABLE t (id int PRIMARY KEY, s text);\n"]
    for i, (value, style, noise) in enumerate(rows):
        gap = NOISE[noise % len(NOISE)]
        extra = f"{comment_char} hash ; '\n" if comment_char and noise % 3 == 0 else ""
        parts.append(f"{gap}{extra}INSERT INTO t (id, s) VALUES ({i},{gap} {literal(value, style)}){gap};\n")
    return "".join(parts)


ROWS = st.lists(st.tuples(TRICKY, st.integers(0, 2), st.integers(0, 20)), max_size=12)


# --- PostgreSQL --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pg_pair():  # noqa: ANN201
    """Two temporary PostgreSQL databases: one fed by psql, one by us."""
    with srv.pg_database() as theirs, srv.pg_database() as ours:
        yield theirs, ours


def pg_rows(database: str) -> list[tuple[int, str]]:
    """Contents of table t."""
    with srv.pg_connect(database) as conn:
        return conn.execute("SELECT id, s FROM public.t ORDER BY id").fetchall()


def pg_apply(database: str, script: str) -> None:
    """Split ``script`` and run each statement with psycopg (COPY data streamed)."""
    with srv.pg_connect(database) as conn:
        for stmt in split(script, "postgresql"):
            if stmt.copy_data is None:
                conn.execute(stmt.text)
            else:
                with conn.cursor() as cur, cur.copy(stmt.text) as copy:
                    copy.write(stmt.copy_data)


@pytest.mark.postgresql
@SETTINGS
@given(rows=ROWS)
def test_postgresql_same_result_as_psql(pg_pair, rows) -> None:  # noqa: ANN001
    theirs, ours = pg_pair
    script = build_script(rows, pg_literal, "")
    srv.run([*srv.psql_args(theirs), "-f", "-"], stdin=script, env=srv.pg_env())
    pg_apply(ours, script)
    expected = [(i, value) for i, (value, _, _) in enumerate(rows)]
    assert pg_rows(ours) == pg_rows(theirs) == expected


PG_SOURCE = r"""
CREATE TABLE data (id int PRIMARY KEY, s text, b bytea);
INSERT INTO data VALUES (1, 'semi;colon ''quoted'' back\slash', '\x00ff'),
  (2, E'new\nline\ttab \\ end', NULL), (3, '$$ dollar $$ -- not a comment /* nor this */', ''), (4, 'ü€😀', '\x41');
CREATE TABLE log (msg text);
CREATE FUNCTION plpg(x int) RETURNS text LANGUAGE plpgsql AS $body$
BEGIN
  IF x > 0 THEN RETURN 'pos;'; END IF;
  RETURN 'neg''s';
END
$body$;
CREATE FUNCTION atomic_f(x int) RETURNS int LANGUAGE sql
BEGIN ATOMIC
  SELECT CASE WHEN x > 0 THEN x ELSE -x END;
END;
CREATE PROCEDURE atomic_p(m text) LANGUAGE sql
BEGIN ATOMIC
  INSERT INTO log VALUES (m);
  INSERT INTO log VALUES (m || ';2');
END;
CREATE FUNCTION trg() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN INSERT INTO log VALUES ('trg;' || NEW.id); RETURN NEW; END $$;
CREATE TRIGGER data_trg AFTER INSERT ON data FOR EACH ROW EXECUTE FUNCTION trg();
CREATE VIEW v AS SELECT id, s FROM data WHERE s LIKE '%;%';
"""


@pytest.mark.postgresql
def test_pg_dump_plain_applies() -> None:
    pg_dump = srv.require_tool("pg_dump")
    s = srv.postgresql_server()
    with srv.pg_database() as source, srv.pg_database() as target:
        srv.run([*srv.psql_args(source), "-f", "-"], stdin=PG_SOURCE, env=srv.pg_env())
        dump = srv.run([pg_dump, "-h", s.host, "-p", str(s.port), "-U", s.user or "postgres", source], env=srv.pg_env())
        statements = split(dump, "postgresql", filename="dump.sql")
        assert any(stmt.copy_data for stmt in statements)
        pg_apply(target, dump)
        query = "SELECT id, s, b FROM public.data ORDER BY id"
        with srv.pg_connect(source) as a, srv.pg_connect(target) as b:
            assert b.execute(query).fetchall() == a.execute(query).fetchall()
            assert b.execute("SELECT public.plpg(1), public.plpg(-1), public.atomic_f(-5)").fetchone() == ("pos;", "neg's", 5)
            b.execute("CALL public.atomic_p('x')")
            b.execute("INSERT INTO public.data (id, s) VALUES (9, 'z')")
            assert b.execute("SELECT msg FROM public.log ORDER BY msg").fetchall() == [("trg;9",), ("x",), ("x;2",)]
            assert b.execute("SELECT count(*) FROM public.v").fetchone() == (1,)


# --- MySQL / MariaDB -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def my_pair():  # noqa: ANN201
    """Two temporary MySQL databases: one fed by the mariadb client, one by us."""
    with srv.my_database() as theirs, srv.my_database() as ours:
        yield theirs, ours


def my_rows(database: str) -> list[tuple[int, str]]:
    """Contents of table t."""
    conn = srv.my_connect(database)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT id, s FROM t ORDER BY id")
            return [tuple(row) for row in cur.fetchall()]
    finally:
        conn.close()


def my_apply(database: str, script: str) -> None:
    """Split ``script`` and run each statement with pymysql."""
    conn = srv.my_connect(database)
    try:
        with conn.cursor() as cur:
            for stmt in split(script, "mysql"):
                cur.execute(stmt.text)
    finally:
        conn.close()


@pytest.mark.mysql
@SETTINGS
@given(rows=ROWS)
def test_mysql_same_result_as_mariadb_client(my_pair, rows) -> None:  # noqa: ANN001
    theirs, ours = my_pair
    script = build_script(rows, mysql_literal, "#")
    srv.run(srv.mysql_args("mariadb", theirs), stdin=script, env=srv.my_env())
    my_apply(ours, script)
    expected = [(i, value) for i, (value, _, _) in enumerate(rows)]
    assert my_rows(ours) == my_rows(theirs) == expected


MY_SOURCE = r"""
CREATE TABLE data (id int PRIMARY KEY, s text, b blob) CHARACTER SET utf8mb4;
INSERT INTO data VALUES (1, 'semi;colon ''quoted'' back\\slash', x'00ff'),
  (2, 'new\nline\ttab \\ end', NULL), (3, '/* not */ -- a comment # at all', ''), (4, 'ü€😀', 'A');
CREATE TABLE log (msg text);
DELIMITER //
CREATE PROCEDURE p(IN m text)
BEGIN
  DECLARE i INT DEFAULT 0;
  WHILE i < 2 DO
    INSERT INTO log VALUES (CONCAT(m, ';', i));
    SET i = i + 1;
  END WHILE;
END//
CREATE FUNCTION f(x INT) RETURNS text DETERMINISTIC
BEGIN
  IF x > 0 THEN RETURN 'pos;'; END IF;
  RETURN 'neg''s';
END//
CREATE TRIGGER data_trg AFTER INSERT ON data FOR EACH ROW
BEGIN
  INSERT INTO log VALUES (CONCAT('trg;', NEW.id));
END//
DELIMITER ;
CREATE VIEW v AS SELECT id, s FROM data WHERE s LIKE '%;%';
"""


@pytest.mark.mysql
def test_mariadb_dump_applies() -> None:
    with srv.my_database() as source, srv.my_database() as target:
        srv.run(srv.mysql_args("mariadb", source), stdin=MY_SOURCE, env=srv.my_env())
        dump = srv.run([*srv.mysql_args("mariadb-dump", source)[:-1], "--routines", "--triggers", "--hex-blob", source], env=srv.my_env())
        assert "DELIMITER ;;" in dump
        my_apply(target, dump)
        a, b = srv.my_connect(source), srv.my_connect(target)
        try:
            with a.cursor() as ca, b.cursor() as cb:
                for cur in (ca, cb):
                    cur.execute("SELECT id, s, b FROM data ORDER BY id")
                assert cb.fetchall() == ca.fetchall()
                cb.execute("SELECT f(1), f(-1)")
                assert cb.fetchone() == ("pos;", "neg's")
                cb.execute("CALL p('x')")
                cb.execute("INSERT INTO data (id, s) VALUES (9, 'z')")
                cb.execute("SELECT msg FROM log ORDER BY msg")
                assert [row[0] for row in cb.fetchall()] == ["trg;9", "x;0", "x;1"]
                cb.execute("SELECT count(*) FROM v")
                assert cb.fetchone() == (1,)
        finally:
            a.close()
            b.close()


def test_mysql_compound_create_without_delimiter_applies() -> None:
    """Our BEGIN ... END rule: a routine written without DELIMITER is one statement the server accepts."""
    script = MY_SOURCE.replace("DELIMITER //\n", "").replace("DELIMITER ;\n", "").replace("END//", "END;")
    texts = [s.text for s in split(script, "mysql")]
    assert sum(t.startswith("CREATE PROCEDURE") or t.startswith("CREATE FUNCTION") or t.startswith("CREATE TRIGGER") for t in texts) == 3
    assert len(texts) == 7


@pytest.mark.mysql
def test_mysql_compound_create_without_delimiter_on_server() -> None:
    script = MY_SOURCE.replace("DELIMITER //\n", "").replace("DELIMITER ;\n", "").replace("END//", "END;")
    with srv.my_database() as db:
        my_apply(db, script)
        conn = srv.my_connect(db)
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT f(2)")
                assert cur.fetchone() == ("pos;",)
        finally:
            conn.close()


# --- SQLite ---------------------------------------------------------------------------------------------

SQLITE_SOURCE = """
CREATE TABLE data (id INTEGER PRIMARY KEY, s TEXT, b BLOB);
INSERT INTO data VALUES (1, 'semi;colon ''quoted'' back\\slash', x'00ff');
INSERT INTO data VALUES (2, 'new
line	tab -- no /* comment */', NULL);
INSERT INTO data VALUES (3, 'ü€😀', '');
CREATE TABLE "log;" ([msg;] TEXT);
CREATE TRIGGER data_trg AFTER INSERT ON data BEGIN
  INSERT INTO "log;" VALUES ('trg;' || new.id);
  SELECT CASE WHEN new.id > 100 THEN RAISE(ABORT, 'end; too big') END;
END;
CREATE VIEW v AS SELECT id FROM data WHERE s LIKE '%;%';
"""


def sqlite_apply(script: str) -> sqlite3.Connection:
    """Split ``script`` and run each statement on a fresh in-memory database."""
    conn = sqlite3.connect(":memory:", isolation_level=None)
    for stmt in split(script, "sqlite"):
        conn.execute(stmt.text)
    return conn


def check_sqlite_copy(conn: sqlite3.Connection) -> None:
    """The SQLITE_SOURCE objects came back: data, trigger (fires), view."""
    source = sqlite3.connect(":memory:")
    source.executescript(SQLITE_SOURCE)
    query = "SELECT id, s, b FROM data ORDER BY id"
    assert conn.execute(query).fetchall() == source.execute(query).fetchall()
    conn.execute("INSERT INTO data (id, s) VALUES (9, 'z')")
    assert conn.execute('SELECT "msg;" FROM "log;" WHERE "msg;" = \'trg;9\'').fetchall() == [("trg;9",)]
    assert conn.execute("SELECT count(*) FROM v").fetchone() == (1,)


def test_sqlite_golden_dump_applies() -> None:
    """tests/splitter_cases/sqlite.dump.sql was made by the sqlite3 shell's .dump from SQLITE_SOURCE."""
    dump = (CASES / "sqlite.dump.sql").read_text(encoding="utf-8")
    assert len(split(dump, "sqlite")) == 10
    check_sqlite_copy(sqlite_apply(dump))


def test_sqlite_fresh_dump_applies(tmp_path: Path) -> None:
    exe = shutil.which("sqlite3")
    if exe is None:
        srv.unavailable("the sqlite3 shell is not installed (the golden dump test still runs)")
    db = tmp_path / "src.db"
    subprocess.run([exe, str(db)], input=SQLITE_SOURCE, text=True, check=True, encoding="utf-8")
    dump = subprocess.run([exe, str(db), ".dump"], capture_output=True, text=True, check=True, encoding="utf-8").stdout
    check_sqlite_copy(sqlite_apply(dump))
