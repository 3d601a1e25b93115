"""Input an unlucky operator or an attacker gives: bad option values, odd files, foreign history rows, signals."""

from __future__ import annotations

import json
import signal
import sqlite3
import time
from pathlib import Path
from typing import Iterator

import pytest

import subproc
from conftest import TempDatabase, make_database
from sqlrun.errors import ConfigError
from sqlrun.model import Options

A = "CREATE TABLE a (id INTEGER PRIMARY KEY);\nINSERT INTO a (id) VALUES (1);\n"
B = "CREATE TABLE b (id INTEGER PRIMARY KEY);\n"


# --- option values ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "option, value", [("--wait", "nan"), ("--wait", "inf"), ("--wait", "-1"), ("--lock-timeout", "nan"), ("--lock-timeout", "-1"), ("--lock-timeout", "-inf"),
     ("--lock-wait", "nan"), ("--lock-wait", "-1"), ("--lock-wait", "inf")]
)
def test_a_non_finite_or_negative_duration_is_exit_2_at_once(option: str, value: str, db: TempDatabase, scripts, cli) -> None:
    folder = scripts({"001_a.sql": A})
    started = time.monotonic()
    result = cli("--database-url", db.url, "--dir", str(folder), f"{option}={value}")
    assert result.code == 2, result.text
    assert f"error: {option} {value}: give a finite number of seconds, 0 or more" in result.err
    assert time.monotonic() - started < 5
    assert db.tables() == set()


@pytest.mark.parametrize("field", ["wait", "lock_timeout", "lock_wait"])
@pytest.mark.parametrize("value", [float("nan"), float("inf"), -0.5, "10", True])
def test_options_refuse_bad_durations_in_the_library_too(field: str, value: object) -> None:
    with pytest.raises(ConfigError):
        Options(**{field: value})  # type: ignore[arg-type]


def test_a_negative_target_is_exit_2(scripts, cli, tmp_path: Path) -> None:
    folder = scripts({"001_a.sql": A})
    result = cli("--database-url", f"sqlite:///{tmp_path / 'x.db'}", "--dir", str(folder), "--target", "-1")
    assert result.code == 2 and "--target -1" in result.err, result.text


# --- files named like scripts -------------------------------------------------------------------------


def test_a_dangling_symlink_named_like_a_script_is_exit_2(db: TempDatabase, scripts, cli) -> None:
    folder = scripts({"001_a.sql": A})
    (folder / "009_x.sql").symlink_to(folder / "gone.sql")
    result = cli("--database-url", db.url, "--dir", str(folder))
    assert result.code == 2, result.text
    assert "009_x.sql: a symlink to" in result.err and "does not exist" in result.err
    assert db.tables() == set()  # refused before anything ran


def test_a_directory_named_like_a_script_is_exit_2(db: TempDatabase, scripts, cli) -> None:
    folder = scripts({"001_a.sql": A})
    (folder / "006_dir.sql").mkdir()
    result = cli("--database-url", db.url, "--dir", str(folder))
    assert result.code == 2, result.text
    assert "006_dir.sql: a directory named like a script" in result.err
    assert db.tables() == set()


def test_a_numbered_name_off_the_pattern_warns_and_strict_refuses_it(db: TempDatabase, scripts, cli) -> None:
    folder = scripts({"001_a.sql": A, "010_v1.2_fix.sql": B})
    strict = cli("--database-url", db.url, "--dir", str(folder), "--strict")
    assert strict.code == 2, strict.text
    assert "010_v1.2_fix.sql: ignored, a script name must look like 001_name.sql" in strict.err and "--strict" in strict.err
    assert db.tables() == set()
    lenient = cli("--database-url", db.url, "--dir", str(folder))
    assert lenient.code == 0, lenient.text
    assert "warning: " in lenient.err and "010_v1.2_fix.sql: ignored" in lenient.err
    assert db.tables() == {"a", "sqlrun_history"}


def test_an_unreadable_script_is_exit_2(db: TempDatabase, scripts, tmp_path: Path) -> None:
    folder = scripts({"001_a.sql": A, "002_b.sql": B})
    (folder / "002_b.sql").chmod(0)
    result = subproc.run_unprivileged(tmp_path, "--database-url", db.url, "--dir", str(folder))
    assert result.code == 2, result.text
    assert f"error: {folder / '002_b.sql'}: cannot be read (Permission denied); check its permissions" in result.err
    assert "unexpected" not in result.err
    assert db.tables() == set()


# --- history rows sqlrun did not write ---------------------------------------------------------------


def _applied_then(db: TempDatabase, folder: Path, cli, sql: str) -> None:
    first = cli("--database-url", db.url, "--dir", str(folder))
    assert first.code == 0, first.text
    db.execute(sql)


@pytest.mark.parametrize("command", ["apply", "status", "verify"])
def test_an_unknown_history_state_is_exit_2_naming_the_row(command: str, db: TempDatabase, scripts, cli) -> None:
    folder = scripts({"001_a.sql": A})
    _applied_then(db, folder, cli, "UPDATE sqlrun_history SET state = 'weird' WHERE version = 1")
    scripts({"002_b.sql": B})
    result = cli(command, "--database-url", db.url, "--dir", str(folder))
    assert result.code == 2, result.text
    assert "sqlrun_history row version 1 (001_a.sql) has state 'weird'" in result.err
    assert "b" not in db.tables()


@pytest.fixture(params=["sqlite", "mysql"])
def lax_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TempDatabase]:
    """A database whose time column takes a value that is not a time (PostgreSQL's timestamptz never does)."""
    yield from make_database(request.param, tmp_path)


def test_an_unparsable_time_is_shown_as_it_is(lax_db: TempDatabase, scripts, cli) -> None:
    db = lax_db
    folder = scripts({"001_a.sql": A})
    if db.kind == "sqlite":
        garbage, shown = "UPDATE sqlrun_history SET applied_at = 'yesterday'", "yesterday"
    else:  # a zero date, as an old dump or a lax sql_mode leaves it
        garbage, shown = "SET SESSION sql_mode = ''; UPDATE sqlrun_history SET applied_at = '0000-00-00 00:00:00'", "0000-00-00"
    _applied_then(db, folder, cli, garbage)
    status = cli("status", "--database-url", db.url, "--dir", str(folder), "--json")
    assert status.code == 0, status.text
    row = json.loads(status.out)["scripts"][0]
    assert row["state"] == "applied" and row["applied_at"].startswith(shown)
    scripts({"002_b.sql": B})
    again = cli("--database-url", db.url, "--dir", str(folder))
    assert again.code == 0, again.text
    assert "b" in db.tables()


def test_a_failed_script_whose_file_is_gone_is_said_as_such(db: TempDatabase, scripts, cli) -> None:
    folder = scripts({"001_a.sql": A, "002_bad.sql": "INSERT INTO no_such_table VALUES (1);\n"})
    failed = cli("--database-url", db.url, "--dir", str(folder))
    assert failed.code == 1, failed.text
    if db.kind != "mysql":  # only MySQL records a failure (its DDL committed); write the row the others would not
        db.execute(
            "INSERT INTO sqlrun_history (version, name, file, checksum, state, applied_at, duration_ms, statements, tolerated, applied_by) "
            "VALUES (2, 'bad', '002_bad.sql', 'x', 'failed', '2025-01-01 00:00:00+00', 0, 0, 0, 'someone')"
        )
    (folder / "002_bad.sql").unlink()
    status = cli("status", "--database-url", db.url, "--dir", str(folder))
    assert "002_bad.sql" in status.out and "missing (recorded as failed, file gone)" in status.out
    verify = cli("verify", "--database-url", db.url, "--dir", str(folder))
    assert verify.code == 3 and "002_bad.sql: missing (recorded as failed, file gone)" in verify.err
    again = cli("--database-url", db.url, "--dir", str(folder))
    assert again.code == 0, again.text
    assert "recorded as failed but missing from" in again.err and "recorded as applied but missing" not in again.err


# --- messages and codes ------------------------------------------------------------------------------


@pytest.mark.parametrize("what", ["file", "folder"])
def test_a_read_only_sqlite_database_is_exit_2_with_a_clear_message(what: str, tmp_path: Path, scripts) -> None:
    folder = scripts({"001_a.sql": A})
    home = tmp_path / "data"
    home.mkdir()
    path = home / "app.db"
    sqlite3.connect(path).close()
    (path if what == "file" else home).chmod(0o555)
    try:
        result = subproc.run_unprivileged(tmp_path, "--database-url", f"sqlite:///{path}", "--dir", str(folder))
    finally:
        home.chmod(0o755)
        path.chmod(0o644)
    assert result.code == 2, result.text
    assert ("is read-only for this user" in result.err) and "statement failed" not in result.err
    assert sqlite3.connect(path).execute("SELECT count(*) FROM sqlite_master").fetchone() == (0,)


def test_target_0_with_scripts_pending_says_so(db: TempDatabase, scripts, cli) -> None:
    folder = scripts({"001_a.sql": A, "002_b.sql": B})
    result = cli("--database-url", db.url, "--dir", str(folder), "--target", "0")
    assert result.code == 0, result.text
    assert "nothing to do up to version 0 (--target); 2 script(s) pending after it" in result.out
    assert "every script is applied" not in result.out


def test_quiet_json_keeps_warnings_with_their_prefix(db: TempDatabase, scripts, tmp_path: Path) -> None:
    folder = scripts({"002_b.sql": B})
    first = subproc.run(tmp_path, "--database-url", db.url, "--dir", str(folder))
    assert first.code == 0, first.text
    scripts({"001_a.sql": A})  # older than what is applied: a warning
    result = subproc.run(tmp_path, "-q", "--json", "--database-url", db.url, "--dir", str(folder))
    assert result.code == 0, result.text
    lines = result.err.splitlines()
    assert lines and all(line.startswith("warning: ") for line in lines), result.err
    assert len(lines) == 1 and "applying out of order" in lines[0]
    assert json.loads(result.out)["warnings"] == [lines[0].removeprefix("warning: ")]


# --- Ctrl-C -----------------------------------------------------------------------------------------

SLOW = {
    # A minute's work in one C call: only the progress handler lets the Ctrl-C stop it (finish's timeout).
    "sqlite": "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 200000000) SELECT count(*) FROM n;",
    "mysql": "SELECT SLEEP(3);",
    "postgresql": "SELECT pg_sleep(3);",
}


def test_ctrl_c_exits_130_and_says_what_state_it_left(db: TempDatabase, scripts, tmp_path: Path) -> None:
    slow = f"CREATE TABLE s (id INTEGER PRIMARY KEY);\n{SLOW[db.kind]}\nINSERT INTO s (id) VALUES (1);\n"
    folder = scripts({"001_a.sql": A, "002_slow.sql": slow})
    proc = subproc.start(tmp_path, "--database-url", db.url, "--dir", str(folder))
    before = subproc.read_line_with(proc, "applied 001_a.sql")
    time.sleep(1.0)  # well inside 002's slow statement
    proc.send_signal(signal.SIGINT)
    result = subproc.finish(proc, timeout=20, before=before)
    assert result.code == 130, result.text
    assert "error: interrupted; applied and recorded: 001_a.sql; 002_slow.sql was stopped" in result.err
    if db.kind == "mysql":
        assert "is not recorded as applied" in result.err and "MySQL commits DDL" in result.err
    else:
        assert "002_slow.sql was stopped and rolled back: nothing of it was kept" in result.err
        assert "s" not in db.tables()
    assert [r[:3] for r in db.history()] == [(1, "a", "applied")]
    assert subproc.lock_is_free(db.url)
