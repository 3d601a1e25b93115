"""Fault injection: the connection to the server drops at a random point of a multi-script run, then a re-run.

Every run goes through a small TCP proxy on 127.0.0.1 (tests/fault_proxy.py) that exits after forwarding a
random number of client packets, so the drop lands anywhere: while connecting, taking the lock, inside a
script, or just after a COMMIT reached the server and before its answer came back. Each time, a run that
exits 0 must have applied everything, and a re-run must converge: every script applied and recorded exactly
once. The seed is printed; rerun a failure with SQLRUN_TEST_SEED=<seed>.
"""

from __future__ import annotations

import os
import random
import socket
import subprocess
import sys
from pathlib import Path
from typing import Iterator

import pytest

from conftest import TempDatabase, make_database, server_url
from subproc import run

pytestmark = pytest.mark.faults

PROXY = str(Path(__file__).resolve().parent / "fault_proxy.py")
PORTS = range(27000, 27100)  # below the ephemeral range (32768-60999), where client sockets come and go
SCRIPTS = 12
ROUNDS = int(os.environ.get("SQLRUN_FAULT_ROUNDS") or 8)
SEED = int(os.environ.get("SQLRUN_TEST_SEED") or random.SystemRandom().randrange(2**32))


def _scripts(folder: Path) -> None:
    """Scripts whose every effect can be counted: DDL first (MySQL commits it at once), then rows and a ledger entry."""
    for n in range(1, SCRIPTS + 1):
        rows = "".join(f"INSERT INTO t{n} VALUES ({i});\n" for i in range(20))
        (folder / f"{n:03d}_s{n}.sql").write_text(f"CREATE TABLE t{n} (x INT);\n{rows}INSERT INTO ledger VALUES ({n});\n")


def _free_port() -> int:
    for port in random.sample(PORTS, len(PORTS)):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
                return port
            except OSError:
                continue
    raise RuntimeError("no free port in 27000-27099")


class Proxy:
    """A fault_proxy.py process in front of the test server, dying after ``die_after`` client packets (None: never)."""

    def __init__(self, kind: str, die_after: int | None) -> None:
        self.port = _free_port()
        target = server_url(kind).port or (5432 if kind == "postgresql" else 3306)
        args = [sys.executable, PROXY, str(self.port), str(target)] + ([str(die_after)] if die_after else [])
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None and self.proc.stdout.readline().strip() == "ready"

    def url(self, db: TempDatabase) -> str:
        """``db``'s URL, through the proxy."""
        host_port = f"127.0.0.1:{server_url(db.kind).port or (5432 if db.kind == 'postgresql' else 3306)}"
        assert host_port in db.url, db.url
        return db.url.replace(host_port, f"127.0.0.1:{self.port}")

    def stop(self) -> int | None:
        """Stop the proxy if it still runs; how many client packets it forwarded (None: it had died on purpose)."""
        if self.proc.poll() is not None:
            return None
        self.proc.terminate()
        out, _ = self.proc.communicate(timeout=10)
        return int(out.split()[-1]) if out.strip().startswith("forwarded") else None


@pytest.fixture(params=["mysql", "postgresql"])
def kind(request: pytest.FixtureRequest) -> str:
    """Each server backend."""
    return request.param


def _fresh(kind: str, tmp_path: Path) -> Iterator[TempDatabase]:
    yield from make_database(kind, tmp_path)


def _packets_of_a_full_run(kind: str, tmp_path: Path, folder: Path) -> int:
    """How many client packets a clean run sends (through a proxy that counts them by dying never)."""
    for db in _fresh(kind, tmp_path):
        db.execute("CREATE TABLE ledger (n INT)")
        proxy = Proxy(kind, None)
        try:
            result = run(folder.parent, "--database-url", proxy.url(db), "--dir", str(folder), "--lock-wait", "5")
        finally:
            count = proxy.stop()
        assert result.code == 0, result.text
        _assert_complete(db, "clean run")
    assert count and count > SCRIPTS, count
    return count


def test_connection_dropped_anywhere_then_rerun_converges(kind: str, tmp_path: Path) -> None:
    print(f"\nfault injection seed: {SEED} (SQLRUN_TEST_SEED={SEED} to repeat)")
    rng = random.Random(SEED)
    folder = tmp_path / "migrations"
    folder.mkdir()
    _scripts(folder)
    most = _packets_of_a_full_run(kind, tmp_path, folder)
    for round_ in range(ROUNDS):
        die_after = rng.randint(1, most)
        for db in _fresh(kind, tmp_path):
            db.execute("CREATE TABLE ledger (n INT)")
            _round(db, folder, die_after, f"round {round_}, proxy dies after {die_after} packets, seed {SEED}")


def _round(db: TempDatabase, folder: Path, die_after: int, label: str) -> None:
    proxy = Proxy(db.kind, die_after)
    try:
        first = run(folder.parent, "--database-url", proxy.url(db), "--dir", str(folder), "--lock-wait", "5", timeout=120)
    finally:
        proxy.stop()
    if first.code == 0:
        _assert_complete(db, label + " (first run exited 0)")
    else:
        assert first.code in (4, 5), f"{label}: exit {first.code}\n{first.text}"
        assert "error: unexpected" not in first.err, f"{label}:\n{first.err}"
    good = Proxy(db.kind, None)
    try:
        second = _rerun(db, good, folder)
    finally:
        good.stop()
    assert second.code == 0, f"{label}: re-run exit {second.code}\n{first.text}\n{second.text}"
    _assert_complete(db, label)


def _rerun(db: TempDatabase, proxy: Proxy, folder: Path):  # noqa: ANN202 - a CliResult
    # The dead run's sessions may still be ending on the server: the re-run waits for them (its lock).
    return run(folder.parent, "--database-url", proxy.url(db), "--dir", str(folder), "--lock-wait", "5", "--lock-timeout", "60")


def _assert_complete(db: TempDatabase, label: str) -> None:
    history = db.query("SELECT version, state FROM sqlrun_history ORDER BY version")
    assert history == [(n, "applied") for n in range(1, SCRIPTS + 1)], f"{label}: {history}"
    ledger = sorted(r[0] for r in db.query("SELECT n FROM ledger"))
    assert ledger == list(range(1, SCRIPTS + 1)), f"{label}: each script exactly once, ledger is {ledger}"
    for n in range(1, SCRIPTS + 1):
        assert db.query(f"SELECT count(*) FROM t{n}") == [(20,)], f"{label}: t{n}"
