"""Reading a statement's verb and target from its tokens, and an error's fault from its code and message (no database)."""

from __future__ import annotations

import sqlite3

import pytest

from sqlrun.dialects.faults import mysql_fault, postgresql_fault, sqlite_fault
from sqlrun.intent import Alter, Create, Data, Drop, Insert, Other, read


def _names(intent: Alter) -> list[tuple[str, str, str | None]]:
    return [(a.verb, a.what, str(a.name) if a.name else None) for a in intent.actions]


def test_words_inside_strings_and_comments_do_not_count() -> None:
    intent = read("ALTER TABLE noets /* drop */ ADD COLUMN body VARCHAR(40) DEFAULT 'do not drop' -- drop", "sqlite")
    assert isinstance(intent, Alter)
    assert _names(intent) == [("add", "column", "body")]


@pytest.mark.parametrize("kind", ["mysql", "postgresql", "sqlite"])
def test_a_multi_action_alter_is_read_action_by_action(kind: str) -> None:
    text = "ALTER TABLE acct DROP COLUMN legacy, ADD COLUMN email VARCHAR(50), ADD CONSTRAINT u UNIQUE (email, legacy)"
    intent = read(text, kind)
    assert isinstance(intent, Alter) and str(intent.table) == "acct"
    assert _names(intent) == [("drop", "column", "legacy"), ("add", "column", "email"), ("add", "constraint", "u")]
    assert intent.actions[2].constraint == "unique"
    assert text[intent.actions[1].start:intent.actions[1].end] == "ADD COLUMN email VARCHAR(50)"


def test_mysql_unnamed_and_named_keys() -> None:
    intent = read("ALTER TABLE u ADD UNIQUE KEY (x), ADD INDEX ix (y), DROP FOREIGN KEY f2, DROP PRIMARY KEY, ADD PRIMARY KEY (id)", "mysql")
    assert isinstance(intent, Alter)
    assert _names(intent) == [("add", "unique", None), ("add", "index", "ix"), ("drop", "foreign", "f2"), ("drop", "primary", None), ("add", "primary", None)]


def test_create_reads_kind_name_and_table() -> None:
    index = read("CREATE UNIQUE INDEX people_email ON people (email)", "postgresql")
    assert isinstance(index, Create) and (index.kind, str(index.name), str(index.table), index.unique) == ("index", "people_email", "people", True)
    unnamed = read("CREATE INDEX ON child (parent_id)", "postgresql")
    assert isinstance(unnamed, Create) and unnamed.name is None and str(unnamed.table) == "child"
    trigger = read("CREATE DEFINER=`root`@`localhost` TRIGGER tr BEFORE INSERT ON t FOR EACH ROW SET NEW.a = 1", "mysql")
    assert isinstance(trigger, Create) and (trigger.kind, str(trigger.name), str(trigger.table)) == ("trigger", "tr", "t")
    quoted = read("CREATE TABLE IF NOT EXISTS [my t] (a)", "sqlite")
    assert isinstance(quoted, Create) and quoted.name is not None and quoted.name.last == "my t" and quoted.name.quoted


def test_drop_reads_every_name() -> None:
    intent = read('DROP TABLE IF EXISTS a, "B" CASCADE', "postgresql")
    assert isinstance(intent, Drop) and [n.key("postgresql") for n in intent.names] == ["a", "B"]
    on = read("DROP INDEX i ON t", "mysql")
    assert isinstance(on, Drop) and str(on.table) == "t"


def test_keyed_insert_rows_and_values() -> None:
    text = "INSERT INTO roles (id, name) VALUES (1, 'admin'), (2, 'a\\'b, c'), (3, CONCAT('x', 'y'))"
    intent = read(text, "mysql")
    assert isinstance(intent, Insert) and intent.columns == ("id", "name")
    assert intent.values == (("1", "'admin'"), ("2", "'a\\'b, c'"), ("3", "CONCAT('x', 'y')"))
    assert text[: intent.head_end] == "INSERT INTO roles (id, name) VALUES "
    pg = read("INSERT INTO t VALUES ($$a, b$$, E'x\\'y', /* c /* nested */ */ 3)", "postgresql")
    assert isinstance(pg, Insert) and pg.columns is None and pg.values == (("$$a, b$$", "E'x\\'y'", "3"),)


@pytest.mark.parametrize("text", [
    "INSERT INTO log2 (id, msg) SELECT id, msg FROM old_log",
    "INSERT INTO t (a) VALUES (1) ON CONFLICT DO NOTHING",
    "INSERT IGNORE INTO t (a) VALUES (1)",
    "UPDATE users SET email = LOWER(email)",
    "DELETE FROM users",
])
def test_rule_based_data_changes_are_data(text: str) -> None:
    assert isinstance(read(text, "postgresql"), Data)


def test_anything_else_is_other() -> None:
    assert read("SELECT 1", "sqlite") == Other("SELECT")
    assert read("GRANT ALL ON t TO u", "postgresql") == Other("GRANT")


class _PgError(Exception):
    def __init__(self, message: str, sqlstate: str) -> None:
        super().__init__(message)
        self.sqlstate = sqlstate
        self.diag = None


def test_postgresql_faults_name_the_object() -> None:
    f = postgresql_fault(_PgError('column "a" of relation "t" already exists', "42701"))
    assert (f.what, f.kind, f.name, f.table) == ("exists", "column", "a", "t")
    f = postgresql_fault(_PgError('relation "nope" does not exist', "42P01"))
    assert (f.what, f.kind, f.name) == ("missing", "relation", "nope")
    f = postgresql_fault(_PgError('function "f" already exists with same argument types', "42723"))
    assert (f.what, f.name) == ("exists", "f")
    assert postgresql_fault(_PgError('multiple primary keys for table "t" are not allowed', "42P16")).what == "multiple_primary_keys"
    assert postgresql_fault(_PgError("syntax error", "42601")).what == "other"


def test_mysql_faults_name_the_object() -> None:
    assert mysql_fault(Exception(1050, "Table 't' already exists")).name == "t"
    f = mysql_fault(Exception(1091, "Can't DROP COLUMN `nope`; check that it exists"))
    assert (f.what, f.kind, f.name) == ("missing", "column", "nope")
    assert mysql_fault(Exception(1146, "Table 'db.nope' doesn't exist")).name == "nope"
    assert mysql_fault(Exception(1304, "PROCEDURE p already exists")).name == "p"
    f = mysql_fault(Exception(1005, 'Can\'t create table `db`.`t` (errno: 121 "Duplicate key on write or update")'))
    assert (f.what, f.kind, f.name, f.table) == ("exists", "constraint", None, "t")
    assert mysql_fault(Exception(1062, "Duplicate entry '1' for key 'PRIMARY'")).what == "duplicate_key"
    assert mysql_fault(Exception(1068, "Multiple primary key defined")).what == "multiple_primary_keys"


def test_sqlite_faults_name_the_object() -> None:
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY)")
    errors = []
    for sql in ("CREATE TABLE t (a)", "ALTER TABLE t ADD COLUMN id INTEGER", "ALTER TABLE t DROP COLUMN nope", "INSERT INTO t VALUES (1), (1)"):
        try:
            conn.execute(sql)
        except sqlite3.Error as exc:
            errors.append(sqlite_fault(exc))
    assert [(f.what, f.kind, f.name) for f in errors] == [
        ("exists", "table", "t"), ("exists", "column", "id"), ("missing", "column", "nope"), ("duplicate_key", "index", None)
    ]
