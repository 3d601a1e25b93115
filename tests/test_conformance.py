"""What every Database class promises the runner, checked the same way on every database.

One checklist for sqlite, mysql and postgresql (golang-migrate's database/testing): a new dialect or a new
lock strategy passes it before the runner can rely on it. Each test names a clause of the ABC in
sqlrun/dialects/base.py; the dialect is reached only through that interface, and what it did is checked
from outside, on a connection of the test's own.
"""

from __future__ import annotations

import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Iterator

import pytest

from conftest import BACKENDS, TempDatabase, admin, make_database, require, server_url
from sqlrun.config import DatabaseURL, parse_url
from sqlrun.dialects import Database, HistoryRow, open_database
from sqlrun.errors import ConfigError, ConnectError, LockTimeoutError
from sqlrun.splitter import Statement
from sqlrun.tolerance import settle

NOTICES: list[str] = []


def opened(url: str | DatabaseURL, **kwargs: bool) -> Database:
    """A session through the registry, as the runner opens one; notices go to NOTICES."""
    database = open_database(parse_url(url) if isinstance(url, str) else url, notify=NOTICES.append, **kwargs)
    assert database is not None
    return database


def stmt(text: str, copy_data: str | None = None) -> Statement:
    """A statement as the splitter would hand it over."""
    return Statement(text, 1, 1, copy_data)


@pytest.fixture
def target(db: TempDatabase) -> Iterator[tuple[TempDatabase, Database]]:
    """An empty database and a session on it, closed afterwards."""
    session = opened(db.url)
    try:
        yield db, session
    finally:
        session.close()


@pytest.fixture
def second(db: TempDatabase) -> Iterator[Database]:
    """Another session on the same database, as a second runner would have."""
    session = opened(db.url)
    try:
        yield session
    finally:
        session.close()


def row(version: int = 1, **fields: object) -> HistoryRow:
    """A history row with every column set, times to the microsecond in UTC."""
    values: dict[str, object] = {
        "name": "add_users_é", "file": f"{version:03d}_add_users_é.sql", "checksum": "a" * 64, "state": "applied",
        "applied_at": datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=timezone.utc), "duration_ms": 12,
        "statements": 3, "tolerated": 1, "applied_by": "app@host", "previous_checksum": "b" * 64,
        "checksum_replaced_at": datetime(2026, 2, 3, 4, 5, 6, 7, tzinfo=timezone.utc),
    }
    values.update(fields)
    return HistoryRow(version=version, **values)  # type: ignore[arg-type]


def make_table(session: Database, name: str = "t") -> None:
    """A one-column table, created outside any transaction."""
    session.begin(False)
    assert session.run_batch([stmt(f"CREATE TABLE {name} (id INTEGER PRIMARY KEY)")]).error is None
    session.commit()


def count(db: TempDatabase, table: str = "t") -> int:
    """Rows in ``table``, seen from a connection of the test's own."""
    return db.query(f"SELECT COUNT(*) FROM {table}")[0][0]


# --- the class --------------------------------------------------------------------------------------


def test_every_abstract_method_is_implemented(target: tuple[TempDatabase, Database]) -> None:
    db, session = target
    assert isinstance(session, Database)
    assert session.kind == db.kind
    assert not getattr(type(session), "__abstractmethods__", None)
    assert "open" in Database.__abstractmethods__  # the registry calls it: the ABC declares it
    assert session.batch_statements >= 1 and session.batch_bytes > 0
    assert isinstance(session.ddl_commits_implicitly, bool) and isinstance(session.split_while_running, bool)


# --- connection -------------------------------------------------------------------------------------


@pytest.fixture
def missing(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, DatabaseURL]]:
    """(kind, URL) of a database that does not exist yet; dropped afterwards if a test created it."""
    kind = request.param
    require(kind)
    name = f"sqlrun_t_{uuid.uuid4().hex[:12]}"
    if kind == "sqlite":
        yield kind, parse_url(f"sqlite:///{tmp_path / 'sub' / name}.db")
        return
    yield kind, server_url(kind).with_database(name)
    with admin(kind) as cur:
        cur.execute(f"DROP DATABASE IF EXISTS {name}" + (" WITH (FORCE)" if kind == "postgresql" else ""))


def exists(kind: str, url: DatabaseURL) -> bool:
    """Whether the database of ``url`` exists, asked without sqlrun."""
    if kind == "sqlite":
        return Path(url.database or "").exists()
    query = "SELECT 1 FROM pg_database WHERE datname = %s" if kind == "postgresql" else "SELECT 1 FROM information_schema.schemata WHERE schema_name = %s"
    with admin(kind) as cur:
        cur.execute(query, (url.database,))
        return cur.fetchone() is not None


@pytest.mark.parametrize("missing", BACKENDS, indirect=True)
def test_open_creates_a_missing_database_and_says_so(missing: tuple[str, DatabaseURL]) -> None:
    kind, url = missing
    NOTICES.clear()
    session = opened(url, create=True)
    try:
        assert exists(kind, url)
        assert session.read_history() == {}
        assert len(NOTICES) == 1 and "created database" in NOTICES[0] and str(url.database).rsplit("/", 1)[-1] in NOTICES[0]
    finally:
        session.close()


@pytest.mark.parametrize("missing", BACKENDS, indirect=True)
def test_open_without_create_refuses_for_good(missing: tuple[str, DatabaseURL]) -> None:
    kind, url = missing
    with pytest.raises(ConnectError) as caught:
        open_database(url, create=False, notify=NOTICES.append)
    assert not caught.value.retryable  # waiting for the server cannot make the database appear
    assert "does not exist" in str(caught.value)
    assert not exists(kind, url)


@pytest.mark.parametrize("missing", BACKENDS, indirect=True)
def test_open_readonly_creates_nothing_and_finds_no_history(missing: tuple[str, DatabaseURL]) -> None:
    kind, url = missing
    session = open_database(url, readonly=True, notify=NOTICES.append)
    if session is not None:  # SQLite answers with an empty in-memory stand-in; the servers with None
        assert session.read_history() == {}
        session.close()
    assert not exists(kind, url)


def test_close_is_idempotent_and_releases_the_lock(db: TempDatabase, second: Database) -> None:
    session = opened(db.url)
    assert session.try_lock()
    session.close()
    session.close()
    assert second.try_lock()


def test_whoami_names_the_user_and_this_host(target: tuple[TempDatabase, Database]) -> None:
    import os

    _, session = target
    user, _, host = session.whoami().rpartition("@")
    assert user and host == os.uname().nodename


# --- history ----------------------------------------------------------------------------------------


def test_a_fresh_database_has_no_history_and_no_table(target: tuple[TempDatabase, Database]) -> None:
    db, session = target
    assert session.read_history() == {}
    assert "sqlrun_history" not in db.tables()  # reading creates nothing


def test_ensure_history_is_idempotent(target: tuple[TempDatabase, Database]) -> None:
    db, session = target
    session.ensure_history()
    session.ensure_history()
    assert "sqlrun_history" in db.tables()
    assert session.read_history() == {}


def test_history_rows_round_trip_exactly(target: tuple[TempDatabase, Database], second: Database) -> None:
    _, session = target
    session.ensure_history()
    rows = [row(1), row(2, state="failed", previous_checksum=None, checksum_replaced_at=None, tolerated=0)]
    for r in rows:
        session.begin(True)
        session.write_history(r)
        session.commit()
    assert second.read_history() == {1: rows[0], 2: rows[1]}
    for read in second.read_history().values():
        assert read.applied_at.utcoffset() == timedelta(0)  # aware, in UTC, whatever the session's time zone


def test_write_history_replaces_the_row_of_its_version(target: tuple[TempDatabase, Database], second: Database) -> None:
    _, session = target
    session.ensure_history()
    session.begin(True)
    session.write_history(row(7))
    session.commit()
    session.begin(True)
    session.write_history(row(7, checksum="c" * 64))
    session.commit()
    assert second.read_history() == {7: row(7, checksum="c" * 64)}


def test_write_history_belongs_to_the_transaction(target: tuple[TempDatabase, Database], second: Database) -> None:
    _, session = target
    session.ensure_history()
    session.begin(True)
    session.write_history(row(1))
    session.rollback()
    assert second.read_history() == {}
    session.begin(True)
    session.write_history(row(1))
    session.commit()
    assert second.read_history() == {1: row(1)}


def test_commit_with_history_commits_the_script_and_its_row(target: tuple[TempDatabase, Database], second: Database) -> None:
    db, session = target
    session.ensure_history()
    make_table(session)
    session.begin(True)
    assert session.run_batch([stmt("INSERT INTO t VALUES (1)")]).error is None
    session.commit_with_history(row(1))
    assert count(db) == 1
    assert second.read_history() == {1: row(1)}
    session.begin(True)  # the session is ready for the next script
    assert session.run_batch([stmt("INSERT INTO t VALUES (2)")]).error is None
    session.rollback()
    assert count(db) == 1


def test_a_finishing_batch_commits_its_row_or_leaves_it_to_commit_with_history(target: tuple[TempDatabase, Database], second: Database) -> None:
    db, session = target
    session.ensure_history()
    make_table(session)
    session.begin(True)
    finish = row(1)
    outcome = session.run_batch([stmt("INSERT INTO t VALUES (1)"), stmt("INSERT INTO t VALUES (2)")], finish)
    assert outcome.done == 2 and outcome.error is None
    if not outcome.committed:
        assert second.read_history() == {}
        session.commit_with_history(finish)
    assert count(db) == 2
    read = second.read_history()[1]
    # applied_at and duration_ms may come from the server's clock: the rest is the row as given
    assert read.applied_at == finish.applied_at or abs(read.applied_at - datetime.now(timezone.utc)) < timedelta(minutes=1)
    assert (read.version, read.checksum, read.statements, read.previous_checksum) == (1, finish.checksum, 3, finish.previous_checksum)


def test_a_history_table_of_another_shape_is_a_config_error(target: tuple[TempDatabase, Database]) -> None:
    db, session = target
    db.execute("CREATE TABLE sqlrun_history (id INTEGER)")
    with pytest.raises(ConfigError, match="sqlrun_history"):
        session.read_history()


# --- transactions and statements ------------------------------------------------------------------


def test_rollback_undoes_a_transactional_script(target: tuple[TempDatabase, Database]) -> None:
    db, session = target
    make_table(session)
    session.begin(True)
    assert session.run_batch([stmt("INSERT INTO t VALUES (1)"), stmt("INSERT INTO t VALUES (2)")]).done == 2
    assert count(db) == 0  # not visible before the commit
    session.rollback()
    assert count(db) == 0
    session.begin(True)
    session.run_batch([stmt("INSERT INTO t VALUES (3)")])
    session.commit()
    assert count(db) == 1


def test_without_a_transaction_each_statement_stands(target: tuple[TempDatabase, Database]) -> None:
    db, session = target
    make_table(session)
    session.begin(False)
    outcome = session.run_batch([stmt("INSERT INTO t VALUES (1)"), stmt("INSERT INTO t VALUES (1)"), stmt("INSERT INTO t VALUES (2)")])
    assert outcome.done == 1 and outcome.error is not None
    session.rollback()
    assert count(db) == 1


def test_a_batch_stops_at_the_first_failure_keeping_what_ran_before(target: tuple[TempDatabase, Database]) -> None:
    db, session = target
    make_table(session)
    session.begin(True)
    batch = [stmt("INSERT INTO t VALUES (1)"), stmt("INSERT INTO t VALUES (2)"), stmt("INSERT INTO missing_table VALUES (3)"), stmt("INSERT INTO t VALUES (4)")]
    outcome = session.run_batch(batch)
    assert outcome.done == 2 and outcome.error is not None and not outcome.committed
    assert "missing_table" in session.describe(outcome.error)
    assert session.fault(outcome.error).what == "missing"
    assert not settle(session, batch[2], outcome.error).in_place  # an INSERT into a missing table is a real error
    assert session.run_batch([stmt("INSERT INTO t VALUES (5)")]).error is None  # the transaction goes on
    session.commit()
    assert [r[0] for r in db.query("SELECT id FROM t ORDER BY id")] == [1, 2, 5]


def test_a_full_batch_runs_every_statement(target: tuple[TempDatabase, Database]) -> None:
    db, session = target
    make_table(session)
    session.begin(True)
    n = min(session.batch_statements, 3000) + 1
    outcome = session.run_batch([stmt(f"INSERT INTO t VALUES ({i})") for i in range(n)])
    assert (outcome.done, outcome.error) == (n, None)
    session.commit()
    assert count(db) == n


def test_ddl_commits_implicitly_tells_the_truth(target: tuple[TempDatabase, Database]) -> None:
    db, session = target
    session.begin(True)
    assert session.run_batch([stmt("CREATE TABLE made_in_a_transaction (id INTEGER)")]).error is None
    session.rollback()
    assert ("made_in_a_transaction" in db.tables()) is session.ddl_commits_implicitly


def test_describe_gives_the_servers_message(target: tuple[TempDatabase, Database]) -> None:
    _, session = target
    session.begin(False)
    outcome = session.run_batch([stmt("SELEC 1")])
    assert outcome.done == 0 and outcome.error is not None
    text = session.describe(outcome.error)
    assert "SELEC" in text or "syntax" in text.lower()
    assert session.fault(outcome.error).what == "other"
    assert not settle(session, stmt("SELEC 1"), outcome.error).in_place


@pytest.mark.parametrize("setup, repeat", [
    ("CREATE TABLE t2 (id INTEGER PRIMARY KEY)", "CREATE TABLE t2 (id INTEGER PRIMARY KEY)"),
    ("CREATE TABLE t2 (id INTEGER PRIMARY KEY)", "ALTER TABLE t2 ADD COLUMN id INTEGER"),
    ("INSERT INTO t VALUES (1)", "INSERT INTO t VALUES (1)"),
    ("SELECT 1", "DROP TABLE never_made"),
])
def test_already_in_place_is_tolerated_with_a_reason(target: tuple[TempDatabase, Database], setup: str, repeat: str) -> None:
    _, session = target
    make_table(session)
    session.begin(False)
    assert session.run_batch([stmt(setup)]).error is None
    again = stmt(repeat)
    outcome = session.run_batch([again])
    assert outcome.error is not None
    verdict = settle(session, again, outcome.error)
    assert verdict.in_place and verdict.reason


def test_a_missing_object_is_tolerated_only_when_dropping(target: tuple[TempDatabase, Database]) -> None:
    _, session = target
    session.begin(False)
    select = stmt("SELECT * FROM never_made")
    outcome = session.run_batch([select])
    assert outcome.error is not None and session.fault(outcome.error).what == "missing"
    assert not settle(session, select, outcome.error).in_place


def test_faults_name_the_object_an_error_is_about(target: tuple[TempDatabase, Database]) -> None:
    _, session = target
    make_table(session)
    session.begin(False)
    for text, what, name in (
        ("CREATE TABLE t (id INTEGER)", "exists", "t"),
        ("ALTER TABLE t ADD COLUMN id INTEGER", "exists", "id"),
        ("DROP TABLE never_made", "missing", "never_made"),
    ):
        outcome = session.run_batch([stmt(text)])
        assert outcome.error is not None, text
        fault = session.fault(outcome.error)
        assert (fault.what, fault.name) == (what, name), (text, fault)


def test_catalog_look_ups_answer_inside_a_transaction(target: tuple[TempDatabase, Database]) -> None:
    from sqlrun.intent import Name

    db, session = target
    make_table(session)
    session.begin(True)
    assert session.run_batch([stmt("INSERT INTO t VALUES (1)")]).error is None
    t, nowhere = Name(("t",), False, 0, 0), Name(("nowhere",), False, 0, 0)
    assert session.probe("table", t) is True and session.probe("view", t) is False and session.probe("table", nowhere) is False
    assert session.columns(t) == ["id"] and session.columns(nowhere) == []
    equal = session.null_safe_equal(session.quote("id"), "1")
    assert session.query(f"SELECT {session.quote('id')} FROM t WHERE {equal}") == [(1,)]
    assert session.query("SELECT * FROM nowhere") is None  # a failed look-up returns None...
    assert session.run_batch([stmt("INSERT INTO t VALUES (2)")]).error is None  # ...and the transaction goes on
    session.commit()
    assert count(db) == 2


def test_a_plain_statement_shares_its_round_trip_and_copy_data_does_not(target: tuple[TempDatabase, Database]) -> None:
    db, session = target
    assert not session.runs_alone(stmt("INSERT INTO t VALUES (1)"))
    if db.kind == "postgresql":  # only psql's rules make statements that carry COPY data
        assert session.runs_alone(stmt("COPY t FROM STDIN", copy_data="1\n"))


def test_after_script_leaves_the_session_usable(target: tuple[TempDatabase, Database]) -> None:
    db, session = target
    make_table(session)
    session.after_script(False)
    session.after_script(True)
    session.begin(True)
    assert session.run_batch([stmt("INSERT INTO t VALUES (1)")]).error is None
    session.commit()
    assert count(db) == 1


# --- lock -------------------------------------------------------------------------------------------


def test_the_lock_excludes_a_second_session_until_unlocked(target: tuple[TempDatabase, Database], second: Database) -> None:
    _, session = target
    assert isinstance(session.lock_name(), str) and session.lock_name()
    assert session.try_lock()
    assert not second.try_lock()
    session.unlock()
    assert second.try_lock()
    assert not session.try_lock()
    second.unlock()
    second.unlock()  # idempotent
    assert session.try_lock()
    session.unlock()


def test_lock_waits_then_times_out(target: tuple[TempDatabase, Database], second: Database) -> None:
    _, session = target
    session.lock(5, NOTICES.append)
    started = time.monotonic()
    with pytest.raises(LockTimeoutError, match="--lock-timeout"):
        second.lock(0.4, NOTICES.append)
    assert 0.35 <= time.monotonic() - started < 5
    session.unlock()
    second.lock(5, NOTICES.append)
    second.unlock()


def test_the_fence_excludes_a_second_session_where_there_is_one(target: tuple[TempDatabase, Database], second: Database) -> None:
    _, session = target
    session.lock(5, NOTICES.append)
    if type(session).try_fence is Database.try_fence:
        assert second.try_fence()  # no fence needed: trying is harmless
    else:
        assert not second.try_fence()
    session.unlock()
    assert second.try_fence()
    second.unlock()


def test_the_lock_belongs_to_one_database(target: tuple[TempDatabase, Database], tmp_path: Path) -> None:
    db, session = target
    other = make_database(db.kind, tmp_path)
    elsewhere = next(other)
    try:
        neighbour = opened(elsewhere.url)
        try:
            assert session.try_lock()
            assert neighbour.try_lock()
            neighbour.unlock()
        finally:
            neighbour.close()
        session.unlock()
    finally:
        next(other, None)
