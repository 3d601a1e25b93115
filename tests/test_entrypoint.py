"""docker/entrypoint.sh, run for real (docker cannot run here): migrate, then exec the container's command."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Iterator

import pytest

from conftest import TempDatabase, _raw_url, make_database, server_url
from late_server import LateServer

ROOT = Path(__file__).resolve().parent.parent
ENTRYPOINT = ROOT / "docker" / "entrypoint.sh"
A = "CREATE TABLE a (id INTEGER PRIMARY KEY);\nINSERT INTO a (id) VALUES (1);\n"
B = "CREATE TABLE b (id INTEGER PRIMARY KEY);\n"
# The stand-in for the app: proves the migrations were complete when it started (status --exit-code
# exits 3 while anything is pending), shows its PID (exec keeps the entrypoint's), exits 7.
APP = '"$0" -m sqlrun status --exit-code -q >/dev/null || exit 99; echo "started pid=$$"; exit 7'


def entrypoint_env(url: str, **extra: str) -> dict[str, str]:
    """The container's environment: DATABASE_URL, and the test venv's interpreter as SQLRUN_PYTHON."""
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL" and not k.startswith(("MYSQL_", "PG", "SQLRUN_"))}
    env.update(DATABASE_URL=url, SQLRUN_PYTHON=sys.executable, **extra)
    return env


def app_command() -> list[str]:
    """The container's command, as docker passes it to the entrypoint."""
    return ["sh", "-c", APP, sys.executable]


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """The container's working directory: data/migrations with two scripts, no init_db.py."""
    folder = tmp_path / "app" / "data" / "migrations"
    folder.mkdir(parents=True)
    (folder / "001_a.sql").write_text(A, encoding="utf-8")
    (folder / "002_b.sql").write_text(B, encoding="utf-8")
    return folder.parent.parent


@pytest.fixture(params=("mysql", "postgresql"))
def server_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TempDatabase]:
    """A fresh database on each server."""
    yield from make_database(request.param, tmp_path)


def test_the_script_is_posix_sh() -> None:
    assert ENTRYPOINT.read_text(encoding="utf-8").startswith("#!/bin/sh\n")
    assert os.access(ENTRYPOINT, os.X_OK), "docker runs it directly: it must be executable"
    for shell in ("dash", "sh"):
        if shutil.which(shell):
            checked = subprocess.run([shell, "-n", str(ENTRYPOINT)], capture_output=True, text=True)
            assert checked.returncode == 0, checked.stderr


def test_late_database_is_migrated_before_the_command_starts(server_db: TempDatabase, workdir: Path) -> None:
    target = server_url(server_db.kind)
    with LateServer(target.host or "127.0.0.1", target.port or {"mysql": 3306, "postgresql": 5432}[server_db.kind]) as late:
        url = _raw_url(late.url_for(server_db.url))
        proc = subprocess.Popen(
            [str(ENTRYPOINT), *app_command()], cwd=workdir, env=entrypoint_env(url),
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        assert proc.stdout is not None
        seen = []
        for line in proc.stdout:  # nothing listens until the runner says it waits: the database comes up late
            seen.append(line)
            if line.startswith("waiting for the database"):
                late.open()
                break
        rest, _ = proc.communicate(timeout=90)
    output = "".join(seen) + rest
    assert proc.returncode == 7, output  # the command's own exit code
    # SQLRUN_WAIT defaults to 60; the first notice may say 1s on a busy machine (the first try imports the driver)
    assert re.search(r"^waiting for the database \(\ds of 60s\)", output, re.M), output
    assert output.index("applied 002_b.sql") < output.index("started"), output
    assert f"started pid={proc.pid}\n" in output, "exec: the command replaces the shell (signals reach it)"
    assert [r[0] for r in server_db.history()] == [1, 2]


def test_a_failed_migration_keeps_the_command_from_starting(tmp_path: Path, workdir: Path) -> None:
    (workdir / "data" / "migrations" / "003_bad.sql").write_text("INSERT INTO no_such_table VALUES (1);\n", encoding="utf-8")
    db_file = tmp_path / "app.db"
    result = subprocess.run(
        [str(ENTRYPOINT), "sh", "-c", "echo started; touch started.flag"], cwd=workdir,
        env=entrypoint_env(f"sqlite:///{db_file}"), capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "started" not in result.stdout
    assert not (workdir / "started.flag").exists()
    assert "003_bad.sql:1: statement failed" in result.stderr
    assert "entrypoint: migrations failed (exit 1); not starting: sh -c echo started; touch started.flag" in result.stderr


def test_sqlrun_wait_sets_how_long_to_wait(workdir: Path) -> None:
    from conftest import require

    require("postgresql")
    with LateServer("127.0.0.1", 1) as never:  # never opened: every connection is refused
        url = _raw_url(never.url_for(server_url("postgresql")))
        result = subprocess.run(
            [str(ENTRYPOINT), "sh", "-c", "echo started"], cwd=workdir, env=entrypoint_env(url, SQLRUN_WAIT="1"),
            capture_output=True, text=True, timeout=60,
        )
    assert result.returncode == 4, result.stdout + result.stderr
    # The elapsed part depends on the machine's load; the limit is what SQLRUN_WAIT set.
    assert re.search(r"waiting for the database \(\ds of 1s\)", result.stdout), result.stdout
    assert "gave up after waiting 1s (--wait)" in result.stderr
    assert "started" not in result.stdout


def test_exit_code_and_arguments_pass_through(tmp_path: Path, workdir: Path) -> None:
    db_file = tmp_path / "app.db"
    result = subprocess.run(
        [str(ENTRYPOINT), "sh", "-c", 'printf "%s|" "$@"; exit 42', "sh", "two words", "--flag"], cwd=workdir,
        env=entrypoint_env(f"sqlite:///{db_file}", SQLRUN_ARGS="-q"), capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 42, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("done: 2 script(s) applied"), "SQLRUN_ARGS=-q reached sqlrun: only the summary"
    assert lines[1] == "two words|--flag|"


def test_without_init_db_py_it_runs_the_installed_module(tmp_path: Path, workdir: Path) -> None:
    alone = tmp_path / "bin" / "entrypoint.sh"  # copied away from the repository: no ../init_db.py next to it
    alone.parent.mkdir()
    shutil.copy2(ENTRYPOINT, alone)
    db_file = tmp_path / "app.db"
    result = subprocess.run(
        [str(alone), "sh", "-c", "echo started"], cwd=workdir, env=entrypoint_env(f"sqlite:///{db_file}"),
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "applied 002_b.sql" in result.stdout and result.stdout.endswith("started\n")


def test_sqlrun_init_names_the_script_and_sqlrun_skip_skips(tmp_path: Path, workdir: Path) -> None:
    custom = tmp_path / "custom_init.py"
    custom.write_text("import sys\nprint('custom init', sys.argv[1:])\n", encoding="utf-8")
    env = entrypoint_env(f"sqlite:///{tmp_path / 'app.db'}", SQLRUN_INIT=str(custom), SQLRUN_WAIT="5")
    result = subprocess.run([str(ENTRYPOINT), "echo", "app"], cwd=workdir, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "custom init ['--wait', '5']\napp\n"
    skipped = subprocess.run(
        [str(ENTRYPOINT), "echo", "app"], cwd=workdir, env={**env, "SQLRUN_SKIP": "1"}, capture_output=True, text=True, timeout=60
    )
    assert skipped.stdout == "app\n"
