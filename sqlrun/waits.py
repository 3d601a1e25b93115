"""Waiting for other sessions' locks: the retry policy, and a watcher that names who holds a lock while a statement waits."""

from __future__ import annotations

import time

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing, which costs a cold start ~3 ms

if TYPE_CHECKING:
    from typing import Callable

    from .dialects.base import Blocker, LockProbe

# Seconds to wait before each retry of a statement (or script) that gave up on a lock: three retries. A
# blocker that is a short transaction is gone by then; one that is not will still be there, and waiting
# longer would hold the application's queries up behind sqlrun's queued lock request once more per try.
LOCK_RETRY_DELAYS = (0.5, 1.0, 2.0)
FIRST_LOOK = 1.0  # seconds a batch runs before the watcher looks for blockers (never later than half --lock-wait)
NOTICE_EVERY = 3.0  # seconds between two notices about the same wait
LOOK_EVERY = 1.0  # seconds between two looks (a long batch that waits for nothing costs one query a second)
POLL = 0.2


class LockWatch:
    """A thread that, while a batch runs long, asks a probe which sessions block it and says so every few seconds.

    The probe has a connection of its own (the working one is busy waiting). ``seen`` keeps the last
    blockers named during the current batch, for the error should the wait run out.
    """

    def __init__(self, probe: LockProbe | None, lock_wait: float, notify: Callable[[str], None]) -> None:
        self.probe = probe
        self.lock_wait = lock_wait
        self.notify = notify
        self.started: float | None = None  # when the running batch started (None: none runs)
        self.seen: tuple[Blocker, ...] = ()
        self._first = min(FIRST_LOOK, lock_wait / 2) if lock_wait > 0 else FIRST_LOOK
        self._stop = None
        self._thread = None

    def __enter__(self) -> LockWatch:
        if self.probe is not None:
            import threading

            self._stop = threading.Event()
            self._thread = threading.Thread(target=self._run, name="sqlrun-lock-watch", daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._thread is not None:
            self._stop.set()
            self._thread.join(5)
        if self.probe is not None:
            self.probe.close()

    def batch_started(self) -> None:
        """A batch is about to be sent."""
        self.seen = ()
        self.started = time.monotonic()

    def batch_ended(self) -> None:
        """The batch returned (or failed)."""
        self.started = None

    def _run(self) -> None:
        last_batch: float | None = None
        next_notice = next_look = 0.0
        while not self._stop.wait(POLL):
            started = self.started
            if started is None or time.monotonic() - started < self._first:
                continue
            if started != last_batch:
                last_batch, next_notice, next_look = started, 0.0, 0.0
            if time.monotonic() < next_look:
                continue
            next_look = time.monotonic() + LOOK_EVERY
            blockers = self._look()
            if not blockers or self.started != started:
                continue
            self.seen = blockers
            now = time.monotonic()
            if now >= next_notice:
                self.notify(self._notice(blockers, now - started))
                next_notice = now + NOTICE_EVERY

    def _look(self) -> tuple[Blocker, ...]:
        try:
            return self.probe.blockers()  # type: ignore[union-attr]
        except Exception:  # the probe only helps: a failure to look must not stop the run (it tries again)
            self.probe.close()  # type: ignore[union-attr]
            return ()

    def _notice(self, blockers: tuple[Blocker, ...], waited: float) -> str:
        limit = f" of --lock-wait {self.lock_wait:g}s" if self.lock_wait > 0 else " (--lock-wait 0: no limit)"
        others = f" (and {len(blockers) - 1} more)" if len(blockers) > 1 else ""
        what = f" ({blockers[0].wanted})" if blockers[0].wanted else ""
        return f"waiting for a lock{what} ({waited:.0f}s{limit}), held by {blockers[0]}{others}"


def held_by(blockers: tuple[Blocker, ...]) -> str:
    """Who held the lock, for an error message."""
    if not blockers:
        return "the session holding it was not seen (it may have let go just then, or this user cannot see other sessions)"
    return "held by " + "; and by ".join(str(b) for b in blockers)
