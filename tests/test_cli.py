"""The command line on every database: --wait, creating the database, --dry-run, --target, JSON, new, output modes."""

from __future__ import annotations

import json
import os
import pty
import re
import subprocess
import sys
import uuid
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Iterator

import pytest

from conftest import TempDatabase, _raw_url, admin, require, server_url
from late_server import LateServer

ROOT = Path(__file__).resolve().parent.parent
INIT_DB = ROOT / "init_db.py"
A = "CREATE TABLE a (id INTEGER PRIMARY KEY);\nINSERT INTO a (id) VALUES (1);\n"
B = "CREATE TABLE b (id INTEGER PRIMARY KEY);\n\nINSERT INTO b (id)\nVALUES (2);\n"
C = "CREATE TABLE c (id INTEGER PRIMARY KEY);\n"
SLEEP = {"mysql": "SELECT SLEEP(1.2);", "postgresql": "SELECT pg_sleep(1.2);"}
SERVERS = ("mysql", "postgresql")


def clean_env(**extra: str) -> dict[str, str]:
    """The environment without any database settings of the developer's own, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL" and not k.startswith(("MYSQL_", "PG"))}
    env.update(extra)
    return env


def run_init_db(*args: str, cwd: Path, **popen: object) -> subprocess.CompletedProcess[str]:
    """``python init_db.py ARGS`` as its own process, output through pipes (as in docker logs)."""
    return subprocess.run(
        [sys.executable, str(INIT_DB), *args], cwd=cwd, env=clean_env(), capture_output=True, text=True, timeout=120, **popen
    )


# --- a database that does not exist yet ------------------------------------------------------------


@dataclass
class MissingDatabase:
    """A database name nothing has created; dropped after the test if something did."""

    kind: str
    url: str
    name: str
    path: Path | None = None

    def exists(self) -> bool:
        """Whether the database (or SQLite file) is there now."""
        if self.kind == "sqlite":
            assert self.path is not None
            return self.path.exists()
        sql = "SELECT 1 FROM pg_database WHERE datname = %s" if self.kind == "postgresql" else (
            "SELECT 1 FROM information_schema.schemata WHERE schema_name = %s"
        )
        with admin(self.kind) as cur:
            cur.execute(sql, (self.name,))
            return cur.fetchone() is not None


@pytest.fixture(params=("sqlite", "mysql", "postgresql"))
def missing(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[MissingDatabase]:
    """A database that does not exist yet, on each backend in turn."""
    kind = request.param
    require(kind)
    name = f"sqlrun_m_{uuid.uuid4().hex[:12]}"
    if kind == "sqlite":
        path = tmp_path / "nested" / "folder" / f"{name}.db"
        yield MissingDatabase(kind, f"sqlite:///{path}", name, path)
        return
    yield MissingDatabase(kind, _raw_url(server_url(kind).with_database(name)), name)
    with admin(kind) as cur:
        cur.execute(f"DROP DATABASE IF EXISTS {name}" + (" WITH (FORCE)" if kind == "postgresql" else ""))


def test_a_missing_database_is_created_and_said_in_one_line(missing: MissingDatabase, scripts, cli) -> None:
    folder = scripts({"001_a.sql": A})
    result = cli("--database-url", missing.url, "--dir", str(folder))
    assert result.code == 0, result.text
    created = [line for line in result.out.splitlines() if line.startswith("created database")]
    assert len(created) == 1, result.out
    assert missing.name in created[0]
    assert missing.exists()
    again = cli("--database-url", missing.url, "--dir", str(folder))
    assert again.code == 0 and "created" not in again.out, again.text


def test_mysql_database_is_created_with_utf8mb4(scripts, cli, tmp_path: Path) -> None:
    require("mysql")
    name = f"sqlrun_m_{uuid.uuid4().hex[:12]}"
    url = _raw_url(server_url("mysql").with_database(name))
    try:
        result = cli("--database-url", url, "--dir", str(scripts({"001_a.sql": A})))
        assert result.code == 0, result.text
        assert f"created database {name} (utf8mb4)" in result.out
        with admin("mysql") as cur:
            cur.execute(
                "SELECT default_character_set_name, default_collation_name FROM information_schema.schemata WHERE schema_name = %s",
                (name,),
            )
            charset, collation = cur.fetchone()
        assert charset == "utf8mb4"
        assert collation.startswith("utf8mb4_")
    finally:
        with admin("mysql") as cur:
            cur.execute(f"DROP DATABASE IF EXISTS {name}")


def test_no_create_database_refuses_and_creates_nothing(missing: MissingDatabase, scripts, cli) -> None:
    folder = scripts({"001_a.sql": A})
    result = cli("--database-url", missing.url, "--dir", str(folder), "--no-create-database")
    assert result.code == 4, result.text
    assert "does not exist (and --no-create-database was given)" in result.err
    assert not missing.exists()
    if missing.path is not None:
        assert not missing.path.parent.exists(), "the SQLite folder must not be created either"


# --- dry run ---------------------------------------------------------------------------------------


def test_dry_run_on_a_missing_database_creates_nothing(missing: MissingDatabase, scripts, cli) -> None:
    folder = scripts({"001_a.sql": A, "002_b.sql": B})
    result = cli("--database-url", missing.url, "--dir", str(folder), "--dry-run")
    assert result.code == 0, result.text
    assert "would apply 001_a.sql: 2 statements" in result.out
    assert "would apply 002_b.sql: 2 statements" in result.out
    assert "dry run: 2 script(s) would be applied; nothing was changed" in result.out
    assert "created" not in result.out
    assert not missing.exists()
    if missing.path is not None:
        assert not missing.path.parent.exists()


def test_dry_run_shows_the_plan_and_changes_nothing(db: TempDatabase, scripts, cli) -> None:
    folder = scripts({"001_a.sql": A, "002_b.sql": B, "003_c.sql": C})
    assert cli("--database-url", db.url, "--dir", str(folder), "--target", "1").code == 0
    before = db.history()

    plain = cli("--database-url", db.url, "--dir", str(folder), "--dry-run")
    assert plain.code == 0, plain.text
    planned = [line for line in plain.out.splitlines() if line.startswith("would apply")]
    assert planned == ["would apply 002_b.sql: 2 statements", "would apply 003_c.sql: 1 statement"]
    assert "002_b.sql:3" not in plain.out, "statements are shown only with -v"

    verbose = cli("--database-url", db.url, "--dir", str(folder), "--dry-run", "-v")
    assert verbose.code == 0, verbose.text
    assert "  002_b.sql:1: CREATE TABLE b (id INTEGER PRIMARY KEY)" in verbose.out
    assert "  002_b.sql:3: INSERT INTO b (id)" in verbose.out, "the first line of a multi-line statement, at its line"
    assert "  003_c.sql:1: CREATE TABLE c" in verbose.out
    assert verbose.out.index("002_b.sql:1") < verbose.out.index("002_b.sql:3") < verbose.out.index("003_c.sql:1")
    assert db.history() == before
    assert db.tables() == {"a", "sqlrun_history"}


def test_dry_run_on_an_empty_database_does_not_create_the_history_table(db: TempDatabase, scripts, cli) -> None:
    folder = scripts({"001_a.sql": A})
    result = cli("--database-url", db.url, "--dir", str(folder), "--dry-run")
    assert result.code == 0, result.text
    assert "would apply 001_a.sql" in result.out
    assert db.tables() == set()


# --- target ----------------------------------------------------------------------------------------


def test_target_applies_up_to_and_including_that_version(db: TempDatabase, scripts, cli) -> None:
    folder = scripts({"001_a.sql": A, "002_b.sql": B, "003_c.sql": C})
    first = cli("--database-url", db.url, "--dir", str(folder), "--target", "2")
    assert first.code == 0, first.text
    assert [r[0] for r in db.history()] == [1, 2]
    assert "c" not in db.tables()
    lower = cli("--database-url", db.url, "--dir", str(folder), "--target", "1")
    assert lower.code == 0 and "nothing to do" in lower.out, lower.text
    rest = cli("--database-url", db.url, "--dir", str(folder))
    assert rest.code == 0, rest.text
    assert [r[0] for r in db.history()] == [1, 2, 3]


# --- status --exit-code ------------------------------------------------------------------------------


def test_status_exit_code_is_3_while_anything_is_pending(db: TempDatabase, scripts, cli) -> None:
    folder = scripts({"001_a.sql": A, "002_b.sql": B})
    args = ("status", "--database-url", db.url, "--dir", str(folder))
    assert cli(*args, "--exit-code").code == 3, "nothing applied yet"
    assert cli(*args).code == 0, "without --exit-code, pending is not an error"
    assert cli("--database-url", db.url, "--dir", str(folder), "--target", "1").code == 0
    assert cli(*args, "--exit-code").code == 3, "002 is still pending"
    assert cli("--database-url", db.url, "--dir", str(folder)).code == 0
    done = cli(*args, "--exit-code")
    assert done.code == 0, done.text


# --- waiting for a database that comes up late ------------------------------------------------------


@pytest.fixture(params=SERVERS)
def server_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TempDatabase]:
    """A fresh database on each server (not SQLite: there is nothing to wait for)."""
    from conftest import make_database

    yield from make_database(request.param, tmp_path)


def late_server(kind: str, **kwargs: int) -> LateServer:
    """A LateServer in front of the test server for ``kind``."""
    target = server_url(kind)
    return LateServer(target.host or "127.0.0.1", target.port or (3306 if kind == "mysql" else 5432), **kwargs)


def test_wait_retries_until_a_late_database_accepts(server_db: TempDatabase, scripts, tmp_path: Path) -> None:
    folder = scripts({"001_a.sql": A, "002_b.sql": B})
    with late_server(server_db.kind) as late:
        url = _raw_url(late.url_for(server_db.url))
        proc = subprocess.Popen(
            [sys.executable, str(INIT_DB), "--database-url", url, "--dir", str(folder), "--wait", "60"],
            cwd=tmp_path, env=clean_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        assert proc.stdout is not None
        seen = []
        for line in proc.stdout:  # the port refuses until the runner has said that it waits
            seen.append(line)
            if line.startswith("waiting for the database"):
                late.open()
                break
        rest, _ = proc.communicate(timeout=60)
    output = "".join(seen) + rest
    assert proc.returncode == 0, output
    # "0s" on a quiet machine; the first attempt imports the driver, which a loaded one may take a second over.
    assert re.search(r"^waiting for the database \(\ds of 60s\): cannot connect to \S+:\d+/sqlrun_t_", output, re.M), output
    assert "applied 002_b.sql" in output
    assert [r[0] for r in server_db.history()] == [1, 2]
    assert late.forwarded >= 1


def test_wait_survives_connections_that_are_accepted_then_dropped(server_db: TempDatabase, scripts, cli) -> None:
    folder = scripts({"001_a.sql": A})
    with late_server(server_db.kind, drop_first=3) as late:
        late.open()
        result = cli("--database-url", _raw_url(late.url_for(server_db.url)), "--dir", str(folder), "--wait", "60")
    assert result.code == 0, result.text
    assert late.dropped == 3
    assert "waiting for the database" in result.out
    assert server_db.history() == [(1, "a", "applied", 2, 0)]


def test_wait_gives_up_with_exit_4(scripts, cli) -> None:
    require("postgresql")
    with late_server("postgresql") as never:  # never opened: every connection is refused
        url = _raw_url(never.url_for(server_url("postgresql")))
        result = cli("--database-url", url, "--dir", str(scripts({"001_a.sql": A})), "--wait", "1")
    assert result.code == 4, result.text
    assert "waiting for the database (0s of 1s)" in result.out
    assert f"error: gave up after waiting 1s (--wait): cannot connect to {never.url_for(url).redacted()}: " in result.err


@pytest.mark.parametrize("kind", SERVERS)
def test_wait_does_not_retry_a_refused_login(kind: str, scripts, cli) -> None:
    require(kind)
    base = server_url(kind)
    url = _raw_url(replace(base, user="sqlrun_no_such_user", password="s3cr3t-pw", database=base.database or "x"))
    result = cli("--database-url", url, "--dir", str(scripts({"001_a.sql": A})), "--wait", "600")
    assert result.code == 4, result.text
    assert "waiting" not in result.out, "waiting cannot fix a login the server refuses"
    assert "s3cr3t-pw" not in result.text, "the password is never shown"


# --- JSON: the shape documented in docs/json.md ---------------------------------------------------------

TYPES = {
    "integer": int, "string": str, "boolean": bool, "string or null": (str, type(None)),
    "array": list, "object": dict, "object or null": (dict, type(None)),
}


def documented_shapes() -> dict[str, dict[str, str]]:
    """Each ``### `heading` `` table of docs/json.md: field -> type, in the documented order."""
    shapes: dict[str, dict[str, str]] = {}
    current: dict[str, str] | None = None
    for line in (ROOT / "docs" / "json.md").read_text(encoding="utf-8").splitlines():
        heading = re.match(r"^###\s+`([^`]+)`", line)
        if heading:
            current = shapes.setdefault(heading.group(1), {})
            continue
        row = re.match(r"^\|\s*`([a-z_]+)`\s*\|\s*([a-z ]+?)\s*\|", line)
        if row and current is not None:
            current[row.group(1)] = row.group(2)
    return shapes


def assert_shape(value: dict, shape: str) -> None:
    """``value`` has exactly the documented keys, in order, each of the documented type."""
    fields = documented_shapes()[shape]
    assert list(value) == list(fields), f"{shape}: keys {list(value)} != documented {list(fields)}"
    for key, type_name in fields.items():
        assert isinstance(value[key], TYPES[type_name]), f"{shape}.{key}: {value[key]!r} is not {type_name}"
        if type_name == "integer":
            assert not isinstance(value[key], bool), f"{shape}.{key} is a boolean, documented as an integer"


def test_docs_json_documents_every_shape() -> None:
    shapes = documented_shapes()
    assert set(shapes) == {
        "apply", "apply.scripts[]", "status", "status.scripts[]", "check", "check.findings[]", "diff", "diff.differences[]", "error",
        "fan-out", "fan-out.databases[]", "fan-out.summary",
    }
    assert all(set(fields.values()) <= set(TYPES) for fields in shapes.values()), shapes


def test_apply_and_status_json_match_docs(db: TempDatabase, scripts, cli) -> None:
    folder = scripts({"001_a.sql": A, "002_b.sql": B, "003_c.sql": C})
    args = ("--database-url", db.url, "--dir", str(folder))

    status = cli("status", *args, "--json")
    assert status.code == 0, status.text
    data = json.loads(status.out)
    assert_shape(data, "status")
    assert [s["state"] for s in data["scripts"]] == ["pending"] * 3
    for row in data["scripts"]:
        assert_shape(row, "status.scripts[]")

    dry = cli("apply", *args, "--json", "--dry-run", "--target", "2")
    assert dry.code == 0, dry.text
    planned = json.loads(dry.out)
    assert_shape(planned, "apply")
    assert planned["dry_run"] is True and planned["applied"] == 0
    assert [(s["file"], s["state"], s["statements"]) for s in planned["scripts"]] == [("001_a.sql", "planned", 2), ("002_b.sql", "planned", 2)]

    applied = cli("apply", *args, "--json")
    assert applied.code == 0, applied.text
    result = json.loads(applied.out)
    assert_shape(result, "apply")
    assert result["applied"] == 3 and result["dry_run"] is False and result["warnings"] == []
    for row in result["scripts"]:
        assert_shape(row, "apply.scripts[]")
    assert [s["state"] for s in result["scripts"]] == ["applied"] * 3

    after = json.loads(cli("status", *args, "--json").out)
    assert [s["state"] for s in after["scripts"]] == ["applied"] * 3
    for row in after["scripts"]:
        assert_shape(row, "status.scripts[]")
        assert row["checksum"] == row["recorded_checksum"] and row["applied_at"]

    nothing = json.loads(cli("apply", *args, "--json").out)
    assert_shape(nothing, "apply")
    assert nothing["scripts"] == [] and nothing["applied"] == 0


def test_json_on_failure_is_an_error_object(db: TempDatabase, scripts, cli) -> None:
    folder = scripts({"001_bad.sql": "CREATE TABLE ok (id INTEGER);\nINSERT INTO no_such_table VALUES (1);\n"})
    result = cli("apply", "--database-url", db.url, "--dir", str(folder), "--json")
    assert result.code == 1, result.text
    data = json.loads(result.out)
    assert list(data) == ["error"]
    assert_shape(data["error"], "error")
    assert data["error"]["type"] == "StatementError" and data["error"]["exit_code"] == 1
    assert "001_bad.sql:2: statement failed" in data["error"]["message"]


# --- new NAME ------------------------------------------------------------------------------------------


def test_new_in_an_empty_folder_starts_at_001(tmp_path: Path, cli) -> None:
    folder = tmp_path / "not_yet"
    result = cli("new", "Add user email!", "--dir", str(folder))
    assert result.code == 0, result.text
    created = folder / "001_add_user_email.sql"
    assert result.out.strip() == f"created {created}"
    text = created.read_text(encoding="utf-8")
    assert text.startswith("-- 001_add_user_email: Add user email!\n")
    assert all(line.startswith("--") for line in text.splitlines() if line.strip()), "only a header comment"


@pytest.mark.parametrize(
    ("existing", "expected"),
    [
        (["001_init.sql", "002_x.sql"], "003_name.sql"),
        (["0009_a.sql"], "0010_name.sql"),
        (["1_a.sql", "2_b.sql", "10_c.sql"], "11_name.sql"),
        (["001_init.mysql.sql", "001_init.postgresql.sql", "002_logs.sqlite.sql", "notes.txt"], "003_name.sql"),
        (["20240101120000_first.sql"], "20240101120001_name.sql"),
    ],
)
def test_new_takes_the_next_number_with_the_folders_width(tmp_path: Path, cli, existing: list[str], expected: str) -> None:
    for name in existing:
        (tmp_path / name).write_text("SELECT 1;\n", encoding="utf-8")
    result = cli("new", "name", "--dir", str(tmp_path))
    assert result.code == 0, result.text
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([*existing, expected])


def test_new_needs_no_database_and_refuses_an_empty_name(tmp_path: Path, cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody@127.0.0.1:1/nothing")
    assert cli("new", "first", "--dir", str(tmp_path)).code == 0
    refused = cli("new", "!!!", "--dir", str(tmp_path))
    assert refused.code == 2 and "has no letters or digits" in refused.err
    assert [p.name for p in tmp_path.iterdir()] == ["001_first.sql"]


def test_a_new_script_once_written_applies(db: TempDatabase, tmp_path: Path, cli) -> None:
    folder = tmp_path / "migrations"
    assert cli("new", "create a", "--dir", str(folder)).code == 0
    path = folder / "001_create_a.sql"
    path.write_text(path.read_text(encoding="utf-8") + A, encoding="utf-8")
    result = cli("--database-url", db.url, "--dir", str(folder))
    assert result.code == 0, result.text
    assert db.history() == [(1, "create_a", "applied", 2, 0)]


# --- output modes -----------------------------------------------------------------------------------


def test_quiet_shows_only_errors_and_the_summary(db: TempDatabase, scripts, cli) -> None:
    folder = scripts({"001_a.sql": A, "002_b.sql": B})
    ok = cli("-q", "--database-url", db.url, "--dir", str(folder))
    assert ok.code == 0, ok.text
    assert len(ok.out.splitlines()) == 1 and ok.out.startswith("done: 2 script(s) applied, 4 statements, 0 tolerated")
    assert ok.err == ""
    scripts({"003_bad.sql": "INSERT INTO no_such_table VALUES (1);\n"})
    bad = cli("-q", "--database-url", db.url, "--dir", str(folder))
    assert bad.code == 1
    assert bad.out == ""
    assert bad.err.startswith("error: ") and "003_bad.sql:1: statement failed" in bad.err


def test_verbose_shows_every_statement(db: TempDatabase, scripts, cli) -> None:
    folder = scripts({"001_a.sql": A, "002_b.sql": B})
    result = cli("-v", "--database-url", db.url, "--dir", str(folder))
    assert result.code == 0, result.text
    shown = re.findall(r"^  (\d+_\w+\.sql:\d+): ", result.out, re.M)
    assert shown == ["001_a.sql:1", "001_a.sql:2", "002_b.sql:1", "002_b.sql:3"]


def slow_scripts(kind: str, scripts) -> Path:  # noqa: ANN001
    """Scripts that run long enough (over a second) for the live progress line, plus a warning."""
    return scripts({
        "001_a.sql": A,
        "002_slow.sql": f"-- sqlrun: no-transaction\n{SLEEP[kind]}\nSELECT 1;\nSELECT 2;\n",
        "003_dup.sql": "CREATE TABLE a (id INTEGER PRIMARY KEY);\n",  # tolerated: a warning line
    })


@pytest.mark.parametrize("kind", SERVERS)
def test_piped_output_has_no_control_characters(kind: str, tmp_path: Path, scripts) -> None:
    from conftest import make_database

    for db in make_database(kind, tmp_path):
        folder = slow_scripts(kind, scripts)
        result = run_init_db("--database-url", db.url, "--dir", str(folder), cwd=tmp_path)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "applied 002_slow.sql: 3 statements" in result.stdout
        assert "tolerated" in result.stderr
        scripts({"004_bad.sql": "INSERT INTO no_such_table VALUES (1);\n"})
        failed = run_init_db("--database-url", db.url, "--dir", str(folder), cwd=tmp_path)
        assert failed.returncode == 1 and "error: " in failed.stderr
        for text in (result.stdout, result.stderr, failed.stdout, failed.stderr):
            assert "\x1b" not in text and "\r" not in text, repr(text)


def run_in_pty(args: list[str], cwd: Path, **env: str) -> str:
    """Run ``args`` with a pseudo-terminal as stdin, stdout and stderr; everything it wrote."""
    main, child = pty.openpty()
    full = {k: v for k, v in clean_env(TERM="xterm", **env).items() if k != "NO_COLOR" or "NO_COLOR" in env}
    proc = subprocess.Popen(args, cwd=cwd, env=full, stdin=child, stdout=child, stderr=child)
    os.close(child)
    chunks = []
    while True:
        try:
            data = os.read(main, 4096)
        except OSError:  # EIO: the child side is closed, everything has been read
            break
        if not data:
            break
        chunks.append(data)
    os.close(main)
    assert proc.wait(timeout=60) == 0, b"".join(chunks).decode(errors="replace")
    return b"".join(chunks).decode()


@pytest.mark.parametrize("kind", SERVERS)
def test_a_terminal_gets_color_and_a_live_progress_line(kind: str, tmp_path: Path, scripts) -> None:
    from conftest import make_database

    for db in make_database(kind, tmp_path):
        folder = slow_scripts(kind, scripts)
        output = run_in_pty([sys.executable, str(INIT_DB), "--database-url", db.url, "--dir", str(folder)], tmp_path)
        assert "\x1b[32mapplied\x1b[0m 001_a.sql" in output, repr(output)
        assert "\x1b[1;32mdone:\x1b[0m 3 script(s) applied" in output
        assert "\x1b[33mwarning: \x1b[0m" in output
        assert re.search(r"\r\x1b\[K  002_slow\.sql: [123]/3 statements, \d+s", output), repr(output)
        assert "\r\x1b[K\x1b[32mapplied\x1b[0m 002_slow.sql" in output, "the progress line is cleared before the next line"


def test_no_color_on_a_terminal_keeps_plain_words(tmp_path: Path, scripts) -> None:
    folder = scripts({"001_a.sql": A})
    output = run_in_pty(
        [sys.executable, str(INIT_DB), "--database-url", f"sqlite:///{tmp_path / 'app.db'}", "--dir", str(folder)], tmp_path, NO_COLOR="1"
    )
    assert "applied 001_a.sql" in output
    assert "\x1b[" not in output, repr(output)


def test_json_warnings_are_strings(db: TempDatabase, scripts, cli) -> None:
    folder = scripts({"001_a.sql": A, "003_c.sql": C})
    assert cli("--database-url", db.url, "--dir", str(folder)).code == 0
    scripts({"002_b.sql": B})  # arrives after 003 ran: applied out of order, with a warning
    result = cli("apply", "--database-url", db.url, "--dir", str(folder), "--json")
    assert result.code == 0, result.text
    data = json.loads(result.out)
    assert_shape(data, "apply")
    assert len(data["warnings"]) == 1 and isinstance(data["warnings"][0], str)
    assert "out of order" in data["warnings"][0] and "002_b.sql" in data["warnings"][0]
