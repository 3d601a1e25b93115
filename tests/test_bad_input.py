"""Bad input, on every database: one clear message, exit code, nothing recorded, no traceback, no password.

PostgreSQL's test server trusts 127.0.0.1, so it accepts any password: the "wrong password" case there is a
login as a role that does not exist, which libpq reports the same way (and the password must not show either).
"""

from __future__ import annotations

import os
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator
from urllib.parse import quote

import pytest

from conftest import TempDatabase, admin, require, server_url
from subproc import run

# Characters that URL-encoding changes, so that neither the raw nor the encoded form may leak.
SECRET = "Pw-s3cr3t/@:%x"
ENCODED = quote(SECRET, safe="")
GOOD = "CREATE TABLE good (id INTEGER PRIMARY KEY);\nINSERT INTO good (id) VALUES (1);\n"


def nothing_recorded(db: TempDatabase) -> None:
    """No script ran and no history row was written."""
    tables = db.tables()
    assert "good" not in tables
    assert "sqlrun_history" not in tables or db.history() == []


# --- scripts that cannot be read or split (every database, in-process) ---------------------------------------------

SCRIPT_CASES = {
    "unterminated string": ("INSERT INTO good (id) VALUES (2);\nINSERT INTO t VALUES ('abc);\n", "002_bad.sql:2:23: unterminated string"),
    "unterminated comment": ("SELECT 1;\n/* never closed\n", "002_bad.sql:2:1: unterminated comment"),
    "not UTF-8": (b"SELECT 1;\n-- caf\xe9\n", "002_bad.sql:2: not valid UTF-8 at byte offset 16"),
    "empty file": ("", "002_bad.sql:1: the script is empty"),
    "blank file": (" \n\n", "002_bad.sql:1: the script is empty"),
}


@pytest.mark.parametrize("case", SCRIPT_CASES)
def test_a_bad_script_stops_the_run_before_anything_runs(db: TempDatabase, scripts, cli, case: str) -> None:
    body, message = SCRIPT_CASES[case]
    folder = scripts({"001_good.sql": GOOD, "002_bad.sql": body})
    result = cli("--database-url", db.url, "--dir", str(folder))
    assert result.code == 2, result.text
    assert message in result.err
    assert "Traceback" not in result.text
    nothing_recorded(db)


@pytest.mark.parametrize("db", ["postgresql"], indirect=True)  # dollar quotes are PostgreSQL's
def test_unterminated_dollar_quote(db: TempDatabase, scripts, cli) -> None:
    folder = scripts({"001_good.sql": GOOD, "002_bad.sql": "CREATE FUNCTION f() RETURNS int AS $$ SELECT 1;\n"})
    result = cli("--database-url", db.url, "--dir", str(folder))
    assert result.code == 2, result.text
    assert "002_bad.sql:1:36: unterminated dollar-quoted string $$" in result.err
    nothing_recorded(db)


@pytest.mark.parametrize("names", [("002_a.sql", "2_a.sql"), ("002_a.sql", "002_b.sql")])
def test_duplicate_versions(db: TempDatabase, scripts, cli, names: tuple[str, str]) -> None:
    folder = scripts({"001_good.sql": GOOD, names[0]: "SELECT 1;", names[1]: "SELECT 2;"})
    result = cli("--database-url", db.url, "--dir", str(folder))
    assert result.code == 2, result.text
    assert "version 2" in result.err and names[0] in result.err and names[1] in result.err
    nothing_recorded(db)


def test_missing_directory(db: TempDatabase, cli, tmp_path: Path) -> None:
    result = cli("--database-url", db.url, "--dir", str(tmp_path / "nowhere"))
    assert result.code == 2, result.text
    assert f"migrations directory {tmp_path / 'nowhere'} does not exist: create it or pass --dir" in result.err
    nothing_recorded(db)


def test_history_table_of_another_shape(db: TempDatabase, scripts, cli) -> None:
    db.execute("CREATE TABLE sqlrun_history (id INTEGER PRIMARY KEY, note VARCHAR(20))")
    db.execute("INSERT INTO sqlrun_history (id, note) VALUES (1, 'theirs')")
    result = cli("--database-url", db.url, "--dir", str(scripts({"001_good.sql": GOOD})))
    assert result.code == 2, result.text
    assert "table sqlrun_history exists but does not have sqlrun's columns" in result.err
    assert "Traceback" not in result.text
    assert "good" not in db.tables()
    assert db.query("SELECT id, note FROM sqlrun_history") == [(1, "theirs")]


def test_unknown_url_scheme(cli, scripts, tmp_path: Path) -> None:
    result = cli("--database-url", f"oracle://app:{ENCODED}@db/app", "--dir", str(scripts({"001_good.sql": GOOD})))
    assert result.code == 2
    assert "unknown database URL scheme 'oracle'" in result.err and "postgresql://" in result.err
    assert SECRET not in result.text and ENCODED not in result.text


def test_sqlite_file_that_cannot_be_created(scripts, cli) -> None:
    result = cli("--database-url", "sqlite:////proc/sqlrun-nowhere/app.db", "--dir", str(scripts({"001_good.sql": GOOD})))
    assert result.code == 4, result.text
    assert "cannot connect to sqlite:////proc/sqlrun-nowhere/app.db" in result.err
    assert not os.path.exists("/proc/sqlrun-nowhere")


# --- logins and rights, through real processes so that the environment is real ------------------------------------


@dataclass
class Case:
    """A failure to provoke: what the login may do, where it points, and what must be said."""

    code: int
    message: str
    rights: str = "all"  # all | none | select | wrong-password | no-such-user
    port: int | None = None
    database_exists: bool = True
    files: dict[str, str | bytes] = field(default_factory=lambda: {"001_good.sql": GOOD})
    setup: Callable[[str, str], None] | None = None  # (kind, database) -> None, run as admin
    folder: str = "migrations"


def _other_shape(kind: str, database: str) -> None:
    with admin(kind, database) as cur:
        cur.execute("CREATE TABLE sqlrun_history (id INTEGER PRIMARY KEY, note VARCHAR(20))")


MESSAGES = {
    "mysql": {"wrong-password": "Access denied for user", "no-create": "Access denied for user", "denied": "CREATE command denied"},
    "postgresql": {"wrong-password": "does not exist", "no-create": "permission denied to create database", "denied": "permission denied for schema public"},
}
LOGIN_CASES = {
    "wrong password": Case(4, "wrong-password", rights="wrong-password"),
    "unreachable host": Case(4, "refused", port=1),
    "database cannot be created": Case(4, "no-create", rights="none", database_exists=False),
    "permission denied on CREATE": Case(2, "denied", rights="select"),
    "history of another shape": Case(2, "exists but does not have sqlrun's columns", setup=_other_shape),
    "unterminated string": Case(2, "002_bad.sql:1:23: unterminated string", files={"001_good.sql": GOOD, "002_bad.sql": "INSERT INTO t VALUES ('abc);\n"}),
    "not UTF-8": Case(2, "not valid UTF-8 at byte offset 6", files={"001_good.sql": GOOD, "002_bad.sql": b"-- caf\xe9\n"}),
    "empty file": Case(2, "the script is empty", files={"001_good.sql": GOOD, "002_bad.sql": ""}),
    "duplicate versions": Case(2, "is used twice", files={"001_good.sql": GOOD, "1_good.sql": GOOD}),
    "missing directory": Case(2, "does not exist: create it or pass --dir", folder="nowhere"),
    "failing statement": Case(1, "statement failed", files={"001_good.sql": GOOD + "INSERT INTO nowhere VALUES (1);\n"}),
}


@contextmanager
def login(kind: str, case: Case) -> Iterator[tuple[str, str]]:
    """A database and a user for ``case`` whose password is SECRET (or is not, for a wrong password); dropped after."""
    tag = uuid.uuid4().hex[:10]
    database, user = f"sqlrun_b_{tag}", f"sqlrun_u_{tag}"
    if case.rights == "no-such-user":
        user = f"sqlrun_nobody_{tag}"
    with admin(kind) as cur:
        if case.database_exists:
            cur.execute(f"CREATE DATABASE {database}")
        if kind == "mysql":
            password = "another-password" if case.rights == "wrong-password" else SECRET
            cur.execute(f"CREATE USER '{user}'@'%%' IDENTIFIED BY %s", (password,))
            grant = {"all": "ALL", "select": "SELECT", "wrong-password": "ALL"}.get(case.rights)
            if grant:
                cur.execute(f"GRANT {grant} ON `{database}`.* TO '{user}'@'%'")
        elif case.rights != "no-such-user":  # trust auth: the wrong-password case logs in as a role that does not exist
            from psycopg import sql

            cur.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(sql.Identifier(user), sql.Literal(SECRET)))
            if case.database_exists and case.rights == "all":
                cur.execute(f"ALTER DATABASE {database} OWNER TO {user}")
                with admin(kind, database) as dbcur:
                    dbcur.execute(f"ALTER SCHEMA public OWNER TO {user}")
    try:
        if case.setup:
            case.setup(kind, database)
        yield database, user
    finally:
        with admin(kind) as cur:
            if kind == "mysql":
                cur.execute(f"DROP DATABASE IF EXISTS {database}")
                cur.execute(f"DROP USER IF EXISTS '{user}'@'%'")
            else:
                cur.execute(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
                cur.execute(f"DROP ROLE IF EXISTS {user}")


def _args_and_env(kind: str, channel: str, database: str, user: str, port: int) -> tuple[list[str], dict[str, str]]:
    host = server_url(kind).host or "127.0.0.1"
    if channel == "env":
        prefix = "MYSQL_" if kind == "mysql" else "PG"
        env = {f"{prefix}HOST": host, f"{prefix}PORT": str(port), f"{prefix}USER": user, f"{prefix}PASSWORD": SECRET, f"{prefix}DATABASE": database}
        return [], env
    return ["--database-url", f"{kind}://{user}:{ENCODED}@{host}:{port}/{database}"], {}


def _state(kind: str, database: str) -> tuple[bool, list[str], list[tuple]]:
    """Whether the database exists, its tables, and its history rows (if it has sqlrun's history)."""
    with admin(kind) as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s" if kind == "postgresql" else "SHOW DATABASES LIKE %s", (database,))
        if not cur.fetchall():
            return False, [], []
    with admin(kind, database) as cur:
        cur.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'" if kind == "postgresql" else "SHOW TABLES")
        tables = sorted(r[0] for r in cur.fetchall())
        rows: list[tuple] = []
        if "sqlrun_history" in tables:
            cur.execute("SELECT * FROM sqlrun_history")
            rows = [tuple(r) for r in cur.fetchall()]
        return True, tables, rows


@pytest.mark.slow
@pytest.mark.parametrize("channel", ["url", "env", "url -v"])
@pytest.mark.parametrize("kind", ["mysql", "postgresql"])
@pytest.mark.parametrize("name", LOGIN_CASES)
def test_failures_say_what_happened_and_never_show_the_password(kind: str, channel: str, name: str, tmp_path: Path) -> None:
    require(kind)
    case = LOGIN_CASES[name]
    if kind == "postgresql" and case.rights == "wrong-password":
        case = Case(case.code, case.message, rights="no-such-user")
    folder = tmp_path / "migrations"
    folder.mkdir()
    for file, body in case.files.items():
        (folder / file).write_bytes(body if isinstance(body, bytes) else body.encode())
    with login(kind, case) as (database, user):
        before = _state(kind, database)
        port = case.port or server_url(kind).port or (3306 if kind == "mysql" else 5432)
        args, env = _args_and_env(kind, channel.split()[0], database, user, port)
        verbose = ["-v"] if channel.endswith("-v") else []
        result = run(tmp_path, *verbose, *args, "--dir", case.folder, env=env, timeout=60)
        after = _state(kind, database)

    assert result.code == case.code, result.text
    assert MESSAGES[kind].get(case.message, case.message) in result.err, result.err
    assert SECRET not in result.text and ENCODED not in result.text
    assert ("Traceback" in result.err) == bool(verbose), result.err
    if case.code == 1:  # the failing script: its first statements may have run, but it is never on record as applied
        assert all(row[4] != "applied" for row in after[2] if row[0] == 1)
    else:
        assert after == before, "nothing may be created or recorded"
