"""Many databases in one command: --database-url repeated, --databases-from, --jobs, --fail-fast, JSON, apply_many."""

from __future__ import annotations

import json
import re
import signal
import time
import uuid
from pathlib import Path
from typing import Iterator

import pytest

import sqlrun
import subproc
from conftest import BACKENDS, TempDatabase, _raw_url, admin, require, server_url
from test_cli import assert_shape

SCRIPTS = {
    "001_users.sql": "CREATE TABLE users (id INTEGER PRIMARY KEY, name VARCHAR(50));\n",
    "002_orders.sql": "CREATE TABLE orders (id INTEGER PRIMARY KEY, user_id INTEGER);\n",
    "003_seed.sql": "INSERT INTO users (id, name) VALUES (1, 'root');\n",
    "004_index.sql": "CREATE INDEX orders_user ON orders (user_id);\n",
    "005_log.sql": "CREATE TABLE log (id INTEGER PRIMARY KEY);\nINSERT INTO log (id) VALUES (1);\n",
}


class Tenants:
    """Tenant databases on every backend, made up by name (sqlrun creates them), dropped afterwards."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.tag = uuid.uuid4().hex[:8]
        self.made: list[TempDatabase] = []

    def make(self, kind: str, count: int) -> list[TempDatabase]:
        """``count`` tenant databases on ``kind`` (not created yet: the run creates them)."""
        require(kind)
        out = []
        for i in range(len(self.made), len(self.made) + count):
            name = f"sqlrun_fo_{self.tag}_{i:03d}"
            if kind == "sqlite":
                path = self.tmp_path / f"{name}.db"
                out.append(TempDatabase(kind, f"sqlite:///{path}", name, path))
            else:
                out.append(TempDatabase(kind, _raw_url(server_url(kind).with_database(name)), name))
            self.made.append(out[-1])
        return out

    def drop(self) -> None:
        """Drop every server database made."""
        for kind in ("mysql", "postgresql"):
            names = [t.name for t in self.made if t.kind == kind]
            if not names:
                continue
            with admin(kind) as cur:
                for name in names:
                    cur.execute(f"DROP DATABASE IF EXISTS {name}" + (" WITH (FORCE)" if kind == "postgresql" else ""))


@pytest.fixture
def tenants(tmp_path: Path) -> Iterator[Tenants]:
    made = Tenants(tmp_path)
    yield made
    made.drop()


def _listing(tmp_path: Path, dbs: list[TempDatabase]) -> Path:
    path = tmp_path / "tenants.txt"
    lines = ["# one database URL a line", ""] + [f"{d.url}   # tenant {i}" for i, d in enumerate(dbs)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _versions(db: TempDatabase) -> list[int]:
    return [row[0] for row in db.history()]


def test_twenty_databases_per_server_in_one_command(tenants: Tenants, scripts, tmp_path: Path) -> None:
    dbs = [d for kind in BACKENDS for d in tenants.make(kind, 21)]
    folder = scripts(SCRIPTS)
    listing = _listing(tmp_path, dbs)
    result = subproc.run(tmp_path, "--databases-from", str(listing), "--jobs", "8", "--dir", str(folder), timeout=600)
    assert result.code == 0, result.text[-3000:]
    assert f"apply on {len(dbs)} databases: {len(dbs)} applied, 0 up to date, 0 failed" in result.out
    for db in dbs:
        assert _versions(db) == [1, 2, 3, 4, 5], db.url
        assert db.query("SELECT count(*) FROM log") == [(1,)]
        assert f"[{sqlrun.config.parse_url(db.url).redacted()}] applied 005_log.sql" in result.out
    for line in result.out.splitlines()[1:-1]:
        assert line.startswith("["), line  # every database's line says which database it is about
    again = subproc.run(tmp_path, "--databases-from", str(listing), "-q", "--dir", str(folder), timeout=600)
    assert again.code == 0, again.text[-3000:]
    assert again.out.splitlines() == [f"apply on {len(dbs)} databases: 0 applied, {len(dbs)} up to date, 0 failed" + again.out.split("0 failed", 1)[1].splitlines()[0]]


def test_one_failing_database_fails_the_command_and_the_others_finish(db: TempDatabase, tenants: Tenants, scripts, cli) -> None:
    others = tenants.make(db.kind, 3)
    db.execute("CREATE TABLE log (id INTEGER PRIMARY KEY, note VARCHAR(5) NOT NULL)")  # 005's INSERT fails here
    folder = scripts(SCRIPTS)
    urls = [x for d in [others[0], db, *others[1:]] for x in ("--database-url", d.url)]
    result = cli(*urls, "--dir", str(folder), "--jobs", "2")
    assert result.code == 1, result.text
    label = sqlrun.config.parse_url(db.url).redacted()
    assert f"[{label}] error: " in result.err and "005_log.sql:2: statement failed" in result.err
    assert "apply on 4 databases: 3 applied, 0 up to date, 1 failed" in result.out
    assert f"failed: {label} (exit 1)" in result.out
    for other in others:
        assert _versions(other) == [1, 2, 3, 4, 5]


def test_the_exit_code_is_the_most_severe(tenants: Tenants, scripts, cli) -> None:
    ok, bad = tenants.make("sqlite", 2)
    folder = scripts(SCRIPTS)
    assert bad.path is not None
    bad.path.write_text("")  # an empty file is a database; a table in the way makes 001 fail
    sqlite_bad = TempDatabase("sqlite", bad.url, bad.name, bad.path)
    sqlite_bad.execute("CREATE TABLE users (x TEXT); CREATE VIEW orders AS SELECT 1 AS id;")
    unreachable = "postgresql://nobody@127.0.0.1:1/app?connect_timeout=1"
    result = cli("--database-url", unreachable, "--database-url", "nosuch://x", "--database-url", ok.url, "--dir", str(folder))
    assert result.code == 4, result.text  # 4 (cannot connect) outranks 2 (a URL that cannot be read)
    assert "[--database-url #2] error: unknown database URL scheme 'nosuch'" in result.err
    worst = cli("--database-url", unreachable, "--database-url", bad.url, "--dir", str(folder))
    assert worst.code == 1, worst.text  # a failed statement outranks a database that cannot be reached
    assert _versions(ok) == [1, 2, 3, 4, 5]


def test_fail_fast_starts_no_database_after_the_first_failure(tenants: Tenants, scripts, cli) -> None:
    dbs = tenants.make("sqlite", 4)
    folder = scripts(SCRIPTS)
    urls = ["--database-url", "postgresql://nobody@127.0.0.1:1/app?connect_timeout=1"]
    urls += [x for d in dbs for x in ("--database-url", d.url)]
    result = cli(*urls, "--dir", str(folder), "--jobs", "1", "--fail-fast")
    assert result.code == 4, result.text
    assert "apply on 5 databases: 0 applied, 0 up to date, 1 failed, 4 not started (--fail-fast)" in result.out
    assert all(not d.path.exists() for d in dbs if d.path)
    everyone = cli(*urls, "--dir", str(folder), "--jobs", "1")
    assert everyone.code == 4 and "4 applied" in everyone.out, everyone.text  # default: finish every database


def test_json_gives_one_object_per_database(tenants: Tenants, scripts, cli) -> None:
    dbs = tenants.make("sqlite", 2)
    folder = scripts(SCRIPTS)
    args = [x for d in dbs for x in ("--database-url", d.url)] + ["--database-url", "postgresql://u:Zq9pw@127.0.0.1:1/a?connect_timeout=1"]
    result = cli(*args, "--dir", str(folder), "--json")
    assert result.code == 4, result.text
    assert "Zq9pw" not in result.text
    data = json.loads(result.out)
    assert_shape(data, "fan-out")
    assert_shape(data["summary"], "fan-out.summary")
    assert data["summary"] == {"databases": 3, "applied": 2, "up_to_date": 0, "failed": 1, "not_started": 0, "exit_code": 4}
    for entry in data["databases"]:
        assert_shape(entry, "fan-out.databases[]")
    first, _, broken = data["databases"]
    assert_shape(first["result"], "apply") and first["result"]["applied"] == 5 and first["error"] is None
    assert broken["result"] is None and broken["error"]["exit_code"] == 4
    assert broken["database"] == "postgresql://u:***@127.0.0.1:1/a?connect_timeout=1"
    status = cli("status", *args[:4], "--dir", str(folder), "--json")
    assert status.code == 0, status.text
    assert [e["result"]["scripts"][4]["state"] for e in json.loads(status.out)["databases"]] == ["applied", "applied"]


def test_status_and_verify_take_many_databases(tenants: Tenants, scripts, cli) -> None:
    a, b = tenants.make("sqlite", 2)
    folder = scripts(SCRIPTS)
    args = ["--database-url", a.url, "--database-url", b.url, "--dir", str(folder)]
    assert cli(*args).code == 0
    scripts({"003_seed.sql": "INSERT INTO users (id, name) VALUES (2, 'changed');\n"})
    verify = cli("verify", *args)
    assert verify.code == 3, verify.text
    for d in (a, b):
        assert f"[{d.url}] error: 003_seed.sql: changed" in verify.err
    assert "verify on 2 databases: 0 ok, 2 failed" in verify.out
    status = cli("status", *args)
    assert status.code == 0 and re.search(r"\] +3 +003_seed\.sql +changed", status.out), status.text


def test_commands_for_one_database_refuse_several(tenants: Tenants, scripts, cli) -> None:
    a, b = tenants.make("sqlite", 2)
    folder = scripts(SCRIPTS)
    result = cli("repair", "--database-url", a.url, "--database-url", b.url, "--dir", str(folder))
    assert result.code == 2 and "repair takes one database" in result.err, result.text
    zero = cli("--database-url", a.url, "--database-url", b.url, "--dir", str(folder), "--jobs", "0")
    assert zero.code == 2 and "--jobs 0" in zero.err, zero.text


def test_a_file_of_urls_that_cannot_be_read_is_exit_2(tmp_path: Path, scripts, cli) -> None:
    folder = scripts(SCRIPTS)
    missing = cli("--databases-from", str(tmp_path / "nope.txt"), "--dir", str(folder))
    assert missing.code == 2 and "--databases-from" in missing.err, missing.text
    (tmp_path / "empty.txt").write_text("# nobody yet\n\n")
    empty = cli("--databases-from", str(tmp_path / "empty.txt"), "--dir", str(folder))
    assert empty.code == 2 and "no database URL in it" in empty.err, empty.text


def test_apply_many_returns_one_outcome_per_database(tenants: Tenants, scripts) -> None:
    dbs = tenants.make("sqlite", 3)
    folder = scripts(SCRIPTS)
    outcomes = sqlrun.apply_many([d.url for d in dbs] + ["nosuch://x"], folder, jobs=2)
    assert [o.exit_code for o in outcomes] == [0, 0, 0, 2]
    assert [o.value.applied for o in outcomes[:3]] == [5, 5, 5]  # type: ignore[union-attr]
    assert outcomes[3].database == "urls[3]" and isinstance(outcomes[3].error, sqlrun.ConfigError)
    assert all(isinstance(o, sqlrun.Outcome) for o in outcomes)
    again = sqlrun.apply_many([d.url for d in dbs], folder, target=2)
    assert all(o.exit_code == 0 and o.value.applied == 0 for o in again)  # type: ignore[union-attr]
    with pytest.raises(sqlrun.ConfigError):
        sqlrun.apply_many([d.url for d in dbs], folder, wait=float("nan"))


@pytest.mark.cluster
@pytest.mark.parametrize("kind", ["mysql", "postgresql"])
def test_two_hundred_databases_per_server(kind: str, tenants: Tenants, scripts, tmp_path: Path) -> None:
    dbs = tenants.make(kind, 200)
    folder = scripts(SCRIPTS)
    listing = _listing(tmp_path, dbs)
    result = subproc.run(tmp_path, "--databases-from", str(listing), "--jobs", "8", "-q", "--dir", str(folder), timeout=1200)
    assert result.code == 0, result.text[-3000:]
    assert result.out.startswith("apply on 200 databases: 200 applied, 0 up to date, 0 failed"), result.out
    for db in dbs:
        assert _versions(db) == [1, 2, 3, 4, 5], db.url


def test_check_takes_many_databases(tenants: Tenants, scripts, cli) -> None:
    a, b = tenants.make("sqlite", 2)
    folder = scripts({"001_t.sql": "CREATE TABLE t (id INTEGER PRIMARY KEY);\n", "002_seed.sql": "INSERT INTO t (id) VALUES (1);\n"})
    result = cli("check", "--database-url", a.url, "--database-url", b.url, "--dir", str(folder), "--json")
    assert result.code == 0, result.text
    data = json.loads(result.out)
    assert [e["result"]["converges"] for e in data["databases"]] == [True, True]


# A statement that runs for seconds on each backend; the SQLite one is a minute's work in one C call.
SLOW = {
    "sqlite": "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 200000000) SELECT count(*) FROM n;",
    "mysql": "SELECT SLEEP(5);",
    "postgresql": "SELECT pg_sleep(5);",
}


@pytest.mark.parametrize("kind", BACKENDS)
def test_ctrl_c_stops_every_database_and_exits_130(kind: str, tenants: Tenants, scripts, tmp_path: Path) -> None:
    # The signal reaches only the main thread; the workers' statements must be cancelled, or a script whose
    # last round trip (statements, history row, COMMIT) was sent commits on the server after the exit.
    dbs = tenants.make(kind, 3)
    folder = scripts({
        "001_t.sql": "CREATE TABLE t (id INTEGER PRIMARY KEY);\n",
        "002_slow.sql": f"INSERT INTO t (id) VALUES (1);\n{SLOW[kind]}\n",
    })
    args = [x for d in dbs for x in ("--database-url", d.url)]
    proc = subproc.start(tmp_path, *args, "--dir", str(folder), "--jobs", "2")
    before = subproc.read_line_with(proc, "applied 001_t.sql")
    time.sleep(1.5)
    proc.send_signal(signal.SIGINT)
    result = subproc.finish(proc, timeout=30, before=before)
    assert result.code == 130, result.text
    assert "error: interrupted; 0 of 3 databases had finished, 2 stopped or failed" in result.err
    assert result.err.count("error: interrupted; applied and recorded: 001_t.sql; 002_slow.sql was stopped") == 2
    assert "the rest were not started" in result.err
    time.sleep(4.0)  # past the end of the slow statement: a script left running on the server would commit by now
    started = [d for d in dbs if f"[{d.url}] applied 001_t.sql" in result.out]
    assert len(started) == 2, result.text
    for db in started:  # the running scripts were cancelled and rolled back
        assert subproc.lock_is_free(db.url)
        assert db.query("SELECT count(*) FROM t") == [(0,)]
        assert [r[:3] for r in db.history()] == [(1, "t", "applied")]
