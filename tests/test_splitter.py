"""Splitter unit tests: golden cases per dialect, errors, chunk-boundary invariance, sqlite3_complete() differential."""

from __future__ import annotations

import io
import os
import re
import sqlite3

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sqlrun.errors import SplitError
from sqlrun.splitter import DIALECTS, Statement, iter_split, split

# (dialect, script, [(text, line, column), ...])
GOLDEN: list[tuple[str, str, list[tuple[str, int, int]]]] = [
    # --- all dialects ---------------------------------------------------------------------------
    *[(d, "\ufeffSELECT 1;\r\nSELECT 2;\r\n", [("SELECT 1", 1, 1), ("SELECT 2", 2, 1)]) for d in ("mysql", "postgresql", "sqlite")],
    *[(d, ";;\n  ;SELECT 1;;\n", [("SELECT 1", 2, 4)]) for d in ("mysql", "postgresql", "sqlite")],
    *[(d, "SELECT 1;\n  SELECT\n  2  \n", [("SELECT 1", 1, 1), ("SELECT\n  2", 2, 3)]) for d in ("mysql", "postgresql", "sqlite")],
    *[(d, "SELECT 1; -- tail ; comment\n/* only ; a comment */\n", [("SELECT 1", 1, 1)]) for d in ("mysql", "postgresql", "sqlite")],
    *[(d, "-- lead\n/* c */ SELECT 1 /* in; */ + 2;", [("SELECT 1 /* in; */ + 2", 2, 9)]) for d in ("mysql", "postgresql", "sqlite")],
    *[(d, "SELECT 'a;b', 'it''s;';SELECT 2", [("SELECT 'a;b', 'it''s;'", 1, 1), ("SELECT 2", 1, 24)]) for d in ("mysql", "postgresql", "sqlite")],
    *[(d, "SELECT 1;\r\n\r\n  SELECT 'x\r\n;y';\r\n", [("SELECT 1", 1, 1), ("SELECT 'x\r\n;y'", 3, 3)]) for d in ("mysql", "postgresql", "sqlite")],
    *[(d, "SELECT 'ü;ß';SELECT '😀';", [("SELECT 'ü;ß'", 1, 1), ("SELECT '😀'", 1, 14)]) for d in ("mysql", "postgresql", "sqlite")],
    *[(d, "", []) for d in ("mysql", "postgresql", "sqlite")],
    *[(d, "  \n-- only a comment", []) for d in ("mysql", "postgresql", "sqlite")],
    # --- MySQL ----------------------------------------------------------------------------------
    ("mysql", "SELECT 'a\\';b';SELECT 2;", [("SELECT 'a\\';b'", 1, 1), ("SELECT 2", 1, 16)]),
    ("mysql", "SELECT 'a\\\\';SELECT 2;", [("SELECT 'a\\\\'", 1, 1), ("SELECT 2", 1, 14)]),
    ("mysql", 'SELECT "a;\\"b", "c"";";SELECT 2;', [('SELECT "a;\\"b", "c"";"', 1, 1), ("SELECT 2", 1, 24)]),
    ("mysql", "SELECT `a\\`;SELECT 2;", [("SELECT `a\\`", 1, 1), ("SELECT 2", 1, 13)]),
    ("mysql", "SELECT 1 # x;y\n;SELECT 2;", [("SELECT 1 # x;y", 1, 1), ("SELECT 2", 2, 2)]),
    ("mysql", "SELECT 1--1;SELECT 2;", [("SELECT 1--1", 1, 1), ("SELECT 2", 1, 13)]),
    ("mysql", "SELECT 1 -- x;y\n;SELECT 2;", [("SELECT 1 -- x;y", 1, 1), ("SELECT 2", 2, 2)]),
    ("mysql", "--no space is a comment before a statement;\nSELECT 1;", [("SELECT 1", 2, 1)]),
    ("mysql", "SELECT 1 /* a /* b */ ;SELECT 2 */;", [("SELECT 1 /* a /* b */", 1, 1), ("SELECT 2 */", 1, 24)]),
    # a custom delimiter still active at end of file: the client sends what is left, its ';' included
    ("mysql", "delimiter //\nCREATE TABLE a (x int)//\nCREATE TABLE b (x int);\n", [("CREATE TABLE a (x int)", 2, 1), ("CREATE TABLE b (x int);", 3, 1)]),
    # a body ending in ';' before the custom delimiter keeps it, as the client sends it
    ("mysql", "DELIMITER $$\nCREATE TRIGGER t BEFORE INSERT ON a FOR EACH ROW BEGIN\nIF NEW.x IS NULL THEN SET NEW.x = 1; end if;\nend;$$\nDELIMITER ;\nSELECT 1;",
     [("CREATE TRIGGER t BEFORE INSERT ON a FOR EACH ROW BEGIN\nIF NEW.x IS NULL THEN SET NEW.x = 1; end if;\nend;", 2, 1), ("SELECT 1", 6, 1)]),
    ("mysql", "/*!40101 SET NAMES utf8mb4 */;\n/*M!100100 SET @a=1 */;", [("/*!40101 SET NAMES utf8mb4 */", 1, 1), ("/*M!100100 SET @a=1 */", 2, 1)]),
    ("mysql", "/*!50003 SET @x=1; */", [("/*!50003 SET @x=1", 1, 1), ("*/", 1, 20)]),
    ("mysql", "SELECT 1\\gSELECT 2\\G\nSELECT 3;", [("SELECT 1", 1, 1), ("SELECT 2", 1, 11), ("SELECT 3", 2, 1)]),
    ("mysql", "SELECT \\N;", [("SELECT \\N", 1, 1)]),
    ("mysql", "/*M!999999\\- enable the sandbox mode */\n/*!40101 SET @a=1 */;",
     [("/*M!999999\\- enable the sandbox mode */\n/*!40101 SET @a=1 */", 1, 1)]),
    ("mysql", "DELIMITER //\nCREATE PROCEDURE p() BEGIN SELECT 1; SELECT ';//'; END//\nDELIMITER ;\nSELECT 2;",
     [("CREATE PROCEDURE p() BEGIN SELECT 1; SELECT ';//'; END", 2, 1), ("SELECT 2", 4, 1)]),
    ("mysql", "delimiter ;;\nSELECT 1;;\nSELECT 2; ;;\nDeLiMiTeR ;\nSELECT 3;", [("SELECT 1", 2, 1), ("SELECT 2;", 3, 1), ("SELECT 3", 5, 1)]),
    ("mysql", "DELIMITER $$ ignored rest\nSELECT '$$'$$ DELIMITER ;\nSELECT 1;", [("SELECT '$$'", 2, 1), ("SELECT 1", 3, 1)]),
    ("mysql", "DELIMITER '//'\nSELECT 1//\nDELIMITER ;", [("SELECT 1", 2, 1)]),
    ("mysql", "DELIMITER //\nSELECT 1 // SELECT 2 //\nDELIMITER ;\n", [("SELECT 1", 2, 1), ("SELECT 2", 2, 13)]),
    ("mysql", "DELIMITER //\nSELECT /* // */ '//' # //\n//\nDELIMITER ;\n", [("SELECT /* // */ '//' # //", 2, 1)]),
    ("mysql", "CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW BEGIN\n  SET NEW.a = 1;\n  IF NEW.b THEN SET NEW.c = 2; END IF;\nEND;\nSELECT 1;",
     [("CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW BEGIN\n  SET NEW.a = 1;\n  IF NEW.b THEN SET NEW.c = 2; END IF;\nEND", 1, 1), ("SELECT 1", 5, 1)]),
    ("mysql", "CREATE DEFINER=`root`@`%` PROCEDURE p() BEGIN DECLARE x INT; l: LOOP LEAVE l; END LOOP l; WHILE x DO SET x = 0; END WHILE; "
     "REPEAT SET x = x; UNTIL 1 END REPEAT; CASE x WHEN 1 THEN SELECT 1; ELSE SELECT CASE WHEN 1 THEN 2 END; END CASE; "
     "SELECT IF(1, 2, 3), REPEAT('a', 2), t.end FROM t; END; SELECT 9;",
     [("CREATE DEFINER=`root`@`%` PROCEDURE p() BEGIN DECLARE x INT; l: LOOP LEAVE l; END LOOP l; WHILE x DO SET x = 0; END WHILE; "
       "REPEAT SET x = x; UNTIL 1 END REPEAT; CASE x WHEN 1 THEN SELECT 1; ELSE SELECT CASE WHEN 1 THEN 2 END; END CASE; "
       "SELECT IF(1, 2, 3), REPEAT('a', 2), t.end FROM t; END", 1, 1), ("SELECT 9", 1, 292)]),
    ("mysql", "CREATE DEFINER=root@localhost FUNCTION f() RETURNS INT RETURN 1;\nSELECT 2;",
     [("CREATE DEFINER=root@localhost FUNCTION f() RETURNS INT RETURN 1", 1, 1), ("SELECT 2", 2, 1)]),
    ("mysql", "CREATE OR REPLACE EVENT e ON SCHEDULE EVERY 1 DAY DO BEGIN DELETE FROM t; DELETE FROM u; END;\nSELECT 2;",
     [("CREATE OR REPLACE EVENT e ON SCHEDULE EVERY 1 DAY DO BEGIN DELETE FROM t; DELETE FROM u; END", 1, 1), ("SELECT 2", 2, 1)]),
    ("mysql", "CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW IF NEW.a THEN SET NEW.b = 1; END IF;\nSELECT 2;",
     [("CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW IF NEW.a THEN SET NEW.b = 1; END IF", 1, 1), ("SELECT 2", 2, 1)]),
    ("mysql", "BEGIN NOT ATOMIC SELECT 1; SELECT 2; END;\nSELECT 3;", [("BEGIN NOT ATOMIC SELECT 1; SELECT 2; END", 1, 1), ("SELECT 3", 2, 1)]),
    ("mysql", "BEGIN;\nINSERT INTO t VALUES (1);\nCOMMIT;", [("BEGIN", 1, 1), ("INSERT INTO t VALUES (1)", 2, 1), ("COMMIT", 3, 1)]),
    ("mysql", "CREATE TABLE periods (begin date, end date); INSERT INTO t VALUES (1); SELECT 1;",
     [("CREATE TABLE periods (begin date, end date)", 1, 1), ("INSERT INTO t VALUES (1)", 1, 46), ("SELECT 1", 1, 72)]),
    ("mysql", "DELIMITER //\nCREATE PROCEDURE p() BEGIN SELECT 1; END//\nDELIMITER ;\nCREATE PROCEDURE q() BEGIN SELECT 1; END;",
     [("CREATE PROCEDURE p() BEGIN SELECT 1; END", 2, 1), ("CREATE PROCEDURE q() BEGIN SELECT 1; END", 4, 1)]),
    ("mysql", "SELECT 1", [("SELECT 1", 1, 1)]),
    # --- PostgreSQL -----------------------------------------------------------------------------
    ("postgresql", "SELECT 'C:\\';SELECT 2;", [("SELECT 'C:\\'", 1, 1), ("SELECT 2", 1, 14)]),
    ("postgresql", "SELECT E'a\\';b', e'\\\\';SELECT 2;", [("SELECT E'a\\';b', e'\\\\'", 1, 1), ("SELECT 2", 1, 24)]),
    ("postgresql", "SELECT name'x\\';SELECT 2;", [("SELECT name'x\\'", 1, 1), ("SELECT 2", 1, 17)]),
    ("postgresql", "SELECT U&'d\\0061t;' UESCAPE '!';SELECT 2;", [("SELECT U&'d\\0061t;' UESCAPE '!'", 1, 1), ("SELECT 2", 1, 33)]),
    ("postgresql", 'SELECT "a;""b";SELECT 2;', [('SELECT "a;""b"', 1, 1), ("SELECT 2", 1, 16)]),
    # After a closing $$ the next token starts fresh: $$E'..' is an E-string, $$$$ opens another
    # dollar quote; but $1E is one (junk) token for psql 15+, so its '\' is a standard string.
    ("postgresql", "SELECT $$x$$E'\\' ; SELECT 2;';SELECT 3;", [("SELECT $$x$$E'\\' ; SELECT 2;'", 1, 1), ("SELECT 3", 1, 31)]),
    ("postgresql", "SELECT $$x$$$$a;b$$;SELECT 2;", [("SELECT $$x$$$$a;b$$", 1, 1), ("SELECT 2", 1, 21)]),
    ("postgresql", "SELECT $1E'\\' ; SELECT 2;", [("SELECT $1E'\\'", 1, 1), ("SELECT 2", 1, 17)]),
    ("postgresql", "create /* a */ table /* b */ function (begin int); SELECT 2;",
     [("create /* a */ table /* b */ function (begin int)", 1, 1), ("SELECT 2", 1, 52)]),
    ("postgresql", "SELECT $$a;'b$$, $f$ $$; $f$, $_1$x$_1$;SELECT 2;", [("SELECT $$a;'b$$, $f$ $$; $f$, $_1$x$_1$", 1, 1), ("SELECT 2", 1, 41)]),
    ("postgresql", "PREPARE p AS SELECT $1;SELECT a$b$ FROM t$;SELECT 2;",
     [("PREPARE p AS SELECT $1", 1, 1), ("SELECT a$b$ FROM t$", 1, 24), ("SELECT 2", 1, 44)]),
    ("postgresql", "SELECT 1 /* a /* b; */ c; */;/* x /* y */ */SELECT 2;", [("SELECT 1 /* a /* b; */ c; */", 1, 1), ("SELECT 2", 1, 45)]),
    ("postgresql", "SELECT 1--1;\n;SELECT 2;", [("SELECT 1--1;", 1, 1), ("SELECT 2", 2, 2)]),
    ("postgresql", "CREATE RULE r AS ON INSERT TO t DO ALSO (INSERT INTO a VALUES (1); NOTIFY x);SELECT 2;",
     [("CREATE RULE r AS ON INSERT TO t DO ALSO (INSERT INTO a VALUES (1); NOTIFY x)", 1, 1), ("SELECT 2", 1, 78)]),
    ("postgresql", "SELECT ((((((1;)))))) ;SELECT 2)", [("SELECT ((((((1;))))))", 1, 1), ("SELECT 2)", 1, 24)]),
    ("postgresql", "CREATE OR REPLACE FUNCTION f() RETURNS int LANGUAGE sql\nBEGIN ATOMIC\n  SELECT 1;\n  SELECT CASE WHEN true THEN 2 END;\nEND;\nSELECT 3;",
     [("CREATE OR REPLACE FUNCTION f() RETURNS int LANGUAGE sql\nBEGIN ATOMIC\n  SELECT 1;\n  SELECT CASE WHEN true THEN 2 END;\nEND", 1, 1), ("SELECT 3", 6, 1)]),
    ("postgresql", "CREATE PROCEDURE p() LANGUAGE sql BEGIN ATOMIC INSERT INTO t VALUES (1); END;BEGIN;SELECT 1;COMMIT;",
     [("CREATE PROCEDURE p() LANGUAGE sql BEGIN ATOMIC INSERT INTO t VALUES (1); END", 1, 1), ("BEGIN", 1, 78), ("SELECT 1", 1, 84), ("COMMIT", 1, 93)]),
    ("postgresql", "CREATE FUNCTION f() RETURNS int AS $$ BEGIN RETURN 1; END $$ LANGUAGE plpgsql;SELECT 2;",
     [("CREATE FUNCTION f() RETURNS int AS $$ BEGIN RETURN 1; END $$ LANGUAGE plpgsql", 1, 1), ("SELECT 2", 1, 79)]),
    ("postgresql", "BEGIN ISOLATION LEVEL SERIALIZABLE; SELECT 1; COMMIT;",
     [("BEGIN ISOLATION LEVEL SERIALIZABLE", 1, 1), ("SELECT 1", 1, 37), ("COMMIT", 1, 47)]),
    ("postgresql", "SELECT :a, :'b', :\"c\";", [("SELECT :a, :'b', :\"c\"", 1, 1)]),
    ("postgresql", "\\restrict AbC123\nSELECT 1;\n\\connect other\nSELECT 2;\n\\unrestrict AbC123\n",
     [("SELECT 1", 2, 1), ("SELECT 2", 4, 1)]),
    ("postgresql", "SELECT 'x\\';", [("SELECT 'x\\'", 1, 1)]),
    ("postgresql", "SELECT 1 AS \"end\";", [('SELECT 1 AS "end"', 1, 1)]),
    # --- SQLite ---------------------------------------------------------------------------------
    ("sqlite", "SELECT 'a\\';SELECT 2;", [("SELECT 'a\\'", 1, 1), ("SELECT 2", 1, 13)]),
    ("sqlite", 'SELECT "a;", `b;`, [c;];SELECT 2;', [('SELECT "a;", `b;`, [c;]', 1, 1), ("SELECT 2", 1, 25)]),
    ("sqlite", "SELECT 1 /* a /* b */ ;SELECT 2 */;", [("SELECT 1 /* a /* b */ ", 1, 1), ("SELECT 2 */", 1, 24)]),
    # what stands before the ';' is kept: SQLite stores a CREATE INDEX's text up to there
    ("sqlite", "CREATE INDEX s_a ON s (a)   ;\nCREATE INDEX s_b ON s (b) -- b\n;\nSELECT 3  \n",
     [("CREATE INDEX s_a ON s (a)   ", 1, 1), ("CREATE INDEX s_b ON s (b) -- b\n", 2, 1), ("SELECT 3", 4, 1)]),
    ("sqlite", "CREATE TRIGGER tr AFTER INSERT ON t BEGIN\n  INSERT INTO log VALUES (new.a);\n  SELECT CASE WHEN 1 THEN 2 END;\nEND;\nSELECT 3;",
     [("CREATE TRIGGER tr AFTER INSERT ON t BEGIN\n  INSERT INTO log VALUES (new.a);\n  SELECT CASE WHEN 1 THEN 2 END;\nEND", 1, 1), ("SELECT 3", 5, 1)]),
    ("sqlite", "create temp trigger tr after delete on t begin select 1; end /* c */ ; select 2;",
     [("create temp trigger tr after delete on t begin select 1; end /* c */ ", 1, 1), ("select 2", 1, 72)]),
    ("sqlite", "CREATE TEMPORARY TRIGGER tr AFTER DELETE ON t BEGIN SELECT 1; \"END\"; END; SELECT 2;",
     [("CREATE TEMPORARY TRIGGER tr AFTER DELETE ON t BEGIN SELECT 1; \"END\"; END", 1, 1), ("SELECT 2", 1, 75)]),
    ("sqlite", "CREATE TABLE trigger (a);CREATE TEMP TABLE x (end);SELECT 1;",
     [("CREATE TABLE trigger (a)", 1, 1), ("CREATE TEMP TABLE x (end)", 1, 26), ("SELECT 1", 1, 52)]),
    ("sqlite", "create /* a */ table /* b */ trigger (x); select 1;", [("create /* a */ table /* b */ trigger (x)", 1, 1), ("select 1", 1, 43)]),
    ("sqlite", "CREATE TRIGGER t AFTER INSERT ON x BEGIN SELECT 1; END-- end;\n", [("CREATE TRIGGER t AFTER INSERT ON x BEGIN SELECT 1; END-- end;", 1, 1)]),
    ("sqlite", "BEGIN TRANSACTION;\nCREATE TABLE t(a);\nCOMMIT;", [("BEGIN TRANSACTION", 1, 1), ("CREATE TABLE t(a)", 2, 1), ("COMMIT", 3, 1)]),
    ("sqlite", "# shell comment line; ignored\nSELECT 1;", [("SELECT 1", 2, 1)]),
]


def triples(statements: list[Statement]) -> list[tuple[str, int, int]]:
    """(text, line, column) of each statement."""
    return [(s.text, s.line, s.column) for s in statements]


@pytest.mark.parametrize(("dialect", "script", "expected"), GOLDEN)
def test_golden(dialect: str, script: str, expected: list[tuple[str, int, int]]) -> None:
    assert triples(split(script, dialect)) == expected


@pytest.mark.parametrize(("dialect", "script", "expected"), GOLDEN)
def test_golden_one_char_chunks(dialect: str, script: str, expected: list[tuple[str, int, int]]) -> None:
    assert triples(list(iter_split(iter(script), dialect))) == expected


def test_dialect_aliases() -> None:
    assert DIALECTS == {"mysql": "mysql", "mariadb": "mysql", "postgresql": "postgresql", "postgres": "postgresql", "sqlite": "sqlite"}
    script = "SELECT 'a\\'; SELECT 'b';"
    assert run_split(script, "mariadb") == run_split(script, "mysql") == "<string>:1:23: unterminated string '...' (opened here, never closed before end of file)"
    assert triples(split(script, "postgres")) == [("SELECT 'a\\'", 1, 1), ("SELECT 'b'", 1, 14)]


def test_unknown_dialect() -> None:
    with pytest.raises(ValueError, match="oracle"):
        split("SELECT 1", "oracle")


def test_copy_from_stdin() -> None:
    script = "SET x = 1;\nCOPY public.t (a, b) FROM stdin;\n1\ta;b\n2\t\\N\n\\.\nSELECT 2;\nCOPY t FROM STDIN WITH (FORMAT csv);\r\n\\.\r\nSELECT 3;"
    got = split(script, "postgresql")
    assert [(s.text, s.line, s.copy_data) for s in got] == [
        ("SET x = 1", 1, None),
        ("COPY public.t (a, b) FROM stdin", 2, "1\ta;b\n2\t\\N\n"),
        ("SELECT 2", 6, None),
        ("COPY t FROM STDIN WITH (FORMAT csv)", 7, ""),
        ("SELECT 3", 9, None),
    ]


def test_copy_to_stdout_has_no_data() -> None:
    assert split("COPY t TO stdout;\nSELECT 1;", "postgresql")[0].copy_data is None


@pytest.mark.parametrize(
    "script, data",
    [
        # FROM STDIN only as two words outside strings, quoted names, comments and parentheses
        ("COPY (SELECT 'a from stdin') TO stdout;\nSELECT 1;\n", [None, None]),
        ("COPY t TO stdout /* from stdin */;\nSELECT 1;\n", [None, None]),
        ("COPY t TO stdout -- from stdin\n;\nSELECT 1;\n", [None, None]),
        ('COPY t ("from stdin") FROM \'/tmp/x\';\nSELECT 1;\n', [None, None]),
        ("COPY (SELECT 1 FROM stdin) TO stdout;\nSELECT 1;\n", [None, None]),
        ("COPY t FROM stdin_file;\nSELECT 1;\n", [None, None]),
        ("SELECT * FROM stdin;\nSELECT 1;\n", [None, None]),
        ("COPY t FROM $$stdin$$;\nSELECT 1;\n", [None, None]),
        # ...and wherever psql's server would answer CopyInResponse
        ("copy/**/t(a) from /* x */ STDIN with (format csv);\n1\n\\.\nSELECT 2;\n", ["1\n", None]),
        ("COPY t FROM\n-- why\nstdin;\n1\n\\.\nSELECT 2;\n", ["1\n", None]),
        ('COPY "from stdin" FROM stdin;\n1\n\\.\nSELECT 2;\n', ["1\n", None]),
    ],
)
def test_copy_data_follows_only_copy_from_stdin(script: str, data: list[str | None]) -> None:
    assert [s.copy_data for s in split(script, "postgresql")] == data


ERRORS = [
    ("mysql", "SELECT 1;\nSELECT 'abc;\nSELECT 2;", 2, 8, "unterminated string"),
    ("mysql", 'SELECT "abc', 1, 8, "unterminated string"),
    ("mysql", "SELECT `abc", 1, 8, "unterminated quoted identifier"),
    ("mysql", "SELECT 1 /* x", 1, 10, "unterminated comment"),
    ("mysql", "SELECT 'a\\'", 1, 8, "unterminated string"),
    ("mysql", "DELIMITER\nSELECT 1;", 1, 1, "DELIMITER must be followed"),
    ("mysql", "DELIMITER \\\\\nSELECT 1;", 1, 1, "backslash"),
    ("mysql", "SELECT 1 \\q", 1, 10, "client command \\q"),
    ("mysql", "CREATE PROCEDURE p() BEGIN SELECT 'x; END;", 1, 35, "unterminated string"),
    ("postgresql", "SELECT 1;\n  SELECT $tag$ body; $tag", 2, 10, "unterminated dollar-quoted string $tag$"),
    ("postgresql", "SELECT 'C:\\';SELECT 'x", 1, 21, "unterminated string"),
    ("postgresql", "SELECT E'x\\';", 1, 8, "unterminated string E"),
    ("postgresql", 'SELECT "x', 1, 8, "unterminated quoted identifier"),
    ("postgresql", "SELECT 1 /* a /* b */ c", 1, 10, "unterminated comment"),
    ("postgresql", "/* a /* b */", 1, 1, "unterminated comment"),
    ("postgresql", "SELECT 1;\n\\echo hello\nSELECT 2;", 2, 1, "\\echo is a psql meta-command"),
    ("postgresql", "SELECT 1 \\gset\n", 1, 10, "\\gset is a psql meta-command"),
    ("postgresql", "\\i other.sql\n", 1, 1, "\\i is a psql meta-command"),
    ("postgresql", "COPY t FROM stdin;\n1\n2\n", 1, 1, "unterminated COPY"),
    ("postgresql", "COPY t FROM stdin; SELECT 1;\n1\n\\.\n", 1, 19, "same line"),
    ("sqlite", "SELECT [abc", 1, 8, "unterminated quoted identifier [...]"),
    ("sqlite", "SELECT 1;\n.tables\n", 2, 1, ".tables is a sqlite3 shell dot-command"),
    ("sqlite", "CREATE TRIGGER t AFTER INSERT ON x BEGIN SELECT '1; END;", 1, 49, "unterminated string"),
]


@pytest.mark.parametrize(("dialect", "script", "line", "column", "message"), ERRORS)
def test_errors(dialect: str, script: str, line: int, column: int, message: str) -> None:
    with pytest.raises(SplitError) as info:
        split(script, dialect, filename="V1__x.sql")
    err = info.value
    assert (err.filename, err.line, err.column) == ("V1__x.sql", line, column)
    assert message in err.reason
    assert str(err).startswith(f"V1__x.sql:{line}:{column}: ")


@pytest.mark.parametrize(("dialect", "script", "line", "column", "message"), ERRORS)
def test_errors_are_chunk_independent(dialect: str, script: str, line: int, column: int, message: str) -> None:
    with pytest.raises(SplitError) as info:
        list(iter_split(iter(script), dialect))
    assert (info.value.line, info.value.column) == (line, column)


# What may follow a delimiter on its line (spaces, a line comment) is taken with the statement by the
# fast path; lines and columns after it must come out as if the next statement's lead had skipped it.
TRAILING = "SELECT 1; -- one ; '\nSELECT 2;\t-- two\r\n\nSELECT 3; /* x\n */ SELECT 4;--\nSELECT\n5; -- end"
TRAILING_EXPECTED = [("SELECT 1", 1, 1), ("SELECT 2", 2, 1), ("SELECT 3", 4, 1), ("SELECT 4", 5, 5), ("SELECT\n5", 6, 1)]


@pytest.mark.parametrize("dialect", ["mysql", "postgresql", "sqlite"])
def test_comments_after_a_delimiter_keep_lines_and_columns(dialect: str) -> None:
    assert triples(split(TRAILING, dialect)) == TRAILING_EXPECTED
    for size in range(1, 12):
        chunks = [TRAILING[i : i + size] for i in range(0, len(TRAILING), size)]
        assert triples(list(iter_split(iter(chunks), dialect))) == TRAILING_EXPECTED, size


@pytest.mark.parametrize("dialect", ["mysql", "postgresql", "sqlite"])
def test_commented_rows_are_located(dialect: str) -> None:
    """The benchmark's commented shape: a trailing comment per row, a block comment every few rows."""
    rows = [f"INSERT INTO t VALUES ({i}, 'n{i}; -- x', 'ab''c;d'); -- row {i}\n" for i in range(12)]
    script = "".join(("/* block;\n */\n" if i % 5 == 0 else "") + row for i, row in enumerate(rows))
    got = split(script, dialect)
    assert [s.text for s in got] == [r.split("; -- row")[0] for r in rows]
    assert [s.line for s in got] == [1 + i + 2 * (i // 5 + 1) for i in range(12)]
    assert {s.column for s in got} == {1}


def test_file_object_streaming() -> None:
    script = "".join(f"INSERT INTO t VALUES ({i}, 'a;b');\n" for i in range(5000))
    got = list(iter_split(io.StringIO(script), "postgresql"))
    assert len(got) == 5000
    assert got[-1] == Statement("INSERT INTO t VALUES (4999, 'a;b')", 5000, 1)


def test_huge_statement_streams_in_linear_time() -> None:
    values = ",".join(f"({i}, 'x;y')" for i in range(200_000))
    script = f"INSERT INTO t VALUES {values};\nSELECT 1;"
    chunks = (script[i : i + 4096] for i in range(0, len(script), 4096))
    got = list(iter_split(chunks, "mysql"))
    assert [s.line for s in got] == [1, 2]
    assert len(got[0].text) == len(script) - len(";\nSELECT 1;")


# --- chunk-boundary invariance ---------------------------------------------------------------------

FRAGMENTS = {
    "mysql": [
        "SELECT 1", ";", ";;", " ", "\n", "\r\n", "'a;b'", "'it''s'", "'x\\'y'", "'\\\\'", '"q;\\""', "`id;`", "# c ; '\n",
        "-- c ; '\n", "--x", "/* c ; ' */", "/*!40101 SET @a=1 */", "\\g", "\\G", "(", ")", "DELIMITER //\n", "DELIMITER ;\n",
        "//", "CREATE PROCEDURE p() BEGIN SELECT 1; END", "BEGIN", "END", "IF(1,2,3)", " IF ", "CASE", "ü", "\\N",
    ],
    "postgresql": [
        "SELECT 1", ";", " ", "\n", "\r\n", "'a;b'", "'C:\\'", "E'x\\'y'", "e'\\\\'", '"q;"', "$$a;b$$", "$t$ $$ ; $t$", "$1",
        "a$b", "-- c ; '\n", "--", "/* a /* b ; */ c */", "(", ")", "(;)", "CREATE FUNCTION f() BEGIN ATOMIC SELECT 1; END",
        "BEGIN", "CASE", "END", "COPY t FROM stdin;\n1\tx;y\n\\.\n", "U&'a'", "ü", "E", "'",
    ],
    "sqlite": [
        "SELECT 1", ";", " ", "\n", "\r\n", "'a;b'", "'x\\'", '"q;"', "`b;`", "[c;]", "-- c ; '\n", "/* c ; */", "-", "/",
        "CREATE TRIGGER t AFTER INSERT ON x BEGIN SELECT 1; END", "CREATE TEMP TRIGGER", "END", "BEGIN", "ü", "EXPLAIN",
    ],
}


def run_split(script: str, dialect: str, chunks: list[str] | None = None) -> object:
    """split() or iter_split() over ``chunks``; a SplitError becomes its message."""
    try:
        if chunks is None:
            return split(script, dialect)
        return list(iter_split(iter(chunks), dialect))
    except SplitError as exc:
        return str(exc)


@st.composite
def scripts_and_chunks(draw: st.DrawFn, dialect: str) -> tuple[str, list[str]]:
    """A random script from ``dialect``'s fragments, and a random cut of it into chunks of 1..7 characters."""
    parts = draw(st.lists(st.sampled_from(FRAGMENTS[dialect]), max_size=30))
    script = ("\ufeff" if draw(st.booleans()) else "") + "".join(parts)
    sizes = draw(st.lists(st.integers(1, 7), min_size=1, max_size=50))
    chunks, i, k = [], 0, 0
    while i < len(script):
        n = sizes[k % len(sizes)]
        chunks.append(script[i : i + n])
        i, k = i + n, k + 1
    return script, chunks


@pytest.mark.parametrize("dialect", ["mysql", "postgresql", "sqlite"])
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_chunking_never_changes_the_result(dialect: str, data: st.DataObject) -> None:
    script, chunks = data.draw(scripts_and_chunks(dialect))
    assert run_split(script, dialect, chunks) == run_split(script, dialect)


@pytest.mark.parametrize("dialect", ["mysql", "postgresql", "sqlite"])
@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_statements_are_stripped_and_located(dialect: str, data: st.DataObject) -> None:
    script, _ = data.draw(scripts_and_chunks(dialect))
    result = run_split(script, dialect)
    if isinstance(result, str):
        return
    lines = script.lstrip("\ufeff").split("\n")
    for stmt in result:
        # SQLite keeps what stands before the ';' (sqlite_master stores it)
        assert stmt.text.strip() and stmt.text == (stmt.text.lstrip() if dialect == "sqlite" else stmt.text.strip())
        line = lines[stmt.line - 1]
        assert line[stmt.column - 1 :].startswith(stmt.text.split("\n", 1)[0].rstrip("\r"))


# --- differential against sqlite3_complete() --------------------------------------------------------

SQLITE_PIECES = [
    "SELECT 1", "SELECT 'a;b'", "SELECT \"x;\"", "SELECT [y;]", "SELECT `z;`", "SELECT 'it''s;'", "-- c;\n", "/* c; */",
    " ", "\n", ";", "CREATE TRIGGER tr AFTER INSERT ON t BEGIN ", "CREATE TEMP TRIGGER tr AFTER INSERT ON t BEGIN ",
    "EXPLAIN CREATE TRIGGER tr AFTER INSERT ON t BEGIN ", "UPDATE t SET a = 1", " END", "END", "CASE WHEN 1 THEN 2 END",
    "SELECT end FROM t", "CREATE TABLE x(a)", "create", "trigger", "temp",
]


LEADING_NOISE = re.compile(r"(?:\s|--[^\n]*\n|/\*.*?\*/)*", re.S)


def shell_cuts(script: str) -> list[str]:
    """Cut ``script`` where sqlite3_complete() first says a prefix is complete (as the shell does)."""
    out, last = [], 0
    for i, c in enumerate(script):
        if c == ";" and sqlite3.complete_statement(script[last : i + 1]):
            out.append(script[last:i])
            last = i + 1
    out.append(script[last:])
    return out


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(SQLITE_PIECES), max_size=25))
def test_sqlite_agrees_with_sqlite3_complete(pieces: list[str]) -> None:
    script = "".join(pieces)
    if not sqlite3.complete_statement(script + "\n;"):
        # the tail is unterminated (a string, a comment or a trigger body): we must refuse or keep it whole
        return
    try:
        ours = split(script, "sqlite")
    except SplitError:
        pytest.fail(f"split refused a script sqlite3_complete() accepts: {script!r}")
    cuts = shell_cuts(script)
    # a cut before the last ends at a ';': up to it, the text is what the shell sends; the tail is trimmed
    pieces = [piece if i < len(cuts) - 1 else piece.rstrip() for i, piece in enumerate(cuts) if split(piece, "sqlite")]
    assert len(ours) == len(pieces)
    for stmt, piece in zip(ours, pieces):
        # we drop leading comments (line/column point at the first token); the rest is identical
        assert piece.endswith(stmt.text) and LEADING_NOISE.fullmatch(piece[: len(piece) - len(stmt.text)])
        assert sqlite3.complete_statement(stmt.text + "\n;")
        for i, c in enumerate(stmt.text):
            if c == ";":
                assert not sqlite3.complete_statement(stmt.text[: i + 1]), (stmt.text, i)


# --- the fast paths against the token-by-token reference ---------------------------------------------
# The splitter has one reference implementation of each dialect's rules (the _scan token loops,
# which the golden, server and dump tests pin down) and several shortcuts for speed: the
# statement regexes and the line lane, the MySQL block tracker over runs of tokens, the PostgreSQL
# "no BEGIN outside quotes" check, and the SQLite trigger regexes. With every shortcut switched off the
# result must not change.

ROUTINE_FRAGMENTS = {
    "mysql": [
        "CREATE PROCEDURE p() ", "CREATE DEFINER=`a`@`%` FUNCTION f() RETURNS INT ", "CREATE OR REPLACE TRIGGER t ",
        "CREATE EVENT e ", "BEGIN NOT ATOMIC ", "BEGIN", " END", " IF", " IF(1,2,3)", " THEN", " ELSE", " END IF", "REPEAT",
        " UNTIL", " LOOP", " WHILE", " DO", " CASE", " WHEN", " x.end", " t . end", "end", ";", " ", "\n", "'a;b'", "'x\\'end'",
        "`end`", '"if"', "# c\n", "-- c\n", "--x", "/* end; */", "/*!50003 BEGIN */", " lbl:", "(", ")", " SELECT 1", "1.5",
        " ending", " \\N", "\\g", " ROW", " SQL SECURITY INVOKER", " DETERMINISTIC", " DATA", "DELIMITER //\n", "//",
        "DELIMITER ;\n", " IF ", "ü", " data2", " -1", " a/b",
    ],
    "postgresql": [
        "CREATE FUNCTION f() RETURNS int ", "CREATE OR REPLACE PROCEDURE p() ", "create /* c */ function g() ",
        "LANGUAGE sql ", "AS $$ BEGIN RETURN 1; END $$", "$f$ begin ; $f$", "BEGIN ATOMIC ", "BEGIN", " begin", " END",
        " CASE", " WHEN", " END CASE", ";", " ", "\n", "'begin'", "E'\\' begin;'", "e'x'", "tablE'begin'", '"begin"',
        "-- begin\n", "/* begin */", "/* a /* begin */ b */", "(", ")", " x.begin", " beginx", " xbegin", " $1", " a$begin",
        " SELECT 1", " COPY t FROM stdin", "U&'b'", "ü",
    ],
    "sqlite": [
        "CREATE TRIGGER t AFTER INSERT ON x ", "CREATE TEMP TRIGGER ", "create temporary /* c */ trigger ",
        "CREATE /* c */ TEMP -- c\n TRIGGER ", "EXPLAIN CREATE TRIGGER ", "CREATE TABLE t(a)", "BEGIN ", " END", "END",
        " end ", ";", " ", "\n", "\t", "'a;end;'", '"end"', "[end;]", "`x;`", "-- end;\n", "/* ; end ; */", " SELECT 1",
        " ending", " xend", "ü", " temp", " trigger",
    ],
}


def reference_split(script: str, dialect: str, monkeypatch: pytest.MonkeyPatch) -> object:
    """run_split with every shortcut switched off: each statement goes through the token loop."""
    from sqlrun.splitter import mysql, postgresql, sqlite

    never = re.compile("(?!)()|")  # the statement regex's "not ordinary" alternative, always
    with monkeypatch.context() as patch:
        patch.setattr(mysql, "_statement_regex", lambda delim: never)
        patch.setattr(postgresql, "_statement_regex", lambda: never)
        patch.setattr(sqlite.SQLiteSplitter, "_stmt", never)
        patch.setattr(mysql.MySQLSplitter, "_scan_blocks", lambda self, start: None)
        patch.setattr(sqlite, "_TRIGGER", re.compile("(?!)"))
        patch.setattr(sqlite.SQLiteSplitter, "_compound", sqlite.SQLiteSplitter._compound_tokens)
        for module in (mysql, postgresql, sqlite):
            patch.setattr(module, "_line_regex", lambda: None)  # no line lane
        return run_split(script, dialect)


@pytest.mark.parametrize("dialect", ["mysql", "postgresql", "sqlite"])
@settings(max_examples=int(os.environ.get("SQLRUN_EXAMPLES", "400")), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pieces=st.data())
def test_shortcuts_agree_with_the_token_loop(dialect: str, pieces: st.DataObject, monkeypatch: pytest.MonkeyPatch) -> None:
    parts = pieces.draw(st.lists(st.sampled_from(ROUTINE_FRAGMENTS[dialect] + FRAGMENTS[dialect]), max_size=30))
    script = "".join(parts)
    assert run_split(script, dialect) == reference_split(script, dialect, monkeypatch)


# --- the line lane against the match loop ------------------------------------------------------------
# Lines of a data script go through the line lane (engine.line_regex), which must cut exactly where the
# statement regex would: scripts of whole lines, with statements that start a line (or not), end one (or
# not), span lines, and lines of only comments.

LINE_PIECES = {
    "mysql": ["'a;b'", "'it''s;'", "'x\\'y'", '"q;"', "`c;`", "# c;", "-- c;", "--x", "/* c; */", "/*!40101 x */", "\\N", "\\g"],
    "postgresql": ["'a;b'", "'it''s;'", "E'x\\'y'", "'C:\\'", '"q;"', "$$a;b$$", "$1", "a$b", "-- c;", "/* a /* b; */ */", "(;)", "U&'x'"],
    "sqlite": ["'a;b'", "'it''s;'", "'x\\'", '"q;"', "`c;`", "[d;]", "-- c;", "/* c; */", "# c;"],
}
LINE_COMMON = [
    "INSERT INTO t VALUES (1", ")", ", ", " ", "  ", "\t", "\r", "\n", "'a\nb'", "ü", "-", "/", "x", "CREATE TABLE t (a int)",
    "begin", "end", "copy", "explain", "delimiter", "SELECT 2", "-- tail\n", "/* lead */", "/* two\nlines */",
]


@pytest.mark.parametrize("dialect", ["mysql", "postgresql", "sqlite"])
@settings(max_examples=int(os.environ.get("SQLRUN_EXAMPLES", "400")), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_the_line_lane_cuts_as_the_match_loop(dialect: str, data: st.DataObject, monkeypatch: pytest.MonkeyPatch) -> None:
    from sqlrun.splitter import mysql, postgresql, sqlite

    pieces = st.sampled_from(LINE_PIECES[dialect] + LINE_COMMON)
    line = st.tuples(st.lists(pieces, max_size=6), st.sampled_from([";", "; -- c ; x", " ;", ";\r", "", "; ;"]))
    lines = data.draw(st.lists(line, max_size=25))
    script = "".join("".join(parts) + end + "\n" for parts, end in lines)
    size = data.draw(st.integers(1, 40))
    chunks = [script[i : i + size] for i in range(0, len(script), size)]
    with_lane = run_split(script, dialect), run_split(script, dialect, chunks)
    with monkeypatch.context() as patch:
        for module in (mysql, postgresql, sqlite):
            patch.setattr(module, "_line_regex", lambda: None)
        assert run_split(script, dialect) == with_lane[0]
    assert with_lane[1] == with_lane[0]


def test_the_line_lane_takes_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    """The lane really runs on rows (else the comparison above proves nothing), and hands over at anything else."""
    from sqlrun.splitter.engine import Splitter

    taken = []
    real = Splitter._run_lines
    monkeypatch.setattr(Splitter, "_run_lines", lambda self, lines, out: (real(self, lines, out), taken.append(len(out)))[0])
    rows = "".join(f"INSERT INTO t VALUES ({i}, 'a;b'); -- row {i}\n" for i in range(5))
    script = "-- lead\n\n" + rows + "CREATE TABLE t (\n  a int\n);\n" + rows
    for dialect in ("mysql", "postgresql", "sqlite"):
        taken.clear()
        got = split(script, dialect)
        assert [s.line for s in got] == [3, 4, 5, 6, 7, 8, 11, 12, 13, 14, 15]
        assert {s.column for s in got} == {1} and got[5].text == "CREATE TABLE t (\n  a int\n)"
        assert taken[0] == 5, dialect  # the first run of rows, and its lead, went through the lane


def test_reference_switch_reaches_the_token_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    """The switch above really bypasses the shortcuts (else the comparison proves nothing)."""
    from sqlrun.splitter.engine import Splitter

    calls = []
    real = Splitter._slow_statement
    monkeypatch.setattr(Splitter, "_slow_statement", lambda self, out: (calls.append(1), real(self, out))[1])
    script = "SELECT 1; SELECT 2;"
    for dialect in ("mysql", "postgresql", "sqlite"):
        calls.clear()
        assert triples(split(script, dialect)) == [("SELECT 1", 1, 1), ("SELECT 2", 1, 11)]
        fast = len(calls)
        calls.clear()
        assert triples(reference_split(script, dialect, monkeypatch)) == [("SELECT 1", 1, 1), ("SELECT 2", 1, 11)]
        assert len(calls) > fast, dialect
