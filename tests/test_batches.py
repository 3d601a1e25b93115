"""Errors in the middle of a large batch: batching statements into round trips must keep per-statement tolerance,
exact file:line and exactly-once history, on SQLite, MySQL/MariaDB and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from conftest import TempDatabase

CREATE = "CREATE TABLE items (id INTEGER PRIMARY KEY, name VARCHAR(50) NOT NULL);\n"
ROWS = 2500  # more than one batch on every server (PostgreSQL sends 2000 statements at a time)


@pytest.fixture(autouse=True, params=["checked first", "split while running"])
def split_mode(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test twice: scripts split before anything runs, and (PostgreSQL) split while they run."""
    import sqlrun.execute

    if request.param == "split while running":
        monkeypatch.setattr(sqlrun.execute, "OVERLAP_BYTES", 0)


def _inserts(special: dict[int, str]) -> str:
    """CREATE TABLE on line 1, then INSERT number k (1-based) on line k + 1; ``special`` replaces some."""
    lines = [special.get(k, f"INSERT INTO items (id, name) VALUES ({k}, 'row {k}');") for k in range(1, ROWS + 1)]
    return CREATE + "\n".join(lines) + "\n"


def test_a_tolerated_duplicate_mid_batch_skips_only_itself(db: TempDatabase, scripts, cli) -> None:
    # Insert 1234 repeats row 1 as it is: in place, tolerated; every other row must still be there.
    folder = scripts({"001_items.sql": _inserts({1234: "INSERT INTO items (id, name) VALUES (1, 'row 1');"})})
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


# --- the last batch carries the history row and the COMMIT (one round trip per small script) -----------

def test_tolerated_errors_in_the_last_batch_are_counted_in_its_history_row(db: TempDatabase, scripts, cli) -> None:
    # The row sent behind the last batch counts its statements as done; after a tolerated error the rest
    # goes again with a new row, so the recorded counts must be those of what really ran.
    dup = "INSERT INTO items (id, name) VALUES ({0}, 'row {0}');"  # rows already there, as they are
    folder = scripts({"001_items.sql": _inserts({ROWS - 3: dup.format(1), ROWS: dup.format(2)})})
    result = cli("--database-url", db.url, "--dir", str(folder))
    assert result.code == 0, result.text
    assert f"001_items.sql:{ROWS - 2}: tolerated" in result.err and f"001_items.sql:{ROWS + 1}: tolerated" in result.err, result.err
    assert db.history() == [(1, "items", "applied", ROWS - 1, 2)]
    assert db.query("SELECT count(*) FROM items") == [(ROWS - 2,)]


def test_a_real_error_in_the_last_statement_records_nothing(db: TempDatabase, scripts, cli) -> None:
    folder = scripts({"001_items.sql": _inserts({ROWS: "INSERT INTO no_such_table (id) VALUES (1);"})})
    result = cli("--database-url", db.url, "--dir", str(folder))
    assert result.code == 1, result.text
    assert f"001_items.sql:{ROWS + 1}: statement failed: INSERT INTO no_such_table" in result.err, result.err
    if db.kind == "mysql":  # every statement before the bad one ran (DDL commits as it goes)
        assert db.history() == [(1, "items", "failed", ROWS, 0)]
    else:
        _assert_nothing_applied(db)


SLOW = {
    "sqlite": "WITH RECURSIVE n(x) AS (VALUES (1) UNION ALL SELECT x + 1 FROM n WHERE x < 1500000) SELECT count(*) FROM n;",
    "mysql": "DO SLEEP(0.3);",
    "postgresql": "SELECT pg_sleep(0.3);",
}


def test_the_history_row_records_when_and_how_long(db: TempDatabase, scripts, cli) -> None:
    # On the servers the row is written in the same round trip as the last statements, so its time comes from
    # the server's clock: it must still span the whole script (a slow first batch, then many more), not just
    # the last round trip, and be the time it finished.
    folder = scripts({
        "001_slow_first.sql": SLOW[db.kind] + "\n" + _inserts({}),
        "002_slow_only.sql": "CREATE TABLE other (id INTEGER);\n" + SLOW[db.kind] + "\n",
    })
    before = datetime.now(timezone.utc)
    result = cli("--database-url", db.url, "--dir", str(folder))
    after = datetime.now(timezone.utc)
    assert result.code == 0, result.text
    rows = db.query("SELECT version, applied_at, duration_ms FROM sqlrun_history ORDER BY version")
    assert [r[0] for r in rows] == [1, 2]
    floor = 0 if db.kind == "sqlite" else 300  # SLEEP(0.3) / pg_sleep(0.3)
    wall_ms = (after - before).total_seconds() * 1000
    for _, applied_at, duration in rows:
        assert floor <= duration <= wall_ms, (duration, wall_ms)
        when = _utc(applied_at)
        assert before - timedelta(seconds=2) <= when <= after + timedelta(seconds=2), (before, when, after)
    assert _utc(rows[0][1]) <= _utc(rows[1][1])
    assert db.history() == [(1, "slow_first", "applied", ROWS + 2, 0), (2, "slow_only", "applied", 2, 0)]


def test_history_values_survive_the_sessions_quoting_rules(db: TempDatabase, scripts, cli) -> None:
    # The row's values are written as literals into the script's own session, after its statements: a script
    # that changes how the session reads string escapes must not garble (or break) its own history row.
    quoting = {
        "sqlite": "",
        "mysql": "SET sql_mode = CONCAT(@@sql_mode, ',NO_BACKSLASH_ESCAPES,ANSI_QUOTES');\n",
        "postgresql": "SET standard_conforming_strings = off;\n",
    }[db.kind]
    name = "o'brien \\ caf\u00e9 \U0001f600"
    folder = scripts({f"001_{name}.sql": quoting + CREATE + "INSERT INTO items (id, name) VALUES (1, 'one');\n"})
    result = cli("--database-url", db.url, "--dir", str(folder))
    assert result.code == 0, result.text
    assert db.query("SELECT name, file FROM sqlrun_history") == [(name, f"001_{name}.sql")]
    again = cli("--database-url", db.url, "--dir", str(folder))
    assert again.code == 0 and "nothing to do" in again.text, again.text


def _utc(value: object) -> datetime:
    """applied_at as each backend returns it (ISO text, naive UTC, aware) as an aware UTC datetime."""
    when = datetime.fromisoformat(value) if isinstance(value, str) else value
    assert isinstance(when, datetime)
    return when.replace(tzinfo=timezone.utc) if when.tzinfo is None else when.astimezone(timezone.utc)


def test_a_history_row_that_cannot_be_written_fails_the_script(db: TempDatabase, scripts, cli) -> None:
    # A script that breaks the history table: its statements all succeed, the row behind them does not.
    folder = scripts({"001_rogue.sql": CREATE + "ALTER TABLE sqlrun_history RENAME COLUMN tolerated TO t2;\n"})
    result = cli("--database-url", db.url, "--dir", str(folder))
    assert result.code == 1, result.text
    assert "001_rogue.sql: its statements ran, but writing its history row and committing failed" in result.err, result.err
    if db.kind != "mysql":  # MySQL commits DDL as it goes; the others roll the whole script back
        assert "items" not in db.tables()
        assert db.history() == []


@pytest.mark.parametrize("rows", [0, ROWS])
def test_a_commit_that_fails_applies_nothing(pg: TempDatabase, scripts, cli, rows: int) -> None:
    # A deferred foreign key is checked at COMMIT, which rides with the history row behind the last batch
    # (and, for a one-batch script, behind the BEGIN too): nothing may be applied or recorded.
    deferred = (
        "CREATE TABLE parent (id INTEGER PRIMARY KEY);\n"
        "CREATE TABLE child (pid INTEGER REFERENCES parent DEFERRABLE INITIALLY DEFERRED);\n"
        "INSERT INTO child VALUES (1);\n"
    )
    folder = scripts({"001_deferred.sql": deferred + (_inserts({}) if rows else "")})
    result = cli("--database-url", pg.url, "--dir", str(folder))
    assert result.code == 1, result.text
    assert "001_deferred.sql: its statements ran, but writing its history row and committing failed" in result.err, result.err
    assert "foreign key" in result.err and "SQLSTATE 23503" in result.err, result.err
    assert pg.tables() == {"sqlrun_history"}
    assert pg.history() == []


def test_finding_the_failing_statement_takes_few_round_trips(pg: TempDatabase, scripts, cli, monkeypatch: pytest.MonkeyPatch) -> None:
    # A multi-statement query does not say which statement failed: PostgreSQL halves the batch to find it,
    # about 2 x log2(n) round trips, instead of retrying its statements one by one.
    from sqlrun.dialects.postgresql import PostgreSQLDatabase

    calls: list[int] = []
    guarded = PostgreSQLDatabase._guarded

    def counting(self, statements, finish=None):  # type: ignore[no-untyped-def]
        calls.append(len(statements))
        return guarded(self, statements, finish)

    monkeypatch.setattr(PostgreSQLDatabase, "_guarded", counting)
    batch = PostgreSQLDatabase.batch_statements
    folder = scripts({"001_items.sql": _inserts({batch - 63: "INSERT INTO items (id, name) VALUES (1, 'row 1');"})})
    result = cli("--database-url", pg.url, "--dir", str(folder))
    assert result.code == 0, result.text
    assert f"001_items.sql:{batch - 62}: tolerated" in result.err, result.err
    assert pg.history() == [(1, "items", "applied", ROWS, 1)]
    batches = -(-(ROWS + 1) // batch)  # each batch once, plus the one resent after the tolerated error
    assert len(calls) <= batches + 1 + 2 * batch.bit_length(), calls


def test_copy_to_stdout_mid_batch_runs_alone_and_its_rows_are_dropped(pg: TempDatabase, scripts, cli) -> None:
    # psql prints a COPY ... TO STDOUT's rows; sqlrun reads them to the end and keeps none, as for a SELECT.
    # Sent inside a multi-statement query it would leave the connection in the middle of the COPY protocol.
    # "from stdin" inside a string must not make it a COPY with data lines after it.
    special = {
        1000: "COPY items TO STDOUT WITH (FORMAT csv);",
        1001: "COPY (SELECT 'copied from stdin' AS note) TO stdout;",
        1002: "COPY items (id, name) FROM stdin;\n-1\tfrom the data lines\n\\.",
    }
    folder = scripts({"001_items.sql": _inserts(special), "002_more.sql": "-- sqlrun: no-transaction\nCOPY items TO STDOUT;\nINSERT INTO items VALUES (-2, 'after');\n"})
    result = cli("--database-url", pg.url, "--dir", str(folder))
    assert result.code == 0, result.text
    assert pg.history() == [(1, "items", "applied", ROWS + 1, 0), (2, "more", "applied", 2, 0)]
    assert pg.query("SELECT count(*) FROM items") == [(ROWS - 3 + 2,)]
    assert pg.query("SELECT name FROM items WHERE id < 0 ORDER BY id") == [("after",), ("from the data lines",)]
    assert "copied from stdin" not in result.out


def test_a_failing_copy_to_stdout_names_its_line_and_records_nothing(pg: TempDatabase, scripts, cli) -> None:
    folder = scripts({"001_items.sql": _inserts({1200: "COPY no_such_table TO STDOUT;"})})
    result = cli("--database-url", pg.url, "--dir", str(folder))
    assert result.code == 1, result.text
    assert "001_items.sql:1201: statement failed: COPY no_such_table TO STDOUT" in result.err, result.err
    assert pg.tables() == {"sqlrun_history"}
    assert pg.history() == []
