"""Applying what the plan says: under the lock, each script in its transaction, in batches, with tolerance,
lock-wait retries and its history row; and the bookkeeping commands' locked transaction.

Imported only when something is to be done: a run with nothing pending never loads it (see plan.py).
"""

from __future__ import annotations

import itertools
import re
import sys
import time
from contextlib import contextmanager

from . import tolerance
from .config import DatabaseURL
from .dialects import Database, HistoryRow
from .dialects.base import REPEATABLE_TABLE, BatchOutcome, utcnow
from .errors import (
    ConnectionLostError, LockLostError, LockWaitError, ScriptError, SqlrunError, StatementError,
)
from .locking import HeldLock, take
from .model import Options, Result, ScriptResult
from .plan import Found, Progress, connect, due_repeatables, read_ledger, refuse_replica, scripts_to_run
from .report import Reporter
from .scripts import Fingerprint, Script, read_checked, spool
from .sqltext import altered_table, created_table, first_line, is_use, transaction_control
from .values import field, value
from .waits import LOCK_RETRY_DELAYS, LockWatch, held_by

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing, which costs a cold start ~3 ms

if TYPE_CHECKING:  # the splitter is imported only when a script is pending: a no-op run never needs it
    from typing import Any, BinaryIO, Callable, Iterable, Iterator, Sequence, TypeVar

    from .placeholders import Placeholders
    from .splitter import Statement

    _T = TypeVar("_T")
    Finish = Callable[[int], HistoryRow]  # the history row, should the batch's n statements all succeed

# Scripts up to this size are split once, before anything runs, and kept in memory; bigger ones are
# checked in a first streaming pass and streamed again while they run, so memory stays flat.

# Scripts up to this size are split once, before anything runs, and kept in memory; bigger ones are
# checked in a first streaming pass and streamed again while they run, so memory stays flat.
PRESPLIT_BYTES = 16 << 20
# From this size, the first pending script is split in a background thread while the server runs its earlier
# batches, instead of before anything runs, where the dialect allows it (see checked_while_running).
OVERLAP_BYTES = 1 << 20
OVERLAP_DEPTH = 4  # batches split ahead of the one running: bounds the memory the overlap takes
SWITCH_INTERVAL = 0.001  # seconds: how long the splitting thread may keep the GIL from the one waiting for it
_LOOK_START = "aAcC"  # ALTER and CREATE: only these may create an object without a name (tolerance.needs_look)
# Cheap first look: only statements that may start with these words need a closer one.
_SPECIAL_START = re.compile(
    r"(?:\s|--[^\n]*\n|#[^\n]*\n|/\*[^!].*?\*/)*(?:BEGIN|START|COMMIT|END|ROLLBACK|ABORT|USE)\b", re.IGNORECASE | re.DOTALL
)


@value(frozen=False)
class _Pending:
    script: Script
    fingerprint: Fingerprint
    statements: list[Statement] | None  # None: too big to keep, or not split yet: stream it
    count: int  # statements in the script (counted while it runs when not checked beforehand)
    checked: bool = True  # False: split while it runs (see checked_while_running)
    placeholders: Placeholders | None = None  # the run's ${name} values, when placeholders are on
    # A big script's private copy, made while it was checked: what runs is the bytes that were checked,
    # even if the file changes meanwhile (an anonymous temporary file, gone with this object or the process).
    spool: BinaryIO | None = None

    def statements_to_run(self, kind: str) -> Iterable[Statement]:
        """The statements, kept or streamed again (from the spool, or checked against the checksum at the end)."""
        if self.statements is not None:
            return self.statements
        return _stream(self.script, kind, self.placeholders, checksum=self.fingerprint.checksum, source=self.spool)


@value(frozen=False)
class _ScriptRun:
    """One script being applied: where, by whom, reported to whom, and what it has done so far."""

    db: Database
    pending: _Pending
    who: str
    reporter: Reporter
    lock: HeldLock | None = None
    executed: int = 0
    tolerated: int = 0
    used_use: bool = False
    committing: bool = False  # the round trip in flight carries the script's COMMIT
    watch: LockWatch | None = None
    attempt: int = 0  # retries of the whole script so far, after a lock wait ran out
    started: float = field(default_factory=time.monotonic)
    # Tables this run's own CREATE TABLE made (earlier scripts', and this attempt's): nothing unnamed on them
    # predates the run (see _looked_up).
    created: set[str] = field(default_factory=set)
    lock_seen: bool = False  # the lock was checked and nothing was sent since (see _check_lock)

    @property
    def script(self) -> Script:
        return self.pending.script

    @property
    def transactional(self) -> bool:
        return not self.pending.fingerprint.no_transaction

    @property
    def retries_script(self) -> bool:
        """A lock wait running out is retried by running the whole script again (its transaction undid all of it)."""
        return self.transactional and not self.db.ddl_commits_implicitly

    def elapsed_ms(self) -> int:
        return int((time.monotonic() - self.started) * 1000)

    def history_row(self, state: str, pending: int = 0) -> HistoryRow:
        """The script's history row now, or (``pending`` > 0) once that many more statements have succeeded."""
        script = self.script
        return HistoryRow(
            version=script.version,
            name=script.name,
            file=script.file,
            checksum=self.pending.fingerprint.checksum,
            state=state,
            applied_at=utcnow(),
            duration_ms=self.elapsed_ms(),
            statements=self.executed + pending,
            tolerated=self.tolerated,
            applied_by=self.who,
        )


class _Quiet(Reporter):
    """A reporter that says nothing: for the second planning under the lock, whose warnings were given already."""

    def info(self, message: str) -> None:
        """Nothing."""

    def warning(self, message: str) -> None:
        """Nothing."""


_SILENT = _Quiet()


def checked_while_running(db: Database | None, todo: Sequence[Script], prints: dict[int, Fingerprint], options: Options) -> Script | None:
    """The one script that may be split while it runs rather than before anything runs, if any.

    Splitting before running is what lets bad input stop a run before it starts. The first script of
    a run can be checked while it runs instead, on a database whose DDL is transactional, in one
    transaction: a split error there rolls that transaction back, and nothing else has run yet. Every
    other script is checked before the first starts. For a big script this overlaps the split (client
    CPU) with the server's work, and a script too big to keep is read once instead of twice. Only
    dialects with ``split_while_running`` (PostgreSQL) take this path.
    """
    if db is None or not db.split_while_running or options.dry_run or not todo:
        return None
    first = prints[todo[0].version]
    return todo[0] if first.size >= OVERLAP_BYTES and not first.no_transaction else None


def placeholders_for(url: DatabaseURL, options: Options) -> Placeholders | None:
    """The run's placeholder values with its built-ins (the script's own are added per script)."""
    if options.placeholders is None:
        return None
    built_ins = {"database": url.database or "", "user": url.user or "", "dialect": url.kind}
    return options.placeholders.for_script(built_ins)


def _prepare(
    script: Script, fingerprint: Fingerprint, kind: str, *, check: bool = True, placeholders: Placeholders | None = None
) -> _Pending:
    """Split the script once before anything runs, so that bad input (an unset ${name} too) stops the run before it starts."""
    if not check:
        return _Pending(script, fingerprint, None, 0, checked=False, placeholders=placeholders)
    keep = fingerprint.size <= PRESPLIT_BYTES
    # Read once: kept in memory, or copied aside, checked against the checksum the history will record.
    copy = None if keep else spool(script, fingerprint.checksum)
    kept: list[Statement] = []
    count = 0
    for stmt in _stream(script, kind, placeholders, checksum=fingerprint.checksum, source=copy):
        count += 1
        if keep:
            kept.append(stmt)
    if count == 0:
        _check_not_template(script)
    return _Pending(script, fingerprint, kept if keep else None, count, placeholders=placeholders, spool=copy)


def apply_pending(
    db: Database | None, url: DatabaseURL, found: Found, todo: list[Script], due: list[Script], options: Options, reporter: Reporter,
    warnings: list[str], progress: Progress,
) -> Result:
    """Split what is to run before anything runs (bad input stops the run here), then apply it under the lock.

    A dry run, or a database that does not exist yet in one, lists the statements instead.
    """
    # An unset ${name} must stop the run before anything runs: no splitting while running then.
    overlap = None if options.placeholders else checked_while_running(db, todo, found.prints, options)
    values = placeholders_for(url, options)
    pending = [_prepare(script, found.prints[script.version], url.kind, check=script is not overlap, placeholders=values) for script in todo]
    pending += [_prepare(s, found.repeatable_prints[s.version], url.kind, placeholders=values) for s in due]
    if options.dry_run or db is None:
        return _dry_run(url, pending, reporter, warnings)
    prepared = {p.script.version: p for p in pending}
    return _apply_locked(db, url, found, prepared, options, reporter, warnings, progress)


def _check_not_template(script: Script) -> None:
    """Refuse a script without statements that is still the template `new` wrote: its SQL was never written.

    Other comment-only scripts are applied as zero statements and recorded, as the clients apply them
    (update series ship them: "-- There are no updates for this version"). Recording the template would
    turn the SQL written into it later into a "changed" script.
    """
    from .scripts import is_template

    if is_template(script):
        raise ScriptError(f"{script.path}:1: the script is still the template `new` wrote, with no statement; write its SQL or delete the file")


def _dry_run(url: DatabaseURL, pending: Sequence[_Pending], reporter: Reporter, warnings: list[str]) -> Result:
    results = []
    for p in pending:
        results.append(ScriptResult(p.script.version, p.script.name, p.script.file, p.count, 0, 0, "planned", p.script.repeatable))
        reporter.planned(p.script, p.count, p.fingerprint.no_transaction)
        for stmt in p.statements_to_run(url.kind):
            reporter.statement(p.script, stmt)
    return Result(url.redacted(), tuple(results), True, tuple(warnings))


def _stream(
    script: Script, kind: str, placeholders: Placeholders | None, *, checksum: str, source: BinaryIO | None = None
) -> Iterator[Statement]:
    """The script's statements from one read of its bytes; ScriptError after the last when they do not have ``checksum``.

    Splitting asks for the text after the last statement's end before it yields that statement or
    stops, so a change is found before the batch that carries the last statement (and the COMMIT) is sent.
    """
    from .splitter import iter_split

    statements = iter_split(read_checked(script, checksum, source), kind, filename=str(script.path))
    if placeholders is None:
        return statements
    values = placeholders.for_script({"version": str(script.version), "filename": script.file})
    return values.statements(statements, kind, str(script.path))


def _apply_locked(
    db: Database,
    url: DatabaseURL,
    found: Found,
    prepared: dict[int, _Pending],
    options: Options,
    reporter: Reporter,
    warnings: list[str],
    progress: Progress,
) -> Result:
    lock = take(db, options, reporter)
    try:
        db.ensure_history()
        # Another runner may have applied scripts while this one waited: plan again from the history now.
        todo = scripts_to_run(found.scripts, found.prints, db.read_history(), options, _SILENT, [])
        due = due_repeatables(found, read_ledger(db)) if found.repeatable else []
        if not todo and not due:
            reporter.info("nothing to do: another runner applied the pending scripts")
            return Result(url.redacted(), (), False, tuple(warnings))
        who = db.whoami()
        results: list[ScriptResult] = []
        db.set_lock_wait(options.lock_wait)
        made: set[str] = set()  # tables this run created: see _ScriptRun.created
        with LockWatch(db.lock_probe(), options.lock_wait, reporter.info) as watch:
            for script in todo:
                pending = prepared.get(script.version) or _prepare(
                    script, found.prints[script.version], url.kind, placeholders=placeholders_for(url, options)
                )
                progress.current = script
                result = _apply_under(lock, db, pending, who, reporter, watch, made)
                if result is not None:
                    results.append(result)
                    progress.applied.append(script.file)
                progress.current = None
            if due:
                results += _apply_repeatables(lock, db, url, found, due, prepared, options, who, reporter, watch)
        return Result(url.redacted(), tuple(results), False, tuple(warnings))
    finally:
        lock.release()


def _apply_repeatables(
    lock: HeldLock, db: Database, url: DatabaseURL, found: Found, due: list[Script], prepared: dict[int, _Pending],
    options: Options, who: str, reporter: Reporter, watch: LockWatch,
) -> list[ScriptResult]:
    """Apply the due repeatable scripts after the numbered ones, recording each in the repeatable ledger."""
    results = []
    with db.ledger(REPEATABLE_TABLE):
        db.ensure_history()
        for script in due:
            pending = prepared.get(script.version) or _prepare(
                script, found.repeatable_prints[script.version], url.kind, placeholders=placeholders_for(url, options)
            )
            result = _apply_under(lock, db, pending, who, reporter, watch)
            if result is not None:
                results.append(result)
    return results


def _apply_under(
    lock: HeldLock, db: Database, pending: _Pending, who: str, reporter: Reporter, watch: LockWatch | None = None,
    made: set[str] | None = None,
) -> ScriptResult | None:
    """_apply_script, inside the lease a no-transaction script needs where the lock is taken per transaction."""
    script_lock = lock.for_script(not pending.fingerprint.no_transaction, reporter)
    try:
        return _apply_script(db, pending, who, reporter, lock, watch, made)
    finally:
        if script_lock is not None:
            script_lock.release()


class _RetryScript(Exception):
    """A statement of a script that runs in one transaction gave up on a lock: roll back, run the script again."""


def _apply_script(
    db: Database, pending: _Pending, who: str, reporter: Reporter, lock: HeldLock | None = None, watch: LockWatch | None = None,
    made: set[str] | None = None,
) -> ScriptResult | None:
    """Apply one script, again from its start (after a pause) when its transaction gave up on a lock.

    None when another runner applied it meanwhile (see _applied_meanwhile). ``made``: the tables earlier
    scripts of this run created, to which this one's are added once it is applied.
    """
    reporter.script_started(pending.script, pending.count)
    attempt = 0
    while True:
        try:
            run = _ScriptRun(db, pending, who, reporter, lock, watch=watch, attempt=attempt, created=set(made or ()))
            result = _attempt(run)
            if made is not None and result is not None:
                made |= run.created
            return result
        except _RetryScript as retry:
            delay = LOCK_RETRY_DELAYS[attempt]
            attempt += 1
            reporter.info(f"{pending.script.file}: {retry}; rolled back, running it again in {delay:g}s (retry {attempt} of {len(LOCK_RETRY_DELAYS)})")
            time.sleep(delay)
            if not pending.checked:
                pending.count = 0  # counted again while it is split again


def _attempt(run: _ScriptRun) -> ScriptResult | None:
    db, pending, reporter = run.db, run.pending, run.reporter
    script, transactional = pending.script, run.transactional
    after: list[Statement] = []  # statements that run once the script's transaction committed
    batches = _batches(_statements(run, after), run)
    if not pending.checked:
        batches = _ahead(batches, OVERLAP_DEPTH)
    committed = False
    _check_lock(run)  # a lost lock stops the run before the next script, so no one else runs it too
    try:
        db.begin(transactional)
        if _applied_meanwhile(run):
            batches.close()
            return None
        for batch, last in _with_last(batches):
            # The last batch carries the history row and COMMIT (one round trip per small script).
            finish = (lambda n: run.history_row("applied", n)) if last and transactional else None
            if finish:
                _check_lock(run)
            committed = _run_batch(run, batch, finish)
            total = pending.count if pending.checked else 0
            reporter.progress(script, run.executed + run.tolerated, total, time.monotonic() - run.started)
        if pending.count == 0 and not pending.checked:  # nothing ran, nothing is committed yet
            _check_not_template(script)
        if not committed:
            _check_lock(run)
            _commit(run, run.history_row("applied", len(after)))
    except BaseException as exc:
        batches.close()  # stop a background split before the rollback
        lost = _as_lost(run, exc)
        _after_failure(run, lost or exc)
        if lost is not None and lost is not exc:
            raise lost from exc
        raise
    _run_trailing(run, after)
    db.after_script(run.used_use)
    result = ScriptResult(script.version, script.name, script.file, run.executed, run.tolerated, run.elapsed_ms(), "applied", script.repeatable)
    reporter.script_done(result)
    return result


def _statements(run: _ScriptRun, after: list[Statement]) -> Iterable[Statement]:
    """The statements to run in the script's transaction (streamed unless kept, counted unless checked).

    Where some statements take effect only outside a transaction, leading ones run now and trailing ones
    are put into ``after``.
    """
    pending = run.pending
    statements = pending.statements_to_run(run.db.kind)
    if not pending.checked:
        statements = _counted(statements, pending)
    if run.transactional and run.db.has_outside_statements:
        statements = _held_to_the_end(run, _run_leading(run, statements), after)
    return statements


def _run_leading(run: _ScriptRun, statements: Iterable[Statement]) -> Iterable[Statement]:
    """Run the script's leading statements that take effect only outside a transaction, now, before it starts.

    The clients run them in autocommit, where they take effect (a leading PRAGMA foreign_keys = ON makes the
    script's DELETEs cascade); inside the script's transaction SQLite would ignore or refuse them.
    """
    db, it = run.db, iter(statements)
    began = False
    for stmt in it:
        if db.outside_transaction(stmt) is None:
            return itertools.chain((stmt,), it)
        if not began:  # the session as every script starts it (SQLite resets its pragmas here), in autocommit
            db.begin(False)
            began = True
        _run_outside(run, stmt, "before the script's transaction")
    return ()


def _held_to_the_end(run: _ScriptRun, statements: Iterable[Statement], after: list[Statement]) -> Iterator[Statement]:
    """The statements to run in the transaction; trailing ones that need to be outside it go into ``after``.

    Such a statement anywhere else cannot take effect where it stands: refused, never silently ignored.
    """
    held: list[Statement] = []
    for stmt in statements:
        if run.db.outside_transaction(stmt) is not None:
            held.append(stmt)
            continue
        if held:
            raise StatementError(
                f"{run.script.path}:{held[0].line}: {first_line(held[0].text)}: {run.db.outside_transaction(held[0])}; "
                "move it to the top or the end of the script (run before or after its transaction), "
                "or put '-- sqlrun: no-transaction' on the script's first line"
            )
        yield stmt
    after.extend(held)


def _run_trailing(run: _ScriptRun, after: Sequence[Statement]) -> None:
    """Run the held trailing statements after the script's transaction committed (counted in its history row)."""
    for stmt in after:
        _run_outside(run, stmt, "after the script's transaction committed (the script is recorded as applied)", count=False)


def _run_outside(run: _ScriptRun, stmt: Statement, when: str, *, count: bool = True) -> None:
    outcome = _watched(run, [stmt], None)
    if outcome.error is not None:
        raise StatementError(
            f"{run.script.path}:{stmt.line}: statement failed {when}: {first_line(stmt.text)}\n  {run.db.describe(outcome.error)}"
        ) from outcome.error
    run.executed += count
    if run.reporter.verbose:
        run.reporter.statement(run.script, stmt)


def _check_lock(run: _ScriptRun) -> None:
    """Stop before a script or a commit when the migration lock is no longer held.

    Not asked twice with nothing sent in between: a script of one batch is checked once, not once before it
    and again before the batch that carries its COMMIT (a round trip each on MySQL).
    """
    if run.lock is not None and not run.lock_seen:
        run.lock.check()
        run.lock_seen = True


def _applied_meanwhile(run: _ScriptRun) -> bool:
    """With the lock taken in the script's own transaction: whether another runner recorded it since the plan.

    Nothing is held between scripts there, so the history is read again under the lock, in the transaction
    that will write the script's row (or under the lease of a no-transaction script); a script another runner
    applied is skipped.
    """
    if not run.db.locks_each_script:
        return False
    row = run.db.read_history().get(run.script.version)
    if row is None or row.state != "applied":
        return False
    run.db.rollback()
    run.reporter.info(f"skipped {run.script.file}: another runner applied it meanwhile")
    return True


def _commit(run: _ScriptRun, row: HistoryRow) -> None:
    _stop_if_interrupted(run)
    run.committing = True
    try:
        run.db.commit_with_history(row)
    except SqlrunError:
        raise
    except Exception as exc:  # a driver error: the COMMIT (a deferred constraint, say) or the history row
        raise (_as_lost(run, exc) or _not_committed(run, exc)) from exc


def _as_lost(run: _ScriptRun, error: BaseException) -> ConnectionLostError | None:
    """``error`` as a ConnectionLostError when it means the working connection died, else None."""
    if isinstance(error, ConnectionLostError):
        return error
    if isinstance(error, SqlrunError) or not isinstance(error, Exception) or not run.db.connection_lost(error):
        return None
    return ConnectionLostError(
        f"{run.script.path}: the connection to the database was lost while this script ran: {run.db.describe(error)}\n"
        f"  {_state_left(run)}"
    )


def _state_left(run: _ScriptRun) -> str:
    """What a script cut off by a lost connection left in the database, and what to do."""
    again = "run again: scripts recorded as applied are skipped"
    if run.committing:
        return (
            "state unknown: its COMMIT was in flight, and the server may or may not have committed it; "
            f"{again}, and this one runs again only if its history row is not there"
        )
    if not run.transactional:
        return (
            f"partly applied: it runs outside a transaction, and the {run.executed} statement(s) before the one "
            f"that was running are committed; it is not recorded: {again}, this one from its start"
        )
    if run.db.ddl_commits_implicitly:
        return (
            "partly applied: the DDL statements it ran are committed (MySQL commits DDL at once), the rest was "
            f"rolled back; it is not recorded: {again}, this one from its start ('already there' errors are tolerated)"
        )
    return f"rolled back: nothing of it was kept, and it is not recorded: {again}, this one from its start"


def _not_committed(run: _ScriptRun, error: BaseException) -> SqlrunError:
    """The error for a script whose history row or COMMIT failed, said only after reading the history again.

    On Galera a conflicting commit on another node surfaces here (1213, certification failure): when another
    runner recorded the script meanwhile, saying "not recorded" would be wrong, and the script ran twice.
    """
    other = _recorded_meanwhile(run)
    if other is not None:
        return LockLostError(
            f"{run.script.path}: another runner ({other.applied_by}) recorded it as applied at {other.applied_at:%Y-%m-%d %H:%M:%S} "
            f"while this run was applying it too ({run.db.describe(error)}): the lock did not keep the runs apart. "
            "Check what the script changed; see README, 'Clusters, poolers and replicas' for the lock to use"
        )
    return StatementError(
        f"{run.script.path}: its statements ran, but writing its history row and committing failed: {run.db.describe(error)}; "
        "the script is not recorded as applied: fix the cause and run again"
    )


def _recorded_meanwhile(run: _ScriptRun) -> HistoryRow | None:
    """The script's history row when another runner wrote it since this run planned, else None."""
    try:
        run.db.rollback()
        row = run.db.read_history().get(run.script.version)
    except Exception:  # the connection is gone: nothing can be read, the original error stands
        return None
    # This run's own COMMIT failed, and it planned the script because no applied row had this checksum.
    if row is None or row.state != "applied" or row.checksum != run.pending.fingerprint.checksum:
        return None
    return row


def _after_failure(run: _ScriptRun, exc: BaseException) -> None:
    """Undo what can be undone; where statements have committed already, record the script as failed."""
    db = run.db
    try:
        db.rollback()
        # A lost lock writes nothing more: the history may now be another runner's (its row for this script).
        lost = isinstance(exc, LockLostError)
        if (not run.transactional or db.ddl_commits_implicitly) and isinstance(exc, SqlrunError) and not lost:
            db.write_history(run.history_row("failed"))
            db.commit()
    except Exception:  # the connection may be gone; the original error is what the user must see
        pass


def _counted(statements: Iterable[Statement], pending: _Pending) -> Iterator[Statement]:
    """The statements, counted into ``pending.count`` as they are split."""
    for stmt in statements:
        pending.count += 1
        yield stmt


def _ahead(items: Iterator[_T], depth: int) -> Iterator[_T]:
    """``items``, produced by a background thread up to ``depth`` items ahead of the caller.

    The split is pure Python; while the server runs a batch, psycopg waits for it without the GIL, so
    the next batches are split meanwhile. An exception in the producer is raised here, in order;
    closing this generator stops the producer.
    """
    import queue
    import threading

    box: queue.Queue[tuple[bool, Any]] = queue.Queue(depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in items:
                box.put((True, item))
                if stop.is_set():
                    return
            box.put((False, None))
        except BaseException as exc:  # handed to the consumer, which re-raises it where it belongs
            box.put((False, exc))

    worker = threading.Thread(target=produce, name="sqlrun-split-ahead", daemon=True)
    # The consumer wakes when the server answers and must then wait for the GIL until the splitting thread
    # is made to drop it: 5 ms by default, per batch. 1 ms saved ~8% on 100,000 INSERTs (PostgreSQL).
    interval = sys.getswitchinterval()
    sys.setswitchinterval(min(interval, SWITCH_INTERVAL))
    worker.start()
    try:
        while True:
            more, value = box.get()
            if not more:
                if value is not None:
                    raise value
                return
            yield value
    finally:
        stop.set()
        while worker.is_alive():  # unblock a producer waiting for room, until it sees ``stop``
            try:
                box.get_nowait()
            except queue.Empty:
                worker.join(0.01)
        sys.setswitchinterval(interval)


def _with_last(items: Iterable[_T]) -> Iterator[tuple[_T, bool]]:
    """Each item with whether it is the last one (by looking one item ahead)."""
    it = iter(items)
    for current in it:
        for following in it:
            yield current, False
            current = following
        yield current, True


def _batches(statements: Iterable[Statement], run: _ScriptRun) -> Iterator[list[Statement]]:
    """Group statements for one round trip each; COPY and (outside a transaction) everything go alone."""
    db, transactional = run.db, run.transactional
    limit = db.batch_statements if transactional else 1
    batch: list[Statement] = []
    size = 0
    absorb = transactional and not db.ddl_commits_implicitly
    making: set[str] = set()  # tables the plain CREATE TABLEs sent so far make (unless one is in place: _run_batch)
    for stmt in statements:
        if _SPECIAL_START.match(stmt.text):
            run.used_use = run.used_use or is_use(stmt.text)
            if absorb and _is_absorbed(stmt, run):
                continue
        # A statement that may create an unnamed object is looked up in the catalog before it runs: alone.
        # Not on a table this run makes (see _looked_up): it rides in the batch.
        alone = db.runs_alone(stmt) or (stmt.text[:1] in _LOOK_START and _to_look_up(stmt, run, making))
        if alone or len(batch) >= limit or size + len(stmt.text) > db.batch_bytes:
            if batch:
                yield batch
            batch, size = [], 0
        batch.append(stmt)
        size += len(stmt.text)
        if alone:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


def _to_look_up(stmt: Statement, run: _ScriptRun, making: set[str]) -> bool:
    """Whether ``stmt`` (an ALTER or CREATE) must be looked up in the catalog before it runs; notes the tables CREATE TABLE makes."""
    kind = run.db.kind
    made = created_table(stmt.text, kind)
    if made is not None:
        making.add(made)
        return False
    return tolerance.needs_look(stmt.text, kind) and altered_table(stmt.text, kind) not in making | run.created


def _is_absorbed(stmt: Statement, run: _ScriptRun) -> bool:
    """True for a script's own BEGIN/COMMIT inside the transaction sqlrun already runs it in."""
    control = transaction_control(stmt.text)
    if control == "rollback":
        raise StatementError(
            f"{run.script.path}:{stmt.line}: {first_line(stmt.text)}: a script that runs in sqlrun's transaction cannot "
            "roll it back; put '-- sqlrun: no-transaction' on its first line to manage transactions yourself"
        )
    if control is not None:
        run.reporter.absorbed(run.script, stmt)
        return True
    return False


def _run_batch(run: _ScriptRun, batch: list[Statement], finish: Finish | None = None) -> bool:
    """Run a batch; an error proven to mean "already in place" skips only its own statement, any other stops the script.

    With ``finish`` (the script's last batch) the dialect may write the history row and commit in the
    same round trip; True when it did. After a tolerated error the rest is sent again with a new row.
    """
    db, script, reporter = run.db, run.script, run.reporter
    start = tries = 0
    committed = False
    if len(batch) == 1 and _looked_up(run, batch[0]):
        return False
    while start < len(batch):
        part = batch[start:] if start else batch
        if start and len(part) == 1 and _looked_up(run, part[0]):
            break  # the one statement left after a tolerated error is looked up as a statement alone is (_looked_up)
        if len(part) > 1 and _uncovered(run, part):
            # A CREATE TABLE this batch counted on was in place (tolerated, here or in an earlier batch): the
            # table predates the run, and what the batch did not look up must be looked up, one by one.
            if reporter.verbose:
                for stmt in batch[:start]:
                    reporter.statement(script, stmt)
            for i, stmt in enumerate(part):
                committed = _run_batch(run, [stmt], finish if i == len(part) - 1 else None)
            return committed
        outcome = _watched(run, part, finish(len(part)) if finish else None)
        run.executed += outcome.done
        _note_created(run, part[:outcome.done])
        committed = outcome.committed
        if outcome.error is None:
            break
        run.committing = outcome.uncertain
        lost = _as_lost(run, outcome.error)
        if lost is not None:
            raise lost from outcome.error
        if outcome.done == len(part):
            raise _not_committed(run, outcome.error) from outcome.error
        failed = batch[start + outcome.done]
        if db.lock_waited(outcome.error):
            tries = tries + 1 if outcome.done == 0 else 1
            _wait_again(run, failed if outcome.located else None, part, outcome.error, tries)
            start += outcome.done
            continue
        _settle(run, failed, outcome.error)
        start += outcome.done + 1
    if reporter.verbose:
        for stmt in batch:
            reporter.statement(script, stmt)
    return committed


def _uncovered(run: _ScriptRun, part: Sequence[Statement]) -> bool:
    """Whether a statement of ``part`` needs a catalog look that nothing vouches for: its table was neither
    made by this run nor by a plain CREATE TABLE earlier in ``part`` (which runs first)."""
    making: set[str] = set()
    return any(stmt.text[:1] in _LOOK_START and _to_look_up(stmt, run, making) for stmt in part)


def _note_created(run: _ScriptRun, ran: Sequence[Statement]) -> None:
    """Remember the tables that plain CREATE TABLE statements among ``ran`` made."""
    for stmt in ran:
        if stmt.text[:1] in _LOOK_START:
            table = created_table(stmt.text, run.db.kind)
            if table is not None:
                run.created.add(table)


def _needs_look(stmt: Statement, kind: str) -> bool:
    """Whether ``stmt`` creates an object without a name, to be looked up in the catalog before it runs (cheap first)."""
    return stmt.text[:1] in _LOOK_START and tolerance.needs_look(stmt.text, kind)


def _looked_up(run: _ScriptRun, stmt: Statement) -> bool:
    """True when ``stmt`` creates an object without a name that the catalog already holds an equivalent of: skipped.

    Not asked on a table this run has created: whatever unnamed key it holds was made by this run, and one
    run builds what it is told to, a duplicate included (as the client builds it). That is also the common
    first run, where the catalog look would cost a round trip or more per statement.
    """
    if not _needs_look(stmt, run.db.kind) or altered_table(stmt.text, run.db.kind) in run.created:
        return False
    reason = tolerance.look(run.db, stmt)
    if reason is None:
        return False
    run.tolerated += 1
    run.reporter.tolerated(run.script, stmt, reason)
    return True


def _settle(run: _ScriptRun, failed: Statement, error: BaseException) -> None:
    """Count and show ``failed`` as in place when the tolerance rule proves it; otherwise stop with file:line."""
    try:
        verdict = tolerance.settle(run.db, failed, error)
    except SqlrunError:
        raise
    except Exception as exc:  # a catalog look-up or a re-run part failed outside the rule: the connection, say
        raise (_as_lost(run, exc) or _statement_failed(run, failed, exc, "")) from exc
    if not verdict.in_place:
        cause = verdict.error or error
        lost = _as_lost(run, cause)
        if lost is not None:
            raise lost from cause
        raise _statement_failed(run, failed, cause, verdict.reason) from cause
    run.tolerated += 1
    run.reporter.tolerated(run.script, failed, verdict.reason)


def _statement_failed(run: _ScriptRun, failed: Statement, cause: BaseException, reason: str) -> StatementError:
    """The error for a statement that failed and is not proven in place: file:line, the server's message, and why."""
    why = f"\n  not tolerated: {reason}" if reason else ""
    return StatementError(f"{run.script.path}:{failed.line}: statement failed: {first_line(failed.text)}\n  {run.db.describe(cause)}{why}")


def _watched(run: _ScriptRun, part: list[Statement], row: HistoryRow | None) -> BatchOutcome:
    """Run a batch while the lock watcher may name what it waits for."""
    _stop_if_interrupted(run)
    run.lock_seen = False
    if run.watch is None:
        outcome = run.db.run_batch(part, row)
    else:
        run.watch.batch_started()
        try:
            outcome = run.db.run_batch(part, row)
        finally:
            run.watch.batch_ended()
    if outcome.error is not None:
        _stop_if_interrupted(run)  # the error is the interrupt's doing, not the statement's
    return outcome


def _stop_if_interrupted(run: _ScriptRun) -> None:
    """Raise KeyboardInterrupt when the session was interrupted from another thread (Ctrl-C in a fan-out).

    The worker then ends as a run interrupted by Ctrl-C does: nothing more is sent, its transaction is
    dropped, and the message says what the history records.
    """
    if run.db.interrupted:
        raise KeyboardInterrupt


def _wait_again(run: _ScriptRun, stmt: Statement | None, part: list[Statement], error: BaseException, tries: int) -> None:
    """After a lock wait ran out: pause, then retry (the script, or only ``stmt``); LockWaitError when retries are spent.

    ``stmt`` is None when the dialect did not find which statement of ``part`` waited (it would have had to wait again).
    """
    where = f"line {stmt.line}" if stmt else f"a statement of lines {part[0].line}-{part[-1].line}"
    done = run.attempt if run.retries_script else tries - 1
    if done >= len(LOCK_RETRY_DELAYS):
        raise _lock_wait_error(run, stmt or part[0], where, error) from error
    assert stmt is not None or run.retries_script
    if run.retries_script:
        raise _RetryScript(f"{where} gave up waiting for a lock: {held_by(_seen(run))}")
    delay = LOCK_RETRY_DELAYS[done]
    run.reporter.info(
        f"{run.script.file}:{stmt.line}: gave up waiting for a lock: {held_by(_seen(run))}; "
        f"running that statement again in {delay:g}s (retry {tries} of {len(LOCK_RETRY_DELAYS)})"
    )
    time.sleep(delay)


def _seen(run: _ScriptRun) -> tuple:
    return run.watch.seen if run.watch is not None else ()


def _lock_wait_error(run: _ScriptRun, stmt: Statement, where: str, error: BaseException) -> LockWaitError:
    if run.retries_script:
        state = "the script was rolled back and is not recorded"
    else:
        state = "the statements before it ran and stay (they could not be rolled back); the script is recorded as failed and runs again from its start next time"
    return LockWaitError(
        f"{run.script.path}:{stmt.line}: {first_line(stmt.text) if where.startswith('line') else where}: gave up waiting for another session's lock, "
        f"{len(LOCK_RETRY_DELAYS) + 1} times (--lock-wait): {run.db.describe(error)}\n"
        f"  {held_by(_seen(run))}\n"
        f"  {state}. End or commit that session's transaction (or let it finish), then run again; or raise --lock-wait"
    )


# --- bookkeeping commands ------------------------------------------------------------------------------


@contextmanager
def bookkeeping(url: DatabaseURL, options: Options, reporter: Reporter) -> Iterator[tuple[Database, dict[int, HistoryRow]]]:
    """The database under the migration lock, with its history read; one transaction around the body."""
    db = connect(url, options, reporter, readonly=False)
    assert db is not None  # readonly=False creates or fails, never answers None
    try:
        refuse_replica(db)
        lock = take(db, options, reporter)
        try:
            db.ensure_history()
            history = db.read_history()
            db.begin(True)
            if db.locks_each_script:
                history = db.read_history()  # again, under the lock begin() took in this transaction
            yield db, history
            lock.check()
            db.commit()
        finally:
            lock.release()
    finally:
        db.close()


def run_script(db: Database, script: Script, fingerprint: Fingerprint, reporter: Reporter) -> ScriptResult:
    """Run one script as ``apply`` would on a database that has never recorded it, whatever its history says."""
    pending = _prepare(script, fingerprint, db.kind)
    # A dialect replaces a history row only if it is still the one it read (MySQL: so that two runners
    # recording one version clash instead of the last one winning): let it read the row this run replaces.
    db.read_history()
    return _apply_script(db, pending, db.whoami(), reporter)
