"""The server ends the working connection mid-script: exit 4 naming the script, the server's reason and the state left."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from conftest import TempDatabase, admin, make_database
from subproc import finish, start

SLEEPER = {"postgresql": "SELECT pg_sleep(60)", "mysql": "SELECT SLEEP(60)"}
REASON = {"postgresql": "terminating connection due to administrator command", "mysql": "Lost connection"}


@pytest.fixture(params=["mysql", "postgresql"])
def server_db(request: pytest.FixtureRequest, tmp_path: Path):
    """An empty database on each server backend."""
    yield from make_database(request.param, tmp_path)


def _kill_session_running(kind: str, database: str, text: str, within: float = 30.0) -> None:
    """Wait until a session runs ``text`` in ``database``, then have the server end that session."""
    deadline = time.monotonic() + within
    with admin(kind) as cur:
        while time.monotonic() < deadline:
            if kind == "postgresql":
                cur.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND query LIKE %s AND pid <> pg_backend_pid()",
                    (database, f"%{text}%"),
                )
            else:
                cur.execute("SELECT id FROM information_schema.processlist WHERE db = %s AND info LIKE %s AND id <> CONNECTION_ID()", (database, f"%{text}%"))
                for (pid,) in cur.fetchall():
                    cur.execute(f"KILL {int(pid)}")
                    return
            if kind == "postgresql" and cur.rowcount:
                return
            time.sleep(0.05)
    raise AssertionError(f"no session ran {text!r} within {within}s")


@pytest.mark.parametrize("no_transaction", [False, True], ids=["transaction", "no-transaction"])
def test_killed_mid_script_exits_4_with_reason_and_state(server_db: TempDatabase, scripts, no_transaction: bool) -> None:
    kind = server_db.kind
    header = "-- sqlrun: no-transaction\n" if no_transaction else ""
    folder = scripts({
        "001_a.sql": "CREATE TABLE a (x INT);\n",
        "002_slow.sql": header + "CREATE TABLE b (x INT);\nINSERT INTO b VALUES (1);\n" + SLEEPER[kind] + ";\nINSERT INTO b VALUES (2);\n",
        "003_c.sql": "CREATE TABLE c (x INT);\n",
    })
    proc = start(folder.parent, "--database-url", server_db.url, "--dir", str(folder))
    _kill_session_running(kind, server_db.name, SLEEPER[kind])
    run = finish(proc, timeout=60)
    assert run.code == 4, run.text
    assert "002_slow.sql" in run.err and "connection to the database was lost" in run.err, run.err
    assert REASON[kind] in run.err, run.err
    assert "unexpected" not in run.err
    if no_transaction or kind == "mysql":
        assert "partly applied" in run.err, run.err
    else:
        assert "rolled back" in run.err, run.err
        assert "b" not in server_db.tables()
    assert [r[:3] for r in server_db.history()] == [(1, "a", "applied")]
    # Running again finishes the job: 002 from its start ('already there' tolerated), then 003.
    (folder / "002_slow.sql").write_text(header + "CREATE TABLE b (x INT);\nINSERT INTO b VALUES (1);\nINSERT INTO b VALUES (2);\n")
    again = finish(start(folder.parent, "--database-url", server_db.url, "--dir", str(folder), "--reapply-changed"), timeout=60)
    assert again.code == 0, again.text
    assert [r[:3] for r in server_db.history()] == [(1, "a", "applied"), (2, "slow", "applied"), (3, "c", "applied")]
