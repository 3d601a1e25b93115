"""Each script exactly once, on every database: edited, missing, late and failed scripts, repair, baseline, and the migration lock."""

from __future__ import annotations

import json
import random
import signal
import time
from pathlib import Path
from typing import Callable

import pytest

from conftest import TempDatabase, admin
from subproc import finish, lock_holder, lock_is_free, read_line_with, run, start
from sqlrun.scripts import fingerprint

T1 = "CREATE TABLE items (id INTEGER PRIMARY KEY, name VARCHAR(50) NOT NULL);\nINSERT INTO items (id, name) VALUES (1, 'one');\n"
T2 = "CREATE TABLE tags (id INTEGER PRIMARY KEY, label VARCHAR(20));\nINSERT INTO tags (id, label) VALUES (1, 'x');\n"
T3 = "CREATE TABLE notes (id INTEGER PRIMARY KEY, body VARCHAR(20));\n"
# A table without a unique key: a second run of the script would add a second row.
RUNS = "CREATE TABLE runs (note VARCHAR(20));\nINSERT INTO runs (note) VALUES ('ran');\n"
WAITING = "waiting for the migration lock"


def checksum(path: Path) -> str:
    """The checksum sqlrun records for ``path``."""
    return fingerprint(path).checksum


def recorded(db: TempDatabase) -> dict[int, tuple]:
    """version -> (state, checksum, previous_checksum, replaced_at) from the history table."""
    rows = db.query("SELECT version, state, checksum, previous_checksum, checksum_replaced_at FROM sqlrun_history")
    return {r[0]: tuple(r[1:]) for r in rows}


def history_or_nothing(db: TempDatabase) -> list[tuple]:
    """The history rows, or [] when there is no history table."""
    return db.history() if "sqlrun_history" in db.tables() else []


# --- edited scripts -----------------------------------------------------------------------------------


def test_edited_scripts_stop_apply_before_anything_runs(db: TempDatabase, scripts, cli) -> None:
    folder = scripts({"001_items.sql": T1, "002_tags.sql": T2})
    assert cli("--database-url", db.url, "--dir", str(folder)).code == 0
    old1, old2 = checksum(folder / "001_items.sql"), checksum(folder / "002_tags.sql")
    (folder / "001_items.sql").write_text(T1 + "CREATE TABLE edit_one (id INTEGER);\n")
    (folder / "002_tags.sql").write_text(T2.replace("'x'", "'y'"))
    scripts({"003_notes.sql": T3})

    result = cli("--database-url", db.url, "--dir", str(folder))

    assert result.code == 3, result.text
    lines = result.err.splitlines()
    assert f"  001_items.sql: recorded {old1}, now {checksum(folder / '001_items.sql')}" in lines
    assert f"  002_tags.sql: recorded {old2}, now {checksum(folder / '002_tags.sql')}" in lines
    for choice in ("restore the files", "`repair`", "`apply --reapply-changed`"):
        assert choice in result.err
    assert "Traceback" not in result.text
    assert "notes" not in db.tables() and "edit_one" not in db.tables()
    assert db.query("SELECT label FROM tags") == [("x",)]
    assert {v: r[:2] for v, r in recorded(db).items()} == {1: ("applied", old1), 2: ("applied", old2)}


def test_repair_accepts_the_edit_and_keeps_the_previous_checksum(db: TempDatabase, scripts, cli) -> None:
    folder = scripts({"001_items.sql": T1})
    assert cli("--database-url", db.url, "--dir", str(folder)).code == 0
    old = checksum(folder / "001_items.sql")
    (folder / "001_items.sql").write_text(T1 + "CREATE TABLE never_run (id INTEGER);\n")
    new = checksum(folder / "001_items.sql")
    scripts({"002_tags.sql": T2})

    result = cli("--database-url", db.url, "--dir", str(folder), "repair")

    assert result.code == 0, result.text
    assert "repair: 1 checksum(s) updated" in result.out
    state, now, previous, replaced_at = recorded(db)[1]
    assert (state, now, previous) == ("applied", new, old)
    assert replaced_at is not None
    assert "never_run" not in db.tables(), "repair records, it does not run anything"
    assert "tags" not in db.tables(), "repair does not apply pending scripts"
    after = cli("--database-url", db.url, "--dir", str(folder))
    assert after.code == 0, after.text
    assert "applied 002_tags.sql" in after.out and "001_items.sql" not in after.out
    assert cli("--database-url", db.url, "--dir", str(folder), "verify").code == 0


def test_reapply_changed_reruns_tolerantly_and_records_the_new_checksum(db: TempDatabase, scripts, cli) -> None:
    folder = scripts({"001_items.sql": T1})
    assert cli("--database-url", db.url, "--dir", str(folder)).code == 0
    (folder / "001_items.sql").write_text(T1 + "INSERT INTO items (id, name) VALUES (2, 'two');\nCREATE TABLE extra (id INTEGER);\n")

    result = cli("--database-url", db.url, "--dir", str(folder), "apply", "--reapply-changed")

    assert result.code == 0, result.text
    assert "applied 001_items.sql: 2 statements, 2 tolerated" in result.out
    assert db.query("SELECT id, name FROM items ORDER BY id") == [(1, "one"), (2, "two")]
    assert "extra" in db.tables()
    assert db.history() == [(1, "items", "applied", 2, 2)]
    assert recorded(db)[1][1] == checksum(folder / "001_items.sql")
    again = cli("--database-url", db.url, "--dir", str(folder))
    assert again.code == 0 and "nothing to do" in again.out


# --- verify, missing, out of order ------------------------------------------------------------------------


def test_verify_checks_without_applying(db: TempDatabase, scripts, cli) -> None:
    folder = scripts({"001_items.sql": T1})
    assert cli("--database-url", db.url, "--dir", str(folder)).code == 0
    scripts({"002_tags.sql": T2})

    pending = cli("--database-url", db.url, "--dir", str(folder), "verify")
    assert pending.code == 0, pending.text
    assert "verify: 0 problem(s), 1 pending, 1 applied" in pending.out
    assert "tags" not in db.tables()

    (folder / "001_items.sql").write_text(T1 + "-- edited\n")
    changed = cli("--database-url", db.url, "--dir", str(folder), "verify")
    assert changed.code == 3
    assert "001_items.sql: changed" in changed.err

    (folder / "001_items.sql").unlink()
    missing = cli("--database-url", db.url, "--dir", str(folder), "verify")
    assert missing.code == 3
    assert "001_items.sql: missing" in missing.err
    assert "tags" not in db.tables() and [r[0] for r in db.history()] == [1]


def test_missing_script_warns_and_strict_refuses(db: TempDatabase, scripts, cli) -> None:
    folder = scripts({"001_items.sql": T1, "002_tags.sql": T2})
    assert cli("--database-url", db.url, "--dir", str(folder)).code == 0
    (folder / "001_items.sql").unlink()
    scripts({"003_notes.sql": T3})

    status = cli("--database-url", db.url, "--dir", str(folder), "status", "--json")
    assert [(s["file"], s["state"]) for s in json.loads(status.out)["scripts"]] == [
        ("001_items.sql", "missing"), ("002_tags.sql", "applied"), ("003_notes.sql", "pending")
    ]

    strict = cli("--database-url", db.url, "--dir", str(folder), "--strict")
    assert strict.code == 3, strict.text
    assert "001_items.sql" in strict.err and "missing" in strict.err
    assert "notes" not in db.tables() and [r[0] for r in db.history()] == [1, 2]

    lenient = cli("--database-url", db.url, "--dir", str(folder))
    assert lenient.code == 0, lenient.text
    assert "warning: recorded as applied but missing" in lenient.err and "001_items.sql" in lenient.err
    assert "applied 003_notes.sql" in lenient.out
    assert [r[:3] for r in db.history()] == [(1, "items", "applied"), (2, "tags", "applied"), (3, "notes", "applied")]


def test_out_of_order_script_applies_with_a_warning_and_strict_refuses(db: TempDatabase, scripts, cli) -> None:
    folder = scripts({"001_items.sql": T1, "003_notes.sql": T3})
    assert cli("--database-url", db.url, "--dir", str(folder)).code == 0
    scripts({"002_tags.sql": T2})  # merged from a branch

    strict = cli("--database-url", db.url, "--dir", str(folder), "apply", "--strict")
    assert strict.code == 3, strict.text
    assert "002_tags.sql" in strict.err and "older than the newest applied version 3" in strict.err
    assert "tags" not in db.tables() and [r[0] for r in db.history()] == [1, 3]

    lenient = cli("--database-url", db.url, "--dir", str(folder))
    assert lenient.code == 0, lenient.text
    assert "warning: applying out of order" in lenient.err and "002_tags.sql" in lenient.err
    assert [r[0] for r in db.history()] == [1, 2, 3]
    assert db.query("SELECT label FROM tags") == [("x",)]


# --- baseline and failed scripts ----------------------------------------------------------------------------


def test_baseline_records_without_running(db: TempDatabase, scripts, cli) -> None:
    folder = scripts({"001_items.sql": T1, "002_tags.sql": T2, "003_notes.sql": T3})
    # Built some other way: the tables are there, with rows the scripts would not have written.
    db.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, name VARCHAR(50) NOT NULL)")
    db.execute("CREATE TABLE tags (id INTEGER PRIMARY KEY, label VARCHAR(20))")
    db.execute("INSERT INTO tags (id, label) VALUES (7, 'seven')")

    result = cli("--database-url", db.url, "--dir", str(folder), "baseline", "--version", "2")

    assert result.code == 0, result.text
    assert "baseline: 2 script(s) recorded as applied up to version 2" in result.out
    assert db.history() == [(1, "items", "applied", 0, 0), (2, "tags", "applied", 0, 0)]
    assert all("(baseline)" in r[0] for r in db.query("SELECT applied_by FROM sqlrun_history"))
    assert db.query("SELECT count(*) FROM items") == [(0,)], "the scripts did not run"
    assert {v: r[1] for v, r in recorded(db).items()} == {1: checksum(folder / "001_items.sql"), 2: checksum(folder / "002_tags.sql")}
    after = cli("--database-url", db.url, "--dir", str(folder))
    assert after.code == 0, after.text
    assert "applied 003_notes.sql" in after.out and "001_items" not in after.out and "002_tags" not in after.out
    assert db.query("SELECT id, label FROM tags") == [(7, "seven")]


def test_a_failed_script_reruns_even_after_its_file_changed(db: TempDatabase, scripts, cli) -> None:
    # Outside a transaction every database keeps what ran before the error, so the script is on record as failed.
    body = "-- sqlrun: no-transaction\nCREATE TABLE f (id INTEGER PRIMARY KEY);\nINSERT INTO f (id) VALUES (1);\nINSERT INTO nowhere (id) VALUES (1);\n"
    folder = scripts({"001_items.sql": T1, "002_f.sql": body})
    failed = cli("--database-url", db.url, "--dir", str(folder))
    assert failed.code == 1, failed.text
    assert "002_f.sql:4: statement failed" in failed.err
    assert [r[:3] for r in db.history()] == [(1, "items", "applied"), (2, "f", "failed")]
    assert cli("--database-url", db.url, "--dir", str(folder), "verify").code == 3

    (folder / "002_f.sql").write_text(body.replace("INSERT INTO nowhere", "CREATE TABLE nowhere (id INTEGER);\nINSERT INTO nowhere"))
    fixed = cli("--database-url", db.url, "--dir", str(folder))

    assert fixed.code == 0, fixed.text
    assert "applied 002_f.sql" in fixed.out and "001_items.sql" not in fixed.out
    assert [r[:3] for r in db.history()] == [(1, "items", "applied"), (2, "f", "applied")]
    assert recorded(db)[2][1] == checksum(folder / "002_f.sql")
    assert db.query("SELECT id FROM f") == [(1,)]
    assert db.query("SELECT id FROM nowhere") == [(1,)]


# --- the lock ------------------------------------------------------------------------------------------------


def test_lock_timeout_exits_5_and_records_nothing(db: TempDatabase, scripts, tmp_path: Path) -> None:
    folder = scripts({"001_runs.sql": RUNS})
    holder = lock_holder(db.url)
    try:
        name = holder.lock_name()
        assert holder.try_lock()
        result = run(tmp_path, "--database-url", db.url, "--dir", str(folder), "--lock-timeout", "2")
    finally:
        holder.close()
    assert result.code == 5, result.text
    assert f"error: another sqlrun held the lock {name} for 2s" in result.err
    assert "raise --lock-timeout" in result.err and "Traceback" not in result.text
    assert "runs" not in db.tables() and history_or_nothing(db) == []


def test_a_waiting_runner_says_what_it_waits_for_every_few_seconds(db: TempDatabase, scripts, cli, monkeypatch) -> None:
    import sqlrun.dialects.base

    monkeypatch.setattr(sqlrun.dialects.base, "WAIT_NOTICE_SECONDS", 0.3)  # the real 5 s would only slow the test
    folder = scripts({"001_runs.sql": RUNS})
    holder = lock_holder(db.url)
    try:
        name = holder.lock_name()
        assert holder.try_lock()
        result = cli("--database-url", db.url, "--dir", str(folder), "--lock-timeout", "2")
    finally:
        holder.close()
    assert result.code == 5, result.text
    notices = [line for line in result.out.splitlines() if WAITING in line]
    assert len(notices) >= 3, result.out
    assert all(name in line and "held by another runner" in line for line in notices)
    assert "runs" not in db.tables()


@pytest.mark.slow
def test_runners_waiting_for_the_lock_apply_each_script_once(db: TempDatabase, scripts, tmp_path: Path) -> None:
    folder = scripts({"001_runs.sql": RUNS, "002_items.sql": T1, "003_more.sql": "INSERT INTO runs (note) VALUES ('again');\n"})
    holder = lock_holder(db.url)
    try:
        assert holder.try_lock()
        waiters = [start(tmp_path, "--database-url", db.url, "--dir", str(folder)) for _ in range(2)]
        # The first notice comes after WAIT_NOTICE_SECONDS: both have read the history and now wait.
        seen = [read_line_with(p, WAITING) for p in waiters]
    finally:
        holder.close()
    results = [finish(p, before=s) for p, s in zip(waiters, seen)]
    assert [r.code for r in results] == [0, 0], [r.text for r in results]
    appliers = [r for r in results if "applied 001_runs.sql" in r.out]
    assert len(appliers) == 1, [r.out for r in results]
    other = results[1 - results.index(appliers[0])]
    assert "nothing to do: another runner applied the pending scripts" in other.out
    assert "applied 00" not in other.out
    assert db.query("SELECT note FROM runs ORDER BY note") == [("again",), ("ran",)]
    assert [r[:3] for r in db.history()] == [(1, "runs", "applied"), (2, "items", "applied"), (3, "more", "applied")]


def test_nothing_pending_needs_no_lock(db: TempDatabase, scripts, tmp_path: Path) -> None:
    folder = scripts({"001_runs.sql": RUNS})
    assert run(tmp_path, "--database-url", db.url, "--dir", str(folder)).code == 0
    holder = lock_holder(db.url)
    try:
        assert holder.try_lock()
        again = run(tmp_path, "--database-url", db.url, "--dir", str(folder), "--lock-timeout", "1")
        verify = run(tmp_path, "--database-url", db.url, "--dir", str(folder), "verify", "--lock-timeout", "1")
    finally:
        holder.close()
    assert again.code == 0, again.text
    assert "nothing to do: every script is applied" in again.out and WAITING not in again.out
    assert verify.code == 0, verify.text
    assert db.query("SELECT count(*) FROM runs") == [(1,)]


def test_mysql_lock_name_fits_64_characters(tmp_path: Path, scripts) -> None:
    from conftest import require, server_url, _raw_url

    require("mysql")
    name = "sqlrun_long_" + "x" * 40 + f"{random.randrange(16**12):012x}"  # 64 characters, MySQL's longest
    assert len(name) == 64
    with admin("mysql") as cur:
        cur.execute(f"CREATE DATABASE {name}")
    try:
        url = _raw_url(server_url("mysql").with_database(name))
        holder = lock_holder(url)
        try:
            assert len(holder.lock_name()) <= 64
            assert holder.try_lock()
        finally:
            holder.close()
        result = run(tmp_path, "--database-url", url, "--dir", str(scripts({"001_runs.sql": RUNS})))
        assert result.code == 0, result.text
        with admin("mysql", name) as cur:
            cur.execute("SELECT version, state FROM sqlrun_history")
            assert [tuple(r) for r in cur.fetchall()] == [(1, "applied")]
    finally:
        with admin("mysql") as cur:
            cur.execute(f"DROP DATABASE IF EXISTS {name}")


# The holder is blocked inside a script at a gate the test controls, so it is killed while it works.


class Gate:
    """Something the test holds that makes a script (or, for SQLite, the start of one) wait."""

    def __init__(self, db: TempDatabase) -> None:
        self.db = db
        self.key = random.randrange(1, 2**31)
        self.name = f"sqlrun_gate_{self.key}"

    def statement(self) -> str:
        """The script line that waits at the gate."""
        if self.db.kind == "postgresql":
            return f"SELECT pg_advisory_xact_lock({self.key});\n"
        if self.db.kind == "mysql":
            return f"SELECT GET_LOCK('{self.name}', 60);\n"
        return ""  # the script's BEGIN IMMEDIATE waits for the test's write lock

    def shut(self) -> None:
        """Close the gate: hold what the script will wait for."""
        if self.db.kind == "sqlite":
            import sqlite3

            self.conn = sqlite3.connect(str(self.db.path), isolation_level=None)
            self.conn.execute("BEGIN IMMEDIATE")
            return
        self.ctx = admin(self.db.kind, self.db.name)
        cur = self.ctx.__enter__()
        sql = f"SELECT pg_advisory_lock({self.key})" if self.db.kind == "postgresql" else f"SELECT GET_LOCK('{self.name}', 0)"
        cur.execute(sql)
        self.cur = cur

    def open(self) -> None:
        """Let the script through."""
        if self.db.kind == "sqlite":
            self.conn.close()
        else:
            self.ctx.__exit__(None, None, None)

    def sessions(self) -> tuple[set, set]:
        """(sessions holding the migration lock, sessions waiting at the gate), on the server's side."""
        if self.db.kind == "postgresql":
            holder = lock_holder(self.db.url)
            try:
                key = holder._lock_key() & 0xFFFFFFFFFFFFFFFF  # a bigint key shows as two unsigned halves
            finally:
                holder.close()
            self.cur.execute(
                "SELECT pid, granted, classid::bigint = %s AND objid::bigint = %s FROM pg_locks "
                "WHERE locktype = 'advisory' AND pid <> pg_backend_pid() "
                "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
                (key >> 32, key & 0xFFFFFFFF),
            )
            rows = self.cur.fetchall()
            return {p for p, g, main in rows if g and main}, {p for p, g, _ in rows if not g}
        holder = lock_holder(self.db.url)
        try:
            self.cur.execute("SELECT IS_USED_LOCK(%s)", (holder.lock_name(),))
        finally:
            holder.close()
        owner = self.cur.fetchone()[0]
        self.cur.execute(
            "SELECT id FROM information_schema.processlist WHERE id <> CONNECTION_ID() AND info LIKE %s", (f"%{self.name}%",)
        )
        return ({owner} if owner else set()), {r[0] for r in self.cur.fetchall()}


def _wait_until(check: Callable[[], bool], what: str, within: float = 30.0) -> None:
    deadline = time.monotonic() + within
    while not check():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.05)


@pytest.mark.slow
def test_lock_is_on_its_own_connection_and_dies_with_the_process(db: TempDatabase, scripts, tmp_path: Path) -> None:
    folder = scripts({"001_items.sql": T1})
    assert run(tmp_path, "--database-url", db.url, "--dir", str(folder)).code == 0
    gate = Gate(db)
    scripts({"002_gated.sql": gate.statement() + "CREATE TABLE after_gate (id INTEGER PRIMARY KEY);\nINSERT INTO after_gate (id) VALUES (1);\n"})
    gate.shut()
    opened = False
    try:
        proc = start(tmp_path, "--database-url", db.url, "--dir", str(folder))
        if db.kind == "sqlite":
            _wait_until(lambda: not lock_is_free(db.url, within=0), "the runner to take the flock")
        else:
            _wait_until(lambda: all(gate.sessions()), "the runner to wait at the gate")
            holding, waiting = gate.sessions()
            assert len(holding) == 1 and len(waiting) == 1
            if db.kind == "postgresql":
                # One connection per runner: the lock lives as long as the session that runs the scripts.
                assert holding == waiting, "the lock must be held by the session running the scripts"
            else:
                assert holding != waiting, "the lock must be held on a connection of its own, not the one running scripts"
        assert not lock_is_free(db.url, within=0.5), "a second runner must not get the lock"

        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        if db.kind == "postgresql":
            # Its session still waits at the gate on the server, so its lock keeps a new runner out until then.
            assert not lock_is_free(db.url, within=1.0), "the lock must outlive the process while its session works"
            gate.open()
            opened = True
        assert lock_is_free(db.url), "the server (or kernel) frees a killed runner's lock, no stale row"
        if not opened:
            gate.open()
            opened = True
    finally:
        if not opened:
            gate.open()
    result = run(tmp_path, "--database-url", db.url, "--dir", str(folder), "--lock-timeout", "30")
    assert result.code == 0, result.text
    assert [r[:3] for r in db.history()] == [(1, "items", "applied"), (2, "gated", "applied")]
    assert db.query("SELECT id FROM after_gate") == [(1,)]
