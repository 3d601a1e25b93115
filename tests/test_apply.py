"""Applying scripts: order, tolerance, variants, no-transaction, failures; the same way on SQLite, MySQL/MariaDB and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import TempDatabase

T1 = "CREATE TABLE items (id INTEGER PRIMARY KEY, name VARCHAR(50) NOT NULL);\nINSERT INTO items (id, name) VALUES (1, 'one; with a semicolon');\n"
T2 = "CREATE TABLE tags (id INTEGER PRIMARY KEY, label VARCHAR(20));\nINSERT INTO tags (id, label) VALUES (1, 'x');\n"


def test_fresh_apply_then_rerun_is_a_noop(db: TempDatabase, scripts, cli) -> None:
    folder = scripts({"001_items.sql": T1, "002_tags.sql": T2})
    first = cli("--database-url", db.url, "--dir", str(folder))
    assert first.code == 0, first.text
    assert "applied 001_items.sql: 2 statements" in first.out, first.out
    assert "applied 002_tags.sql: 2 statements" in first.out
    assert {"items", "tags", "sqlrun_history"} <= db.tables()
    assert db.history() == [(1, "items", "applied", 2, 0), (2, "tags", "applied", 2, 0)]
    assert db.query("SELECT name FROM items") == [("one; with a semicolon",)]

    again = cli("--database-url", db.url, "--dir", str(folder))
    assert again.code == 0, again.text
    assert "nothing to do" in again.out
    assert "applied" not in again.out.replace("every script is applied", "")
    assert db.query("SELECT count(*) FROM items") == [(1,)]


def test_a_new_script_after_a_pull_applies_alone(db: TempDatabase, scripts, cli) -> None:
    folder = scripts({"001_items.sql": T1})
    assert cli("--database-url", db.url, "--dir", str(folder)).code == 0
    scripts({"002_tags.sql": T2})
    result = cli("--database-url", db.url, "--dir", str(folder))
    assert result.code == 0, result.text
    assert "001_items.sql" not in result.out
    assert "applied 002_tags.sql" in result.out
    assert [r[0] for r in db.history()] == [1, 2]


def test_numeric_order_not_text_order(db: TempDatabase, scripts, cli) -> None:
    folder = scripts({
        "2_b.sql": "CREATE TABLE b (id INTEGER PRIMARY KEY);",
        "10_c.sql": "INSERT INTO b (id) VALUES (10);",
        "001_a.sql": "CREATE TABLE a (id INTEGER PRIMARY KEY);",
    })
    result = cli("--database-url", db.url, "--dir", str(folder))
    assert result.code == 0, result.text
    assert [r[0] for r in db.history()] == [1, 2, 10]
    assert result.out.index("001_a.sql") < result.out.index("2_b.sql") < result.out.index("10_c.sql")


def test_tolerated_duplicates_are_counted_and_shown(db: TempDatabase, scripts, cli) -> None:
    folder = scripts({
        "001_items.sql": T1,
        "002_again.sql": (
            "CREATE TABLE items (id INTEGER PRIMARY KEY, name VARCHAR(50) NOT NULL);\n"
            "INSERT INTO items (id, name) VALUES (1, 'one; with a semicolon');\n"
            "INSERT INTO items (id, name) VALUES (2, 'two');\n"
        ),
    })
    result = cli("--database-url", db.url, "--dir", str(folder))
    assert result.code == 0, result.text
    assert db.history()[1] == (2, "again", "applied", 1, 2)
    assert "002_again.sql:1: tolerated" in result.err
    assert "002_again.sql:2: tolerated" in result.err
    assert db.query("SELECT id, name FROM items ORDER BY id") == [(1, "one; with a semicolon"), (2, "two")]


def test_a_real_error_stops_with_file_line_and_records_nothing(db: TempDatabase, scripts, cli) -> None:
    folder = scripts({
        "001_items.sql": T1,
        "002_broken.sql": "CREATE TABLE ok_before (id INTEGER PRIMARY KEY);\n\nINSERT INTO no_such_table VALUES (1);\nCREATE TABLE never (id INTEGER);\n",
        "003_later.sql": T2,
    })
    result = cli("--database-url", db.url, "--dir", str(folder))
    assert result.code == 1, result.text
    assert "002_broken.sql:3: statement failed: INSERT INTO no_such_table VALUES (1);" not in result.err
    assert "002_broken.sql:3: statement failed: INSERT INTO no_such_table VALUES (1)" in result.err
    assert "no_such_table" in result.err
    assert "Traceback" not in result.err
    states = {r[0]: r[2] for r in db.history()}
    assert states.get(1) == "applied"
    assert 3 not in states and "tags" not in db.tables() and "never" not in db.tables()
    if db.kind == "mysql":
        # MySQL commits DDL as it goes: the script is on record as failed, never as applied.
        assert states.get(2) == "failed"
    else:
        assert 2 not in states
        assert "ok_before" not in db.tables()  # the whole script rolled back


def test_failed_script_reruns_and_converges(db: TempDatabase, scripts, cli) -> None:
    folder = scripts({"001_x.sql": "CREATE TABLE x (id INTEGER PRIMARY KEY);\nINSERT INTO missing VALUES (1);\n"})
    assert cli("--database-url", db.url, "--dir", str(folder)).code == 1
    (folder / "001_x.sql").write_text("CREATE TABLE x (id INTEGER PRIMARY KEY);\nCREATE TABLE missing (id INTEGER);\nINSERT INTO missing VALUES (1);\n")
    result = cli("--database-url", db.url, "--dir", str(folder))
    assert result.code == 0, result.text
    assert db.history()[0][:3] == (1, "x", "applied")
    assert db.query("SELECT count(*) FROM missing") == [(1,)]


def test_adopting_a_schema_built_without_history(db: TempDatabase, scripts, cli) -> None:
    folder = scripts({
        "001_items.sql": T1 + "CREATE INDEX ix_items_name ON items (name);\n",
        "002_tags.sql": T2,
    })
    # What the old init_db.py left behind: the tables and rows, no history.
    for stmt in ("CREATE TABLE items (id INTEGER PRIMARY KEY, name VARCHAR(50) NOT NULL)", "INSERT INTO items (id, name) VALUES (1, 'one; with a semicolon')", "CREATE INDEX ix_items_name ON items (name)"):
        db.execute(stmt)
    result = cli("--database-url", db.url, "--dir", str(folder))
    assert result.code == 0, result.text
    assert db.history() == [(1, "items", "applied", 0, 3), (2, "tags", "applied", 2, 0)]
    assert db.query("SELECT count(*) FROM items") == [(1,)]


def test_crlf_copy_of_an_applied_script_is_not_an_edit(db: TempDatabase, scripts, cli) -> None:
    folder = scripts({"001_items.sql": T1})
    assert cli("--database-url", db.url, "--dir", str(folder)).code == 0
    (folder / "001_items.sql").write_bytes(b"\xef\xbb\xbf" + T1.replace("\n", "\r\n").encode())
    result = cli("--database-url", db.url, "--dir", str(folder), "status")
    assert result.code == 0
    assert "applied" in result.out and "changed" not in result.out
    assert cli("--database-url", db.url, "--dir", str(folder)).code == 0


def test_an_edited_script_stops_apply_with_exit_3(db: TempDatabase, scripts, cli) -> None:
    folder = scripts({"001_items.sql": T1})
    assert cli("--database-url", db.url, "--dir", str(folder)).code == 0
    (folder / "001_items.sql").write_text(T1 + "-- edited\n")
    scripts({"002_tags.sql": T2})
    result = cli("--database-url", db.url, "--dir", str(folder))
    assert result.code == 3, result.text
    assert "001_items.sql: recorded" in result.err and "repair" in result.err
    assert "tags" not in db.tables()


def test_dialect_variants_replace_the_generic_script(db: TempDatabase, scripts, cli) -> None:
    folder = scripts({
        "001_kind.sql": "CREATE TABLE kind (name VARCHAR(20));\nINSERT INTO kind VALUES ('generic');",
        f"001_kind.{db.kind}.sql": f"CREATE TABLE kind (name VARCHAR(20));\nINSERT INTO kind VALUES ('{db.kind}');",
        "001_kind.unknown-dialect.sql.txt": "ignored",
    })
    other = next(k for k in ("sqlite", "mysql", "postgresql") if k != db.kind)
    scripts({f"002_other.{other}.sql": "CREATE TABLE other_only (id INTEGER);"})
    result = cli("--database-url", db.url, "--dir", str(folder))
    assert result.code == 0, result.text
    assert db.query("SELECT name FROM kind") == [(db.kind,)]
    assert db.query("SELECT version, name FROM sqlrun_history") == [(1, "kind")]
    assert "other_only" not in db.tables()


def test_two_names_for_one_version_is_an_error(db: TempDatabase, scripts, cli) -> None:
    folder = scripts({"001_a.sql": "SELECT 1;", "001_b.sql": "SELECT 2;"})
    result = cli("--database-url", db.url, "--dir", str(folder))
    assert result.code == 2
    assert "001_a.sql" in result.err and "001_b.sql" in result.err
    assert "sqlrun_history" not in db.tables()


def test_a_badly_named_sql_file_is_warned_about(db: TempDatabase, scripts, cli) -> None:
    folder = scripts({"001_a.sql": "CREATE TABLE a (id INTEGER);", "notes.sql": "nonsense", "README.md": "x"})
    result = cli("--database-url", db.url, "--dir", str(folder))
    assert result.code == 0, result.text
    assert "notes.sql: ignored" in result.err
    assert "README.md" not in result.err


@pytest.mark.parametrize("command", [["status"], ["verify"], ["repair"], ["baseline", "--version", "1"]])
def test_every_command_warns_about_a_badly_named_sql_file(db: TempDatabase, scripts, cli, command: list[str]) -> None:
    folder = scripts({"001_a.sql": "CREATE TABLE a (id INTEGER);", "notes.sql": "nonsense"})
    result = cli(*command, "--database-url", db.url, "--dir", str(folder))
    assert result.code == 0, result.text
    assert "notes.sql: ignored" in result.err


def test_status_shows_every_state(db: TempDatabase, scripts, cli) -> None:
    folder = scripts({"001_a.sql": "CREATE TABLE a (id INTEGER);", "002_b.sql": "CREATE TABLE b (id INTEGER);"})
    assert cli("--database-url", db.url, "--dir", str(folder)).code == 0
    (folder / "002_b.sql").write_text("CREATE TABLE b (id INTEGER); -- edited")
    (folder / "001_a.sql").unlink()
    scripts({"003_c.sql": "CREATE TABLE c (id INTEGER);"})
    result = cli("--database-url", db.url, "--dir", str(folder), "status", "--json")
    assert result.code == 0, result.text
    import json

    data = json.loads(result.out)
    assert [(s["version"], s["state"]) for s in data["scripts"]] == [(1, "missing"), (2, "changed"), (3, "pending")]


def test_statements_of_own_transaction_still_work(db: TempDatabase, scripts, cli) -> None:
    folder = scripts({"001_dump.sql": "BEGIN;\nCREATE TABLE d (id INTEGER PRIMARY KEY);\nINSERT INTO d VALUES (1);\nCOMMIT;\n"})
    result = cli("--database-url", db.url, "--dir", str(folder))
    assert result.code == 0, result.text
    assert db.query("SELECT id FROM d") == [(1,)]
    assert db.history()[0][2] == "applied"


def test_no_transaction_marker_runs_in_autocommit(db: TempDatabase, scripts, cli) -> None:
    index = "CREATE INDEX CONCURRENTLY ix_n ON n (id);" if db.kind == "postgresql" else "CREATE INDEX ix_n ON n (id);"
    folder = scripts({"001_n.sql": f"-- sqlrun: no-transaction\nCREATE TABLE n (id INTEGER);\n{index}\n"})
    result = cli("--database-url", db.url, "--dir", str(folder))
    assert result.code == 0, result.text
    assert db.history()[0][:4] == (1, "n", "applied", 2)


@pytest.mark.parametrize("db", ["mysql"], indirect=True)  # USE is MySQL's; search_path below is PostgreSQL's
def test_use_in_a_script_does_not_move_the_history(db: TempDatabase, scripts, cli, tmp_path: Path) -> None:
    from conftest import admin

    other = db.name + "_other"
    with admin("mysql") as cur:
        cur.execute(f"CREATE DATABASE {other}")
    try:
        folder = scripts({
            "001_use.sql": f"USE {other};\nCREATE TABLE elsewhere (id INTEGER);\n",
            "002_after.sql": "CREATE TABLE here (id INTEGER);\n",
        })
        result = cli("--database-url", db.url, "--dir", str(folder))
        assert result.code == 0, result.text
        assert [r[0] for r in db.history()] == [1, 2]
        assert "here" in db.tables() and "elsewhere" not in db.tables()
        with admin("mysql") as cur:
            cur.execute(f"SHOW TABLES FROM {other}")
            assert {r[0] for r in cur.fetchall()} == {"elsewhere"}
    finally:
        with admin("mysql") as cur:
            cur.execute(f"DROP DATABASE {other}")


@pytest.mark.parametrize("db", ["postgresql"], indirect=True)
def test_search_path_in_a_script_does_not_move_the_history(db: TempDatabase, scripts, cli) -> None:
    folder = scripts({"001_schema.sql": "CREATE SCHEMA side;\nSET search_path TO side;\nCREATE TABLE elsewhere (id INTEGER);\n"})
    result = cli("--database-url", db.url, "--dir", str(folder))
    assert result.code == 0, result.text
    assert db.query("SELECT version FROM public.sqlrun_history") == [(1,)]
    assert db.query("SELECT count(*) FROM side.elsewhere") == [(0,)]


def test_a_script_with_only_comments_is_applied_as_zero_statements_and_recorded(db: TempDatabase, scripts, cli) -> None:
    folder = scripts({"001_items.sql": T1, "002_nothing_new.sql": "-- There are no updates for this version\n/* see 003 */\n"})
    result = cli("--database-url", db.url, "--dir", str(folder))
    assert result.code == 0, result.text
    assert db.history() == [(1, "items", "applied", 2, 0), (2, "nothing_new", "applied", 0, 0)]
    again = cli("--database-url", db.url, "--dir", str(folder))
    assert again.code == 0 and "nothing to do" in again.text, again.text


def test_the_untouched_template_of_new_is_refused_and_nothing_runs(db: TempDatabase, scripts, cli) -> None:
    folder = scripts({"001_items.sql": T1})
    assert cli("new", "add todo", "--dir", str(folder)).code == 0
    result = cli("--database-url", db.url, "--dir", str(folder))
    assert result.code == 2, result.text
    assert "002_add_todo.sql:1: the script is still the template `new` wrote, with no statement" in result.err
    assert "items" not in db.tables() and "sqlrun_history" not in db.tables()
    (folder / "002_add_todo.sql").write_text((folder / "002_add_todo.sql").read_text() + "-- nothing to do after all\n")
    assert cli("--database-url", db.url, "--dir", str(folder)).code == 2  # comments added below it: still unwritten
    (folder / "002_add_todo.sql").write_text("CREATE TABLE todo (id INTEGER PRIMARY KEY);\n")
    assert cli("--database-url", db.url, "--dir", str(folder)).code == 0


def test_scripts_too_big_to_keep_in_memory_are_streamed_with_the_same_results(
    db: TempDatabase, scripts, cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Above PRESPLIT_BYTES a script is checked in one streaming pass and run in a second:
    tolerance, counts, file:line and the refusal of a bad tail must not change."""
    import sqlrun.execute

    monkeypatch.setattr(sqlrun.execute, "PRESPLIT_BYTES", 0)
    rows = "".join(f"INSERT INTO items (id, name) VALUES ({i}, 'row; {i}');\n" for i in range(2, 1202))
    folder = scripts({
        "001_items.sql": T1 + rows,
        "002_again.sql": "INSERT INTO items (id, name) VALUES (1, 'one; with a semicolon');\nINSERT INTO items (id, name) VALUES (5000, 'new');\n",
    })
    result = cli("--database-url", db.url, "--dir", str(folder))
    assert result.code == 0, result.text
    assert db.history() == [(1, "items", "applied", 1202, 0), (2, "again", "applied", 1, 1)]
    assert "002_again.sql:1: tolerated" in result.err
    assert db.query("SELECT count(*) FROM items") == [(1202,)]

    scripts({"003_bad_tail.sql": "CREATE TABLE early (id INTEGER);\n" + rows.replace("items", "early_rows") + "SELECT 'never closed;\n"})
    bad = cli("--database-url", db.url, "--dir", str(folder))
    assert bad.code == 2, bad.text
    assert "003_bad_tail.sql:1202:8:" in bad.err and "unterminated string" in bad.err
    assert "early" not in db.tables()  # refused by the checking pass: nothing of it ran
    assert [r[0] for r in db.history()] == [1, 2]
