"""A migration lock as a lease row in the table ``sqlrun_lock``, for where advisory locks do not hold.

``GET_LOCK`` is local to a Galera node, a session advisory lock behind a transaction pooler stays on a pooled
connection, and CockroachDB or TiDB have no real advisory lock at all. A row does hold everywhere: inserting
it is committed (on Galera a concurrent insert on another node loses certification), a background thread
renews it while the run lasts, and a waiter takes it over only after seeing it unchanged for its whole time
to live. Expiry is judged on the waiter's own monotonic clock, never by comparing timestamps written by
other machines, so clock skew between clients or servers cannot make a live lease look expired.

The SQL is plain enough for SQLite, MySQL/MariaDB, PostgreSQL and CockroachDB; each dialect hands over a
``LeaseDriver`` (how to connect, its placeholder, which errors mean "another runner won the race").
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone

from ..errors import LockLostError

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing

if TYPE_CHECKING:
    from typing import Any, Callable

LOCK_TABLE = "sqlrun_lock"
LEASE_SECONDS = 30.0  # a dead runner's lease is taken over after this long; the holder renews it 5 times meanwhile
RENEWALS_PER_LEASE = 5
# The holder calls its lease lost once this share of the time to live passed without a renewal it saw
# succeed: a waiter can take it over only after the whole time to live, counted from a later moment.
LOST_AFTER = 0.75

CREATE = """CREATE TABLE IF NOT EXISTS {table} (
    name VARCHAR(255) NOT NULL PRIMARY KEY,
    holder VARCHAR(255) NOT NULL,
    token VARCHAR(64) NOT NULL,
    beat BIGINT NOT NULL,
    ttl_ms BIGINT NOT NULL,
    taken_at VARCHAR(40) NOT NULL
)"""


@dataclass(frozen=True)
class LeaseDriver:
    """What the lease needs from a dialect: a new autocommit connection, placeholders, race errors."""

    connect: Callable[[], Any]  # a DB-API connection in autocommit mode, its session ready (wsrep_sync_wait...)
    table: str  # the lock table's name as the dialect writes it (qualified, quoted)
    conflict: Callable[[BaseException], bool]  # another runner won a race: duplicate key, certification failure
    errors: tuple[type[BaseException], ...]  # the driver's base error class(es)
    placeholder: str = "%s"


@dataclass(frozen=True)
class Holder:
    """Who holds a lease, as read from its row."""

    holder: str
    token: str
    beat: int
    ttl: float


class Lease:
    """One runner's lease on the row ``name``: try_acquire() until True, then check() often, then release()."""

    def __init__(self, driver: LeaseDriver, name: str, holder: str, ttl: float = LEASE_SECONDS) -> None:
        self.driver = driver
        self.name = name
        self.holder = holder
        self.ttl = ttl
        self.token = os.urandom(16).hex()
        self.taken_over: Holder | None = None  # the expired holder this lease replaced, if any
        self._conn: Any = None
        self._seen: tuple[Holder, float] | None = None  # the other holder's row and when it was first seen so
        self._renewed = 0.0  # monotonic time of the last renewal known to have committed
        self._lost: str | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._mutex = threading.Lock()  # the connection is shared by the heartbeat and check()

    # --- SQL ----------------------------------------------------------------------------------------
    def _sql(self, text: str) -> str:
        return text.format(table=self.driver.table).replace("?", self.driver.placeholder)

    def _execute(self, text: str, args: tuple = ()) -> int:
        cur = self._connection().cursor()
        try:
            cur.execute(self._sql(text), args)
            return cur.rowcount
        finally:
            cur.close()

    def _fetch(self, text: str, args: tuple = ()) -> list[tuple]:
        cur = self._connection().cursor()
        try:
            cur.execute(self._sql(text), args)
            return list(cur.fetchall())
        finally:
            cur.close()

    def _connection(self) -> Any:
        if self._conn is None:
            self._conn = self.driver.connect()
        return self._conn

    def _close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.close()
            except self.driver.errors:
                pass

    # --- taking -------------------------------------------------------------------------------------
    def ensure_table(self) -> None:
        """Create the lock table when it is missing (a read first: on Galera every CREATE is cluster-wide DDL)."""
        try:
            self._fetch("SELECT name FROM {table} WHERE 1 = 0")
        except self.driver.errors:
            self._close()  # PostgreSQL's failed statement would spoil the session in a transaction; start clean
            try:
                self._execute(CREATE)
            except self.driver.errors as exc:
                # Two runners creating it at once: PostgreSQL's IF NOT EXISTS loses the race in pg_type's
                # unique index. The table is there all the same.
                if not self.driver.conflict(exc):
                    raise

    def try_acquire(self) -> bool:
        """Try once to take the lease: insert the row, or take over one left unrenewed for its time to live."""
        try:
            self._execute(
                "INSERT INTO {table} (name, holder, token, beat, ttl_ms, taken_at) VALUES (?, ?, ?, 0, ?, ?)",
                (self.name, self.holder, self.token, int(self.ttl * 1000), _now()),
            )
        except self.driver.errors as exc:
            if not self.driver.conflict(exc):
                raise
            return self._try_take_over()
        self._renewed = time.monotonic()
        return True

    def current(self) -> Holder | None:
        """The row's holder now, or None when nobody holds the lease."""
        rows = self._fetch("SELECT holder, token, beat, ttl_ms FROM {table} WHERE name = ?", (self.name,))
        return Holder(rows[0][0], rows[0][1], int(rows[0][2]), rows[0][3] / 1000) if rows else None

    def _try_take_over(self) -> bool:
        asked = time.monotonic()
        other = self.current()
        now = time.monotonic()
        if other is None:
            return False  # released since the insert failed: the next attempt inserts
        if self._seen is None or self._seen[0] != other or now - asked > other.ttl / RENEWALS_PER_LEASE:
            # Alive (renewed, or a new holder): count again. So too after a slow read: the cluster stalled
            # (on Galera, DDL blocks every node while it runs), and the holder could not renew meanwhile either.
            self._seen = (other, now)
            return False
        if now - self._seen[1] < other.ttl:
            return False
        try:
            taken = self._execute(
                "UPDATE {table} SET holder = ?, token = ?, beat = 0, ttl_ms = ?, taken_at = ? WHERE name = ? AND token = ? AND beat = ?",
                (self.holder, self.token, int(self.ttl * 1000), _now(), self.name, other.token, other.beat),
            )
        except self.driver.errors as exc:
            if not self.driver.conflict(exc):
                raise
            return False
        if taken != 1:
            return False
        self._renewed = time.monotonic()
        self.taken_over = other
        return True

    # --- holding ------------------------------------------------------------------------------------
    def start_heartbeat(self) -> None:
        """Renew the lease in a background thread until release()."""
        self._thread = threading.Thread(target=self._beat, name="sqlrun-lease", daemon=True)
        self._thread.start()

    def _beat(self) -> None:
        interval = self.ttl / RENEWALS_PER_LEASE
        while not self._stop.wait(interval) and self._lost is None:
            try:
                self.renew()
            except self.driver.errors:
                self._close()  # reconnect at the next beat; check() says when too long went by without one

    def renew(self) -> None:
        """Renew once now (the heartbeat does this by itself); a row that is no longer ours marks the lease lost."""
        with self._mutex:
            sent = time.monotonic()
            renewed = self._execute("UPDATE {table} SET beat = beat + 1 WHERE name = ? AND token = ?", (self.name, self.token))
            if renewed != 1:
                self._lost = f"the lease row {self.name!r} in {LOCK_TABLE} was taken over by another runner"
            else:
                self._renewed = max(self._renewed, sent)  # counted from before the UPDATE: on the safe side

    def check(self) -> None:
        """Raise LockLostError when the lease is no longer certainly held.

        A lease not renewed for a while (the heartbeat was blocked, say by DDL holding a Galera cluster) is
        renewed here first: if the row is still ours, nobody took it over, since taking over changes it.
        """
        if self._lost is None and time.monotonic() - self._renewed > self.ttl * LOST_AFTER:
            try:
                self.renew()
            except self.driver.errors:
                self._close()
            if self._lost is None and time.monotonic() - self._renewed > self.ttl * LOST_AFTER:
                self._lost = f"the lease row {self.name!r} in {LOCK_TABLE} could not be renewed for {self.ttl * LOST_AFTER:.0f}s"
        if self._lost is not None:
            raise LockLostError(f"lost the migration lock: {self._lost}; nothing more was applied: run again")

    def release(self) -> None:
        """Stop renewing and delete the row; a failure only leaves the row to expire after its time to live."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        try:
            self._execute("DELETE FROM {table} WHERE name = ? AND token = ?", (self.name, self.token))
        except self.driver.errors:
            pass  # the connection is gone: the row expires by itself, and a waiter takes it over then
        finally:
            self._close()


def _now() -> str:
    """When the lease was taken, for people reading the table (never compared by sqlrun)."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")
