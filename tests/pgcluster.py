"""PgBouncer (transaction and session pooling) and a PostgreSQL hot standby, started by the test suite itself.

PgBouncer pools in front of the test server (tests/conftest.py's PostgreSQL); the standby is a pair of its
own: a primary made with initdb and a streaming replica made from it with ``pg_basebackup -R``. Everything
lives in a temporary folder on loopback ports and is stopped when the session ends. Run as the postgres
user when we are root, since neither PostgreSQL nor PgBouncer will run as root.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from servers import _as_user, _find, _wait_port

PGBOUNCER_PORTS = {"transaction": 6432, "session": 6433}
PRIMARY_PORT, STANDBY_PORT = 25430, 25431  # below the ephemeral range (32768-60999): no client socket holds them
POOL_SIZE = 2
PGBOUNCER_INI = """[databases]
* = host={host} port={port}
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {listen}
unix_socket_dir =
auth_type = trust
auth_file = {folder}/userlist.txt
pool_mode = {mode}
default_pool_size = {pool}
max_client_conn = 200
ignore_startup_parameters = extra_float_digits,options
pidfile = {folder}/pgbouncer.pid
logfile = {folder}/pgbouncer.log
"""


@dataclass(frozen=True)
class Pooler:
    """A running PgBouncer: its mode, port and folder."""

    mode: str
    port: int
    folder: Path

    def url(self, database: str) -> str:
        """A URL for ``database`` through this pooler."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def stop(self) -> None:
        """Stop it (SIGTERM to the pid in its pidfile)."""
        pid = (self.folder / "pgbouncer.pid").read_text().strip()
        subprocess.run(["kill", pid], capture_output=True)


@dataclass(frozen=True)
class Standby:
    """A primary and its streaming hot standby."""

    folder: Path
    primary_port: int = PRIMARY_PORT
    standby_port: int = STANDBY_PORT

    def url(self, database: str, *, primary: bool = False) -> str:
        """A URL for ``database`` on the standby (or on the primary)."""
        port = self.primary_port if primary else self.standby_port
        return f"postgresql://postgres@127.0.0.1:{port}/{database}"

    def stop(self) -> None:
        """Stop both servers, fast."""
        pg_ctl = _binary("pg_ctl")
        for data in ("standby", "primary"):
            subprocess.run([*_as_user(), pg_ctl, "-D", str(self.folder / data), "-m", "immediate", "stop"], capture_output=True)


def _binary(name: str) -> str:
    found = _find(name, [f"/usr/lib/postgresql/*/bin/{name}", f"/usr/sbin/{name}"])
    if not found:
        raise RuntimeError(f"{name} is not installed (apt-get install pgbouncer postgresql)")
    return found


def _scratch(prefix: str) -> Path:
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    if _as_user():
        shutil.chown(folder, "postgres", "postgres")
    return folder


def _port_free(port: int) -> bool:
    return not _wait_port(port, seconds=0.1)


def start_pgbouncer(mode: str, server_host: str, server_port: int) -> Pooler:
    """Start PgBouncer in ``mode`` (transaction or session) in front of the given server."""
    port = PGBOUNCER_PORTS[mode]
    if not _port_free(port):
        raise RuntimeError(f"port {port} is taken: another PgBouncer left running?")
    folder = _scratch(f"sqlrun-pgb-{mode[:2]}-")
    (folder / "userlist.txt").write_text('"postgres" ""\n')
    ini = PGBOUNCER_INI.format(host=server_host, port=server_port, listen=port, folder=folder, mode=mode, pool=POOL_SIZE)
    (folder / "pgbouncer.ini").write_text(ini)
    if _as_user():
        for f in folder.iterdir():
            shutil.chown(f, "postgres", "postgres")
    subprocess.run([*_as_user(), _binary("pgbouncer"), "-d", str(folder / "pgbouncer.ini")], check=True, capture_output=True)
    if not _wait_port(port, 15):
        raise RuntimeError(f"PgBouncer did not start: {(folder / 'pgbouncer.log').read_text()[-2000:]}")
    return Pooler(mode, port, folder)


def start_standby() -> Standby:
    """initdb a primary (wal_level=replica), pg_basebackup -R a standby from it, start both; wait for recovery."""
    for port in (PRIMARY_PORT, STANDBY_PORT):
        if not _port_free(port):
            raise RuntimeError(f"port {port} is taken: another test server left running?")
    folder = _scratch("sqlrun-standby-")
    prefix = _as_user()
    primary, standby = folder / "primary", folder / "standby"
    subprocess.run([*prefix, _binary("initdb"), "-D", str(primary), "-U", "postgres", "--auth=trust", "--no-sync"], check=True, capture_output=True)
    _pg_start(primary, PRIMARY_PORT, folder, "-c wal_level=replica -c max_wal_senders=4")
    subprocess.run(
        [*prefix, _binary("pg_basebackup"), "-h", "127.0.0.1", "-p", str(PRIMARY_PORT), "-U", "postgres", "-D", str(standby), "-R"],
        check=True, capture_output=True,
    )
    _pg_start(standby, STANDBY_PORT, folder, "-c hot_standby=on")
    return Standby(folder)


def _pg_start(data: Path, port: int, folder: Path, extra: str) -> None:
    options = f"-c listen_addresses=127.0.0.1 -p {port} -k {folder} -c fsync=off {extra}"
    log = folder / f"{data.name}.log"
    subprocess.run([*_as_user(), _binary("pg_ctl"), "-D", str(data), "-o", options, "-l", str(log), "-w", "start"], check=True, capture_output=True)
    if not _wait_port(port, 30):
        raise RuntimeError(f"PostgreSQL in {data} did not start: {log.read_text()[-2000:]}")


def wait_replayed(standby: Standby, database: str, sql: str, seconds: float = 30.0) -> None:
    """Wait until ``sql`` (a query returning one row) answers on the standby: what the primary wrote has arrived."""
    import psycopg

    deadline = time.monotonic() + seconds
    while True:
        try:
            with psycopg.connect(standby.url(database), autocommit=True) as conn:
                if conn.execute(sql).fetchone():
                    return
        except psycopg.Error:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"the standby did not replay {sql!r} within {seconds}s")
        time.sleep(0.2)


def environment_ready() -> str | None:
    """Why the cluster tests cannot run here (binaries missing), or None."""
    for name in ("pgbouncer", "initdb", "pg_ctl", "pg_basebackup"):
        try:
            _binary(name)
        except RuntimeError as exc:
            return str(exc)
    if os.geteuid() == 0:
        try:
            _as_user()
        except RuntimeError as exc:
            return str(exc)
    return None
