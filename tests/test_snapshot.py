"""Catalog snapshots: what they see, and that they compare meaning rather than the names a server made up."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

from conftest import TempDatabase, make_database
from sqlrun.snapshot import Item, Scope, Snapshot, diff, take_url

PARENT_CHILD = {
    "sqlite": """CREATE TABLE parent (id INTEGER PRIMARY KEY, name TEXT NOT NULL DEFAULT 'x');
CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent (id), email TEXT UNIQUE, CHECK (id > 0));
CREATE INDEX child_parent ON child (parent_id) WHERE parent_id > 0;
CREATE VIEW named AS SELECT id, name FROM parent;
CREATE TRIGGER child_touch AFTER INSERT ON child BEGIN UPDATE parent SET name = name WHERE id = NEW.parent_id; END;""",
    "postgresql": """CREATE TABLE parent (id INTEGER PRIMARY KEY, name TEXT NOT NULL DEFAULT 'x');
CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER, email TEXT);
ALTER TABLE child ADD UNIQUE (email);
ALTER TABLE child ADD FOREIGN KEY (parent_id) REFERENCES parent (id);
ALTER TABLE child ADD CHECK (id > 0);
CREATE INDEX ON child (parent_id) WHERE parent_id > 0;
CREATE VIEW named AS SELECT id, name FROM parent;
CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE TRIGGER child_touch AFTER INSERT ON child FOR EACH ROW EXECUTE FUNCTION touch();
CREATE SEQUENCE tickets;""",
    "mysql": """CREATE TABLE parent (id INTEGER PRIMARY KEY, name VARCHAR(20) NOT NULL DEFAULT 'x');
CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER, email VARCHAR(50));
ALTER TABLE child ADD UNIQUE (email);
ALTER TABLE child ADD FOREIGN KEY (parent_id) REFERENCES parent (id);
ALTER TABLE child ADD CHECK (id > 0);
ALTER TABLE child ADD INDEX (parent_id, email);
CREATE VIEW named AS SELECT id, name FROM parent;
CREATE FUNCTION plus(a INT) RETURNS INT DETERMINISTIC RETURN a + 1;
CREATE TRIGGER child_touch AFTER INSERT ON child FOR EACH ROW SET @x = 1;""",
}
# The same objects, named as the server would have named them (PostgreSQL, MySQL) or not at all.
SAME_NAMED_BY_HAND = {
    "postgresql": """CREATE TABLE parent (id INTEGER CONSTRAINT parent_pkey PRIMARY KEY, name TEXT NOT NULL DEFAULT 'x');
CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER, email TEXT, CONSTRAINT child_email_key UNIQUE (email));
ALTER TABLE child ADD CONSTRAINT child_parent_id_fkey FOREIGN KEY (parent_id) REFERENCES parent (id);
ALTER TABLE child ADD CONSTRAINT child_id_check CHECK (id > 0);
CREATE INDEX child_parent_id_idx ON child (parent_id) WHERE parent_id > 0;
CREATE VIEW named AS SELECT id, name FROM parent;
CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE TRIGGER child_touch AFTER INSERT ON child FOR EACH ROW EXECUTE FUNCTION touch();
CREATE SEQUENCE tickets;""",
    "mysql": """CREATE TABLE parent (id INTEGER PRIMARY KEY, name VARCHAR(20) NOT NULL DEFAULT 'x');
CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER, email VARCHAR(50), UNIQUE KEY email (email),
  CONSTRAINT child_ibfk_1 FOREIGN KEY (parent_id) REFERENCES parent (id), CHECK (id > 0), KEY parent_id (parent_id, email));
CREATE VIEW named AS SELECT id, name FROM parent;
CREATE FUNCTION plus(a INT) RETURNS INT DETERMINISTIC RETURN a + 1;
CREATE TRIGGER child_touch AFTER INSERT ON child FOR EACH ROW SET @x = 1;""",
}
DUPLICATE_UNNAMED = {"postgresql": "ALTER TABLE child ADD UNIQUE (email)", "mysql": "ALTER TABLE child ADD UNIQUE (email)"}


@pytest.fixture
def other(db: TempDatabase, tmp_path: Path) -> Iterator[TempDatabase]:
    """A second empty database on the same backend as ``db``."""
    (tmp_path / "other").mkdir()
    yield from make_database(db.kind, tmp_path / "other")


def built(database: TempDatabase, sql: str) -> Snapshot:
    """Run ``sql`` on ``database`` (outside sqlrun) and snapshot it."""
    database.execute(sql)
    return take_url(database.url)


def test_a_snapshot_sees_every_kind_of_object_and_the_rows(db: TempDatabase) -> None:
    snap = built(db, PARENT_CHILD[db.kind] + "\nINSERT INTO parent (id, name) VALUES (1, 'a'), (2, 'b');")
    kinds = {i.kind for i in snap.items}
    assert {"table", "column", "primary key", "unique", "foreign key", "view", "trigger"} <= kinds
    assert "index" in kinds
    assert ("check" in kinds) or db.kind == "sqlite"  # SQLite keeps checks in the table's CREATE text
    assert any(i.kind == "function" for i in snap.items) or db.kind == "sqlite"
    assert snap.tables()["parent"].rows == 2 and snap.tables()["child"].rows == 0
    columns = {i.name: i.definition for i in snap.table("parent") if i.kind == "column"}
    assert set(columns) == {"id", "name"} and "NOT NULL" in columns["name"] and "'x'" in columns["name"]


def test_the_same_script_on_two_databases_compares_equal(db: TempDatabase, other: TempDatabase) -> None:
    first, second = built(db, PARENT_CHILD[db.kind]), built(other, PARENT_CHILD[db.kind])
    assert first.equivalent(second) and diff(first, second) == []


def test_names_the_server_made_up_do_not_count(db: TempDatabase, other: TempDatabase) -> None:
    if db.kind == "sqlite":
        pytest.skip("SQLite names every index itself only as sqlite_autoindex_*, covered by the equal-script test")
    first, second = built(db, PARENT_CHILD[db.kind]), built(other, SAME_NAMED_BY_HAND[db.kind])
    assert diff(first, second) == []


def test_a_second_unnamed_copy_of_a_key_shows_as_added(db: TempDatabase, other: TempDatabase) -> None:
    if db.kind == "sqlite":
        pytest.skip("SQLite cannot add a key to an existing table")
    first = built(db, PARENT_CHILD[db.kind])
    second = built(other, PARENT_CHILD[db.kind] + "\n" + DUPLICATE_UNNAMED[db.kind])
    changes = diff(first, second)
    assert [c.change for c in changes] == ["added"]
    assert "child_email_key1" in changes[0].subject or "email_2" in changes[0].subject


def test_a_user_given_name_counts(db: TempDatabase, other: TempDatabase) -> None:
    first = built(db, "CREATE TABLE t (x INTEGER); CREATE INDEX t_first ON t (x)")
    second = built(other, "CREATE TABLE t (x INTEGER); CREATE INDEX t_second ON t (x)")
    assert sorted(c.change for c in diff(first, second)) == ["added", "removed"]


def test_rows_added_or_changed_are_differences(db: TempDatabase) -> None:
    before = built(db, "CREATE TABLE evlog (id INTEGER PRIMARY KEY, msg VARCHAR(20)); INSERT INTO evlog VALUES (1, 'boot')")
    db.execute("INSERT INTO evlog VALUES (2, 'boot')")
    added = take_url(db.url)
    db.execute("UPDATE evlog SET msg = 'halt' WHERE id = 2")
    updated = take_url(db.url)
    assert [str(c) for c in diff(before, added)] == ["rows table evlog (1 -> 2 rows)"]
    assert [str(c) for c in diff(added, updated)] == ["rows table evlog (2 rows, contents changed)"]
    db.execute("UPDATE evlog SET msg = 'boot' WHERE id = 2")
    assert take_url(db.url).equivalent(added)  # the digest is of the rows, not of their history


def test_the_history_table_is_left_out(db: TempDatabase) -> None:
    before = built(db, "CREATE TABLE t (x INTEGER)")
    db.execute("CREATE TABLE sqlrun_history (version INTEGER); INSERT INTO sqlrun_history VALUES (1)")
    after = take_url(db.url)
    assert after.equivalent(before)
    assert all(i.table != "sqlrun_history" for i in after.items)


def test_a_column_dropped_and_added_again_moves_to_the_end(db: TempDatabase, other: TempDatabase) -> None:
    first = built(db, "CREATE TABLE t (a INTEGER, b INTEGER, c INTEGER)")
    second = built(other, "CREATE TABLE t (a INTEGER, c INTEGER, b INTEGER)")
    assert not first.equivalent(second)


def test_item_meaning_drops_only_generated_names() -> None:
    made_up = Item("unique", "t", "t_x_key1", "UNIQUE (x)", generated=True)
    chosen = Item("unique", "t", "my_key", "UNIQUE (x)")
    assert made_up.meaning == ("unique", "t", None, "UNIQUE (x)")
    assert chosen.meaning == ("unique", "t", "my_key", "UNIQUE (x)")
    assert Snapshot("x", (made_up,)).equivalent(Snapshot("x", (Item("unique", "t", "t_x_key", "UNIQUE (x)", True),)))


def test_scope_without_data_reads_no_rows(db: TempDatabase) -> None:
    from sqlrun.config import parse_url
    from sqlrun.dialects import open_database
    from sqlrun.snapshot import take

    db.execute("CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1)")
    handle = open_database(parse_url(db.url), create=False, readonly=False, notify=lambda _: None)
    assert handle is not None
    try:
        snap = take(handle, Scope(data=False))
    finally:
        handle.close()
    assert snap.data == () and any(i.kind == "table" and i.name == "t" for i in snap.items)


def test_tables_with_odd_names_are_summarised(db: TempDatabase) -> None:
    quote = "`" if db.kind == "mysql" else '"'
    name = "odd%name's"
    snap = built(db, f"CREATE TABLE {quote}{name}{quote} (x INTEGER); INSERT INTO {quote}{name}{quote} VALUES (1), (2)")
    assert snap.tables()[name].rows == 2


@pytest.mark.parametrize("db", ["mysql"], indirect=True)
def test_columns_of_different_collations_are_summarised(db: TempDatabase) -> None:
    # icinga2-ido-mysql mixes collations in one table; the digest concatenated them (error 1271).
    snap = built(db, "CREATE TABLE mixed (c INT, a VARCHAR(10) CHARACTER SET latin1 COLLATE latin1_general_cs, "
                     "b VARCHAR(10) CHARACTER SET latin1, u VARCHAR(10) CHARACTER SET utf8mb4); "
                     "INSERT INTO mixed VALUES (NULL, 'x', 'y', 'z'), (1, NULL, 'NULL', 'z')")
    assert snap.tables()["mixed"].rows == 2
    db.execute("UPDATE mixed SET b = NULL WHERE c = 1")  # 'NULL' and NULL are different rows
    assert take_url(db.url).tables()["mixed"] != snap.tables()["mixed"]
