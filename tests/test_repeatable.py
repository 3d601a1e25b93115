"""Repeatable scripts (R__name.sql): applied after the numbered ones, again whenever they change."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import subproc
from conftest import TempDatabase

TABLE = "CREATE TABLE t (x INT);\nINSERT INTO t (x) VALUES (1);\n"
LOG = "CREATE TABLE runs (n INT);\n"


def view(columns: str) -> str:
    """A repeatable view script that also logs each time it runs (to count applications)."""
    return f"DROP VIEW IF EXISTS v;\nCREATE VIEW v AS SELECT {columns} FROM t;\nINSERT INTO runs (n) VALUES (1);\n"


def _apply(cli, db: TempDatabase, folder: Path, *extra: str):  # noqa: ANN202
    return cli("--database-url", db.url, "--dir", str(folder), *extra)


def _runs(db: TempDatabase) -> int:
    return db.query("SELECT COUNT(*) FROM runs")[0][0]


def test_applied_after_the_numbered_scripts_then_only_when_changed(db: TempDatabase, scripts, cli) -> None:
    folder = scripts({"001_t.sql": TABLE + LOG, "R__v.sql": view("x")})
    first = _apply(cli, db, folder)
    assert first.code == 0, first.text
    assert first.out.index("001_t.sql") < first.out.index("R__v.sql")
    assert db.query("SELECT * FROM v") == [(1,)] and _runs(db) == 1
    again = _apply(cli, db, folder)
    assert again.code == 0 and "nothing to do" in again.out and _runs(db) == 1
    (folder / "R__v.sql").write_text(view("x, x + 1 AS y"))
    edited = _apply(cli, db, folder)
    assert edited.code == 0 and "applied R__v.sql" in edited.out
    assert db.query("SELECT x, y FROM v") == [(1, 2)] and _runs(db) == 2
    # Numbered history stays numbered: an older sqlrun reading sqlrun_history sees only 001.
    assert [row[0] for row in db.history()] == [1]


def test_repeatables_run_in_name_order_and_a_variant_replaces_the_generic_file(db: TempDatabase, scripts, cli) -> None:
    other = {"sqlite": "mysql", "mysql": "postgresql", "postgresql": "sqlite"}[db.kind]
    folder = scripts({
        "001_t.sql": TABLE + LOG + "CREATE TABLE seen (name VARCHAR(40));\n",
        "R__b.sql": "INSERT INTO seen (name) VALUES ('b generic');\n",
        f"R__b.{db.kind}.sql": f"INSERT INTO seen (name) VALUES ('b {db.kind}');\n",
        f"R__a.{other}.sql": "INSERT INTO seen (name) VALUES ('a other');\n",
        "R__a.sql": "INSERT INTO seen (name) VALUES ('a generic');\n",
    })
    done = _apply(cli, db, folder)
    assert done.code == 0, done.text
    assert db.query("SELECT name FROM seen") == [("a generic",), (f"b {db.kind}",)]


def test_status_says_new_applied_outdated_and_verify_accepts_outdated(db: TempDatabase, scripts, cli) -> None:
    folder = scripts({"001_t.sql": TABLE + LOG, "R__v.sql": view("x")})
    before = json.loads(cli("status", "--json", "--database-url", db.url, "--dir", str(folder)).out)
    assert [(s["file"], s["state"], s["repeatable"]) for s in before["scripts"]] == [("001_t.sql", "pending", False), ("R__v.sql", "new", True)]
    assert _apply(cli, db, folder).code == 0
    table = cli("status", "--database-url", db.url, "--dir", str(folder)).out
    assert any(line.split()[:3] == ["R", "R__v.sql", "applied"] for line in table.splitlines())
    (folder / "R__v.sql").write_text(view("x AS renamed"))
    rows = json.loads(cli("status", "--json", "--database-url", db.url, "--dir", str(folder)).out)["scripts"]
    assert rows[1]["state"] == "outdated" and rows[1]["checksum"] != rows[1]["recorded_checksum"]
    assert cli("verify", "--database-url", db.url, "--dir", str(folder)).code == 0
    assert cli("status", "--exit-code", "--database-url", db.url, "--dir", str(folder)).code == 3
    (folder / "R__v.sql").unlink()
    gone = cli("status", "--database-url", db.url, "--dir", str(folder)).out
    assert any(line.split()[:2] == ["R", "R__v.sql"] and "missing (recorded as applied, file gone)" in line for line in gone.splitlines()), gone


def test_a_failing_repeatable_is_not_recorded_and_runs_again(db: TempDatabase, scripts, cli) -> None:
    folder = scripts({"001_t.sql": TABLE + LOG, "R__v.sql": view("x") + "INSERT INTO no_such_table VALUES (1);\n"})
    failed = _apply(cli, db, folder)
    assert failed.code == 1 and "R__v.sql:4" in failed.err
    assert [row[0] for row in db.history()] == [1]  # the numbered script before it stays applied
    state = json.loads(cli("status", "--json", "--database-url", db.url, "--dir", str(folder)).out)["scripts"][1]["state"]
    # PostgreSQL and SQLite roll the script back; MySQL committed its DDL, and records the script as failed.
    assert state == ("failed" if db.kind == "mysql" else "new")
    (folder / "R__v.sql").write_text(view("x"))
    fixed = _apply(cli, db, folder)
    assert fixed.code == 0, fixed.text
    assert db.query("SELECT * FROM v") == [(1,)]


def test_with_target_short_of_the_last_script_repeatables_wait(db: TempDatabase, scripts, cli) -> None:
    folder = scripts({"001_t.sql": TABLE + LOG, "002_u.sql": "CREATE TABLE u (y INT);\n", "R__v.sql": view("x")})
    assert _apply(cli, db, folder, "--target", "1").code == 0
    assert "v" not in db.tables()
    assert _apply(cli, db, folder).code == 0
    assert _runs(db) == 1


def test_new_repeatable_writes_the_file(scripts, cli) -> None:
    folder = scripts({})
    done = cli("new", "--repeatable", "Report views", "--dir", str(folder))
    assert done.code == 0
    assert (folder / "R__report_views.sql").read_text().startswith("-- R__report_views: Report views")
    assert cli("new", "--repeatable", "Report views", "--dir", str(folder)).code == 2


@pytest.mark.slow
def test_many_runners_at_once_apply_a_repeatable_once(db: TempDatabase, scripts) -> None:
    """Eight processes start together on a fresh database: the view script runs once."""
    folder = scripts({"001_t.sql": TABLE + LOG, "R__v.sql": view("x")})
    procs = [subproc.start(folder.parent, "--database-url", db.url, "--dir", str(folder)) for _ in range(8)]
    outcomes = [p.wait(timeout=120) for p in procs]
    for p in procs:
        p.communicate()
    assert outcomes == [0] * 8
    assert _runs(db) == 1
    assert len(db.query("SELECT version FROM sqlrun_repeatable")) == 1


def test_dry_run_lists_due_repeatables(db: TempDatabase, scripts, cli) -> None:
    folder = scripts({"001_t.sql": TABLE + LOG, "R__v.sql": view("x")})
    assert _apply(cli, db, folder).code == 0
    (folder / "R__v.sql").write_text(view("x AS z"))
    done = _apply(cli, db, folder, "--dry-run")
    assert done.code == 0 and "would apply R__v.sql" in done.out
    assert _runs(db) == 1


def test_the_sample_app_has_a_repeatable_view(tmp_path: Path) -> None:
    """`python init_db.py` on the sample app builds character_activity (SQLite)."""
    root = Path(__file__).resolve().parent.parent
    db_file = tmp_path / "app.db"
    done = subprocess.run(
        [sys.executable, str(root / "init_db.py"), "--database-url", f"sqlite:///{db_file}", "--dir", str(root / "data" / "migrations")],
        capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "applied R__character_activity.sql" in done.stdout
    import sqlite3

    conn = sqlite3.connect(db_file)
    users = conn.execute("SELECT COUNT(*) FROM users").fetchone()[0]
    assert users > 0
    assert conn.execute("SELECT COUNT(*), SUM(actions) FROM character_activity").fetchone() == (users, 0)


# The last commit before repeatable scripts: the sqlrun an existing deployment may still run beside this one.
OLDER = "8f408ca"
REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def older(tmp_path: Path) -> Path:
    """``init_db.py`` of the sqlrun before repeatable scripts, extracted from this repository's history."""
    folder = tmp_path / "older"
    folder.mkdir()
    archive = subprocess.run(["git", "-C", str(REPO), "archive", OLDER, "sqlrun", "init_db.py"], capture_output=True)
    if archive.returncode != 0:
        pytest.skip(f"commit {OLDER} is not in this checkout's history (a shallow clone?)")
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive.stdout, check=True)
    return folder / "init_db.py"


def _run_older(older: Path, db: TempDatabase, folder: Path, *args: str) -> subproc.Run:
    # The script's own folder comes first on sys.path: its sqlrun package, not the installed one, is imported.
    proc = subprocess.run([sys.executable, str(older), *args, "--database-url", db.url, "--dir", str(folder)],
                          cwd=folder.parent, env=subproc.clean_env(), capture_output=True, text=True, timeout=120)
    return subproc.Run(proc.returncode, proc.stdout, proc.stderr)


def test_an_older_sqlrun_and_this_one_share_a_database_both_ways(db: TempDatabase, scripts, cli, older: Path) -> None:
    folder = scripts({"001_t.sql": TABLE + LOG})
    # The older one builds the database; this one adds a repeatable script to it.
    assert _run_older(older, db, folder).code == 0
    (folder / "R__v.sql").write_text(view("x"))
    assert _apply(cli, db, folder).code == 0 and _runs(db) == 1
    # The older one meets the repeatable's table: it sees its own history only, applies what is new to it,
    # and leaves the repeatable's record alone.
    (folder / "002_u.sql").write_text("CREATE TABLE u (y INT);\n")
    old_run = _run_older(older, db, folder)
    assert old_run.code == 0, old_run.text
    assert "applied 002_u.sql" in old_run.out and "R__v.sql" not in old_run.out
    assert "R__v.sql: ignored" in old_run.err  # it is the older one: it does not know R__ names
    assert _run_older(older, db, folder, "verify").code == 0
    assert [r[:3] for r in db.history()] == [(1, "t", "applied"), (2, "u", "applied")]
    # And this one finds everything as it left it: nothing to do, the repeatable applied once.
    again = _apply(cli, db, folder)
    assert again.code == 0 and "nothing to do" in again.out, again.text
    assert _runs(db) == 1
    status = cli("status", "--database-url", db.url, "--dir", str(folder)).out
    assert any(line.split()[:3] == ["R", "R__v.sql", "applied"] for line in status.splitlines()), status
