"""Placeholders: where ${name} is replaced (statements, strings, identifiers) and where not (comments)."""

from __future__ import annotations

import pytest

from sqlrun.errors import ConfigError
from sqlrun.placeholders import Placeholders, PlaceholderError, is_secret, resolve

VALUES = Placeholders({"tbl": "users", "pw": "s3cr;et", "schema": "app"})


@pytest.mark.parametrize("dialect", ["mysql", "postgresql", "sqlite"])
def test_statement_text_strings_and_identifiers_are_replaced(dialect: str) -> None:
    quote = "`" if dialect == "mysql" else '"'
    text = f"CREATE USER x IDENTIFIED BY '${{pw}}'; SELECT * FROM {quote}${{schema}}{quote}.${{tbl}}"
    assert VALUES.substitute(text, dialect, "f.sql", 1) == f"CREATE USER x IDENTIFIED BY 's3cr;et'; SELECT * FROM {quote}app{quote}.users"


@pytest.mark.parametrize("dialect", ["mysql", "postgresql", "sqlite"])
def test_comments_are_left_alone(dialect: str) -> None:
    text = "SELECT 1 -- uses ${missing}\n/* and ${missing} */ FROM ${tbl}"
    assert VALUES.substitute(text, dialect, "f.sql", 1) == "SELECT 1 -- uses ${missing}\n/* and ${missing} */ FROM users"


def test_mysql_hash_comments_are_comments_and_a_quote_in_a_string_is_not() -> None:
    text = "SELECT '# not a comment ${tbl}' # ${missing}\n, 'it''s -- ${tbl}', \"a\\\"b ${tbl}\""
    assert VALUES.substitute(text, "mysql", "f.sql", 1) == "SELECT '# not a comment users' # ${missing}\n, 'it''s -- users', \"a\\\"b users\""


def test_postgresql_dollar_bodies_are_left_alone_unless_asked() -> None:
    text = "CREATE FUNCTION f() RETURNS text AS $fn$ SELECT format('${x}') $fn$ LANGUAGE sql; -- ${tbl}"
    assert VALUES.substitute(text, "postgresql", "f.sql", 1) == text
    inside = Placeholders({"x": "y"}, in_dollar_quotes=True)
    assert "format('y')" in inside.substitute(text, "postgresql", "f.sql", 1)
    untagged = "DO $$ BEGIN RAISE NOTICE '${x}'; END $$"
    assert VALUES.substitute(untagged, "postgresql", "f.sql", 1) == untagged


def test_postgresql_e_strings_keep_backslash_escapes() -> None:
    text = r"SELECT E'it\'s ${tbl}', 'plain ${tbl}', ${tbl}.e"
    assert VALUES.substitute(text, "postgresql", "f.sql", 1) == r"SELECT E'it\'s users', 'plain users', users.e"


@pytest.mark.parametrize("dialect", ["mysql", "postgresql", "sqlite"])
def test_double_dollar_writes_a_literal_placeholder(dialect: str) -> None:
    assert VALUES.substitute("SELECT '$${tbl}', ${tbl}", dialect, "f.sql", 1) == "SELECT '${tbl}', users"


def test_an_unset_name_names_file_and_line() -> None:
    with pytest.raises(PlaceholderError) as err:
        VALUES.substitute("SELECT 1,\n  2,\n  '${nope}'", "postgresql", "data/migrations/003_x.sql", 10)
    assert str(err.value).startswith("data/migrations/003_x.sql:12: placeholder ${nope} has no value")
    assert err.value.exit_code == 2


def test_values_come_from_var_then_environment_then_settings() -> None:
    found = resolve(
        ["a=cli"],
        {"SQLRUN_VAR_A": "env", "SQLRUN_VAR_B": "env", "SQLRUN_VAR_APP_PASSWORD": "pw", "OTHER": "x"},
        {"a": "file", "b": "file", "c": 3, "on": True},
    )
    assert found.values == {"a": "cli", "b": "env", "c": "3", "on": "true", "app_password": "pw"}
    assert found.secret == {"app_password"}


def test_secret_names() -> None:
    assert is_secret("APP_PASSWORD") and is_secret("api_token") and is_secret("client_secret")
    assert not is_secret("schema") and is_secret("schema", ["schema"])
    assert resolve([], {}, {"x": "1"}, secret=["x"]).shown("x") == "***"


@pytest.mark.parametrize("bad", ["novalue", "=x", "1a=b", "a-b=c"])
def test_a_malformed_var_is_a_configuration_error(bad: str) -> None:
    with pytest.raises(ConfigError):
        resolve([bad], {}, {})


# --- through the command line, on each database -----------------------------------------------------

import json  # noqa: E402
from pathlib import Path  # noqa: E402

from conftest import TempDatabase  # noqa: E402


def test_values_reach_strings_and_identifiers_and_comments_are_left(db: TempDatabase, scripts, cli) -> None:
    folder = scripts({
        "001_t.sql": "-- ${not_set} is fine in a comment\nCREATE TABLE ${tbl} (v VARCHAR(40));\n"
                     "INSERT INTO ${tbl} (v) VALUES ('${greeting}'), ('$${greeting}');\n",
    })
    done = cli("--database-url", db.url, "--dir", str(folder), "--var", "tbl=items", "--var", "greeting=hi there")
    assert done.code == 0, done.text
    assert sorted(db.query("SELECT v FROM items")) == [("${greeting}",), ("hi there",)]


def test_built_ins_name_the_run(db: TempDatabase, scripts, cli) -> None:
    folder = scripts({"007_t.sql": "CREATE TABLE t (a VARCHAR(80), b VARCHAR(80), c VARCHAR(80));\n"
                                   "INSERT INTO t VALUES ('${dialect}', '${filename}', '${version}');\n"})
    done = cli("--database-url", db.url, "--dir", str(folder), "--var", "unused=1")
    assert done.code == 0, done.text
    assert db.query("SELECT a, b, c FROM t") == [(db.kind, "007_t.sql", "7")]


def test_an_unset_name_stops_the_run_before_anything_runs(db: TempDatabase, scripts, cli) -> None:
    folder = scripts({
        "001_a.sql": "CREATE TABLE a (x INT);\n",
        "002_b.sql": "CREATE TABLE b (x INT);\nINSERT INTO b (x) VALUES (${count});\n",
    })
    done = cli("--database-url", db.url, "--dir", str(folder), "--var", "other=1")
    assert done.code == 2
    assert "002_b.sql:2: placeholder ${count} has no value" in done.err
    assert "a" not in db.tables() and "sqlrun_history" not in db.tables()


def test_the_checksum_is_of_the_file_as_written(db: TempDatabase, scripts, cli, tmp_path: Path) -> None:
    """Two values, two databases: the same checksum, so every environment verifies equal."""
    folder = scripts({"001_t.sql": "CREATE TABLE ${tbl} (x INT);\n"})
    assert cli("--database-url", db.url, "--dir", str(folder), "--var", "tbl=one").code == 0
    other = tmp_path / "other.db"
    assert cli("--database-url", f"sqlite:///{other}", "--dir", str(folder), "--var", "tbl=two").code == 0
    import sqlite3

    theirs = sqlite3.connect(other).execute("SELECT checksum FROM sqlrun_history").fetchall()
    assert db.query("SELECT checksum FROM sqlrun_history") == [tuple(r) for r in theirs]
    done = cli("verify", "--database-url", db.url, "--dir", str(folder), "--var", "tbl=three")
    assert done.code == 0, done.text


def test_a_secret_value_is_never_printed(db: TempDatabase, scripts, cli) -> None:
    folder = scripts({"001_t.sql": "INSERT INTO missing_table (pw) VALUES ('${app_password}');\n"})
    secret = "Sup3r-Secret-Value"
    for extra in ((), ("--json",), ("-v",)):
        done = cli("--database-url", db.url, "--dir", str(folder), "--var", f"app_password={secret}", *extra)
        assert done.code == 1
        assert "001_t.sql:1" in done.text
        assert secret not in done.text
        if extra == ("--json",):
            assert json.loads(done.out)["error"]["exit_code"] == 1


def test_settings_turn_placeholders_on_and_the_environment_outranks_them(
    db: TempDatabase, scripts, cli, tmp_path: Path, monkeypatch
) -> None:
    folder = scripts({"001_t.sql": "CREATE TABLE t (a VARCHAR(20), b VARCHAR(20));\nINSERT INTO t VALUES ('${a}', '${b}');\n"})
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pyproject.toml").write_text(
        f'[tool.sqlrun]\nplaceholders = true\ndatabase_url = "{db.url}"\ndirectory = "{folder}"\n\n[tool.sqlrun.vars]\na = "file"\nb = "file"\n'
    )
    monkeypatch.setenv("SQLRUN_VAR_B", "env")
    monkeypatch.delenv("DATABASE_URL", raising=False)
    done = cli()
    assert done.code == 0, done.text
    assert db.query("SELECT a, b FROM t") == [("file", "env")]


def test_without_placeholders_on_the_text_is_sent_as_written(db: TempDatabase, scripts, cli) -> None:
    folder = scripts({"001_t.sql": "CREATE TABLE t (v VARCHAR(20));\nINSERT INTO t VALUES ('${x}');\n"})
    assert cli("--database-url", db.url, "--dir", str(folder)).code == 0
    assert db.query("SELECT v FROM t") == [("${x}",)]


def test_postgresql_function_bodies_keep_their_dollar_braces(pg: TempDatabase, scripts, cli) -> None:
    folder = scripts({"001_f.sql": "CREATE FUNCTION f() RETURNS text AS $$ SELECT '${kept}' $$ LANGUAGE sql;\n"
                                   "CREATE TABLE ${tbl} (v text);\nINSERT INTO ${tbl} SELECT f();\n"})
    done = cli("--database-url", pg.url, "--dir", str(folder), "--var", "tbl=t")
    assert done.code == 0, done.text
    assert pg.query("SELECT v FROM t") == [("${kept}",)]
