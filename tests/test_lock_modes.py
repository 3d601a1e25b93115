"""The migration lock's modes (--lock), the lease row and its takeover, and read-only targets (exit 6)."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path
from typing import Iterator

import pymysql
import pytest

from conftest import TempDatabase, make_database
from sqlrun.config import parse_url
from sqlrun.dialects import open_database
from sqlrun.dialects.base import Database, HistoryRow, utcnow
from sqlrun.dialects.lease import Lease
from sqlrun.errors import LockLostError

SCRIPTS = {
    "001_items.sql": "CREATE TABLE items (id INTEGER PRIMARY KEY, name VARCHAR(20));\nINSERT INTO items VALUES (1, 'one');\n",
    "002_runs.sql": "CREATE TABLE runs (note VARCHAR(20));\nINSERT INTO runs (note) VALUES ('ran');\n",
}
READ_ONLY = "this is a read-only replica (hot standby); point --database-url at the primary"


@pytest.fixture(params=("sqlite", "mysql"))
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TempDatabase]:
    """An empty database on SQLite and on the local MariaDB."""
    yield from make_database(request.param, tmp_path)


@pytest.fixture
def maria(tmp_path: Path) -> Iterator[TempDatabase]:
    """An empty database on the local MariaDB."""
    yield from make_database("mysql", tmp_path)


def session(url: str) -> Database:
    """A sqlrun session on ``url``, as a runner opens it."""
    db = open_database(parse_url(url), create=True, notify=lambda _: None)
    assert db is not None
    return db


def lock_lines(text: str) -> list[str]:
    """The lines announcing the lock."""
    return [line for line in text.splitlines() if line.startswith("lock: ")]


# --- the modes ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "announced"),
    [("auto", "on a connection of its own (session:"), ("session", "on a connection of its own (session: --lock)"),
     ("table", "in sqlrun_lock, renewed every 6s (table: --lock)")],
)
def test_each_lock_mode_applies_once_and_says_which_lock_in_one_line(target: TempDatabase, scripts, cli, mode: str, announced: str) -> None:
    folder = scripts(SCRIPTS)

    first = cli("--database-url", target.url, "--dir", str(folder), "--lock", mode)
    again = cli("--database-url", target.url, "--dir", str(folder), "--lock", mode)

    assert first.code == 0 and again.code == 0, first.text + again.text
    lines = lock_lines(first.out)
    assert len(lines) == 1 and announced in lines[0], first.out
    assert [r[:3] for r in target.history()] == [(1, "items", "applied"), (2, "runs", "applied")]
    assert target.query("SELECT note FROM runs") == [("ran",)]
    if mode == "table":
        assert target.query("SELECT COUNT(*) FROM sqlrun_lock") == [(0,)], "the lease row is deleted at the end"
    else:
        assert "sqlrun_lock" not in target.tables()


def test_lock_none_warns_and_takes_no_lock(target: TempDatabase, scripts, cli) -> None:
    folder = scripts(SCRIPTS)
    holder = session(target.url)
    try:
        assert holder.try_lock()  # another runner's lock: --lock=none does not wait for it
        result = cli("--database-url", target.url, "--dir", str(folder), "--lock", "none", "--lock-timeout", "2")
    finally:
        holder.close()

    assert result.code == 0, result.text
    assert "warning: --lock=none: no migration lock is taken" in result.err
    assert lock_lines(result.out) == []
    assert len(target.history()) == 2


def test_lock_transaction_is_refused_where_ddl_commits_or_no_such_lock_exists(target: TempDatabase, scripts, cli) -> None:
    folder = scripts(SCRIPTS)

    result = cli("--database-url", target.url, "--dir", str(folder), "--lock", "transaction")

    assert result.code == 2, result.text
    assert f"--lock=transaction is not available on {target.kind}" in result.err and "--lock=table" in result.err
    assert "sqlrun_history" not in target.tables()


def test_an_unknown_lock_mode_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    from sqlrun.arguments import parse_args

    assert parse_args(["--lock", "table"]).lock == "table"
    with pytest.raises(SystemExit) as stop:
        parse_args(["--database-url", "sqlite:///:memory:", "--lock", "advisory"])
    assert stop.value.code == 2
    assert "invalid choice: 'advisory'" in capsys.readouterr().err


def test_the_lock_table_is_sqlruns_own_and_left_out_of_schema_snapshots(target: TempDatabase, scripts, cli) -> None:
    from sqlrun.snapshot import take_url

    assert cli("--database-url", target.url, "--dir", str(scripts(SCRIPTS)), "--lock", "table").code == 0

    assert "sqlrun_lock" in target.tables()
    tables = take_url(target.url).tables()
    assert "items" in tables and "sqlrun_lock" not in tables and "sqlrun_history" not in tables


def test_the_library_takes_the_lock_mode(target: TempDatabase, scripts) -> None:
    import sqlrun

    result = sqlrun.apply(target.url, scripts(SCRIPTS), lock="table")
    assert result.applied == 2
    assert target.query("SELECT COUNT(*) FROM sqlrun_lock") == [(0,)]


# --- the lease ------------------------------------------------------------------------------------------


def lease_on(url: str, ttl: float, holder: str = "test holder") -> Lease:
    """A lease on the migration lock row of ``url``, as a runner with --lock=table takes it."""
    db = session(url)
    try:
        lease = Lease(db.lease_driver(), db.lock_name(), holder, ttl=ttl)
    finally:
        db.close()
    lease.ensure_table()
    return lease


def test_a_renewed_lease_is_never_taken_over(target: TempDatabase, scripts, cli) -> None:
    folder = scripts(SCRIPTS)
    held = lease_on(target.url, ttl=0.5)
    assert held.try_acquire()
    held.start_heartbeat()  # renewed every 0.1 s, far more often than it expires
    try:
        result = cli("--database-url", target.url, "--dir", str(folder), "--lock", "table", "--lock-timeout", "2")
    finally:
        held.release()

    assert result.code == 5, result.text
    assert "another sqlrun held the lease" in result.err
    assert "sqlrun_history" not in target.tables()
    assert cli("--database-url", target.url, "--dir", str(folder), "--lock", "table").code == 0


def test_an_expired_lease_is_taken_over_with_a_warning(target: TempDatabase, scripts, cli) -> None:
    folder = scripts(SCRIPTS)
    dead = lease_on(target.url, ttl=0.5, holder="dead runner pid 1")
    assert dead.try_acquire()  # and never renewed: its runner "died" holding it
    started = time.monotonic()

    result = cli("--database-url", target.url, "--dir", str(folder), "--lock", "table", "--lock-timeout", "30")

    assert result.code == 0, result.text
    assert time.monotonic() - started >= 0.5, "not before its time to live went by unrenewed"
    assert "took over the lock of dead runner pid 1: not renewed for" in result.err
    assert len(target.history()) == 2
    dead.renew()  # the dead runner wakes up: its lease is gone, and it knows
    with pytest.raises(LockLostError, match="taken over by another runner"):
        dead.check()
    dead.release()
    assert target.query("SELECT COUNT(*) FROM sqlrun_lock") == [(0,)], "its release deletes nothing of another's"


def test_a_late_renewal_keeps_the_lease_while_the_row_is_still_ours(target: TempDatabase) -> None:
    lease = lease_on(target.url, ttl=0.4)
    assert lease.try_acquire()
    time.sleep(0.35)  # past three quarters of its time to live without a renewal (a stalled heartbeat)

    lease.check()  # renewed now: nobody took it over, since taking over changes the row

    assert lease.current() is not None and lease.current().beat == 1
    lease.release()


def test_a_holder_that_cannot_renew_calls_its_lease_lost(target: TempDatabase) -> None:
    lease = lease_on(target.url, ttl=0.4)
    assert lease.try_acquire()
    lease.check()  # fresh: held
    error = lease.driver.errors[0]

    def unreachable() -> None:
        raise error("the server is gone")

    lease._close()  # its connection dies, and no new one can be made
    lease.driver = replace(lease.driver, connect=unreachable)
    time.sleep(0.35)  # past three quarters of its time to live without a renewal

    with pytest.raises(LockLostError, match="could not be renewed"):
        lease.check()
    lease.release()


def test_two_leases_on_one_row_exclude_each_other(target: TempDatabase) -> None:
    first, second = lease_on(target.url, ttl=5), lease_on(target.url, ttl=5)
    assert first.try_acquire()
    assert not second.try_acquire() and not second.try_acquire()
    first.release()
    assert second.try_acquire()
    assert second.current() is not None and second.current().token == second.token
    second.release()
    assert second.current() is None


# --- history: a clash is seen, never overwritten ----------------------------------------------------------------


def test_mysql_history_is_inserted_so_a_concurrent_record_is_seen_not_replaced(maria: TempDatabase) -> None:
    db = session(maria.url)
    try:
        db.ensure_history()
        assert db.read_history() == {}
        mine = HistoryRow(1, "items", "001_items.sql", "a" * 64, "applied", utcnow(), applied_by="me")
        other = HistoryRow(1, "items", "001_items.sql", "a" * 64, "applied", utcnow(), applied_by="another runner")
        behind = session(maria.url)
        behind.write_history(other)  # another runner records version 1 after this one read the history
        behind.close()
        with pytest.raises(pymysql.err.IntegrityError) as clash:
            db.write_history(mine)
        assert clash.value.args[0] == 1062
    finally:
        db.close()
    assert maria.query("SELECT applied_by FROM sqlrun_history") == [("another runner",)]


def test_mysql_two_unlocked_runs_of_one_script_are_reported_not_hidden(maria: TempDatabase, scripts, tmp_path: Path) -> None:
    from subproc import finish, start

    slow = "CREATE TABLE IF NOT EXISTS runs (note VARCHAR(20));\nINSERT INTO runs (note) VALUES ('ran');\nDO SLEEP(3);\n"
    folder = scripts({"001_runs.sql": slow})
    # --lock=none lets both run the script at once, as node-local locks on a cluster would.
    procs = [start(tmp_path, "--database-url", maria.url, "--dir", str(folder), "--lock", "none") for _ in range(2)]
    results = sorted((finish(p, timeout=60) for p in procs), key=lambda r: r.code)

    # Both ran it; the second one's INSERT went back with its failed history row, in the same transaction.
    assert maria.query("SELECT COUNT(*) FROM runs") == [(1,)], results
    assert results[0].code == 0, results[0].text
    assert results[1].code == 5, results[1].text
    assert "another runner (" in results[1].err and "recorded it as applied" in results[1].err
    assert "the lock did not keep the runs apart" in results[1].err
    assert "not recorded as applied" not in results[1].err
    assert [r[2] for r in maria.history()] == ["applied"]


def test_mysql_failed_row_is_replaced_by_the_successful_run(maria: TempDatabase, scripts, cli) -> None:
    folder = scripts({"001_bad.sql": "CREATE TABLE t (id INT);\nINSERT INTO missing VALUES (1);\n"})
    assert cli("--database-url", maria.url, "--dir", str(folder)).code == 1
    assert [r[2] for r in maria.history()] == ["failed"]
    (folder / "001_bad.sql").write_text("CREATE TABLE t (id INT);\nINSERT INTO t VALUES (1);\n")

    result = cli("--database-url", maria.url, "--dir", str(folder))

    assert result.code == 0, result.text
    assert [r[2] for r in maria.history()] == ["applied"]


# --- read-only targets ------------------------------------------------------------------------------------


def read_only_url(url: str) -> str:
    """``url`` with every session started read-only (a read-only login, as a replica's would be)."""
    return url + "?init_command=SET%20SESSION%20TRANSACTION%20READ%20ONLY"


@pytest.mark.parametrize("command", [(), ("--dry-run",), ("repair",), ("baseline", "--version", "1")])
def test_writing_commands_exit_6_on_a_read_only_mariadb_session(maria: TempDatabase, scripts, cli, command: tuple[str, ...]) -> None:
    folder = scripts(SCRIPTS)

    result = cli(*command, "--database-url", read_only_url(maria.url), "--dir", str(folder))

    assert result.code == 6, result.text
    assert READ_ONLY in result.err and "@@tx_read_only = ON" in result.err
    assert "grant" not in result.err
    assert maria.tables() == set()


@pytest.mark.parametrize("read_only", [False, True])
def test_mariadbs_select_probe_reads_what_show_variables_shows(maria: TempDatabase, read_only: bool) -> None:
    # On MariaDB the start reads @@variables in one SELECT instead of SHOW VARIABLES (which lists them all):
    # both must give the same values, ON/OFF spelled as SHOW VARIABLES spells them.
    from sqlrun.dialects.mysql import MARIADB_PROBED

    db = session(read_only_url(maria.url) if read_only else maria.url)
    try:
        probed = db._probe_variables()  # type: ignore[attr-defined]
        names = ", ".join(f"'{n}'" for n in (*MARIADB_PROBED, "version"))
        shown = {k.lower(): str(v).upper() for k, v in db._query(f"SHOW VARIABLES WHERE Variable_name IN ({names})")}  # type: ignore[attr-defined]
    finally:
        db.close()
    assert probed == shown
    assert probed["tx_read_only"] == ("ON" if read_only else "OFF")


@pytest.mark.parametrize("command", ["status", "verify"])
def test_status_and_verify_read_a_read_only_mariadb_and_say_so(maria: TempDatabase, scripts, cli, command: str) -> None:
    folder = scripts(SCRIPTS)
    assert cli("--database-url", maria.url, "--dir", str(folder), "--target", "1").code == 0

    result = cli(command, "--database-url", read_only_url(maria.url), "--dir", str(folder))

    assert result.code == 0, result.text
    assert "reading a read-only replica (@@tx_read_only = ON)" in result.out
    if command == "status":
        assert "001_items.sql  applied" in result.out and "002_runs.sql   pending" in result.out


def test_exit_codes_5_and_6_are_documented_in_help() -> None:
    from sqlrun.arguments import build_parser

    help_text = build_parser().format_help()
    assert "--lock MODE" in help_text
    assert "5  another runner held the migration lock longer than --lock-timeout, or the lock was lost" in help_text
    assert "6  the database is a read-only replica" in help_text
