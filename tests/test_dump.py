"""``dump``: the schema as SQL that builds the same schema again, the same bytes whatever the history.

Round trips: a database built by scripts is dumped, the dump is applied to an empty database (by sqlrun, and
in the corpus tests by the official client too), and that database dumps to the same bytes and has the same
catalog. PostgreSQL runs once ``sqlrun.dumpsql.postgresql`` exists.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Callable, Iterator

import pytest

import corpora
from conftest import CliResult, TempDatabase, make_database, need_client, unavailable
from sqlrun.config import parse_url
from sqlrun.dialects import open_database
from sqlrun.snapshot import SQLRUN_TABLES, Scope, Snapshot, take

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "data" / "migrations"
Cli = Callable[..., CliResult]


@pytest.fixture
def target(db: TempDatabase) -> TempDatabase:
    """The ``db`` of each backend."""
    return db


@pytest.fixture
def another(target: TempDatabase, tmp_path: Path) -> Iterator[TempDatabase]:
    """A second empty database of the same kind, to apply a dump to."""
    (tmp_path / "another").mkdir()
    yield from make_database(target.kind, tmp_path / "another")


def dump_of(cli: Cli, db: TempDatabase) -> str:
    """What ``dump`` prints for ``db``."""
    result = cli("dump", "--database-url", db.url)
    assert result.code == 0, result.text
    return result.out


def apply(cli: Cli, db: TempDatabase, folder: Path, *extra: str) -> CliResult:
    result = cli("--database-url", db.url, "--dir", str(folder), *extra)
    assert result.code == 0, result.text
    return result


def apply_text(cli: Cli, db: TempDatabase, text: str, folder: Path) -> None:
    """Apply ``text`` to ``db`` with sqlrun, as the one script of ``folder``."""
    folder.mkdir()
    (folder / "001_schema.sql").write_text(text, encoding="utf-8")
    apply(cli, db, folder)


def schema(db: TempDatabase) -> Snapshot:
    """The catalog of ``db`` (no data), sqlrun's own tables left out."""
    opened = open_database(parse_url(db.url), create=False, readonly=True, notify=lambda _: None)
    assert opened is not None
    try:
        return take(opened, Scope(data=False))
    finally:
        opened.close()


# --- the sample app -----------------------------------------------------------------------------------


def test_the_sample_app_dumps_to_a_script_that_builds_the_same_schema(target: TempDatabase, another: TempDatabase, cli: Cli, tmp_path: Path) -> None:
    apply(cli, target, SAMPLE)
    first = dump_of(cli, target)
    assert first.startswith("-- Schema of a ") and "CREATE" in first
    apply_text(cli, another, first, tmp_path / "from_dump")
    assert dump_of(cli, another) == first
    assert schema(another).equivalent(schema(target))


def test_sqlrun_tables_are_not_in_the_dump(target: TempDatabase, cli: Cli) -> None:
    apply(cli, target, SAMPLE)  # its R__ script makes the repeatable scripts' table too
    text = dump_of(cli, target)
    assert {"sqlrun_history", "sqlrun_repeatable"} <= target.tables()
    assert not [name for name in SQLRUN_TABLES if name in text]


def test_dump_prints_only_the_schema_and_output_writes_the_same_text(target: TempDatabase, cli: Cli, tmp_path: Path) -> None:
    apply(cli, target, SAMPLE)
    printed = cli("dump", "--database-url", target.url)
    assert printed.code == 0 and printed.out.startswith("-- Schema of a "), printed.text
    written = cli("dump", "--database-url", target.url, "--output", str(tmp_path / "schema.sql"))
    assert written.code == 0, written.text
    assert (tmp_path / "schema.sql").read_text(encoding="utf-8") == printed.out
    assert "-- Schema" not in written.out  # the file, not stdout, has it
    assert [p.name for p in tmp_path.iterdir() if p.is_file() and p.suffix != ".db"] == ["schema.sql"]  # no temporary file left
    missing = cli("dump", "--database-url", target.url, "--output", str(tmp_path / "no" / "schema.sql"))
    assert missing.code == 2 and "does not exist" in missing.err, missing.text


def test_a_database_that_does_not_exist_is_not_dumped_nor_created(tmp_path: Path, cli: Cli) -> None:
    missing = tmp_path / "none.db"
    result = cli("dump", "--database-url", f"sqlite:///{missing}")
    assert result.code == 2 and "no such database" in result.err, result.text
    assert not missing.exists()


def test_dump_refuses_several_databases(cli: Cli, tmp_path: Path) -> None:
    result = cli("dump", "--database-url", f"sqlite:///{tmp_path}/a.db", "--database-url", f"sqlite:///{tmp_path}/b.db")
    assert result.code == 2 and "one --database-url" in result.err, result.text


# --- apply --dump ---------------------------------------------------------------------------------------


def test_apply_dump_rewrites_the_file_only_when_something_was_applied(target: TempDatabase, cli: Cli, scripts, tmp_path: Path) -> None:
    file = tmp_path / "schema.sql"
    folder = scripts({"001_a.sql": "CREATE TABLE a (id INTEGER PRIMARY KEY);\n"})
    apply(cli, target, folder, "--dump", str(file))
    assert file.read_text(encoding="utf-8") == dump_of(cli, target)

    file.write_text("edited by hand\n", encoding="utf-8")
    apply(cli, target, folder, "--dump", str(file))  # nothing to do: the file is left alone
    assert file.read_text(encoding="utf-8") == "edited by hand\n"

    scripts({"002_b.sql": "CREATE TABLE b (id INTEGER PRIMARY KEY);\n"})
    apply(cli, target, folder, "--dump", str(file))
    text = file.read_text(encoding="utf-8")
    assert text == dump_of(cli, target) and "b" in {t for t in target.tables()} and "edited" not in text


def test_apply_dump_with_json_keeps_stdout_json(target: TempDatabase, cli: Cli, scripts, tmp_path: Path) -> None:
    import json

    folder = scripts({"001_a.sql": "CREATE TABLE a (id INTEGER PRIMARY KEY);\n"})
    result = apply(cli, target, folder, "--dump", str(tmp_path / "schema.sql"), "--json")
    assert json.loads(result.out)["applied"] == 1
    assert (tmp_path / "schema.sql").exists()


def test_a_dump_setting_is_relative_to_its_file(tmp_path: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "migrations").mkdir()
    (tmp_path / "migrations" / "001_a.sql").write_text("CREATE TABLE a (id INTEGER PRIMARY KEY);\n", encoding="utf-8")
    (tmp_path / "sqlrun.toml").write_text('directory = "migrations"\ndump = "schema.sql"\n', encoding="utf-8")
    (tmp_path / "sub").mkdir()
    monkeypatch.chdir(tmp_path / "sub")
    result = cli("--database-url", f"sqlite:///{tmp_path / 'app.db'}")
    assert result.code == 0, result.text
    assert "CREATE TABLE a" in (tmp_path / "schema.sql").read_text(encoding="utf-8")


# --- determinism -------------------------------------------------------------------------------------

# The same objects, made in two orders (and, the second time, with rows that move the counters).
TWO_ORDERS = {
    "sqlite": (
        """CREATE TABLE parent (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE child (id INTEGER PRIMARY KEY AUTOINCREMENT, parent_id INTEGER REFERENCES parent (id), note TEXT);
CREATE INDEX child_note ON child (note);
CREATE INDEX child_a_both ON child (parent_id, note);
CREATE VIEW named AS SELECT c.id, p.name FROM child c JOIN parent p ON p.id = c.parent_id;
CREATE TRIGGER child_touch AFTER INSERT ON child BEGIN UPDATE parent SET name = name WHERE id = NEW.parent_id; END;
""",
        """CREATE TABLE child (id INTEGER PRIMARY KEY AUTOINCREMENT, parent_id INTEGER REFERENCES parent (id), note TEXT);
CREATE VIEW named AS SELECT c.id, p.name FROM child c JOIN parent p ON p.id = c.parent_id;
CREATE TABLE parent (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TRIGGER child_touch AFTER INSERT ON child BEGIN UPDATE parent SET name = name WHERE id = NEW.parent_id; END;
CREATE INDEX child_a_both ON child (parent_id, note);
CREATE INDEX child_note ON child (note);
INSERT INTO parent (name) VALUES ('p');
INSERT INTO child (parent_id, note) VALUES (1, 'x'), (1, 'y');
""",
    ),
    "mysql": (
        """CREATE TABLE parent (id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(40) NOT NULL UNIQUE);
CREATE TABLE child (id INT AUTO_INCREMENT PRIMARY KEY, parent_id INT NULL, note VARCHAR(40),
  CONSTRAINT child_parent FOREIGN KEY (parent_id) REFERENCES parent (id));
CREATE INDEX child_note ON child (note);
CREATE INDEX child_a_both ON child (parent_id, note);
ALTER TABLE child ADD CONSTRAINT z_positive CHECK (parent_id > 0);
ALTER TABLE child ADD CONSTRAINT a_short CHECK (CHAR_LENGTH(note) < 30);
CREATE VIEW named AS SELECT c.id, p.name FROM child c JOIN parent p ON p.id = c.parent_id;
CREATE FUNCTION twice(x INT) RETURNS INT DETERMINISTIC RETURN x * 2;
CREATE VIEW named_twice AS SELECT id, twice(id) AS doubled FROM named;
CREATE TRIGGER child_touch AFTER INSERT ON child FOR EACH ROW UPDATE parent SET name = name WHERE id = NEW.parent_id;
""",
        """SET FOREIGN_KEY_CHECKS=0;
CREATE TABLE child (id INT AUTO_INCREMENT PRIMARY KEY, parent_id INT NULL, note VARCHAR(40),
  CONSTRAINT child_parent FOREIGN KEY (parent_id) REFERENCES parent (id));
CREATE TABLE parent (id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(40) NOT NULL UNIQUE);
SET FOREIGN_KEY_CHECKS=1;
CREATE FUNCTION twice(x INT) RETURNS INT DETERMINISTIC RETURN x * 2;
CREATE VIEW named AS SELECT c.id, p.name FROM child c JOIN parent p ON p.id = c.parent_id;
CREATE INDEX child_a_both ON child (parent_id, note);
CREATE INDEX child_note ON child (note);
ALTER TABLE child ADD CONSTRAINT a_short CHECK (CHAR_LENGTH(note) < 30);
ALTER TABLE child ADD CONSTRAINT z_positive CHECK (parent_id > 0);
CREATE TRIGGER child_touch AFTER INSERT ON child FOR EACH ROW UPDATE parent SET name = name WHERE id = NEW.parent_id;
CREATE VIEW named_twice AS SELECT id, twice(id) AS doubled FROM named;
INSERT INTO parent (name) VALUES ('p');
INSERT INTO child (parent_id, note) VALUES (1, 'x'), (1, 'y');
""",
    ),
    "postgresql": (
        """CREATE TABLE parent (id INT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE child (id SERIAL PRIMARY KEY, parent_id INT REFERENCES parent (id), note TEXT);
CREATE INDEX child_note ON child (note);
CREATE INDEX child_a_both ON child (parent_id, note);
CREATE VIEW named AS SELECT c.id, p.name FROM child c JOIN parent p ON p.id = c.parent_id;
CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE TRIGGER child_touch AFTER INSERT ON child FOR EACH ROW EXECUTE FUNCTION touch();
""",
        """CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE TABLE child (id SERIAL PRIMARY KEY, parent_id INT, note TEXT);
CREATE TABLE parent (id INT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, name TEXT NOT NULL UNIQUE);
ALTER TABLE child ADD CONSTRAINT child_parent_id_fkey FOREIGN KEY (parent_id) REFERENCES parent (id);
CREATE TRIGGER child_touch AFTER INSERT ON child FOR EACH ROW EXECUTE FUNCTION touch();
CREATE INDEX child_a_both ON child (parent_id, note);
CREATE INDEX child_note ON child (note);
CREATE VIEW named AS SELECT c.id, p.name FROM child c JOIN parent p ON p.id = c.parent_id;
INSERT INTO parent (name) VALUES ('p');
INSERT INTO child (parent_id, note) VALUES (1, 'x'), (1, 'y');
""",
    ),
}


def test_the_same_schema_made_in_another_order_dumps_the_same_bytes(target: TempDatabase, another: TempDatabase, cli: Cli, scripts) -> None:
    first, second = TWO_ORDERS[target.kind]
    apply(cli, target, scripts({"001_first.sql": first}))
    folder = scripts({"001_first.sql": second})
    apply(cli, another, folder)
    assert dump_of(cli, another) == dump_of(cli, target)


def test_rows_change_nothing_in_the_dump(target: TempDatabase, cli: Cli, scripts) -> None:
    first, _ = TWO_ORDERS[target.kind]
    folder = scripts({"001_first.sql": first})
    apply(cli, target, folder)
    before = dump_of(cli, target)
    scripts({"002_rows.sql": "INSERT INTO parent (name) VALUES ('p'), ('q');\nINSERT INTO child (parent_id, note) VALUES (1, 'x'), (2, 'y');\n"})
    apply(cli, target, folder)
    after = dump_of(cli, target)
    assert after == before
    assert "AUTO_INCREMENT=" not in after


# --- what each database has beyond the sample app --------------------------------------------------------

MYSQL_OBJECTS = """CREATE TABLE t (id INT AUTO_INCREMENT PRIMARY KEY, n INT NOT NULL DEFAULT 0, note VARCHAR(20) COMMENT 'a;b');
INSERT INTO t (n) VALUES (1), (2);
CREATE TABLE log (id INT AUTO_INCREMENT PRIMARY KEY, what VARCHAR(40));
DELIMITER //
CREATE PROCEDURE bump(IN k INT)
BEGIN
  UPDATE t SET n = n + 1 WHERE id = k;
  INSERT INTO log (what) VALUES ('bump;ed');
END//
CREATE TRIGGER z_first BEFORE INSERT ON t FOR EACH ROW BEGIN SET NEW.n = NEW.n + 1; END//
CREATE TRIGGER a_second BEFORE INSERT ON t FOR EACH ROW FOLLOWS z_first BEGIN SET NEW.n = NEW.n * 2; END//
DELIMITER ;
CREATE FUNCTION half(x INT) RETURNS INT DETERMINISTIC RETURN x DIV 2;
CREATE VIEW b_base AS SELECT id, n FROM t;
CREATE VIEW a_top AS SELECT id, half(n) AS h FROM b_base;
CREATE EVENT tidy ON SCHEDULE EVERY 1 DAY DISABLE DO DELETE FROM log;
"""


@pytest.fixture
def mysql_pair(tmp_path: Path) -> Iterator[tuple[TempDatabase, TempDatabase, TempDatabase]]:
    gens = [make_database("mysql", _mkdir(tmp_path / name)) for name in ("one", "two", "three")]
    try:
        yield next(gens[0]), next(gens[1]), next(gens[2])
    finally:
        for gen in gens:
            next(gen, None)


def _mkdir(path: Path) -> Path:
    path.mkdir()
    return path


def test_mysql_routines_triggers_views_and_events_round_trip_through_sqlrun_and_the_client(
    mysql_pair: tuple[TempDatabase, TempDatabase, TempDatabase], cli: Cli, tmp_path: Path, scripts
) -> None:
    source, by_sqlrun, by_client = mysql_pair
    apply(cli, source, scripts({"001_objects.sql": MYSQL_OBJECTS}))
    text = dump_of(cli, source)
    assert "DEFINER=" not in text and "AUTO_INCREMENT=" not in text and "STARTS" not in text, text
    assert text.count("DELIMITER ;;") == 5  # the procedure, the function, two triggers, the event
    assert text.index("TRIGGER z_first") < text.index("TRIGGER a_second")  # firing order: FOLLOWS names an earlier trigger
    assert text.index("VIEW `b_base`") < text.index("VIEW `a_top`")  # a view after the view it reads
    apply_text(cli, by_sqlrun, text, tmp_path / "from_dump")
    assert dump_of(cli, by_sqlrun) == text
    need_client("mariadb")
    client_apply(by_client, _write(tmp_path / "dump.sql", text))
    assert dump_of(cli, by_client) == text
    assert schema(by_client).equivalent(schema(source)) and schema(by_sqlrun).equivalent(schema(source))


def test_a_mariadb_sequence_comes_before_the_table_that_uses_it(mysql_pair, cli: Cli, tmp_path: Path, scripts) -> None:
    source, by_sqlrun, _ = mysql_pair
    if "mariadb" not in str(source.query("SELECT VERSION()")[0][0]).lower():
        pytest.skip("sequences are MariaDB's")
    apply(cli, source, scripts({"001_seq.sql": "CREATE SEQUENCE z_ids;\nCREATE TABLE a (id INT PRIMARY KEY DEFAULT NEXTVAL(z_ids));\n"
                                "INSERT INTO a () VALUES (), ();\n"}))
    text = dump_of(cli, source)
    assert text.index("CREATE SEQUENCE `z_ids`") < text.index("CREATE TABLE `a`")
    apply_text(cli, by_sqlrun, text, tmp_path / "from_dump")
    assert dump_of(cli, by_sqlrun) == text


SQLITE_OBJECTS = """CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT);
CREATE VIRTUAL TABLE t_search USING fts5(body, content='t', content_rowid='id');
CREATE TRIGGER t_indexed AFTER INSERT ON t BEGIN INSERT INTO t_search (rowid, body) VALUES (new.id, new.body); END;
CREATE VIEW b_base AS SELECT id, body FROM t;
CREATE VIEW a_top AS SELECT id FROM b_base;
CREATE TRIGGER a_top_insert INSTEAD OF INSERT ON a_top BEGIN INSERT INTO t (id) VALUES (new.id); END;
CREATE TABLE "odd name" ("a;b" TEXT DEFAULT 'x;y');
"""


def test_sqlite_virtual_tables_views_and_triggers_round_trip_through_sqlrun_and_the_client(cli: Cli, tmp_path: Path, scripts) -> None:
    gens = [make_database("sqlite", _mkdir(tmp_path / name)) for name in ("one", "two", "three")]
    source, by_sqlrun, by_client = (next(g) for g in gens)
    apply(cli, source, scripts({"001_objects.sql": SQLITE_OBJECTS}))
    text = dump_of(cli, source)
    assert "t_search_data" not in text  # the virtual table's shadow tables come with it
    apply_text(cli, by_sqlrun, text, tmp_path / "from_dump")
    assert dump_of(cli, by_sqlrun) == text
    need_client("sqlite3")
    client_apply(by_client, _write(tmp_path / "dump.sql", text))
    assert dump_of(cli, by_client) == text
    assert schema(by_client).equivalent(schema(source))


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def client_apply(db: TempDatabase, script: Path) -> None:
    """Apply ``script`` with the official client (test_corpora's way: utf8mb4, comments kept, stop at the first error)."""
    from test_corpora import client_apply as corpus_client_apply

    corpus_client_apply(db, script)


# --- real schemas ---------------------------------------------------------------------------------------

DUMPED_CORPORA = [c for c in corpora.CORPORA if c.kind in ("sqlite", "mysql", "postgresql")]
CLIENTS = {"mysql": "mariadb", "postgresql": "psql", "sqlite": "sqlite3"}


@pytest.mark.corpus
@pytest.mark.parametrize("corpus", DUMPED_CORPORA, ids=str)
def test_a_real_schema_round_trips_through_its_dump(corpus: corpora.Corpus, cli: Cli, tmp_path: Path) -> None:
    if shutil.which(CLIENTS[corpus.kind]) is None:
        unavailable(f"a corpus cannot be built: {CLIENTS[corpus.kind]} not installed")
    try:
        folder = corpora.migrations(corpus, tmp_path / "migrations")
    except corpora.Unavailable as exc:
        unavailable(f"a corpus cannot be built: {exc}")
    gens = [make_database(corpus.kind, _mkdir(tmp_path / name)) for name in ("source", "by_sqlrun", "by_client")]
    try:
        source, by_sqlrun, by_client = (next(g) for g in gens)
        apply(cli, source, folder)
        text = dump_of(cli, source)
        apply_text(cli, by_sqlrun, text, tmp_path / "from_dump")
        assert dump_of(cli, by_sqlrun) == text
        client_apply(by_client, _write(tmp_path / "dump.sql", text))
        assert dump_of(cli, by_client) == text
        original = schema(source)
        assert schema(by_sqlrun).equivalent(original)
        assert schema(by_client).equivalent(original)
    finally:
        for gen in gens:
            next(gen, None)




def test_the_library_dump_is_the_command_s_text(target: TempDatabase, cli: Cli) -> None:
    import sqlrun

    apply(cli, target, SAMPLE)
    assert sqlrun.dump(target.url) == dump_of(cli, target)
    assert callable(sqlrun.dump)  # importing the module behind it did not replace it


def test_a_mysql_routine_keeps_the_sql_mode_it_was_made_under(mysql_pair, cli: Cli, tmp_path: Path, scripts) -> None:
    source, by_sqlrun, _ = mysql_pair
    apply(cli, source, scripts({"001_mode.sql": "SET SESSION sql_mode = CONCAT(@@SESSION.sql_mode, ',PIPES_AS_CONCAT');\n"
                                "CREATE FUNCTION greet(x VARCHAR(20)) RETURNS VARCHAR(40) DETERMINISTIC RETURN 'hi ' || x;\n"}))
    text = dump_of(cli, source)
    assert "PIPES_AS_CONCAT" in text, text
    apply_text(cli, by_sqlrun, text, tmp_path / "from_dump")
    assert dump_of(cli, by_sqlrun) == text
    assert by_sqlrun.query("SELECT greet('you')") == [("hi you",)]  # || is still concatenation in its body


# --- against the official dumpers -------------------------------------------------------------------------

_CREATE = re.compile(
    r"CREATE\b[^\n]*?\b(TABLE|VIEW|PROCEDURE|FUNCTION|TRIGGER|EVENT|SEQUENCE|INDEX)\s+(?:IF NOT EXISTS\s+)?"
    r"(?:`([^`]+)`|\"([^\"]+)\"|'([^']+)'|(\w+))", re.I,
)


def created(text: str) -> set[tuple[str, str]]:
    """(kind, name) of every CREATE in ``text``."""
    return {(kind.upper(), "".join(names)) for kind, *names in _CREATE.findall(text)}


def test_every_object_mariadb_dump_writes_dump_writes(mysql_pair, cli: Cli, scripts) -> None:
    source, _, _ = mysql_pair
    need_client("mariadb-dump")
    extra = "CREATE SEQUENCE tickets;\n" if "mariadb" in str(source.query("SELECT VERSION()")[0][0]).lower() else ""
    apply(cli, source, scripts({"001_objects.sql": MYSQL_OBJECTS + extra}))
    url = parse_url(source.url)
    theirs = subprocess.run(
        ["mariadb-dump", "--protocol=tcp", "-h", url.host or "127.0.0.1", "-P", str(url.port or 3306), "-u", url.user or "root",
         "--no-data", "--routines", "--triggers", "--events", f"--ignore-table={source.name}.sqlrun_history", source.name],
        capture_output=True, text=True, check=True, timeout=120, env=_password_env(url),
    ).stdout
    expected = created(theirs)
    assert {"PROCEDURE", "FUNCTION", "TRIGGER", "EVENT", "VIEW", "TABLE"} <= {kind for kind, _ in expected}, theirs
    assert expected <= created(dump_of(cli, source))


def test_every_object_sqlite3_schema_shows_dump_writes(cli: Cli, tmp_path: Path, scripts) -> None:
    need_client("sqlite3")
    source = next(make_database("sqlite", tmp_path))
    apply(cli, source, scripts({"001_objects.sql": SQLITE_OBJECTS + "CREATE INDEX t_body ON t (body);\n"}))
    theirs = subprocess.run(["sqlite3", str(source.path), ".schema"], capture_output=True, text=True, check=True, timeout=60).stdout
    # SQLite's own tables and a virtual table's shadow tables are made by the engine, not by the schema.
    engine_made = {name for (name,) in source.query("SELECT name FROM pragma_table_list WHERE type = 'shadow' OR name LIKE 'sqlite%'")}
    expected = {(kind, name) for kind, name in created(theirs) if name not in engine_made | SQLRUN_TABLES}
    assert {"TABLE", "VIEW", "TRIGGER", "INDEX"} <= {kind for kind, _ in expected}, theirs
    assert expected <= created(dump_of(cli, source))


def _password_env(url) -> dict[str, str]:
    import os

    return {**os.environ, **({"MYSQL_PWD": url.password} if url.password else {})}


def test_sqlite_header_numbers_are_part_of_the_dump(cli: Cli, tmp_path: Path, scripts) -> None:
    source, copy = (next(make_database("sqlite", _mkdir(tmp_path / name))) for name in ("one", "two"))
    apply(cli, source, scripts({"001_a.sql": "CREATE TABLE a (id INTEGER PRIMARY KEY);\nPRAGMA user_version = 7;\nPRAGMA application_id = 1234;\n"}))
    text = dump_of(cli, source)
    assert text.endswith("PRAGMA user_version = 7;\n\nPRAGMA application_id = 1234;\n"), text
    apply_text(cli, copy, text, tmp_path / "from_dump")
    assert copy.query("PRAGMA user_version") == [(7,)] and copy.query("PRAGMA application_id") == [(1234,)]
    assert dump_of(cli, copy) == text
