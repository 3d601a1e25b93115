"""Errors in the middle of a large batch: the fast paths of issue 6 must keep per-statement tolerance,
exact file:line and exactly-once history, on SQLite, MySQL/MariaDB and PostgreSQL."""

from __future__ import annotations

from conftest import TempDatabase

CREATE = "CREATE TABLE items (id INTEGER PRIMARY KEY, name VARCHAR(50) NOT NULL);\n"
ROWS = 2000


def _inserts(special: dict[int, str]) -> str:
    """CREATE TABLE on line 1, then INSERT number k (1-based) on line k + 1; ``special`` replaces some."""
    lines = [special.get(k, f"INSERT INTO items (id, name) VALUES ({k}, 'row {k}');") for k in range(1, ROWS + 1)]
    return CREATE + "\n".join(lines) + "\n"


def test_a_tolerated_duplicate_mid_batch_skips_only_itself(db: TempDatabase, scripts, cli) -> None:
    # Insert 1234 repeats id 1: a duplicate entry, tolerated; every other row must still be there.
    folder = scripts({"001_items.sql": _inserts({1234: "INSERT INTO items (id, name) VALUES (1, 'duplicate of row 1');"})})
    result = cli("--database-url", db.url, "--dir", str(folder))
    assert result.code == 0, result.text
    assert "001_items.sql:1235: tolerated" in result.err, result.err
    assert result.err.count(": tolerated") == 1, result.err
    assert db.history() == [(1, "items", "applied", ROWS, 1)]
    assert db.query("SELECT count(*), min(id), max(id) FROM items") == [(ROWS - 1, 1, ROWS)]
    assert db.query("SELECT name FROM items WHERE id = 1") == [("row 1",)]
    assert db.query("SELECT count(*) FROM items WHERE id = 1234") == [(0,)]
    assert db.query("SELECT count(*) FROM items WHERE id IN (1233, 1235)") == [(2,)]


def test_a_real_error_mid_batch_names_its_line_and_records_nothing(db: TempDatabase, scripts, cli) -> None:
    folder = scripts({"001_items.sql": _inserts({1500: "INSERT INTO no_such_table (id) VALUES (1500);"})})
    result = cli("--database-url", db.url, "--dir", str(folder))
    assert result.code == 1, result.text
    assert "001_items.sql:1501: statement failed: INSERT INTO no_such_table (id) VALUES (1500)" in result.err, result.err
    _assert_nothing_applied(db)


def test_a_syntax_error_mid_batch_names_its_line(db: TempDatabase, scripts, cli) -> None:
    # PostgreSQL rejects a whole multi-statement query on a syntax error: the runner must still find the line.
    folder = scripts({"001_items.sql": _inserts({700: "INSERT INTO items (id, name) VALUES (700, 'unclosed';"})})
    result = cli("--database-url", db.url, "--dir", str(folder))
    assert result.code == 1, result.text
    assert "001_items.sql:701: statement failed" in result.err, result.err
    _assert_nothing_applied(db)


def test_errors_in_a_scripts_first_statement(db: TempDatabase, scripts, cli) -> None:
    # The first batch of a script also carries its BEGIN on PostgreSQL: a syntax error there, and a
    # tolerated error there, must behave like anywhere else.
    folder = scripts({"001_items.sql": CREATE})
    assert cli("--database-url", db.url, "--dir", str(folder)).code == 0
    scripts({"002_again.sql": CREATE + "INSERT INTO items (id, name) VALUES (1, 'one');\n"})
    again = cli("--database-url", db.url, "--dir", str(folder))
    assert again.code == 0, again.text
    assert "002_again.sql:1: tolerated" in again.err, again.err
    scripts({"003_bad.sql": "CREAT TABLE nope (id INTEGER);\nINSERT INTO items (id, name) VALUES (2, 'two');\n"})
    bad = cli("--database-url", db.url, "--dir", str(folder))
    assert bad.code == 1, bad.text
    assert "003_bad.sql:1: statement failed: CREAT TABLE nope" in bad.err, bad.err
    assert db.query("SELECT id FROM items ORDER BY id") == [(1,)]
    assert [r[:3] for r in db.history()][:2] == [(1, "items", "applied"), (2, "again", "applied")]


def _assert_nothing_applied(db: TempDatabase) -> None:
    """PostgreSQL and SQLite roll the whole script back; MySQL commits DDL, so it records the script as failed."""
    if db.kind == "mysql":
        assert db.history() == [(1, "items", "failed", db.history()[0][3], 0)]
        assert db.history()[0][3] < ROWS
    else:
        assert "items" not in db.tables()
        assert db.history() == []
