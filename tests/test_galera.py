"""A 3-node MariaDB Galera cluster: many runners on every node apply each script once; dead and lonely nodes exit 4.

GET_LOCK is local to a node, so sqlrun takes a lease row there (see sqlrun/dialects/lease.py). The cluster is
started by the module's fixture (tests/clusters.py) on loopback ports 23061-23063 and 24671-24699.
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Iterator

import pytest

from clusters import GaleraCluster, missing
from conftest import unavailable
from subproc import finish, read_line_with, run, start

pytestmark = [pytest.mark.cluster, pytest.mark.mysql]

RUNNERS_PER_NODE = 4
TRIALS = 5
# Each script writes one row into `log` each time it runs: a script run twice leaves two rows.
SCRIPTS = {
    "001_log.sql": "CREATE TABLE log (id INT AUTO_INCREMENT PRIMARY KEY, script INT NOT NULL);\nINSERT INTO log (script) VALUES (1);\nDO SLEEP(0.2);\n",
    **{
        f"00{i}_t{i}.sql": f"CREATE TABLE t{i} (id INT PRIMARY KEY);\nINSERT INTO log (script) VALUES ({i});\nINSERT INTO t{i} VALUES (1);\nDO SLEEP(0.2);\n"
        for i in range(2, 6)
    },
}


@pytest.fixture(scope="module")
def galera() -> Iterator[GaleraCluster]:
    """A running 3-node cluster for the module's tests."""
    reason = missing()
    if reason:
        unavailable(f"no Galera cluster can run: {reason}")
    cluster = GaleraCluster()
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()


def new_database(cluster: GaleraCluster) -> str:
    """A new, empty database on the cluster (DDL: created on every node)."""
    name = f"sqlrun_g_{uuid.uuid4().hex[:10]}"
    conn = cluster.node(1).connect()
    try:
        with conn.cursor() as cur:
            cur.execute(f"CREATE DATABASE {name}")
    finally:
        conn.close()
    return name


def query(cluster: GaleraCluster, database: str, sql: str, node: int = 1) -> list[tuple]:
    """Rows of ``sql`` read on ``node``, after it has applied every write the cluster committed."""
    conn = cluster.node(node).connect(database)
    try:
        with conn.cursor() as cur:
            cur.execute("SET SESSION wsrep_sync_wait = 1")
            cur.execute(sql)
            return list(cur.fetchall())
    finally:
        conn.close()


def write_scripts(folder: Path, files: dict[str, str]) -> Path:
    """The migrations folder with ``files``."""
    scripts = folder / "migrations"
    scripts.mkdir(exist_ok=True)
    for name, body in files.items():
        (scripts / name).write_text(body)
    return scripts


@pytest.mark.parametrize("trial", range(TRIALS))
def test_twelve_runners_on_three_nodes_apply_each_script_exactly_once(galera: GaleraCluster, tmp_path: Path, trial: int) -> None:
    folder = write_scripts(tmp_path, SCRIPTS)
    database = new_database(galera)
    procs = [
        start(tmp_path, "--database-url", galera.node(n).url(database), "--dir", str(folder))
        for _ in range(RUNNERS_PER_NODE)
        for n in (1, 2, 3)
    ]

    results = [finish(p, timeout=300) for p in procs]

    for r in results:
        assert r.code == 0, r.text
    per_script = dict(query(galera, database, "SELECT script, COUNT(*) FROM log GROUP BY script", node=2))
    assert per_script == {1: 1, 2: 1, 3: 1, 4: 1, 5: 1}, f"trial {trial}: each script must run exactly once"
    assert query(galera, database, "SELECT version, state FROM sqlrun_history ORDER BY version", node=3) == [
        (v, "applied") for v in range(1, 6)
    ]
    applied = [r for r in results if "done: 5 script(s) applied" in r.out]
    assert len(applied) == 1, "one runner applied everything; the others found it done"
    assert "lock: lease row" in applied[0].out and "Galera cluster (@@wsrep_on)" in applied[0].out
    assert query(galera, database, "SELECT COUNT(*) FROM sqlrun_lock") == [(0,)], "every lease was released"


def test_a_session_lock_asked_for_on_galera_is_taken_with_a_warning(galera: GaleraCluster, tmp_path: Path) -> None:
    folder = write_scripts(tmp_path, SCRIPTS)
    database = new_database(galera)

    result = run(tmp_path, "--database-url", galera.node(2).url(database), "--dir", str(folder), "--lock", "session")

    assert result.code == 0, result.text
    assert "warning: --lock=session on a Galera cluster: GET_LOCK holds on this node only" in result.err
    assert "lock: sqlrun:" in result.out and "(session: --lock)" in result.out
    assert "sqlrun_lock" not in [r[0] for r in query(galera, database, "SHOW TABLES")]


def test_the_runners_own_node_killed_mid_run_is_exit_4_and_a_rerun_converges(galera: GaleraCluster, tmp_path: Path) -> None:
    slow = {"001_log.sql": SCRIPTS["001_log.sql"], "002_slow.sql": "DO SLEEP(8);\nINSERT INTO log (script) VALUES (2);\n"}
    folder = write_scripts(tmp_path, slow)
    database = new_database(galera)
    proc = start(tmp_path, "--database-url", galera.node(3).url(database), "--dir", str(folder))
    try:
        before = read_line_with(proc, "applied 001_log.sql")
        time.sleep(0.5)  # 002's DO SLEEP is running on node 3
        galera.kill(3)
        killed = finish(proc, timeout=120, before=before)
    finally:
        if proc.poll() is None:
            proc.kill()

    assert killed.code == 4, killed.text
    assert "002_slow.sql" in killed.err and "lost" in killed.err and "(2013)" in killed.err
    assert "unexpected" not in killed.err and "Traceback" not in killed.text

    # The dead runner's lease row outlives it; the re-run takes it over once it went unrenewed for its time to live.
    again = run(tmp_path, "--database-url", galera.node(1).url(database), "--dir", str(folder), timeout=180)

    assert again.code == 0, again.text
    assert "took over the lock of" in again.err
    assert dict(query(galera, database, "SELECT script, COUNT(*) FROM log GROUP BY script")) == {1: 1, 2: 1}
    assert [r[0] for r in query(galera, database, "SELECT version FROM sqlrun_history ORDER BY version")] == [1, 2]
    galera.restart(3)


def test_a_read_only_node_is_exit_6_and_status_says_it_reads_a_replica(galera: GaleraCluster, tmp_path: Path) -> None:
    folder = write_scripts(tmp_path, SCRIPTS)
    database = new_database(galera)
    set_read_only(galera, 2, True)  # not replicated: only node 2 is read-only
    try:
        refused = run(tmp_path, "--database-url", galera.node(2).url(database), "--dir", str(folder))
        status = run(tmp_path, "status", "--database-url", galera.node(2).url(database), "--dir", str(folder))
    finally:
        set_read_only(galera, 2, False)

    assert refused.code == 6, refused.text
    assert "this is a read-only replica (hot standby); point --database-url at the primary (@@read_only = ON)" in refused.err
    assert status.code == 0, status.text
    assert "reading a read-only replica (@@read_only = ON)" in status.out and "pending" in status.out
    assert query(galera, database, "SHOW TABLES") == []


def set_read_only(cluster: GaleraCluster, n: int, on: bool) -> None:
    """SET GLOBAL read_only on node ``n`` only."""
    conn = cluster.node(n).connect()
    try:
        with conn.cursor() as cur:
            cur.execute(f"SET GLOBAL read_only = {'ON' if on else 'OFF'}")
    finally:
        conn.close()


def test_a_node_without_quorum_is_exit_4_and_wait_retries_it(galera: GaleraCluster, tmp_path: Path) -> None:
    folder = write_scripts(tmp_path, SCRIPTS)
    database = new_database(galera)
    galera.kill(2)
    galera.kill(3)
    lonely = galera.node(1)
    deadline = time.monotonic() + 60
    while lonely.status("wsrep_ready") != "OFF":  # one node of three: no quorum, once it notices the others gone
        assert time.monotonic() < deadline, lonely.log()
        time.sleep(0.5)
    try:
        apply = run(tmp_path, "--database-url", lonely.url(database), "--dir", str(folder))
        waited = run(tmp_path, "--database-url", lonely.url(database), "--dir", str(folder), "--wait", "2")
        status = run(tmp_path, "status", "--database-url", lonely.url(database), "--dir", str(folder))
        create = run(tmp_path, "--database-url", lonely.url(database + "_new"), "--dir", str(folder))
    finally:
        bootstrap_again(galera)

    for result in (apply, waited, status, create):
        assert result.code == 4, result.text
        assert "1047" in result.err, result.err
        assert "grant" not in result.err and "unexpected" not in result.err
    assert "waiting for the database" in waited.out and "gave up after waiting 2s (--wait)" in waited.err
    assert run(tmp_path, "--database-url", lonely.url(database), "--dir", str(folder)).code == 0


def bootstrap_again(cluster: GaleraCluster) -> None:
    """Make node 1 a primary component on its own again, then let nodes 2 and 3 rejoin it."""
    conn = cluster.node(1).connect()
    try:
        with conn.cursor() as cur:
            cur.execute("SET GLOBAL wsrep_provider_options = 'pc.bootstrap=YES'")
    finally:
        conn.close()
    cluster.wait_size(1, nodes=(1,))
    cluster.restart(2, size=2)
    cluster.restart(3)
