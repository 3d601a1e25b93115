"""A big first script split while its batches run (PostgreSQL): bad input must still apply nothing.

On PostgreSQL the first pending script from OVERLAP_BYTES on is split in a background thread while the server
runs its earlier batches; every other script is checked before the first one starts. The tests lower the
threshold so that small scripts take that path; on SQLite and MySQL (which never take it) the same
expectations must hold as they always have.
"""

from __future__ import annotations

import threading

import pytest

from conftest import TempDatabase

ROWS = "".join(f"INSERT INTO items (id, name) VALUES ({i}, 'row; {i}');\n" for i in range(1, 1201))
CREATE = "CREATE TABLE items (id INTEGER PRIMARY KEY, name VARCHAR(50) NOT NULL);\n"


@pytest.fixture(autouse=True)
def overlap_everything(monkeypatch: pytest.MonkeyPatch) -> None:
    import sqlrun.execute

    monkeypatch.setattr(sqlrun.execute, "OVERLAP_BYTES", 0)
    monkeypatch.setattr(sqlrun.execute, "OVERLAP_DEPTH", 1)  # the producer blocks often: more interleavings


def test_the_first_script_is_split_while_it_runs_only_where_that_is_safe(db: TempDatabase, scripts) -> None:
    import sqlrun.execute
    from sqlrun.config import parse_url
    from sqlrun.dialects import open_database
    from sqlrun.scripts import discover

    folder = scripts({"001_items.sql": CREATE + ROWS, "002_more.sql": CREATE.replace("items", "more")})
    url = parse_url(db.url)
    found = discover(folder, url.kind)
    prints = {s.version: s.fingerprint() for s in found.scripts}
    conn = open_database(url, create=True, readonly=False, notify=lambda m: None)
    try:
        chosen = sqlrun.execute.checked_while_running(conn, found.scripts, prints, sqlrun.Options(directory=folder))
        dry = sqlrun.execute.checked_while_running(conn, found.scripts, prints, sqlrun.Options(directory=folder, dry_run=True))
    finally:
        conn.close()
    assert chosen == (found.scripts[0] if db.kind == "postgresql" else None)
    assert dry is None


def test_a_split_error_in_the_tail_of_the_first_script_applies_nothing(db: TempDatabase, scripts, cli) -> None:
    threads = threading.active_count()
    folder = scripts({"001_items.sql": CREATE + ROWS + "SELECT 'never closed;\n", "002_more.sql": "CREATE TABLE more (id INTEGER);\n"})
    result = cli("--database-url", db.url, "--dir", str(folder))
    assert result.code == 2, result.text
    assert "001_items.sql:1202:8:" in result.err and "unterminated string" in result.err, result.err
    assert db.tables() <= {"sqlrun_history"}  # batches had run on PostgreSQL: rolled back
    if "sqlrun_history" in db.tables():
        assert db.history() == []
    assert threading.active_count() == threads  # the splitting thread is gone


def test_a_bad_second_script_stops_the_run_before_the_first_starts(db: TempDatabase, scripts, cli) -> None:
    folder = scripts({"001_items.sql": CREATE + ROWS, "002_bad.sql": "CREATE TABLE more (id INTEGER);\n/* never closed\n"})
    result = cli("--database-url", db.url, "--dir", str(folder))
    assert result.code == 2, result.text
    assert "002_bad.sql:2:" in result.err, result.err
    assert "items" not in db.tables() and "more" not in db.tables()


def test_a_first_script_of_only_comments_is_applied_and_the_template_refused(db: TempDatabase, scripts, cli) -> None:
    from sqlrun.scripts import TEMPLATE_NOTE

    folder = scripts({"001_template.sql": "-- 001_template: later\n" + TEMPLATE_NOTE, "002_more.sql": "CREATE TABLE more (id INTEGER);\n"})
    result = cli("--database-url", db.url, "--dir", str(folder))
    assert result.code == 2, result.text
    assert "001_template.sql:1: the script is still the template" in result.err, result.err
    assert "more" not in db.tables()
    assert "sqlrun_history" not in db.tables() or db.history() == []

    (folder / "001_template.sql").write_text("-- to do\n/* later */\n")
    result = cli("--database-url", db.url, "--dir", str(folder))
    assert result.code == 0, result.text
    assert db.history() == [(1, "template", "applied", 0, 0), (2, "more", "applied", 1, 0)]


def test_errors_while_split_ahead_keep_their_meaning(db: TempDatabase, scripts, cli) -> None:
    # A tolerated duplicate, then a ROLLBACK refused by the producer's filter, then (once removed) a real error.
    dup = "INSERT INTO items (id, name) VALUES (7, 'row; 7');\n"  # row 7 again, as it is: in place
    folder = scripts({"001_items.sql": CREATE + ROWS + dup + "INSERT INTO items (id, name) VALUES (5000, 'last');\n"})
    ok = cli("--database-url", db.url, "--dir", str(folder))
    assert ok.code == 0, ok.text
    assert "001_items.sql:1202: tolerated" in ok.err, ok.err
    assert db.history() == [(1, "items", "applied", 1202, 1)]
    assert db.query("SELECT count(*) FROM items") == [(1201,)]

    scripts({"002_rollback.sql": CREATE.replace("items", "more") + ROWS.replace("items", "more") + "ROLLBACK;\n"})
    refused = cli("--database-url", db.url, "--dir", str(folder))
    if db.kind == "mysql":  # MySQL scripts manage their own transactions: ROLLBACK is sent, nothing to refuse
        assert refused.code == 0, refused.text
        return
    assert refused.code == 1, refused.text
    assert "002_rollback.sql:1202: ROLLBACK" in refused.err and "cannot roll it back" in refused.err, refused.err
    assert "more" not in db.tables()

    scripts({"002_rollback.sql": CREATE.replace("items", "more") + ROWS.replace("items", "more") + "INSERT INTO nowhere VALUES (1);\n"})
    failed = cli("--database-url", db.url, "--dir", str(folder))
    assert failed.code == 1, failed.text
    assert "002_rollback.sql:1202: statement failed: INSERT INTO nowhere" in failed.err, failed.err
    assert "more" not in db.tables()
    assert [r[:3] for r in db.history()] == [(1, "items", "applied")]


def test_ahead_hands_over_items_and_errors_in_order_and_stops_its_thread() -> None:
    import sys

    from sqlrun.execute import _ahead

    interval = sys.getswitchinterval()
    before = threading.active_count()

    def endless():
        n = 0
        while True:
            n += 1
            yield n

    gen = _ahead(endless(), 2)
    assert [next(gen) for _ in range(5)] == [1, 2, 3, 4, 5]
    assert threading.active_count() == before + 1
    gen.close()  # the consumer stops early (a failed statement): the producer must not stay blocked
    assert threading.active_count() == before
    assert sys.getswitchinterval() == interval

    def failing():
        yield "a"
        yield "b"
        raise ValueError("split error at line 3")

    got = []
    with pytest.raises(ValueError, match="line 3"):
        for item in _ahead(failing(), 1):
            got.append(item)
    assert got == ["a", "b"]
    assert threading.active_count() == before


def test_copy_blocks_and_a_scripts_own_transaction_split_ahead(pg: TempDatabase, scripts, cli) -> None:
    # pg_dump's shape: its own BEGIN/COMMIT (absorbed), COPY ... FROM stdin with data, then more statements.
    data = "".join(f"{i}\trow {i}\n" for i in range(1, 3001))
    folder = scripts({
        "001_dump.sql": "BEGIN;\n" + CREATE + "COPY items (id, name) FROM stdin;\n" + data + "\\.\n"
        + ROWS.replace("VALUES (", "VALUES (10000 + ") + "COMMIT;\n",
    })
    result = cli("--database-url", pg.url, "--dir", str(folder))
    assert result.code == 0, result.text
    assert pg.query("SELECT count(*), min(id), max(id) FROM items") == [(4200, 1, 11200)]
    assert pg.history() == [(1, "dump", "applied", 1202, 0)]
