"""A 3-node MariaDB Galera cluster on loopback ports, started and stopped by the tests that need one.

Each node has its own datadir, socket, SQL port (23061-23063) and group / IST / SST ports (246N1, 246N8,
246N9 for node N = 7, 8, 9: 24671, 24681, 24691...), all below the kernel's ephemeral range (32768-60999),
where a client socket of another test could hold a port for a moment and make a node fail to listen. The first node is
bootstrapped with --wsrep-new-cluster; the others join empty and receive a full copy by rsync SST.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pymysql

PROVIDER = "/usr/lib/galera/libgalera_smm.so"
SQL_PORTS = (23061, 23062, 23063)
GROUP_BASE = 24671  # node i (0, 1, 2): group 24671 + 10 i, IST + 7, SST + 8
START_SECONDS = 120.0
RUN_AS = "mysql" if os.geteuid() == 0 else os.environ.get("USER", "mysql")

CONFIG = """[mariadbd]
datadir={root}/g{n}
port={port}
bind-address=127.0.0.1
socket={root}/run{n}/sock
pid-file={root}/run{n}/pid
log-error={root}/run{n}/err.log
user={user}
skip-name-resolve
innodb-buffer-pool-size=48M
innodb-log-file-size=16M
innodb-flush-log-at-trx-commit=2
binlog-format=ROW
innodb-autoinc-lock-mode=2
default-storage-engine=InnoDB
performance-schema=OFF
wsrep-on=ON
wsrep-provider={provider}
wsrep-cluster-name=sqlrun_test
wsrep-cluster-address=gcomm://{members}
wsrep-node-address=127.0.0.1:{group}
wsrep-node-name=g{n}
wsrep-provider-options="gmcast.listen_addr=tcp://127.0.0.1:{group};ist.recv_addr=127.0.0.1:{ist};gcache.size=32M;evs.suspect_timeout=PT3S;evs.inactive_timeout=PT6S;evs.install_timeout=PT4S"
wsrep-sst-receive-address=127.0.0.1:{sst}
wsrep-sst-method=rsync
"""


def missing() -> str | None:
    """Why a Galera cluster cannot be started here, or None."""
    for need in ("mariadbd", "mariadb-install-db", "rsync"):
        if not (shutil.which(need) or os.path.exists(f"/usr/sbin/{need}")):
            return f"{need} is not installed"
    if not os.path.exists(PROVIDER):
        return f"the galera-4 package is not installed ({PROVIDER} is missing)"
    busy = [p for p in (*SQL_PORTS, GROUP_BASE, GROUP_BASE + 10, GROUP_BASE + 20) if _listening(p)]
    return f"ports {busy} are in use (another cluster still running?)" if busy else None


def _listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


@dataclass
class Node:
    """One mariadbd of the cluster."""

    n: int  # 1, 2, 3
    root: Path
    process: subprocess.Popen[bytes] | None = None
    extra: tuple[str, ...] = ()  # the options it was last started with (--wsrep-new-cluster)

    @property
    def port(self) -> int:
        """Its SQL port."""
        return SQL_PORTS[self.n - 1]

    @property
    def config(self) -> Path:
        """Its option file."""
        return self.root / f"g{self.n}.cnf"

    def url(self, database: str, user: str = "root") -> str:
        """A sqlrun URL for ``database`` on this node."""
        return f"mysql://{user}@127.0.0.1:{self.port}/{database}"

    def connect(self, database: str | None = None, timeout: int = 3) -> pymysql.connections.Connection:
        """An autocommit admin connection to this node over TCP."""
        return pymysql.connect(host="127.0.0.1", port=self.port, user="root", database=database, connect_timeout=timeout, autocommit=True)

    def status(self, name: str) -> str | None:
        """A wsrep status value (wsrep_ready, wsrep_cluster_size...), None when the node does not answer."""
        try:
            conn = self.connect(timeout=1)
        except pymysql.Error:
            return None
        try:
            with conn.cursor() as cur:
                cur.execute("SHOW STATUS LIKE %s", (name,))
                row = cur.fetchone()
                return str(row[1]) if row else None
        except pymysql.Error:
            return None
        finally:
            conn.close()

    def log(self) -> str:
        """The tail of its error log, for failure messages."""
        path = self.root / f"run{self.n}" / "err.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else "(no error log)"


class GaleraCluster:
    """Three nodes on loopback: start(), then node(n).url(db); kill(n), restart(n); stop() at the end."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = root or Path(tempfile.mkdtemp(prefix="sqlrun-galera-"))
        self.nodes = [Node(n, self.root) for n in (1, 2, 3)]

    def node(self, n: int) -> Node:
        """Node ``n`` (1, 2 or 3)."""
        return self.nodes[n - 1]

    def start(self) -> None:
        """Bootstrap node 1, add root@127.0.0.1 for TCP logins, then join nodes 2 and 3."""
        for node in self.nodes:
            self._write_config(node)
        if os.geteuid() == 0:
            # As root, the rsync daemon of an SST would drop to "nobody" and fail to write the joiner's datadir:
            # the nodes run as the mysql user, which owns the folder.
            subprocess.run(["chown", "-R", f"{RUN_AS}:{RUN_AS}", str(self.root)], check=True)
        first = self.nodes[0]
        subprocess.run(
            ["mariadb-install-db", f"--defaults-file={first.config}", f"--user={RUN_AS}", "--auth-root-authentication-method=normal",
             "--skip-test-db"],
            check=True, capture_output=True,
        )
        self._launch(first, "--wsrep-new-cluster")
        self._wait(lambda: first.status("wsrep_ready") == "ON", first, "bootstrap")
        self._grant_tcp_root(first)
        for node in self.nodes[1:]:  # one at a time: the donor serves one state transfer at once
            self._launch(node)
            self.wait_node(node.n, node.n)
        self.wait_size(3)

    def _write_config(self, node: Node) -> None:
        group = GROUP_BASE + 10 * (node.n - 1)
        members = ",".join(f"127.0.0.1:{GROUP_BASE + 10 * i}" for i in range(3))
        (self.root / f"g{node.n}").mkdir(exist_ok=True)
        (self.root / f"run{node.n}").mkdir(exist_ok=True)
        node.config.write_text(CONFIG.format(
            root=self.root, n=node.n, port=node.port, user=RUN_AS, provider=PROVIDER, members=members,
            group=group, ist=group + 7, sst=group + 8,
        ))

    def _keep_log(self, node: Node) -> None:
        log = self.root / f"run{node.n}" / "err.log"
        if log.exists():
            log.rename(log.with_suffix(f".{time.monotonic_ns()}"))

    def _launch(self, node: Node, *extra: str) -> None:
        node.extra = extra
        node.process = subprocess.Popen(
            ["mariadbd", f"--defaults-file={node.config}", *extra],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )

    def _grant_tcp_root(self, node: Node) -> None:
        # install-db makes root@localhost only; with skip-name-resolve a TCP login from 127.0.0.1 is not
        # localhost. The grant is DDL, replicated to the nodes that join later.
        sock = str(self.root / f"run{node.n}" / "sock")
        conn = pymysql.connect(unix_socket=sock, user="root", autocommit=True)
        try:
            with conn.cursor() as cur:
                cur.execute("CREATE USER IF NOT EXISTS 'root'@'127.0.0.1'")
                cur.execute("GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION")
        finally:
            conn.close()

    def _wait(self, ready, node: Node, what: str, seconds: float = START_SECONDS) -> None:  # type: ignore[no-untyped-def]
        """Poll ``ready`` until True; a node that died meanwhile is started again (a few times), then it is an error."""
        deadline = time.monotonic() + seconds
        relaunches = 3
        while not ready():
            if node.process is not None and node.process.poll() is not None:
                # A failed state transfer ends the joiner (seen when the ports lay in the ephemeral range:
                # "Failed to open IST listener ... Address already in use"). Start it again rather than fail
                # the whole module.
                if not relaunches:
                    raise RuntimeError(f"galera node {node.n} exited during {what}:\n{node.log()}")
                relaunches -= 1
                self._keep_log(node)
                time.sleep(2.0)
                self._launch(node, *node.extra)
            if time.monotonic() > deadline:
                raise RuntimeError(f"galera node {node.n} not ready after {seconds:.0f}s ({what}):\n{node.log()}")
            time.sleep(0.3)

    def wait_size(self, size: int, nodes: tuple[int, ...] | None = None) -> None:
        """Wait until each of ``nodes`` (default: all) is ready in a primary component of ``size`` nodes."""
        for n in nodes or (1, 2, 3):
            self.wait_node(n, size)

    def wait_node(self, n: int, size: int) -> None:
        """Wait until node ``n`` is ready in a primary component of ``size`` nodes, starting it again if it died."""
        node = self.node(n)
        self._wait(
            lambda: node.status("wsrep_ready") == "ON" and node.status("wsrep_cluster_size") == str(size),
            node, f"waiting for a cluster of {size}",
        )

    def kill(self, n: int) -> None:
        """SIGKILL node ``n`` (its clients see 2013)."""
        node = self.node(n)
        if node.process is not None and node.process.poll() is None:
            os.killpg(node.process.pid, signal.SIGKILL)
            node.process.wait(30)
        node.process = None

    def restart(self, n: int, size: int = 3) -> None:
        """Start node ``n`` again and wait until it is back in a primary component of ``size`` (IST or SST)."""
        self._launch(self.node(n))
        self.wait_node(n, size)

    def stop(self) -> None:
        """Kill every node and delete the folder."""
        for node in self.nodes:
            self.kill(node.n)
        shutil.rmtree(self.root, ignore_errors=True)
