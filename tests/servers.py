"""Throwaway PostgreSQL and MariaDB servers started from installed binaries, for machines without running ones.

Used by conftest.py only when no server answers at the configured or default URL (pytest-postgresql and
pytest-mysql do the same). Each server lives in a temporary folder on a free port and is stopped at exit.
"""

from __future__ import annotations

import atexit
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_port(port: int, seconds: float = 30.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.2)
    return False


def _find(name: str, patterns: list[str]) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    for pattern in patterns:
        hits = sorted(glob.glob(pattern))
        if hits:
            return hits[-1]
    return None


def _as_user() -> list[str]:
    """PostgreSQL refuses to run as root: run it as the postgres user when we are root."""
    if os.geteuid() != 0:
        return []
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        raise RuntimeError("running as root and there is no postgres user to run a throwaway server as") from None
    return ["runuser", "-u", "postgres", "--"]


def start_postgresql() -> str:
    """Start a throwaway PostgreSQL; returns its admin URL. Raises RuntimeError when it cannot."""
    initdb = _find("initdb", ["/usr/lib/postgresql/*/bin/initdb"])
    pg_ctl = _find("pg_ctl", ["/usr/lib/postgresql/*/bin/pg_ctl"])
    if not initdb or not pg_ctl:
        raise RuntimeError("no PostgreSQL binaries (initdb, pg_ctl) installed")
    prefix = _as_user()
    folder = tempfile.mkdtemp(prefix="sqlrun-pg-")
    if prefix:
        shutil.chown(folder, "postgres", "postgres")
    data, port = os.path.join(folder, "data"), _free_port()
    subprocess.run([*prefix, initdb, "-D", data, "-U", "postgres", "-A", "trust", "--no-sync"], check=True, capture_output=True)
    options = f"-c listen_addresses=127.0.0.1 -p {port} -k {folder} -c fsync=off"
    subprocess.run([*prefix, pg_ctl, "-D", data, "-o", options, "-l", os.path.join(folder, "log"), "-w", "start"], check=True, capture_output=True)
    atexit.register(lambda: subprocess.run([*prefix, pg_ctl, "-D", data, "-m", "immediate", "stop"], capture_output=True))
    if not _wait_port(port):
        raise RuntimeError("throwaway PostgreSQL did not start")
    return f"postgresql://postgres@127.0.0.1:{port}/postgres"


def start_mysql() -> str:
    """Start a throwaway MariaDB; returns its admin URL. Raises RuntimeError when it cannot."""
    install = _find("mariadb-install-db", ["/usr/bin/mysql_install_db"])
    server = _find("mariadbd", ["/usr/sbin/mariadbd", "/usr/sbin/mysqld"])
    if not install or not server:
        raise RuntimeError("no MariaDB binaries (mariadb-install-db, mariadbd) installed")
    folder = tempfile.mkdtemp(prefix="sqlrun-maria-")
    data, port = os.path.join(folder, "data"), _free_port()
    user = pwd.getpwuid(os.geteuid()).pw_name
    subprocess.run(
        [install, "--no-defaults", f"--datadir={data}", f"--user={user}", "--auth-root-authentication-method=normal", "--skip-test-db"],
        check=True, capture_output=True,
    )
    proc = subprocess.Popen(
        [server, "--no-defaults", f"--datadir={data}", f"--port={port}", f"--socket={folder}/sock", "--bind-address=127.0.0.1",
         f"--user={user}", f"--pid-file={folder}/pid", "--skip-log-bin", "--innodb-flush-log-at-trx-commit=0"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    atexit.register(proc.kill)
    if not _wait_port(port):
        raise RuntimeError("throwaway MariaDB did not start")
    return f"mysql://root@127.0.0.1:{port}/"
