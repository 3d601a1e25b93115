"""Real ``python init_db.py`` processes for the concurrency, crash and secrecy tests."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Mapping

from conftest import CliResult
from sqlrun.config import parse_url
from sqlrun.dialects import Database, open_database

INIT_DB = str(Path(__file__).resolve().parent.parent / "init_db.py")
# Variables that would choose a database behind the test's back.
_DB_ENV = ("DATABASE_URL", "MYSQL_HOST", "MYSQL_PORT", "MYSQL_USER", "MYSQL_PASSWORD", "MYSQL_DATABASE",
           "PGHOST", "PGPORT", "PGUSER", "PGPASSWORD", "PGDATABASE", "PGSERVICE", "PGPASSFILE")


# A finished process reports exactly what an in-process CLI call does: exit code, stdout, stderr.
Run = CliResult

def clean_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment without database settings, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if k not in _DB_ENV}
    env.update(extra or {})
    return env


def start(cwd: Path, *args: str, env: Mapping[str, str] | None = None) -> subprocess.Popen[str]:
    """Start ``python init_db.py ARGS`` in ``cwd`` with stdout and stderr piped."""
    return subprocess.Popen(
        [sys.executable, INIT_DB, *args], cwd=cwd, env=clean_env(env), text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )


def run(cwd: Path, *args: str, env: Mapping[str, str] | None = None, timeout: float = 120) -> Run:
    """Run ``python init_db.py ARGS`` in ``cwd`` to the end (``timeout`` only guards against a hang)."""
    proc = start(cwd, *args, env=env)
    out, err = proc.communicate(timeout=timeout)
    return Run(proc.returncode, out, err)


def lock_holder(url: str) -> Database:
    """A session on ``url`` that can take the migration lock the way a runner does."""
    db = open_database(parse_url(url), create=True, notify=lambda _: None)
    assert db is not None
    return db


def lock_is_free(url: str, within: float = 10.0) -> bool:
    """True when the migration lock can be taken within ``within`` seconds (the server drops a dead holder's)."""
    db = lock_holder(url)
    try:
        deadline = time.monotonic() + within
        while not db.try_lock():
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)
        return True
    finally:
        db.close()


def read_line_with(proc: subprocess.Popen[str], needle: str) -> str:
    """Read ``proc``'s stdout until a line containing ``needle``; AssertionError at end of output."""
    assert proc.stdout is not None
    seen = []
    for line in proc.stdout:
        seen.append(line)
        if needle in line:
            return line
    proc.wait()
    err = proc.stderr.read() if proc.stderr else ""
    raise AssertionError(f"{needle!r} never appeared; exit {proc.returncode}, output was:\n{''.join(seen)}{err}")


def finish(proc: subprocess.Popen[str], timeout: float = 120, before: str = "") -> Run:
    """Wait for ``proc``; ``before`` is stdout already read from it (by read_line_with).

    The rest is read through the same file objects: reading lines fills their buffer ahead, and
    ``communicate()`` reads the pipes underneath it, so it lost the lines already buffered (two databases'
    "applied" lines written together, one of them gone: a flaky fan-out test).
    """
    assert proc.stdout is not None and proc.stderr is not None
    texts: dict[str, str] = {}
    readers = [threading.Thread(target=lambda k=k, f=f: texts.__setitem__(k, f.read()), daemon=True)
               for k, f in (("out", proc.stdout), ("err", proc.stderr))]
    for reader in readers:
        reader.start()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()  # the pipes close, the readers end; the timeout is still the test's failure
        raise
    finally:
        for reader in readers:
            reader.join()
    return Run(proc.returncode, before + texts["out"], texts["err"])


def run_unprivileged(cwd: Path, *args: str, env: Mapping[str, str] | None = None, timeout: float = 120) -> Run:
    """Like ``run``, but as root without the capabilities that bypass file permissions (as any other user).

    Tests run as root in containers, and root reads and writes a file of mode 000 regardless; dropping
    CAP_DAC_OVERRIDE and friends from the bounding set makes the kernel apply the mode bits to root too.
    """
    prefix = []
    if os.geteuid() == 0:
        prefix = ["setpriv", "--bounding-set", "-dac_override,-dac_read_search,-fowner", "--inh-caps=-all"]
    proc = subprocess.run(
        [*prefix, sys.executable, INIT_DB, *args], cwd=cwd, env=clean_env(env), text=True, capture_output=True, timeout=timeout
    )
    return Run(proc.returncode, proc.stdout, proc.stderr)
