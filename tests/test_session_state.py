"""Each script starts from the session's initial state: what one script SETs does not reach the next one."""

from __future__ import annotations

import pytest

from conftest import TempDatabase, admin, make_database

NO_TX = "-- sqlrun: no-transaction\n"


@pytest.fixture
def my(tmp_path):
    """An empty MySQL/MariaDB database."""
    yield from make_database("mysql", tmp_path)


@pytest.mark.parametrize("header", ["", NO_TX], ids=["transaction", "no-transaction"])
def test_postgresql_search_path_and_timeouts_do_not_leak(pg: TempDatabase, scripts, cli, header: str) -> None:
    # A squashed pg_dump baseline begins with this set_config(); the next script's CREATE TABLE then
    # failed with 3F000 "no schema has been selected to create in".
    folder = scripts({
        "001_dump.sql": header + "SELECT pg_catalog.set_config('search_path', '', false);\n"
        # statement_timeout last: under load even a SET can take more than 1 ms
        "CREATE TABLE public.a (x int);\nSET lock_timeout = 1;\nSET application_name = 'leaked';\nSET statement_timeout = 1;\n",
        "002_next.sql": header + "CREATE TABLE b (x int);\nSELECT pg_sleep(0.05);\n"
        "CREATE TABLE state AS SELECT current_setting('search_path') AS sp, current_setting('statement_timeout') AS st, "
        "current_setting('application_name') AS app;\n",
    })
    r = cli("--database-url", pg.url, "--dir", str(folder))
    assert r.code == 0, r.text
    assert {"a", "b", "state"} <= pg.tables()  # b landed in public, where an unchanged search_path puts it
    with admin("postgresql", pg.name) as cur:
        cur.execute("SELECT current_setting('search_path'), current_setting('statement_timeout'), current_setting('application_name')")
        fresh = cur.fetchone()
    assert pg.query("SELECT sp, st, app FROM state") == [fresh]
    assert pg.history() == [(1, "dump", "applied", 5, 0), (2, "next", "applied", 3, 0)]


@pytest.mark.parametrize("header", ["", NO_TX], ids=["transaction", "no-transaction"])
def test_postgresql_a_scripts_own_timeout_and_role_do_not_fail_its_history_row(pg: TempDatabase, scripts, cli, header: str) -> None:
    # The row rides with the script's last statements (or follows them on the same session): it ran with
    # the script's statement_timeout of 1 ms, and as a role that may not write the history.
    role = f"sqlrun_t_reader_{pg.name[-8:]}"  # roles are the whole server's: one per test
    with admin("postgresql", pg.name) as cur:
        cur.execute(f"CREATE ROLE {role}")
    try:
        folder = scripts({"001_t.sql": header + f"CREATE TABLE t (x int);\nSET ROLE {role};\n"
                                                 "SET statement_timeout = 1;\nSELECT 1;\n"})
        r = cli("--database-url", pg.url, "--dir", str(folder))
        assert r.code == 0, r.text
        assert pg.history() == [(1, "t", "applied", 4, 0)]
    finally:
        with admin("postgresql", pg.name) as cur:
            cur.execute(f"DROP OWNED BY {role}; DROP ROLE IF EXISTS {role}")


@pytest.mark.parametrize("header", ["", NO_TX], ids=["transaction", "no-transaction"])
def test_mysql_sql_mode_names_and_checks_do_not_leak(my: TempDatabase, scripts, cli, header: str) -> None:
    # mysqldump output ends with SET statements like these; the next script stored id 0 and mojibake.
    folder = scripts({
        "001_dump.sql": header + "CREATE TABLE t (id INT AUTO_INCREMENT PRIMARY KEY, s VARCHAR(10) CHARACTER SET utf8mb4);\n"
        "SET SESSION sql_mode = 'NO_AUTO_VALUE_ON_ZERO';\nSET NAMES latin1;\nSET FOREIGN_KEY_CHECKS = 0;\n"
        "SET UNIQUE_CHECKS = 0;\nSET time_zone = '+05:00';\n",
        "002_next.sql": header + "INSERT INTO t VALUES (0, 'ä');\n"
        "CREATE TABLE state AS SELECT @@SESSION.sql_mode AS mode, @@SESSION.character_set_client AS cs, "
        "@@SESSION.foreign_key_checks AS fk, @@SESSION.unique_checks AS uc, @@SESSION.time_zone AS tz;\n"
        "CREATE TRIGGER t_ins BEFORE INSERT ON t FOR EACH ROW SET NEW.s = NEW.s;\n",
    })
    r = cli("--database-url", my.url, "--dir", str(folder))
    assert r.code == 0, r.text
    assert my.query("SELECT id, s FROM t") == [(1, "ä")]  # what the mysql client stores on its own
    with admin("mysql", my.name) as cur:
        cur.execute("SELECT @@SESSION.sql_mode, @@SESSION.character_set_client, @@SESSION.foreign_key_checks, @@SESSION.unique_checks, @@SESSION.time_zone")
        fresh = cur.fetchone()
    assert my.query("SELECT mode, cs, fk, uc, tz FROM state") == [fresh]
    assert my.query("SELECT sql_mode FROM information_schema.triggers WHERE trigger_schema = DATABASE()") == [(fresh[0],)]


def test_mysql_use_of_another_database_does_not_leak(my: TempDatabase, scripts, cli) -> None:
    folder = scripts({
        "001_use.sql": "USE information_schema;\nSELECT 1;\n",
        "002_next.sql": "CREATE TABLE here (x INT);\n",
    })
    r = cli("--database-url", my.url, "--dir", str(folder))
    assert r.code == 0, r.text
    assert "here" in my.tables()


def test_sqlite_pragmas_do_not_leak(tmp_path, scripts, cli) -> None:
    db = next(make_database("sqlite", tmp_path))
    folder = scripts({
        "001_off.sql": NO_TX + "PRAGMA foreign_keys = ON;\nCREATE TABLE p (id INTEGER PRIMARY KEY);\n",
        "002_child.sql": NO_TX + "CREATE TABLE c (p INTEGER REFERENCES p(id));\nINSERT INTO c VALUES (99);\n",
    })
    r = cli("--database-url", db.url, "--dir", str(folder))
    assert r.code == 0, r.text  # foreign keys are off by default: the orphan row goes in, as sqlite3 alone does
    assert db.query("SELECT p FROM c") == [(99,)]
