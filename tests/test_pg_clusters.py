"""PostgreSQL behind PgBouncer (transaction and session pooling) and on a hot standby: real processes, real servers.

PgBouncer and the standby are started by the test session (tests/pgcluster.py). Each trial starts many runners
at once on a fresh database; every script writes a row into ``runs`` each time it runs, so a script applied
twice shows there even though the history has one row per version.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

import pgcluster
from conftest import TempDatabase, make_database, require, unavailable
from subproc import finish, run, start

pytestmark = [pytest.mark.cluster, pytest.mark.postgresql]

RUNNERS = 8
TRIALS = 5
SCRIPTS = 5
HANG = 120  # seconds: a runner still going after this is hung (each trial takes a few seconds)


def _cluster_ready() -> None:
    require("postgresql")
    reason = pgcluster.environment_ready()
    if reason:
        unavailable(f"the cluster tests cannot run: {reason}")


@pytest.fixture(scope="module")
def poolers() -> Iterator[dict[str, pgcluster.Pooler]]:
    """PgBouncer in transaction mode (6432) and in session mode (6433), pool size 2, in front of the test server."""
    _cluster_ready()
    from conftest import server_url

    server = server_url("postgresql")
    started: dict[str, pgcluster.Pooler] = {}
    try:
        for mode in ("transaction", "session"):
            started[mode] = pgcluster.start_pgbouncer(mode, server.host or "127.0.0.1", server.port or 5432)
        yield started
    finally:
        for pooler in started.values():
            pooler.stop()


@pytest.fixture(scope="module")
def standby() -> Iterator[pgcluster.Standby]:
    """A primary (initdb) and its streaming hot standby (pg_basebackup -R)."""
    _cluster_ready()
    pair = pgcluster.start_standby()
    try:
        yield pair
    finally:
        pair.stop()


def _project(tmp_path: Path, *, no_transaction: bool = False) -> Path:
    folder = tmp_path / "data" / "migrations"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "001_runs.sql").write_text(
        "CREATE TABLE runs (version INTEGER NOT NULL, pid INTEGER NOT NULL);\nINSERT INTO runs VALUES (1, pg_backend_pid());\n"
    )
    for v in range(2, SCRIPTS + 1):
        (folder / f"{v:03d}_step.sql").write_text(
            f"CREATE TABLE step_{v} (id INTEGER PRIMARY KEY);\nSELECT pg_sleep(0.05);\nINSERT INTO runs VALUES ({v}, pg_backend_pid());\n"
        )
    if no_transaction:  # a script that cannot run in a transaction: no transaction-scoped lock can hold it
        (folder / "003_step.sql").write_text(
            "-- sqlrun: no-transaction\nCREATE INDEX CONCURRENTLY IF NOT EXISTS runs_version ON runs (version);\n"
            "CREATE TABLE step_3 (id INTEGER PRIMARY KEY);\nSELECT pg_sleep(0.05);\nINSERT INTO runs VALUES (3, pg_backend_pid());\n"
        )
    return tmp_path


def _trial(project: Path, url: str, runners: int = RUNNERS) -> list:
    procs = [start(project, "--database-url", url, "--lock-timeout", "60") for _ in range(runners)]
    return [finish(p, timeout=HANG) for p in procs]


def _assert_exactly_once(db: TempDatabase, results: list) -> None:
    for r in results:
        assert r.code == 0, r.text
    counts = db.query("SELECT version, count(*) FROM runs GROUP BY version ORDER BY version")
    assert counts == [(v, 1) for v in range(1, SCRIPTS + 1)], f"scripts ran more than once: {counts}"
    assert [h[:3] for h in db.history()] == [(v, "runs" if v == 1 else "step", "applied") for v in range(1, SCRIPTS + 1)]


def _fresh(tmp_path: Path, trial: int) -> Iterator[TempDatabase]:
    return make_database("postgresql", tmp_path / f"t{trial}")


@pytest.mark.parametrize("mode", ["transaction", "session"])
def test_many_runners_through_pgbouncer_apply_each_script_once(poolers: dict, tmp_path: Path, mode: str) -> None:
    # Pool size 2, 8 runners: in session mode a runner needing two server connections at once (working +
    # lock) hangs the pool; in transaction mode a session lock stays on whichever server connection took it.
    pooler = poolers[mode]
    for trial in range(TRIALS):
        (tmp_path / f"t{trial}").mkdir()
        gen = _fresh(tmp_path, trial)
        db = next(gen)
        try:
            project = _project(tmp_path / f"t{trial}")
            results = _trial(project, pooler.url(db.name))
            _assert_exactly_once(db, results)
            # A lone runner afterwards meets the pooled server connections the trial used: nothing leaked.
            again = run(project, "--database-url", pooler.url(db.name), "--lock-timeout", "10")
            assert again.code == 0 and "nothing to do" in again.text, again.text
        finally:
            gen.close()


def test_a_no_transaction_script_behind_a_transaction_pooler_runs_once(poolers: dict, tmp_path: Path) -> None:
    for trial in range(2):
        (tmp_path / f"t{trial}").mkdir()
        gen = _fresh(tmp_path, trial)
        db = next(gen)
        try:
            project = _project(tmp_path / f"t{trial}", no_transaction=True)
            results = _trial(project, poolers["transaction"].url(db.name))
            _assert_exactly_once(db, results)
            assert any("lease row" in r.out for r in results)
        finally:
            gen.close()


def test_a_database_created_through_pgbouncer_is_then_migrated(poolers: dict, tmp_path: Path) -> None:
    # PgBouncer retries a login that failed (the database was missing) only after server_login_retry.
    from conftest import admin

    name = f"sqlrun_c_{tmp_path.name[-8:].lower().replace('-', '_')}"
    try:
        result = run(_project(tmp_path), "--database-url", poolers["transaction"].url(name), timeout=HANG)
        assert result.code == 0, result.text
        assert f"created database {name}" in result.text and "server_login_retry" in result.text
        with admin("postgresql", name) as cur:
            cur.execute("SELECT count(*) FROM runs")
            assert cur.fetchone()[0] == SCRIPTS
    finally:
        with admin("postgresql") as cur:
            cur.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


# --- a hot standby ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def replicated(standby: pgcluster.Standby, tmp_path_factory: pytest.TempPathFactory) -> tuple[pgcluster.Standby, Path]:
    """The scripts applied on the primary, and replayed on the standby; returns the pair and the project."""
    project = _project(tmp_path_factory.mktemp("standby"))
    applied = run(project, "--database-url", standby.url("app", primary=True))
    assert applied.code == 0, applied.text
    pgcluster.wait_replayed(standby, "app", f"SELECT 1 FROM sqlrun_history WHERE version = {SCRIPTS}")
    return standby, project


ADVICE = "this is a read-only replica (hot standby); point --database-url at the primary"


@pytest.mark.parametrize("command", [["apply"], ["apply", "--dry-run"], ["repair"], ["baseline", "--version", "1"]])
def test_writing_commands_on_a_standby_exit_6_pointing_at_the_primary(replicated: tuple, command: list[str]) -> None:
    standby, project = replicated
    (project / "data" / "migrations" / f"{SCRIPTS + 1:03d}_more.sql").write_text("CREATE TABLE more (id INTEGER);\n")
    try:
        result = run(project, *command, "--database-url", standby.url("app"))
    finally:
        (project / "data" / "migrations" / f"{SCRIPTS + 1:03d}_more.sql").unlink()
    assert result.code == 6, result.text
    assert ADVICE in result.err and "hot standby" in result.err
    assert "grant" not in result.text.lower() and "unexpected" not in result.text


@pytest.mark.parametrize("command", ["status", "verify"])
def test_reading_commands_on_a_standby_work_and_say_so(replicated: tuple, command: str) -> None:
    standby, project = replicated
    result = run(project, command, "--database-url", standby.url("app"))
    assert result.code == 0, result.text
    assert "reading a read-only replica" in result.text
    if command == "status":
        assert result.out.count("applied") >= SCRIPTS


def test_a_database_missing_on_a_standby_is_not_a_grant_problem(replicated: tuple) -> None:
    standby, project = replicated
    result = run(project, "--database-url", standby.url("not_there"))
    assert result.code == 6, result.text
    assert ADVICE in result.err and "not_there" in result.err
    assert "CREATEDB" not in result.text and "grant" not in result.text.lower()
