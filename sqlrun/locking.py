"""The migration lock a run takes (--lock), announced in one line; the runner checks it before each script."""

from __future__ import annotations

import os
import time

from .dialects.base import Database, LockChoice, wait_for
from .errors import ConfigError, ConnectError
from .model import Options
from .report import Reporter

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing

if TYPE_CHECKING:
    from .dialects.lease import Lease

NONE_WARNING = (
    "--lock=none: no migration lock is taken; two runs at once would apply scripts twice. "
    "Use it only when runs are serialised some other way (one deploy job at a time)"
)


class HeldLock:
    """The lock a run holds: ``check()`` before each script and commit, ``release()`` at the end."""

    def __init__(self, db: Database, choice: LockChoice, lease: Lease | None = None, options: Options | None = None) -> None:
        self.db = db
        self.choice = choice
        self.lease = lease
        self.options = options  # kept where a script may need a lock of its own (see for_script)

    def for_script(self, transactional: bool, reporter: Reporter) -> HeldLock | None:
        """The lease a no-transaction script needs where the lock is taken in each script's transaction, else None.

        Behind a transaction pooler no advisory lock holds outside a transaction, and such a script has none.
        """
        if self.mode != "transaction" or transactional or self.options is None:
            return None
        why = "a no-transaction script, where the lock is otherwise taken in each script's transaction"
        return _take_lease(self.db, LockChoice("table", why), self.options, reporter)

    @property
    def mode(self) -> str:
        """session, transaction, table or none."""
        return self.choice.mode

    def check(self) -> None:
        """Raise LockLostError when the lock is no longer certainly held."""
        if self.lease is not None:
            self.lease.check()
        elif self.mode == "session":
            self.db.check_lock()

    def release(self) -> None:
        """Let the next runner in (never raises: a lock that cannot be released dies with its connection)."""
        if self.lease is not None:
            self.lease.release()
        elif self.mode == "session":
            self.db.unlock()


def take(db: Database, options: Options, reporter: Reporter) -> HeldLock:
    """Take the lock ``options.lock`` asks for on ``db``, saying which one in one line."""
    choice = db.choose_lock(options.lock)
    if choice.warning:
        reporter.warning(choice.warning)
    if choice.mode == "none":
        reporter.warning(NONE_WARNING)
        return HeldLock(db, choice)
    if choice.mode == "table":
        return _take_lease(db, choice, options, reporter)
    if choice.mode == "transaction":
        # Taken by the dialect inside each script's transaction (begin()); nothing is held between scripts.
        reporter.info(f"lock: {db.lock_name()} inside each script's transaction ({choice.why})")
        db.lock(options.lock_timeout, reporter.info)  # what begin() waits with
        return HeldLock(db, choice, options=options)
    where = "on the connection that runs the scripts" if db.locks_working_connection else "on a connection of its own"
    reporter.info(f"lock: {db.lock_name()} {where} (session: {choice.why})")
    db.lock(options.lock_timeout, reporter.info)
    return HeldLock(db, choice)


def _take_lease(db: Database, choice: LockChoice, options: Options, reporter: Reporter) -> HeldLock:
    from .dialects.lease import LOCK_TABLE, RENEWALS_PER_LEASE, Lease

    lease = Lease(db.lease_driver(), db.lock_name(), f"{db.whoami()} pid {os.getpid()}")
    reporter.info(
        f"lock: lease row {lease.name!r} in {LOCK_TABLE}, renewed every {lease.ttl / RENEWALS_PER_LEASE:.0f}s "
        f"(table: {choice.why})"
    )
    try:
        _acquire(db, lease, options, reporter)
    except BaseException:
        lease.release()
        raise
    if lease.taken_over is not None:
        reporter.warning(
            f"took over the lock of {lease.taken_over.holder}: not renewed for {lease.taken_over.ttl:.0f}s "
            "(that runner died, or lost its connection)"
        )
    lease.start_heartbeat()
    return HeldLock(db, choice, lease)


def _acquire(db: Database, lease: Lease, options: Options, reporter: Reporter) -> None:
    errors = lease.driver.errors
    try:
        lease.ensure_table()
    except errors as exc:
        _raise_lost(db, exc)
        raise ConfigError(
            f"cannot create the lock table {lease.driver.table}: {db.describe(exc)}; grant this user CREATE, "
            "or have an administrator create it once"
        ) from None
    held = f"another sqlrun held the lease {lease.name!r} for {options.lock_timeout:.0f}s"
    try:
        wait_for(lease.try_acquire, time.monotonic(), options.lock_timeout, reporter.info, f"the lease {lease.name!r} held by another runner", held)
    except errors as exc:
        _raise_lost(db, exc)
        raise


def _raise_lost(db: Database, exc: BaseException) -> None:
    if db.connection_lost(exc):
        raise ConnectError(f"lost the connection while taking the migration lock: {db.describe(exc)}; run again") from None
