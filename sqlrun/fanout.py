"""Many databases in one process: the same command on each, a few at a time, in threads.

Most of a one-database run is process start-up and connecting; the work on the server is short. Threads
suffice: while one database answers, the others' drivers wait without the GIL. Each database's outcome is
kept, never raised, so that one tenant's failure does not hide the others' (unless ``fail_fast``).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from .config import parse_url
from .errors import ConfigError, Interrupted, SqlrunError

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing, which costs a cold start ~3 ms

if TYPE_CHECKING:
    from typing import Callable, Sequence, TypeVar

    _T = TypeVar("_T")

DEFAULT_JOBS = 4
# The order in which exit codes outrank each other when databases end differently: an interrupt, then a
# failed statement (a database left half-way), changed scripts, a read-only replica, a lock held too long,
# a database that could not be reached, and last bad configuration.
SEVERITY = (130, 1, 3, 6, 5, 4, 2)
STOP_SECONDS = 10.0  # how long a Ctrl-C waits for the running databases to end their cancelled statements


@dataclass(frozen=True)
class Target:
    """One database to run on: its URL as given, and where it was given (for a URL that cannot be read)."""

    url: str
    origin: str  # "--database-url #2", "tenants.txt:14"

    def label(self) -> str:
        """How its lines are prefixed: the redacted URL, or where it was given when it cannot be parsed."""
        try:
            return parse_url(self.url).redacted()
        except SqlrunError:
            return self.origin


@dataclass(frozen=True)
class Outcome:
    """What happened on one database: ``value`` (a Result, the status rows...) or ``error``; neither when not started."""

    database: str  # the redacted URL (or where it was given)
    value: object = None
    error: SqlrunError | None = None
    started: bool = True
    seconds: float = 0.0

    @property
    def exit_code(self) -> int:
        """0 when it succeeded (or was not started), else its error's exit code."""
        return self.error.exit_code if self.error is not None else 0


def read_targets(path: str) -> list[Target]:
    """The URLs in ``path``, one a line; blank lines and ``#`` comments are skipped (a URL never holds a bare ``#``)."""
    try:
        with open(path, encoding="utf-8") as fh:
            lines = fh.read().splitlines()
    except OSError as exc:
        raise ConfigError(f"--databases-from {path}: cannot be read ({exc.strerror})") from None
    targets = []
    for number, line in enumerate(lines, 1):
        text = line.split("#", 1)[0].strip()
        if text:
            targets.append(Target(text, f"{path}:{number}"))
    if not targets:
        raise ConfigError(f"--databases-from {path}: no database URL in it (one a line; # starts a comment)")
    return targets


def given_targets(urls: Sequence[str], origin: str = "--database-url #{}", first: int = 1) -> list[Target]:
    """The URLs as targets; ``origin`` names each by its position (``--database-url #2``, ``urls[1]``)."""
    return [Target(u, origin.format(i)) for i, u in enumerate(urls, first)]


def default_jobs(count: int) -> int:
    """min(4, count), and at least 1."""
    return max(1, min(DEFAULT_JOBS, count))


def most_severe(codes: Sequence[int]) -> int:
    """0 when every code is 0, else the most severe one (see SEVERITY)."""
    failed = [c for c in codes if c]
    if not failed:
        return 0
    return min(failed, key=lambda c: SEVERITY.index(c) if c in SEVERITY else len(SEVERITY))


def run_each(
    targets: Sequence[Target], work: Callable[[Target], object], *, jobs: int, fail_fast: bool = False
) -> list[Outcome]:
    """``work(target)`` on every target, ``jobs`` at a time; the outcomes in the targets' order.

    With ``fail_fast`` no database is started after the first failure; those are ``started=False``.
    """
    if jobs < 1:
        raise ConfigError(f"--jobs {jobs}: run at least 1 at a time")
    outcomes: list[Outcome | None] = [None] * len(targets)
    queue = iter(range(len(targets)))
    guard = threading.Lock()
    stop = threading.Event()
    # Counted here, not read from Thread.is_alive(): a join() that a KeyboardInterrupt cut short can leave
    # that thread reported as ended while it runs on (CPython 3.11).
    ended = threading.Semaphore(0)

    def worker() -> None:
        try:
            while not stop.is_set():
                with guard:
                    index = next(queue, None)
                if index is None:
                    return
                outcome = _one(targets[index], work)
                outcomes[index] = outcome
                if fail_fast and outcome.exit_code:
                    stop.set()
        finally:
            ended.release()

    threads = [threading.Thread(target=worker, name=f"sqlrun-job-{n}", daemon=True) for n in range(min(jobs, len(targets)))]
    for t in threads:
        t.start()
    try:
        for t in threads:
            t.join()
    except KeyboardInterrupt:
        stop.set()  # no new database starts
        raise _interrupted(targets, outcomes, len(threads), ended) from None
    return [o if o is not None else Outcome(targets[i].label(), started=False) for i, o in enumerate(outcomes)]


def _interrupted(targets: Sequence[Target], outcomes: Sequence[Outcome | None], workers: int, ended: threading.Semaphore) -> Interrupted:
    """Stop the statements the workers run and wait for them a while: what the databases were left with."""
    import time

    from .dialects.base import interrupt_all

    # The signal reaches only this thread. Left alone, a worker goes on until the process ends, and a
    # script whose last round trip (its statements, history row and COMMIT) had been sent commits on the
    # server without its client: cancel the statements, as psql does on Ctrl-C, and let each run end as an
    # interrupted one does (it says what its history records).
    interrupt_all()
    deadline = time.monotonic() + STOP_SECONDS
    running = workers - sum(ended.acquire(timeout=max(0.0, deadline - time.monotonic())) for _ in range(workers))
    done = sum(o is not None and o.error is None for o in outcomes)
    stopped = sum(o is not None and o.error is not None for o in outcomes)
    text = f"interrupted; {done} of {len(targets)} databases had finished"
    if stopped:
        text += f", {stopped} stopped or failed (each says above what it left)"
    if running:
        text += f", {running} did not stop within {STOP_SECONDS:.0f} s (run `status` on them)"
    return Interrupted(text + "; the rest were not started: run again")


def _one(target: Target, work: Callable[[Target], object]) -> Outcome:
    """Run ``work`` on one target, keeping its error instead of raising it."""
    import time

    started = time.monotonic()
    label = target.label()
    try:
        value = work(target)
    except SqlrunError as exc:
        return Outcome(label, error=exc, seconds=time.monotonic() - started)
    except Exception as exc:  # a driver error nobody translated: this database failed, the others go on
        error = SqlrunError(f"unexpected {type(exc).__name__}: {exc}")
        return Outcome(label, error=error, seconds=time.monotonic() - started)
    return Outcome(label, value=value, seconds=time.monotonic() - started)
