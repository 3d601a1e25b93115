"""The library API for apps that migrate at start-up: sqlrun.apply() and sqlrun.status()."""

from __future__ import annotations

import inspect
import logging
import subprocess
import sys
from pathlib import Path

import pytest

import sqlrun
from conftest import TempDatabase, _raw_url, require, server_url
from late_server import LateServer

A = "CREATE TABLE a (id INTEGER PRIMARY KEY);\nINSERT INTO a (id) VALUES (1);\n"
B = "CREATE TABLE b (id INTEGER PRIMARY KEY);\n"


def test_apply_returns_a_result_logs_and_prints_nothing(
    db: TempDatabase, scripts, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    folder = scripts({"001_a.sql": A, "002_b.sql": B})
    caplog.set_level(logging.DEBUG, logger="sqlrun")
    result = sqlrun.apply(db.url, directory=folder)
    assert result.applied == 2 and result.dry_run is False
    assert [(s.file, s.state, s.statements) for s in result.scripts] == [("001_a.sql", "applied", 2), ("002_b.sql", "applied", 1)]
    assert db.history() == [(1, "a", "applied", 2, 0), (2, "b", "applied", 1, 0)]
    out = capsys.readouterr()
    assert out.out == "" and out.err == ""
    messages = [r.getMessage() for r in caplog.records if r.name == "sqlrun"]
    assert any(m.startswith("applied 001_a.sql: 2 statements") for m in messages), messages
    assert any(m.startswith("applied 002_b.sql: 1 statements") for m in messages), messages

    caplog.clear()
    again = sqlrun.apply(db.url, directory=folder)
    assert again.applied == 0 and again.scripts == ()
    assert "nothing to do: every script is applied" in [r.getMessage() for r in caplog.records]


def test_status_reports_states_and_changes_nothing(db: TempDatabase, scripts) -> None:
    folder = scripts({"001_a.sql": A, "002_b.sql": B})
    before = sqlrun.status(db.url, folder)
    assert [(s.file, s.state) for s in before] == [("001_a.sql", "pending"), ("002_b.sql", "pending")]
    assert db.tables() == set()
    sqlrun.apply(db.url, folder, target=1)
    after = sqlrun.status(db.url, folder)
    assert [s.state for s in after] == ["applied", "pending"]
    assert after[0].checksum == after[0].recorded_checksum and after[0].applied_at


def test_dry_run_and_target_options(db: TempDatabase, scripts) -> None:
    folder = scripts({"001_a.sql": A, "002_b.sql": B})
    planned = sqlrun.apply(db.url, folder, dry_run=True, target=1)
    assert planned.dry_run and [(s.file, s.state) for s in planned.scripts] == [("001_a.sql", "planned")]
    assert db.tables() == set()


def test_defaults_come_from_the_environment_and_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "data" / "migrations"
    folder.mkdir(parents=True)
    (folder / "001_a.sql").write_text(A, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'env.db'}")
    assert sqlrun.apply().applied == 1
    assert (tmp_path / "env.db").exists()
    assert [s.state for s in sqlrun.status()] == ["applied"]


def test_errors_are_sqlrun_error_subclasses_with_exit_codes(db: TempDatabase, scripts) -> None:
    folder = scripts({"001_a.sql": A, "002_bad.sql": "INSERT INTO no_such_table VALUES (1);\n"})
    with pytest.raises(sqlrun.StatementError) as failed:
        sqlrun.apply(db.url, folder)
    assert failed.value.exit_code == 1 and "002_bad.sql:1: statement failed" in str(failed.value)
    assert [r[0] for r in db.history() if r[2] == "applied"] == [1]

    (folder / "001_a.sql").write_text(A + "-- edited\n", encoding="utf-8")
    with pytest.raises(sqlrun.ChangedError) as changed:
        sqlrun.apply(db.url, folder)
    assert changed.value.exit_code == 3

    with pytest.raises(sqlrun.ConfigError) as bad_url:
        sqlrun.apply("oracle://x/y", folder)
    assert bad_url.value.exit_code == 2
    assert all(issubclass(e, sqlrun.SqlrunError) for e in (sqlrun.StatementError, sqlrun.ChangedError, sqlrun.ConfigError))


def test_connect_error_after_wait_and_the_log_says_it_waited(scripts, caplog: pytest.LogCaptureFixture) -> None:
    require("postgresql")
    caplog.set_level(logging.INFO, logger="sqlrun")
    with LateServer("127.0.0.1", 1) as never:
        url = _raw_url(never.url_for(server_url("postgresql")))
        with pytest.raises(sqlrun.ConnectError) as gave_up:
            sqlrun.apply(url, scripts({"001_a.sql": A}), wait=0.5)
    assert gave_up.value.exit_code == 4 and gave_up.value.retryable
    assert "gave up after waiting" in str(gave_up.value)
    assert any(r.getMessage().startswith("waiting for the database") for r in caplog.records)


def test_wait_in_the_library_rides_out_dropped_connections(scripts, tmp_path: Path) -> None:
    from conftest import make_database

    for db in make_database("mysql", tmp_path):
        target = server_url("mysql")
        with LateServer(target.host or "127.0.0.1", target.port or 3306, drop_first=2) as late:
            late.open()
            result = sqlrun.apply(_raw_url(late.url_for(db.url)), scripts({"001_a.sql": A}), wait=60)
        assert result.applied == 1 and late.dropped == 2


def test_options_are_keyword_only_and_typed() -> None:
    for function in (sqlrun.apply, sqlrun.status):
        params = inspect.signature(function).parameters
        assert list(params)[:2] == ["url", "directory"]
        assert all(p.kind is p.KEYWORD_ONLY for p in list(params.values())[2:]), function.__name__
        assert all(p.annotation is not p.empty for p in params.values()), function.__name__
        assert function.__doc__
    with pytest.raises(TypeError):
        sqlrun.apply("sqlite:///:memory:", "x", 3)  # type: ignore[misc]
    with pytest.raises(TypeError):
        sqlrun.apply("sqlite:///:memory:", "x", no_such_option=True)  # type: ignore[call-arg]


def test_defaults_match_the_command_line() -> None:
    from sqlrun.model import DEFAULT_DIRECTORY, Options

    params = inspect.signature(sqlrun.apply).parameters
    assert params["directory"].default == DEFAULT_DIRECTORY
    options = Options()
    for name in ("target", "dry_run", "wait", "create_database", "strict", "reapply_changed"):
        assert params[name].default == getattr(options, name), name


DRIVERS = "import sys; print(sorted(m for m in sys.modules if m.split('.')[0] in ('pymysql', 'psycopg', 'dotenv')))"


def test_import_sqlrun_loads_no_driver() -> None:
    code = f"import sqlrun; {DRIVERS}"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_a_sqlite_run_loads_no_driver_either(tmp_path: Path) -> None:
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "001_a.sql").write_text(A, encoding="utf-8")
    code = f"import sqlrun; sqlrun.apply('sqlite:///{tmp_path / 'x.db'}', {str(folder)!r}); {DRIVERS}"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_the_sqlrun_logger_is_quiet_until_the_app_configures_logging(tmp_path: Path) -> None:
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "001_a.sql").write_text(A, encoding="utf-8")
    code = f"import sqlrun; sqlrun.apply('sqlite:///{tmp_path / 'x.db'}', {str(folder)!r})"
    quiet = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert quiet.returncode == 0 and quiet.stdout == "" and quiet.stderr == "", quiet
    logged = subprocess.run(
        [sys.executable, "-c", "import logging; logging.basicConfig(level=logging.INFO, format='%(name)s %(message)s'); " + code.replace("x.db", "y.db")],
        capture_output=True, text=True, timeout=60, cwd=tmp_path,
    )
    assert logged.stdout == ""
    assert "sqlrun created database file" in logged.stderr and "sqlrun applied 001_a.sql: 2 statements" in logged.stderr
