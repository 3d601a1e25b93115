"""Scripts apply as the official clients (mysql, psql, sqlite3) apply them: same statements, same stored text."""

from __future__ import annotations

import sqlite3

import pytest

from conftest import TempDatabase

TRIGGER_IN_DELIMITER = """CREATE TABLE hosts (id INT PRIMARY KEY, name VARCHAR(20), checks INT);
DELIMITER $$
CREATE TRIGGER hosts_default BEFORE INSERT ON hosts FOR EACH ROW BEGIN
  IF NEW.checks IS NULL THEN
    SET NEW.checks = 5;
  end if;
end;$$
DELIMITER ;
INSERT INTO hosts (id, name) VALUES (1, 'alpha');
INSERT INTO hosts (id, name, checks) VALUES (2, 'beta', 1);
"""


@pytest.mark.parametrize("db", ["mysql"], indirect=True)
def test_a_trigger_body_ending_in_a_semicolon_inside_delimiter_applies(db: TempDatabase, scripts, cli) -> None:
    folder = scripts({"001_hosts.sql": TRIGGER_IN_DELIMITER})
    result = cli("--database-url", db.url, "--dir", str(folder))
    assert result.code == 0, result.text
    assert db.query("SELECT id, checks FROM hosts ORDER BY id") == [(1, 5), (2, 1)]  # the trigger exists and fires
    assert db.history() == [(1, "hosts", "applied", 4, 0)]


@pytest.mark.parametrize("db", ["mysql"], indirect=True)
def test_a_call_among_other_statements_never_makes_a_later_statement_skipped(db: TempDatabase, scripts, cli) -> None:
    """A CALL answers with result sets of its own: counted as statements, they blamed the wrong one for an error."""
    folder = scripts({
        "001_t.sql": "CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(10));\nINSERT INTO t VALUES (1, 'one');\n"
        "DELIMITER //\nCREATE PROCEDURE report() BEGIN SELECT id FROM t; SELECT v FROM t; END//\nDELIMITER ;\n",
        "002_again.sql": "CALL report();\nINSERT INTO t VALUES (1, 'one');\nINSERT INTO t VALUES (2, 'two');\nINSERT INTO t VALUES (3, 'three');\n",
    })
    result = cli("--database-url", db.url, "--dir", str(folder))
    assert result.code == 0, result.text
    assert db.query("SELECT id, v FROM t ORDER BY id") == [(1, "one"), (2, "two"), (3, "three")]
    assert "002_again.sql:2: tolerated" in result.err, result.err
    assert db.history()[1] == (2, "again", "applied", 3, 1)


@pytest.mark.parametrize("db", ["mysql"], indirect=True)
def test_a_custom_delimiter_still_active_at_end_of_file_runs_the_last_statement(db: TempDatabase, scripts, cli) -> None:
    folder = scripts({"001_ab.sql": "delimiter //\nCREATE TABLE a (x int)//\nCREATE TABLE b (x int);\n"})
    result = cli("--database-url", db.url, "--dir", str(folder))
    assert result.code == 0, result.text
    assert db.tables() == {"a", "b", "sqlrun_history"}
    assert db.history() == [(1, "ab", "applied", 2, 0)]


SPACED = """CREATE TABLE s (a INTEGER, b TEXT)  ;
CREATE INDEX s_a ON s (a)   ;
CREATE UNIQUE INDEX s_b ON s (b) -- by name
;
CREATE TABLE w (k TEXT PRIMARY KEY, v) WITHOUT ROWID	;
CREATE VIEW sv AS SELECT a FROM s  ;
CREATE TRIGGER s_t AFTER INSERT ON s BEGIN INSERT INTO w VALUES (new.b, new.a) ; END  ;
"""


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
def test_sqlite_stores_the_text_the_shell_sends(db: TempDatabase, scripts, cli, tmp_path) -> None:
    """sqlite_master keeps a CREATE's text as sent, whitespace before the ';' included: compare with the client's."""
    folder = scripts({"001_spaced.sql": SPACED})
    result = cli("--database-url", db.url, "--dir", str(folder))
    assert result.code == 0, result.text
    client = sqlite3.connect(tmp_path / "client.db")
    client.executescript(SPACED)  # one sqlite3_prepare() over the whole text, as the sqlite3 shell does
    theirs = client.execute("SELECT type, name, sql FROM sqlite_master ORDER BY name").fetchall()
    ours = db.query("SELECT type, name, sql FROM sqlite_master WHERE name <> 'sqlrun_history' ORDER BY name")
    assert ours == theirs
    assert ("index", "s_a", "CREATE INDEX s_a ON s (a)   ") in ours


PARENT_CHILD = """CREATE TABLE parent (id INTEGER PRIMARY KEY);
CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent (id) ON DELETE CASCADE);
INSERT INTO parent VALUES (1), (2);
INSERT INTO child VALUES (10, 1), (20, 2);
"""


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
def test_a_leading_sqlite_pragma_takes_effect_as_with_the_shell(db: TempDatabase, scripts, cli, tmp_path) -> None:
    """PRAGMA foreign_keys is a no-op inside a transaction: it runs before the script's, so the DELETE cascades."""
    cleanup = "PRAGMA foreign_keys = ON;\nDELETE FROM parent WHERE id = 1;\n"
    folder = scripts({"001_tables.sql": PARENT_CHILD, "002_cleanup.sql": cleanup})
    result = cli("--database-url", db.url, "--dir", str(folder))
    assert result.code == 0, result.text
    client = sqlite3.connect(tmp_path / "client.db")
    client.executescript(PARENT_CHILD)
    client.executescript(cleanup)  # autocommit, statement by statement, as the sqlite3 shell runs a file
    assert client.execute("SELECT id FROM child").fetchall() == [(20,)]
    assert db.query("SELECT id FROM child") == [(20,)]
    assert db.history() == [(1, "tables", "applied", 4, 0), (2, "cleanup", "applied", 2, 0)]


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
def test_a_trailing_sqlite_pragma_runs_after_the_commit(db: TempDatabase, scripts, cli) -> None:
    """A backup system's schema ends with PRAGMA synchronous = NORMAL, which SQLite refuses inside a transaction."""
    folder = scripts({"001_catalog.sql": "CREATE TABLE version (id INTEGER);\nINSERT INTO version VALUES (16);\n"
                      "PRAGMA default_cache_size = 100000;\nPRAGMA synchronous = NORMAL;\nPRAGMA journal_mode = WAL;\n"})
    result = cli("--database-url", db.url, "--dir", str(folder))
    assert result.code == 0, result.text
    assert db.history() == [(1, "catalog", "applied", 5, 0)]
    assert db.query("SELECT id FROM version") == [(16,)]
    assert db.query("PRAGMA journal_mode") == [("wal",)]  # a property of the file: it took effect


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
def test_a_sqlite_pragma_that_cannot_take_effect_where_it_stands_is_refused(db: TempDatabase, scripts, cli) -> None:
    folder = scripts({"001_tables.sql": PARENT_CHILD + "PRAGMA foreign_keys = ON;\nDELETE FROM parent WHERE id = 1;\n"})
    result = cli("--database-url", db.url, "--dir", str(folder))
    assert result.code == 1, result.text
    assert "001_tables.sql:5: PRAGMA foreign_keys = ON: SQLite ignores or refuses PRAGMA foreign_keys inside a transaction" in result.err
    assert "no-transaction" in result.err
    assert "parent" not in db.tables()  # the script's transaction was rolled back
    assert db.history() == []

    scripts({"001_tables.sql": "-- sqlrun: no-transaction\n" + PARENT_CHILD + "PRAGMA foreign_keys = ON;\nDELETE FROM parent WHERE id = 1;\n"})
    result = cli("--database-url", db.url, "--dir", str(folder))
    assert result.code == 0, result.text  # in autocommit it runs where it stands, as with the shell
    assert db.query("SELECT id FROM child") == [(20,)]
