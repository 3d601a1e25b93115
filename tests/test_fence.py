"""A killed runner's working session may still be busy on the server after its lock connection is gone.

The migration lock lives on a connection of its own, which the server drops at once; the working session
can still be finishing a statement or a COMMIT. A new runner must wait for that session to end before it
reads the history, or it could run a script a second time. The working session holds a second lock for
exactly that; here a session stands in for the dying runner by holding only that second lock.

PostgreSQL needs no second lock: its migration lock is taken on the working session itself, so it is held
until that session has ended (test_lock_faults.py kills a runner mid-statement to show it).
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from conftest import TempDatabase
from subproc import lock_holder, run

SCRIPT = "CREATE TABLE fenced (id INTEGER PRIMARY KEY);\nINSERT INTO fenced (id) VALUES (1);\n"


def _fence_holder(db: TempDatabase):  # noqa: ANN202 - a dialect session holding only the working-session lock
    holder = lock_holder(db.url)
    assert holder.try_fence()
    return holder


@pytest.mark.parametrize("db", ["mysql"], indirect=True)
def test_a_runner_waits_for_a_dead_runners_session_to_end(db: TempDatabase, scripts, tmp_path: Path) -> None:
    folder = scripts({"001_fenced.sql": SCRIPT})
    holder = _fence_holder(db)
    try:
        result = run(tmp_path, "--database-url", db.url, "--dir", str(folder), "--lock-timeout", "2")
    finally:
        holder.close()
    assert result.code == 5, result.text
    assert "the session of a stopped runner was still working on the server after 2s" in result.err
    assert "fenced" not in db.tables()


@pytest.mark.parametrize("db", ["mysql"], indirect=True)
def test_the_runner_goes_on_once_that_session_ends(db: TempDatabase, scripts, tmp_path: Path) -> None:
    folder = scripts({"001_fenced.sql": SCRIPT})
    holder = _fence_holder(db)
    released = threading.Event()

    def end_session() -> None:
        time.sleep(1.0)  # not a timing assertion: the runner must simply be waiting when this happens
        holder.close()
        released.set()

    threading.Thread(target=end_session, daemon=True).start()
    result = run(tmp_path, "--database-url", db.url, "--dir", str(folder), "--lock-timeout", "60")
    assert released.is_set(), "the runner finished while the old session still held its lock"
    assert result.code == 0, result.text
    assert db.history() == [(1, "fenced", "applied", 2, 0)]
