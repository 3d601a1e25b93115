"""`check`: a scratch database, every script twice, and each statement that does not converge named by file:line."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest

import sqlrun
from conftest import TempDatabase, admin, require, server_url
from test_cli import assert_shape

EVLOG = {
    "001_init.sql": "CREATE TABLE boot (id INTEGER PRIMARY KEY);\n",
    "002_log.sql": "CREATE TABLE evlog (msg VARCHAR(20));\n\nINSERT INTO evlog (msg) VALUES ('boot');\n",
}
CONVERGING = {
    "001_roles.sql": "CREATE TABLE roles (id INTEGER PRIMARY KEY, name VARCHAR(20) NOT NULL);\n"
    "INSERT INTO roles (id, name) VALUES (1, 'admin');\n",
    "002_view.sql": "DROP VIEW IF EXISTS role_names;\nCREATE VIEW role_names AS SELECT name FROM roles;\n",
}


def scratch_databases(kind: str) -> set[str]:
    """The scratch databases that exist on the server for ``kind`` now."""
    with admin(kind) as cur:
        if kind == "postgresql":
            cur.execute("SELECT datname FROM pg_database WHERE datname LIKE 'sqlrun\\_check\\_%'")
        else:
            cur.execute("SELECT schema_name FROM information_schema.schemata WHERE schema_name LIKE 'sqlrun\\_check\\_%'")
        return {r[0] for r in cur.fetchall()}


def test_a_seed_insert_without_a_key_is_reported_at_its_line(db: TempDatabase, scripts, cli) -> None:
    folder = scripts(EVLOG)
    result = cli("check", "--database-url", db.url, "--dir", str(folder))
    assert result.code == 3, result.text
    assert "002_log.sql:3: changed: INSERT INTO evlog (msg) VALUES ('boot')" in result.out
    assert "rows table evlog (1 -> 2 rows)" in result.out
    assert "does not converge" in result.out


def test_check_json_has_the_documented_shape(db: TempDatabase, scripts, cli) -> None:
    folder = scripts(EVLOG)
    result = cli("check", "--database-url", db.url, "--dir", str(folder), "--json")
    assert result.code == 3, result.text
    data = json.loads(result.out)
    assert_shape(data, "check")
    assert data["converges"] is False and data["scripts"] == 2
    [finding] = data["findings"]
    assert_shape(finding, "check.findings[]")
    assert (finding["file"], finding["line"], finding["problem"]) == ("002_log.sql", 3, "changed")
    assert data["differences"] == ["rows table evlog (1 -> 2 rows)"]


def test_a_directory_that_converges_exits_0(db: TempDatabase, scripts, cli) -> None:
    folder = scripts(CONVERGING)
    result = cli("check", "--database-url", db.url, "--dir", str(folder))
    assert result.code == 0, result.text
    assert "converges" in result.out


def test_the_target_database_is_left_alone(db: TempDatabase, scripts, cli) -> None:
    folder = scripts(EVLOG)
    assert cli("check", "--database-url", db.url, "--dir", str(folder)).code == 3
    if db.kind == "sqlite":
        assert db.path is not None and not db.path.exists()
    else:
        assert db.tables() == set()


def test_a_statement_that_fails_on_the_second_run_is_reported(db: TempDatabase, scripts) -> None:
    folder = scripts({"001_t.sql": "CREATE TABLE t (a INTEGER);\nALTER TABLE t RENAME COLUMN a TO b;\n"})
    result = sqlrun.check(db.url, folder)
    assert not result.converges
    failed = [f for f in result.findings if f.problem == "failed"]
    assert [(f.location, f.statement) for f in failed] == [("001_t.sql:2", "ALTER TABLE t RENAME COLUMN a TO b")]
    assert "a" in failed[0].changes[0]  # the database's own message


def test_a_helper_made_and_dropped_by_its_script_is_not_reported_beside_a_real_change(db: TempDatabase, scripts) -> None:
    # icinga2-ido-mysql's upgrade scripts make a helper function, use it and drop it, and also stamp a row.
    folder = scripts({
        "001_t.sql": "CREATE TABLE t (id INTEGER PRIMARY KEY);\nCREATE TABLE evlog (msg VARCHAR(20));\n",
        "002_up.sql": "CREATE VIEW helper AS SELECT id FROM t;\nINSERT INTO evlog (msg) VALUES ('up');\nDROP VIEW helper;\n",
    })
    result = sqlrun.check(db.url, folder)
    assert [(f.location, f.problem) for f in result.findings] == [("002_up.sql:2", "changed")]


def test_a_seed_table_dropped_and_made_again_loses_rows(db: TempDatabase, scripts) -> None:
    folder = scripts({
        "001_seed.sql": "DROP TABLE IF EXISTS seed;\nCREATE TABLE seed (id INTEGER);\nINSERT INTO seed (id) VALUES (1);\n",
    })
    result = sqlrun.check(db.url, folder)
    assert not result.converges
    assert result.differences == ()  # the end state is the same: only the row lost on the way shows it
    assert [f.location for f in result.findings][0] == "001_seed.sql:1"
    assert "rows table seed (1 rows dropped with the table)" in result.findings[0].changes


def test_a_column_dropped_and_added_again_is_reported_at_its_drop(db: TempDatabase, scripts) -> None:
    # Run again, the DROP meets the column the later ADD made: its values go, and it comes back last. sqlrun
    # cannot tell that column from the one the DROP meant, so it runs the DROP as the client would; check says so.
    folder = scripts({
        "001_t.sql": "CREATE TABLE t (id INTEGER NOT NULL, a INTEGER);\nALTER TABLE t ADD COLUMN c1 INTEGER;\n"
                     "ALTER TABLE t DROP COLUMN c1;\nALTER TABLE t ADD COLUMN c1 INTEGER;\nALTER TABLE t ADD COLUMN c2 INTEGER;\n",
    })
    result = sqlrun.check(db.url, folder)
    assert not result.converges
    assert [f.location for f in result.findings] == ["001_t.sql:3", "001_t.sql:4"]
    assert any(change.startswith("removed column c1 on t") for change in result.findings[0].changes)


def test_the_library_returns_the_findings(db: TempDatabase, scripts) -> None:
    result = sqlrun.check(db.url, scripts(CONVERGING))
    assert result.converges and result.findings == () and result.scripts == 2
    assert result.statements >= 4


@pytest.fixture
def scratch_names(monkeypatch) -> list[str]:
    """The scratch databases (or SQLite folders) ``check`` makes in this test, in order."""
    from sqlrun import converge

    made: list[str] = []
    real = converge.scratch_url

    def recording(url):  # noqa: ANN001, ANN202
        scratch = real(url)
        made.append(scratch.database or "")
        return scratch

    monkeypatch.setattr(converge, "scratch_url", recording)
    return made


def gone(kind: str, names: list[str]) -> bool:
    """True when none of ``names`` exists any more (other sessions may run ``check`` on the same server meanwhile)."""
    if kind == "sqlite":
        return not any(Path(name).parent.exists() for name in names)
    return not set(names) & scratch_databases(kind)


@pytest.mark.parametrize("kind", ["mysql", "postgresql"])
def test_the_scratch_database_is_dropped_even_after_a_failure(kind: str, scripts, scratch_names: list[str]) -> None:
    require(kind)
    ok = sqlrun.check(_raw(kind), scripts(EVLOG))
    assert not ok.converges and scratch_names and scratch_names[0] in ok.database
    folder = scripts({"003_bad.sql": "SELECT * FROM no_such_table;\n"})
    with pytest.raises(sqlrun.StatementError, match="003_bad.sql:1"):
        sqlrun.check(_raw(kind), folder)
    assert len(scratch_names) == 2 and gone(kind, scratch_names)


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_the_scratch_database_is_dropped_after_ctrl_c(kind: str, scripts, monkeypatch, scratch_names: list[str], tmp_path: Path) -> None:
    require(kind)
    from sqlrun import execute

    def interrupted(*_: object, **__: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(execute, "run_script", interrupted)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    url = f"sqlite:///{tmp_path / 'app.db'}" if kind == "sqlite" else _raw(kind)
    with pytest.raises(KeyboardInterrupt):
        sqlrun.check(url, scripts(EVLOG))
    assert len(scratch_names) == 1 and gone(kind, scratch_names)


def _raw(kind: str) -> str:
    from conftest import _raw_url

    return _raw_url(server_url(kind).with_database("unused"))


UNNAMED = {
    "postgresql": "CREATE TABLE parent (id INTEGER NOT NULL);\nALTER TABLE ONLY parent ADD CONSTRAINT parent_pkey PRIMARY KEY (id);\n"
    "CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER, email TEXT);\nALTER TABLE child ADD UNIQUE (email);\n"
    "ALTER TABLE child ADD FOREIGN KEY (parent_id) REFERENCES parent (id);\nALTER TABLE child ADD CHECK (id > 0);\n"
    "CREATE INDEX ON child (parent_id);\n",
    "mysql": "CREATE TABLE parent (id INTEGER NOT NULL);\nALTER TABLE parent ADD PRIMARY KEY (id);\n"
    "CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER, email VARCHAR(50));\nALTER TABLE child ADD UNIQUE (email);\n"
    "ALTER TABLE child ADD FOREIGN KEY (parent_id) REFERENCES parent (id);\nALTER TABLE child ADD CHECK (id > 0);\n"
    "ALTER TABLE child ADD INDEX (email, parent_id);\n",
}


@pytest.mark.parametrize("kind", ["mysql", "postgresql"])
def test_unnamed_keys_and_re_added_primary_keys_converge(kind: str, scripts) -> None:
    require(kind)
    result = sqlrun.check(_raw(kind), scripts({"001_schema.sql": UNNAMED[kind]}))
    assert result.converges, result.findings
    assert result.tolerated >= 6  # tables, the re-added key and every unnamed object: each shown in place
