"""A script file changed while a run is in progress: what executes is exactly the bytes whose checksum is recorded."""

from __future__ import annotations

import hashlib

import pytest

from conftest import TempDatabase
from subproc import finish, read_line_with, run, start

SLOW = {
    "postgresql": "SELECT pg_sleep(3);\n",
    "mysql": "SELECT SLEEP(3);\n",
    "sqlite": "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 20000000) SELECT count(*) FROM c;\n",
}
APPENDED = "DROP TABLE keepme;\n"


def _big(head: str, size: int, tail: str) -> str:
    """A script of about ``size`` bytes: ``head``, comment lines, ``tail``."""
    line = "-- " + "padding " * 120 + "\n"
    return head + line * (size // len(line) + 1) + tail


def test_a_big_script_appended_to_after_its_check_runs_as_checked(db: TempDatabase, scripts) -> None:
    big = _big("CREATE TABLE big (x INT);\n", 17 << 20, "INSERT INTO big VALUES (1);\n")  # over the 16 MiB kept in memory
    folder = scripts({"001_keep.sql": "CREATE TABLE keepme (x INT);\n", "002_slow.sql": SLOW[db.kind], "003_big.sql": big})
    proc = start(folder.parent, "--database-url", db.url, "--dir", str(folder))
    seen = read_line_with(proc, "applied 001_keep.sql")  # every script was checked; 002 runs now
    with open(folder / "003_big.sql", "a", encoding="utf-8") as fh:
        fh.write(APPENDED)
    result = finish(proc, timeout=180, before=seen)
    assert result.code == 0, result.text
    assert "keepme" in db.tables(), "text appended after the check was executed"
    assert db.query("SELECT x FROM big") == [(1,)]
    recorded = db.query("SELECT checksum FROM sqlrun_history WHERE version = 3")
    assert recorded == [(hashlib.sha256(big.encode()).hexdigest(),)]
    status = run(folder.parent, "--database-url", db.url, "--dir", str(folder), "status")
    assert "changed" in [line.split()[2] for line in status.out.splitlines() if "003_big.sql" in line], status.out


@pytest.mark.postgresql
def test_postgresql_split_while_running_refuses_to_commit_a_changed_script(pg: TempDatabase, scripts) -> None:
    # The first script over 1 MiB is split while it runs; the splitting thread keeps only a few batches
    # ahead, so the text after them is read while the first batch (the sleep) runs, after the append.
    inserts = "INSERT INTO a VALUES (1);\n" * 120_000
    folder = scripts({"001_big.sql": "CREATE TABLE a (x INT);\nSELECT pg_sleep(3);\n" + inserts})
    pg.execute("CREATE TABLE keepme (x INT)")
    proc = start(folder.parent, "--database-url", pg.url, "--dir", str(folder))
    seen = read_line_with(proc, "database:")
    _wait_for_query(pg, "pg_sleep(3)")
    with open(folder / "001_big.sql", "a", encoding="utf-8") as fh:
        fh.write(APPENDED)
    result = finish(proc, timeout=180, before=seen)
    assert result.code == 2, result.text
    assert "001_big.sql: the file changed while sqlrun was reading it" in result.err, result.err
    assert "keepme" in pg.tables() and "a" not in pg.tables()  # nothing of it committed
    assert pg.query("SELECT count(*) FROM sqlrun_history") == [(0,)]


def _wait_for_query(db: TempDatabase, text: str, within: float = 60.0) -> None:
    import time

    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if db.query("SELECT 1 FROM pg_stat_activity WHERE datname = %s AND query LIKE %s", db.name, f"%{text}%"):
            return
        time.sleep(0.05)
    raise AssertionError(f"no session ran {text!r} within {within}s")
