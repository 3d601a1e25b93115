"""`diff` and `verify --schema`: the live schema against the one the scripts (or a schema file) build, object by object."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import sqlrun
from conftest import TempDatabase, need_client
from sqlrun.snapshot import take_url
from test_check import gone, scratch_names  # noqa: F401 - a fixture, used by name
from test_cli import assert_shape

SCHEMA = {
    "001_users.sql": "CREATE TABLE users (id INTEGER PRIMARY KEY, email VARCHAR(100), name VARCHAR(50));\n"
    "CREATE INDEX users_name_idx ON users (name);\n",
    "002_view.sql": "CREATE VIEW user_names AS SELECT name FROM users;\n",
}
DROP_INDEX = {"mysql": "DROP INDEX users_name_idx ON users"}
REDEFINE_VIEW = {
    "sqlite": "DROP VIEW user_names; CREATE VIEW user_names AS SELECT name, email FROM users;",
    "mysql": "CREATE OR REPLACE VIEW user_names AS SELECT name, email FROM users",
    "postgresql": "CREATE OR REPLACE VIEW user_names AS SELECT name, email FROM users",
}


def applied(db: TempDatabase, scripts, cli, files: dict[str, str] = SCHEMA) -> tuple[str, ...]:
    """Apply ``files`` to ``db``; the arguments that point a command at both."""
    args = ("--database-url", db.url, "--dir", str(scripts(files)))
    assert cli(*args).code == 0
    return args


def test_no_drift_right_after_apply(db: TempDatabase, scripts, cli) -> None:
    result = cli("diff", *applied(db, scripts, cli))
    assert result.code == 0, result.text
    assert "no drift" in result.out


def test_a_column_added_by_hand_is_added(db: TempDatabase, scripts, cli) -> None:
    args = applied(db, scripts, cli)
    db.execute("ALTER TABLE users ADD COLUMN nickname VARCHAR(20)")
    result = cli("diff", *args)
    assert result.code == 3, result.text
    assert "added column users.nickname: #4 " in result.out
    assert "removed" not in result.out


def test_an_index_dropped_by_hand_is_removed(db: TempDatabase, scripts, cli) -> None:
    args = applied(db, scripts, cli)
    db.execute(DROP_INDEX.get(db.kind, "DROP INDEX users_name_idx"))
    result = sqlrun.diff(db.url, args[-1])
    [drift] = result.differences
    assert (drift.change, drift.kind, drift.table, drift.name, drift.actual) == ("removed", "index", "users", "users_name_idx", None)
    assert drift.expected and "name" in drift.expected


def test_a_redefined_view_is_changed_with_both_definitions(db: TempDatabase, scripts, cli) -> None:
    args = applied(db, scripts, cli)
    db.execute(REDEFINE_VIEW[db.kind])
    result = cli("diff", *args)
    assert result.code == 3, result.text
    lines = result.out.splitlines()
    at = lines.index("changed view user_names")
    assert lines[at + 1].startswith("  expected: ") and "email" not in lines[at + 1]
    assert lines[at + 2].startswith("  actual: ") and "email" in lines[at + 2]
    assert "1 difference(s)" in result.out


RETYPE = {
    "mysql": "ALTER TABLE users MODIFY email VARCHAR(200)",
    "postgresql": "ALTER TABLE users ALTER COLUMN email TYPE VARCHAR(200)",
}


@pytest.mark.parametrize("kind", sorted(RETYPE))  # SQLite has no ALTER COLUMN: a rebuilt table is another test's
def test_a_column_retyped_by_hand_is_changed(kind: str, scripts, cli, tmp_path: Path) -> None:
    from conftest import make_database

    for db in make_database(kind, tmp_path):
        args = applied(db, scripts, cli)
        db.execute(RETYPE[kind])
        [drift] = sqlrun.diff(db.url, args[-1]).differences
        assert (drift.change, drift.kind, drift.table, drift.name) == ("changed", "column", "users", "email")
        assert drift.expected and "100" in drift.expected and drift.actual and "200" in drift.actual


# A key written without a name, made again by hand: the server names the copy otherwise (PostgreSQL
# child_email_key1, MySQL email_2). SQLite's made-up names follow the table, so there the table is rebuilt
# the way SQLite's documentation does it (new table, copy, drop, rename); the rename writes the CREATE text
# with the name quoted, so the script quotes it too: the text is the table's definition on SQLite.
UNNAMED_KEY = {
    "sqlite": 'CREATE TABLE "child" (id INTEGER PRIMARY KEY, email VARCHAR(100), UNIQUE (email));\n',
    "mysql": "CREATE TABLE child (id INTEGER PRIMARY KEY, email VARCHAR(100), UNIQUE (email));\n",
    "postgresql": "CREATE TABLE child (id INTEGER PRIMARY KEY, email VARCHAR(100), UNIQUE (email));\n",
}
MADE_AGAIN = {
    "sqlite": ["CREATE TABLE child_new (id INTEGER PRIMARY KEY, email VARCHAR(100), UNIQUE (email))",
               "INSERT INTO child_new SELECT * FROM child", "DROP TABLE child", "ALTER TABLE child_new RENAME TO child"],
    "mysql": ["ALTER TABLE child ADD UNIQUE (email)", "ALTER TABLE child DROP INDEX email"],
    "postgresql": ["ALTER TABLE child ADD UNIQUE (email)", "ALTER TABLE child DROP CONSTRAINT child_email_key"],
}
MADE_UP_NAME = {"sqlite": "sqlite_autoindex_child_1", "mysql": "email_2", "postgresql": "child_email_key1"}


def test_an_unnamed_key_made_again_under_another_name_is_no_drift(db: TempDatabase, scripts, cli) -> None:
    args = applied(db, scripts, cli, {"001_child.sql": UNNAMED_KEY[db.kind]})
    for statement in MADE_AGAIN[db.kind]:
        db.execute(statement)
    assert MADE_UP_NAME[db.kind] in {i.name for i in take_url(db.url).items}  # the premise: the name the server chose
    result = cli("diff", *args)
    assert result.code == 0, result.text


def test_diff_json_has_the_documented_shape(db: TempDatabase, scripts, cli) -> None:
    args = applied(db, scripts, cli)
    db.execute("ALTER TABLE users ADD COLUMN nickname VARCHAR(20)")
    db.execute(REDEFINE_VIEW[db.kind])
    result = cli("diff", *args, "--json")
    assert result.code == 3, result.text
    data = json.loads(result.out)
    assert_shape(data, "diff")
    assert data["against"] is None and data["drifted"] is True and data["not_applied"] == []
    for d in data["differences"]:
        assert_shape(d, "diff.differences[]")
    found = {(d["change"], d["kind"], d["table"], d["name"]) for d in data["differences"]}
    assert {("added", "column", "users", "nickname"), ("changed", "view", "", "user_names")} <= found
    [view] = [d for d in data["differences"] if d["kind"] == "view"]
    assert "email" in view["actual"] and "email" not in view["expected"]
    [column] = [d for d in data["differences"] if d["kind"] == "column"]
    assert column["expected"] is None and column["actual"].startswith("#4 ")


def test_against_a_schema_file(db: TempDatabase, scripts, cli, tmp_path: Path) -> None:
    args = applied(db, scripts, cli)
    schema = tmp_path / "schema.sql"
    schema.write_text("".join(SCHEMA.values()) + "ALTER TABLE users ADD COLUMN nickname VARCHAR(20);\n", encoding="utf-8")
    result = cli("diff", *args, "--against", str(schema))
    assert result.code == 3, result.text
    assert "removed column users.nickname: #4 " in result.out
    assert f"between the database and {schema}" in result.out
    db.execute("ALTER TABLE users ADD COLUMN nickname VARCHAR(20)")
    again = cli("diff", *args, "--against", str(schema), "--json")
    assert again.code == 0, again.text
    assert json.loads(again.out)["against"] == str(schema)


DUMP = {
    "sqlite": lambda db: ["sqlite3", str(db.path), ".dump"],  # .schema adds a comment inside each CREATE VIEW
    "mysql": lambda db: ["mysqldump", "--no-data", "--skip-comments", "-h", "127.0.0.1", "-u", "root", db.name],
    "postgresql": lambda db: ["pg_dump", "--schema-only", "--no-owner", "-h", "127.0.0.1", "-U", "postgres", db.name],
}


def test_against_the_official_clients_dump(db: TempDatabase, scripts, cli, tmp_path: Path) -> None:
    import subprocess

    command = DUMP[db.kind](db)
    need_client(command[0])
    args = applied(db, scripts, cli, {**SCHEMA, "003_child.sql": UNNAMED_KEY[db.kind]})
    dump = tmp_path / "dump.sql"
    dump.write_text(subprocess.run(command, check=True, capture_output=True, text=True).stdout, encoding="utf-8")
    result = cli("diff", *args, "--against", str(dump))
    assert result.code == 0, result.text + dump.read_text()


def test_against_the_file_sqlrun_dump_writes(db: TempDatabase, scripts, cli, tmp_path: Path) -> None:
    args = applied(db, scripts, cli, {**SCHEMA, "003_child.sql": UNNAMED_KEY[db.kind]})
    schema = tmp_path / "schema.sql"
    written = cli("dump", *args, "--output", str(schema))
    assert written.code == 0, written.text
    same = cli("diff", *args, "--against", str(schema))
    assert same.code == 0, same.text + schema.read_text()
    db.execute("ALTER TABLE users ADD COLUMN nickname VARCHAR(20)")
    drifted = cli("diff", *args, "--against", str(schema))
    assert drifted.code == 3, drifted.text
    assert "added column users.nickname" in drifted.out


def test_a_failing_schema_file_names_its_line_and_leaves_no_scratch(db: TempDatabase, scripts, cli, tmp_path: Path, scratch_names: list[str]) -> None:
    args = applied(db, scripts, cli)
    schema = tmp_path / "schema.sql"
    schema.write_text("CREATE TABLE t (a INTEGER);\nSELECT * FROM no_such_table;\n", encoding="utf-8")
    result = cli("diff", *args, "--against", str(schema))
    assert result.code == 1, result.text
    assert f"{schema}:2" in result.err
    assert len(scratch_names) == 1 and gone(db.kind, scratch_names)


def test_the_scratch_database_is_gone_even_after_a_failing_script(db: TempDatabase, scripts, cli, scratch_names: list[str]) -> None:
    args = applied(db, scripts, cli)
    assert cli("diff", *args).code == 0
    scripts({"003_bad.sql": "SELECT * FROM no_such_table;\n"})
    with pytest.raises(sqlrun.StatementError, match="003_bad.sql:1"):
        sqlrun.diff(db.url, args[-1])
    assert len(scratch_names) == 2 and gone(db.kind, scratch_names)


def test_the_scratch_database_is_gone_after_ctrl_c(db: TempDatabase, scripts, cli, monkeypatch, scratch_names: list[str]) -> None:
    from sqlrun import snapshot

    args = applied(db, scripts, cli)

    real = snapshot.take

    def interrupted(db, *args: object):  # noqa: ANN001, ANN202
        if not scratch_names:  # the live database, read first
            return real(db, *args)
        raise KeyboardInterrupt

    monkeypatch.setattr(snapshot, "take", interrupted)  # once the scratch database is built, while it is read
    with pytest.raises(KeyboardInterrupt):
        sqlrun.diff(db.url, args[-1])
    assert len(scratch_names) == 1 and gone(db.kind, scratch_names)


def test_verify_schema_exits_3_when_drifted_and_0_when_not(db: TempDatabase, scripts, cli) -> None:
    args = applied(db, scripts, cli)
    clean = cli("verify", *args, "--schema")
    assert clean.code == 0, clean.text
    assert "verify: 0 problem(s)" in clean.out and "no drift" in clean.out
    db.execute(DROP_INDEX.get(db.kind, "DROP INDEX users_name_idx"))
    assert cli("verify", *args).code == 0  # without --schema, verify looks at the history only
    drifted = cli("verify", *args, "--schema")
    assert drifted.code == 3, drifted.text
    assert "removed index users.users_name_idx" in drifted.out


def test_scripts_not_applied_yet_are_named_as_a_likely_cause(db: TempDatabase, scripts, cli) -> None:
    args = applied(db, scripts, cli)
    scripts({"003_more.sql": "CREATE TABLE more (id INTEGER);\n"})
    result = cli("diff", *args)
    assert result.code == 3, result.text
    assert "removed table more" in result.out
    assert "1 script not applied on this database (003_more.sql)" in result.err
    data = json.loads(cli("diff", *args, "--json").out)
    assert data["not_applied"] == ["003_more.sql"]
    assert "003_more.sql" in cli("verify", *args, "--schema").err


def test_a_missing_database_is_an_error_and_is_not_created(db: TempDatabase, scripts, cli, scratch_names: list[str]) -> None:
    folder = scripts(SCHEMA)
    url = db.url.replace(db.name, db.name + "_none")
    result = cli("diff", "--database-url", url, "--dir", str(folder))
    assert result.code == 2, result.text
    assert "no such database" in result.err
    assert scratch_names == []  # the live database is read first: no scratch build for a wrong URL
    if db.kind == "sqlite":
        assert db.path is not None and not Path(str(db.path).replace(db.name, db.name + "_none")).exists()


def test_the_library_raises_for_drift(db: TempDatabase, scripts, cli) -> None:
    args = applied(db, scripts, cli)
    sqlrun.diff(db.url, args[-1]).raise_for_drift()  # nothing to raise
    db.execute("ALTER TABLE users ADD COLUMN nickname VARCHAR(20)")
    db.execute(REDEFINE_VIEW[db.kind])
    with pytest.raises(sqlrun.DriftError, match="added column users.nickname") as caught:
        sqlrun.diff(db.url, args[-1]).raise_for_drift()
    assert caught.value.exit_code == 3
    assert "    expected: " in str(caught.value) and "    actual:   " in str(caught.value)  # a changed view's two definitions
