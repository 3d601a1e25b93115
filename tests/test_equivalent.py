"""Objects without a name: finding an equivalent one in the catalog, and re-added primary keys."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Iterator

import pytest

from conftest import TempDatabase, make_database, need_client, server_url
from sqlrun.config import parse_url
from sqlrun.dialects import Database, open_database
from sqlrun.equivalent import Key, parse, primary_key_in_place
from sqlrun.tolerance import needs_look
from sqlrun.equivalent import look as equivalent_look
from sqlrun.snapshot import diff, table_items, take_url
from sqlrun.splitter import split

SCHEMA = {
    "postgresql": """CREATE TABLE parent (id INTEGER PRIMARY KEY);
CREATE TABLE child (id INTEGER CONSTRAINT child_pkey PRIMARY KEY, parent_id INTEGER, email TEXT);
ALTER TABLE child ADD UNIQUE (email);
ALTER TABLE child ADD FOREIGN KEY (parent_id) REFERENCES parent (id);
ALTER TABLE child ADD CHECK (id > 0);
CREATE INDEX ON child (parent_id);""",
    "mysql": """CREATE TABLE parent (id INTEGER PRIMARY KEY);
CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER, email VARCHAR(50), note VARCHAR(50));
ALTER TABLE child ADD UNIQUE (email);
ALTER TABLE child ADD FOREIGN KEY (parent_id) REFERENCES parent (id);
ALTER TABLE child ADD CHECK (id > 0);
ALTER TABLE child ADD INDEX (note);""",
}
IN_PLACE = {
    "postgresql": [
        ("ALTER TABLE child ADD UNIQUE (email)", "child_email_key"),
        ("ALTER TABLE ONLY public.child ADD FOREIGN KEY (parent_id) REFERENCES parent (id)", "child_parent_id_fkey"),
        ("ALTER TABLE child ADD CHECK (id > 0)", "child_id_check"),
        ("ALTER TABLE child ADD CHECK ((id > 0))", "child_id_check"),
        ("CREATE INDEX ON child (parent_id)", "child_parent_id_idx"),
        ("create index on child using btree (parent_id)", "child_parent_id_idx"),
        ("CREATE INDEX CONCURRENTLY ON child (parent_id)", "child_parent_id_idx"),
    ],
    "mysql": [
        ("ALTER TABLE child ADD UNIQUE (email)", "email"),
        ("ALTER TABLE child ADD UNIQUE KEY (email)", "email"),
        ("ALTER TABLE `child` ADD FOREIGN KEY (`parent_id`) REFERENCES `parent` (`id`)", "child_ibfk_1"),
        ("ALTER TABLE child ADD FOREIGN KEY (parent_id) REFERENCES parent (id) ON DELETE NO ACTION", "child_ibfk_1"),
        ("ALTER TABLE child ADD CHECK (id > 0)", "CONSTRAINT_1"),
        ("ALTER TABLE child ADD CHECK (`id`>0)", "CONSTRAINT_1"),
        ("ALTER TABLE child ADD INDEX (note)", "note"),
    ],
}
NOT_IN_PLACE = {
    "postgresql": [
        "ALTER TABLE child ADD UNIQUE (email, parent_id)",
        "ALTER TABLE child ADD FOREIGN KEY (id) REFERENCES parent (id)",
        "ALTER TABLE child ADD FOREIGN KEY (parent_id) REFERENCES parent (id) ON DELETE CASCADE",
        "ALTER TABLE child ADD CHECK (id > 1)",
        "CREATE UNIQUE INDEX ON child (parent_id)",
        "CREATE INDEX ON child (parent_id) WHERE parent_id > 0",
        "CREATE INDEX ON child (lower(email))",
    ],
    "mysql": [
        "ALTER TABLE child ADD UNIQUE (email, parent_id)",
        "ALTER TABLE child ADD UNIQUE (note)",
        "ALTER TABLE child ADD FOREIGN KEY (id) REFERENCES parent (id)",
        "ALTER TABLE child ADD FOREIGN KEY (parent_id) REFERENCES parent (id) ON DELETE CASCADE",
        "ALTER TABLE child ADD CHECK (id > 1)",
        "ALTER TABLE child ADD INDEX (email)",
    ],
}


@pytest.fixture(params=["postgresql", "mysql"])
def server(request: pytest.FixtureRequest, tmp_path) -> Iterator[TempDatabase]:
    """An empty database on each server (SQLite cannot add a key to a table: nothing there has no name)."""
    yield from make_database(request.param, tmp_path)


@pytest.fixture
def session(server: TempDatabase) -> Iterator[Database]:
    """``server`` with the parent/child schema built outside sqlrun, and a sqlrun session on it."""
    server.execute(SCHEMA[server.kind])
    db = open_database(parse_url(server.url), create=False, readonly=False, notify=lambda _: None)
    assert db is not None
    yield db
    db.close()


def statement(text: str, kind: str):  # noqa: ANN201
    [stmt] = split(text + ";", kind)
    return stmt


def catalog(db: Database) -> list[tuple]:
    return sorted((i.kind, i.name, i.definition) for i in table_items(db, "child"))


def test_an_equivalent_object_is_found_and_named(session: Database) -> None:
    before = catalog(session)
    for text, existing in IN_PLACE[session.kind]:
        reason = equivalent_look(session, statement(text, session.kind))
        assert reason is not None, text
        assert existing in reason, (text, reason)
    assert catalog(session) == before  # looking left nothing behind (PostgreSQL's trial is rolled back)


def test_a_different_object_is_not_taken_for_an_existing_one(session: Database) -> None:
    before = catalog(session)
    for text in NOT_IN_PLACE[session.kind]:
        assert equivalent_look(session, statement(text, session.kind)) is None, text
    assert catalog(session) == before


def test_looking_inside_a_script_transaction_keeps_it_usable(session: Database) -> None:
    session.begin(True)
    session.run_batch([statement("CREATE TABLE extra (id INTEGER)", session.kind)])
    assert equivalent_look(session, statement("ALTER TABLE child ADD UNIQUE (email)", session.kind)) is not None
    outcome = session.run_batch([statement("INSERT INTO extra (id) VALUES (1)", session.kind)])
    assert outcome.error is None
    session.commit()
    assert any(i.kind == "table" for i in table_items(session, "extra"))


def test_a_statement_that_fails_is_left_to_run(session: Database) -> None:
    assert equivalent_look(session, statement("ALTER TABLE nowhere ADD UNIQUE (email)", session.kind)) is None


@pytest.mark.parametrize("kind", ["postgresql", "mysql"])
def test_a_re_added_primary_key_with_the_same_columns_is_in_place(kind: str, tmp_path) -> None:
    for database in make_database(kind, tmp_path):
        database.execute(SCHEMA[kind])
        db = open_database(parse_url(database.url), create=False, readonly=False, notify=lambda _: None)
        assert db is not None
        try:
            assert "id" in (primary_key_in_place(db, "child", "ADD CONSTRAINT child_pkey PRIMARY KEY (id)") or "")
            assert primary_key_in_place(db, "child", "ADD PRIMARY KEY (id)") is not None
            assert primary_key_in_place(db, "child", "ADD PRIMARY KEY (email)") is None
            other_name = primary_key_in_place(db, "child", "ADD CONSTRAINT other_pkey PRIMARY KEY (id)")
            # PostgreSQL keeps the name given; MySQL calls every primary key PRIMARY.
            assert (other_name is None) == (kind == "postgresql")
        finally:
            db.close()


def test_only_objects_without_a_name_are_read() -> None:
    assert parse("ALTER TABLE child ADD UNIQUE (email)", "postgresql").keys == (Key("unique", ("email",)),)
    assert parse("ALTER TABLE child ADD CONSTRAINT k UNIQUE (email)", "postgresql") is None
    assert parse("ALTER TABLE child ADD UNIQUE KEY k (email)", "mysql") is None
    assert parse("ALTER TABLE child ADD COLUMN x INT, ADD UNIQUE (email)", "mysql") is None
    assert parse("CREATE INDEX child_idx ON child (parent_id)", "postgresql") is None
    fk = parse("ALTER TABLE s.child ADD FOREIGN KEY (a, b) REFERENCES p (x, y) ON DELETE SET NULL", "postgresql")
    assert fk is not None and fk.table == "s.child"
    assert fk.keys == (Key("foreign key", ("a", "b"), "p", ("x", "y"), ("RESTRICT", "SET NULL")),)
    assert parse('ALTER TABLE "Child" ADD UNIQUE ("Email")', "postgresql").table == "Child"


def test_the_first_look_is_cheap_and_selects_only_candidates() -> None:
    assert needs_look("ALTER TABLE child ADD UNIQUE (email)", "mysql")
    assert needs_look("CREATE INDEX ON child (parent_id)", "postgresql")
    assert not needs_look("CREATE TABLE child (id INT)", "postgresql")
    assert not needs_look("CREATE INDEX child_idx ON child (id)", "postgresql")
    assert not needs_look("ALTER TABLE child ADD COLUMN note TEXT", "postgresql")
    assert not needs_look("ALTER TABLE child ADD UNIQUE (email)", "sqlite")


# --- adoption: a database the official client built from the same script, then sqlrun -----------------------

ADOPTED = {
    "postgresql": """CREATE TABLE parent (id INTEGER NOT NULL, name TEXT);
ALTER TABLE ONLY parent ADD CONSTRAINT parent_pkey PRIMARY KEY (id);
CREATE TABLE child (id INTEGER NOT NULL, parent_id INTEGER, email TEXT);
ALTER TABLE ONLY child ADD CONSTRAINT child_pkey PRIMARY KEY (id);
ALTER TABLE child ADD UNIQUE (email);
ALTER TABLE child ADD FOREIGN KEY (parent_id) REFERENCES parent (id);
ALTER TABLE child ADD CHECK (id > 0);
CREATE INDEX ON child (parent_id);
INSERT INTO parent (id, name) VALUES (1, 'one');
""",
    "mysql": """CREATE TABLE parent (id INTEGER NOT NULL, name VARCHAR(20));
ALTER TABLE parent ADD PRIMARY KEY (id);
CREATE TABLE child (id INTEGER NOT NULL, parent_id INTEGER, email VARCHAR(50), note VARCHAR(50));
ALTER TABLE child ADD PRIMARY KEY (id);
ALTER TABLE child ADD UNIQUE (email);
ALTER TABLE child ADD FOREIGN KEY (parent_id) REFERENCES parent (id);
ALTER TABLE child ADD CHECK (id > 0);
ALTER TABLE child ADD INDEX (note);
INSERT INTO parent (id, name) VALUES (1, 'one');
""",
    "sqlite": """CREATE TABLE parent (id INTEGER PRIMARY KEY, name TEXT);
CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent (id), email TEXT UNIQUE, CHECK (id > 0));
CREATE INDEX child_parent ON child (parent_id);
INSERT INTO parent (id, name) VALUES (1, 'one');
""",
}


def client_built(database: TempDatabase, script: Path) -> None:
    """Run ``script`` with the database's own command-line client, stopping at the first error."""
    if database.kind == "sqlite":
        command = ["sqlite3", "-bail", str(database.path)]
    elif database.kind == "postgresql":
        url = server_url("postgresql")
        command = ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", url.host or "127.0.0.1", "-p", str(url.port or 5432),
                   "-U", url.user or "postgres", "-d", database.name]
    else:
        url = server_url("mysql")
        command = ["mariadb", "-h", url.host or "127.0.0.1", "-P", str(url.port or 3306), "-u", url.user or "root", database.name]
    need_client(command[0])
    password = "" if database.kind == "sqlite" else server_url(database.kind).password or ""
    env = {**os.environ, "PGPASSWORD": password, "MYSQL_PWD": password}
    subprocess.run(command, stdin=script.open("rb"), check=True, capture_output=True, env=env)


def test_adopting_a_client_built_database_makes_no_duplicates(db: TempDatabase, scripts, cli) -> None:
    folder = scripts({"001_schema.sql": ADOPTED[db.kind]})
    client_built(db, folder / "001_schema.sql")
    before = take_url(db.url)
    result = cli("apply", "--database-url", db.url, "--dir", str(folder))
    assert result.code == 0, result.text
    after = take_url(db.url)
    assert diff(before, after) == []
    names = {i.name for i in after.items}
    assert not names & {"child_email_key1", "child_parent_id_fkey1", "child_id_check1", "child_parent_id_idx1", "email_2", "child_ibfk_2", "note_2"}
    [(version, name, state, _, tolerated)] = db.history()
    assert (version, name, state) == (1, "schema", "applied")
    assert tolerated >= 4  # every statement but the seed row's is in place (tables, keys, indexes)


def test_a_re_added_primary_key_on_other_columns_is_a_real_error(server: TempDatabase, scripts, cli) -> None:
    folder = scripts({"001_schema.sql": ADOPTED[server.kind]})
    client_built(server, folder / "001_schema.sql")
    text = ADOPTED[server.kind].replace("child ADD CONSTRAINT child_pkey PRIMARY KEY (id)", "child ADD CONSTRAINT child_pkey PRIMARY KEY (email)")
    (folder / "001_schema.sql").write_text(text.replace("ALTER TABLE child ADD PRIMARY KEY (id)", "ALTER TABLE child ADD PRIMARY KEY (email)"))
    result = cli("apply", "--database-url", server.url, "--dir", str(folder))
    assert result.code == 1, result.text
    assert "001_schema.sql:4" in result.text
    # not recorded as applied (MySQL, whose DDL commits as it runs, records it as failed)
    assert [row[2] for row in server.history()] in ([], ["failed"])


FIRST_RUN = {
    "one script": {"001_schema.sql": "CREATE TABLE child (id INTEGER PRIMARY KEY, email VARCHAR(50), UNIQUE (email));\n"
                                     "ALTER TABLE child ADD UNIQUE (email);\nCREATE TABLE other (id INTEGER PRIMARY KEY);\n"},
    "two scripts": {"001_schema.sql": "CREATE TABLE child (id INTEGER PRIMARY KEY, email VARCHAR(50), UNIQUE (email));\n",
                    "002_keys.sql": "ALTER TABLE child ADD UNIQUE (email);\nCREATE TABLE other (id INTEGER PRIMARY KEY);\n"},
    # The key is the last statement left once the CREATE TABLE before it in its batch was tolerated on a re-run.
    "key last": {"001_schema.sql": "CREATE TABLE child (id INTEGER PRIMARY KEY, email VARCHAR(50), UNIQUE (email));\n"
                                   "ALTER TABLE child ADD UNIQUE (email);\n"},
}


@pytest.mark.parametrize("layout", FIRST_RUN)
@pytest.mark.parametrize("kind", ["postgresql", "mysql"])
def test_a_first_run_builds_what_the_client_builds_and_a_re_run_converges(kind: str, layout: str, scripts, tmp_path: Path, cli) -> None:
    # The table is this run's own: no look in the catalog, and the duplicate unique key the scripts ask for
    # is made, as the client makes it. A re-run (no history) then finds both in place.
    folder = scripts(FIRST_RUN[layout])
    ours, theirs = (make_database(kind, tmp_path / side) for side in ("ours", "theirs"))
    try:
        mine, client = next(ours), next(theirs)
        for script in sorted(folder.iterdir()):
            client_built(client, script)
        assert cli("apply", "--database-url", mine.url, "--dir", str(folder)).code == 0
        built = take_url(mine.url)
        assert built.equivalent(take_url(client.url)), diff(take_url(client.url), built)
        assert sum(i.kind == "unique" and i.table == "child" for i in built.items) == 2
        mine.execute("DELETE FROM sqlrun_history")
        again = cli("apply", "--database-url", mine.url, "--dir", str(folder))
        assert again.code == 0, again.text
        assert diff(built, take_url(mine.url)) == []
        assert ":1: tolerated" in again.err and ("001_schema.sql:2: tolerated" in again.err or "002_keys.sql:1: tolerated" in again.err), again.err
    finally:
        ours.close()
        theirs.close()


SPLIT_BY_AN_ALONE_STATEMENT = {
    # A statement that goes in a round trip of its own puts the unnamed key in another batch than the
    # CREATE TABLE that vouched for it: when that CREATE is in place (a re-run), the key must still be looked up.
    "postgresql": "CREATE TABLE t (id INTEGER PRIMARY KEY, email VARCHAR(50));\nCOPY t (id, email) FROM stdin;\n\\.\n"
                  "ALTER TABLE t ADD UNIQUE (email);\nCREATE TABLE u (id INTEGER PRIMARY KEY);\n",
    "mysql": "CREATE TABLE t (id INTEGER PRIMARY KEY, email VARCHAR(50));\nCREATE PROCEDURE p() BEGIN SELECT 1; END;\n"
             "ALTER TABLE t ADD UNIQUE (email);\nCREATE TABLE u (id INTEGER PRIMARY KEY);\n",
}


@pytest.mark.parametrize("kind", ["postgresql", "mysql"])
def test_a_re_run_looks_up_a_key_whose_create_table_was_in_another_batch(kind: str, scripts, tmp_path: Path, cli) -> None:
    folder = scripts({"001_t.sql": SPLIT_BY_AN_ALONE_STATEMENT[kind]})
    databases = make_database(kind, tmp_path)
    db = next(databases)
    try:
        assert cli("apply", "--database-url", db.url, "--dir", str(folder)).code == 0
        once = take_url(db.url)
        db.execute("DELETE FROM sqlrun_history")
        again = cli("apply", "--database-url", db.url, "--dir", str(folder))
        assert again.code == 0, again.text
        assert diff(once, take_url(db.url)) == [], "a second unique key on t.email"
    finally:
        databases.close()
