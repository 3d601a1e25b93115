"""The core: compare scripts with the history, then apply what is pending, once, under a lock."""

from __future__ import annotations

import itertools
import re
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, field, replace

from .config import DatabaseURL
from .dialects import Database, HistoryRow, open_database
from . import tolerance
from .dialects.base import KNOWN_STATES, REPEATABLE_TABLE, BatchOutcome, utcnow
from .errors import (
    ChangedError, ConfigError, ConnectError, ConnectionLostError, Interrupted, LockLostError, LockWaitError, ReadOnlyError,
    ScriptError, SqlrunError, StatementError,
)
from .locking import HeldLock, take
from .model import Options, Result, ScriptResult, ScriptStatus
from .report import Reporter
from .scripts import Fingerprint, Script, discover, read_checked, spool
from .sqltext import altered_table, created_table, first_line, is_use, transaction_control
from .waits import LOCK_RETRY_DELAYS, LockWatch, held_by

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing, which costs a cold start ~3 ms

if TYPE_CHECKING:  # the splitter is imported only when a script is pending: a no-op run never needs it
    from datetime import datetime
    from typing import Any, BinaryIO, Callable, Iterable, Iterator, Sequence, TypeVar

    from .placeholders import Placeholders
    from .splitter import Statement

    _T = TypeVar("_T")
    Finish = Callable[[int], HistoryRow]  # the history row, should the batch's n statements all succeed

# Scripts up to this size are split once, before anything runs, and kept in memory; bigger ones are
# checked in a first streaming pass and streamed again while they run, so memory stays flat.
PRESPLIT_BYTES = 16 << 20
# From this size, the first pending script is split in a background thread while the server runs its earlier
# batches, instead of before anything runs, where the dialect allows it (see _checked_while_running).
OVERLAP_BYTES = 1 << 20
OVERLAP_DEPTH = 4  # batches split ahead of the one running: bounds the memory the overlap takes
SWITCH_INTERVAL = 0.001  # seconds: how long the splitting thread may keep the GIL from the one waiting for it
WAIT_NOTICE_SECONDS = 5.0
_LOOK_START = "aAcC"  # ALTER and CREATE: only these may create an object without a name (tolerance.needs_look)
# Cheap first look: only statements that may start with these words need a closer one.
_SPECIAL_START = re.compile(
    r"(?:\s|--[^\n]*\n|#[^\n]*\n|/\*[^!].*?\*/)*(?:BEGIN|START|COMMIT|END|ROLLBACK|ABORT|USE)\b", re.IGNORECASE | re.DOTALL
)


@dataclass
class _Pending:
    script: Script
    fingerprint: Fingerprint
    statements: list[Statement] | None  # None: too big to keep, or not split yet: stream it
    count: int  # statements in the script (counted while it runs when not checked beforehand)
    checked: bool = True  # False: split while it runs (see _checked_while_running)
    placeholders: Placeholders | None = None  # the run's ${name} values, when placeholders are on
    # A big script's private copy, made while it was checked: what runs is the bytes that were checked,
    # even if the file changes meanwhile (an anonymous temporary file, gone with this object or the process).
    spool: BinaryIO | None = None

    def statements_to_run(self, kind: str) -> Iterable[Statement]:
        """The statements, kept or streamed again (from the spool, or checked against the checksum at the end)."""
        if self.statements is not None:
            return self.statements
        return _stream(self.script, kind, self.placeholders, checksum=self.fingerprint.checksum, source=self.spool)


@dataclass
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


@dataclass(frozen=True)
class _Found:
    """The scripts for this database, their fingerprints, and the warnings found while listing them."""

    scripts: tuple[Script, ...]
    prints: dict[int, Fingerprint]
    warnings: tuple[str, ...]
    repeatable: tuple[Script, ...] = ()
    repeatable_prints: dict[int, Fingerprint] = field(default_factory=dict)


# --- reading ---------------------------------------------------------------------------------------


def statuses(scripts: Sequence[Script], prints: dict[int, Fingerprint], history: dict[int, HistoryRow]) -> list[ScriptStatus]:
    """Every script's and every history row's state, by version."""
    out: list[ScriptStatus] = []
    on_disk = {s.version: s for s in scripts}
    for version in sorted(set(on_disk) | set(history)):
        script, row = on_disk.get(version), history.get(version)
        if row is not None and row.state not in KNOWN_STATES:
            raise _foreign_state(row)
        when = _shown_time(row.applied_at) if row else None
        if script is None:
            assert row is not None
            out.append(ScriptStatus(version, row.name, row.file, "missing", when, None, row.checksum, row.state))
            continue
        current = prints[version].checksum
        state = _state(row, current, unrecorded="pending", edited="changed")
        out.append(ScriptStatus(version, script.name, script.file, state, when, current, row.checksum if row else None, row.state if row else None))
    return out


def _state(row: HistoryRow | None, current: str, *, unrecorded: str, edited: str) -> str:
    """A script's state from its history row: ``unrecorded`` without one, failed, applied, or ``edited`` since."""
    if row is None:
        return unrecorded
    if row.state == "failed":
        return "failed"
    return "applied" if row.checksum == current else edited


def _shown_time(value: datetime | str | None) -> str | None:
    """A history time as shown: ISO 8601 to the second, or a hand-written value that is not a time as it is."""
    if isinstance(value, str):
        return value or None
    return value.isoformat(timespec="seconds") if value else None


def _foreign_state(row: HistoryRow, table: str = "sqlrun_history") -> ConfigError:
    """A history row whose state sqlrun never writes: guessing what it means could skip or re-run a script."""
    return ConfigError(
        f"{table} row version {row.version} ({row.file}) has state {row.state!r}; sqlrun writes only "
        f"{' or '.join(repr(s) for s in KNOWN_STATES)}: correct or delete that row, then run again"
    )


def _discover(url: DatabaseURL, options: Options, reporter: Reporter, upto: int | None = None) -> _Found:
    """The prologue of every command: list the scripts (up to version ``upto``), report the warnings, checksum them."""
    found = discover(options.directory, url.kind, strict=options.strict)
    for w in found.warnings:
        reporter.warning(w)
    scripts = found.scripts if upto is None else tuple(s for s in found.scripts if s.version <= upto)
    rep = found.repeatable
    return _Found(scripts, {s.version: s.fingerprint() for s in scripts}, found.warnings, rep, {s.version: s.fingerprint() for s in rep})


def _ledger(db: Database | None) -> dict[int, HistoryRow]:
    """The repeatable scripts' rows (empty before the first one ran)."""
    if db is None:
        return {}
    with db.ledger(REPEATABLE_TABLE):
        return db.read_history()


def _due(found: _Found, ledger: dict[int, HistoryRow]) -> list[Script]:
    """The repeatable scripts to apply, in name order: new ones, changed ones, and ones that failed."""
    due = []
    for script in found.repeatable:
        row = ledger.get(script.version)
        if row is None or row.state != "applied" or row.checksum != found.repeatable_prints[script.version].checksum:
            due.append(script)
    return due


def _repeatables_wait(found: _Found, history: dict[int, HistoryRow], options: Options) -> bool:
    """Repeatable scripts run after every numbered one: not while --target leaves some of those pending."""
    if options.target is None:
        return False
    return any(s.version > options.target and s.version not in history for s in found.scripts)


def _connect(url: DatabaseURL, options: Options, reporter: Reporter, *, readonly: bool) -> Database | None:
    """Open the database, retrying for up to ``options.wait`` seconds while it does not accept connections."""
    started = time.monotonic()
    deadline = started + options.wait
    next_notice = started  # say at once that we wait (docker logs would look hung otherwise), then every few seconds
    while True:
        try:
            return open_database(url, create=options.create_database, readonly=readonly, notify=reporter.info)
        except ConnectError as exc:
            now = time.monotonic()
            if not exc.retryable or now >= deadline:
                if options.wait and exc.retryable:
                    raise ConnectError(f"gave up after waiting {options.wait:.0f}s (--wait): {exc}") from None
                raise
            if now >= next_notice:
                reporter.info(f"waiting for the database ({now - started:.0f}s of {options.wait:.0f}s): {exc}")
                next_notice = now + WAIT_NOTICE_SECONDS
            time.sleep(min(0.5, max(0.0, deadline - now)))


def status(url: DatabaseURL, options: Options = Options(), reporter: Reporter | None = None) -> list[ScriptStatus]:
    """Each script's state against the database, changing nothing."""
    reporter = reporter or Reporter()
    found = _discover(url, options, reporter)
    db = _connect(url, replace(options, create_database=False), reporter, readonly=True)
    try:
        _say_if_replica(db, reporter)
        history = db.read_history() if db else {}
        ledger = _ledger(db)
    finally:
        if db:
            db.close()
    return statuses(found.scripts, found.prints, history) + repeatable_statuses(found.repeatable, found.repeatable_prints, ledger)


def repeatable_statuses(scripts: Sequence[Script], prints: dict[int, Fingerprint], ledger: dict[int, HistoryRow]) -> list[ScriptStatus]:
    """Every repeatable script's state (new, applied, outdated, failed), and rows whose file is gone (missing)."""
    out: list[ScriptStatus] = []
    for row in ledger.values():
        if row.state not in KNOWN_STATES:
            raise _foreign_state(row, "sqlrun_repeatable")
    for script in scripts:
        row, current = ledger.get(script.version), prints[script.version].checksum
        state = _state(row, current, unrecorded="new", edited="outdated")
        out.append(_repeatable_status(script.version, script.name, script.file, state, row, current))
    on_disk = {s.version for s in scripts}
    for key, row in sorted(ledger.items(), key=lambda item: item[1].name):
        if key not in on_disk:
            out.append(_repeatable_status(key, row.name, row.file, "missing", row, None))
    return out


def _repeatable_status(key: int, name: str, file: str, state: str, row: HistoryRow | None, current: str | None) -> ScriptStatus:
    when = _shown_time(row.applied_at) if row else None
    return ScriptStatus(
        key, name, file, state, when, current, row.checksum if row else None, row.state if row else None, repeatable=True
    )


def _say_if_replica(db: Database | None, reporter: Reporter) -> None:
    """Tell the user when the history comes from a read-only replica (it may lag behind the primary)."""
    reason = db.read_only() if db else None
    if reason:
        reporter.info(f"reading a read-only replica ({reason}): the history is what it has received from the primary")


def _refuse_replica(db: Database | None) -> None:
    """Stop before anything is planned or locked when the target accepts no writes."""
    reason = db.read_only() if db else None
    if reason:
        raise ReadOnlyError(reason)


# --- applying --------------------------------------------------------------------------------------


@dataclass
class _Progress:
    """How far a run got, for the message when it is interrupted."""

    applied: list[str] = field(default_factory=list)
    current: Script | None = None


def apply(url: DatabaseURL, options: Options = Options(), reporter: Reporter | None = None) -> Result:
    """Apply every pending script in version order, each exactly once, under the migration lock."""
    progress = _Progress()
    try:
        return _apply(url, options, reporter or Reporter(), progress)
    except KeyboardInterrupt:
        raise _interrupted(url, progress) from None


def _interrupted(url: DatabaseURL, progress: _Progress) -> Interrupted:
    """What an interrupted run left: the scripts it applied, and the state of the one it was running."""
    done = f"applied and recorded: {', '.join(progress.applied)}" if progress.applied else "no script was applied"
    script = progress.current
    if script is None:
        return Interrupted(f"interrupted; {done}; run again to apply the rest")
    # The interrupt may land after the server committed the script but before the client heard of it:
    # the history, read on a fresh session, is the only reliable answer.
    state = _recorded_state(url, script)
    if state == "applied":
        left = f"{script.file} had finished: it is recorded as applied"
    elif state is None:
        left = f"{script.file} was stopped; whether its COMMIT reached the server cannot be told now: run `status`"
    elif url.kind == "mysql":
        left = (f"{script.file} was stopped and is not recorded as applied; statements of it that had run may have "
                "committed (MySQL commits DDL at once): check them before running again")
    else:
        left = f"{script.file} was stopped and rolled back: nothing of it was kept"
    return Interrupted(f"interrupted; {done}; {left}")


def _recorded_state(url: DatabaseURL, script: Script) -> str | None:
    """The script's state in the history ('' when it has no row), read on a new session; None when that fails."""
    try:
        db = open_database(url, create=False, readonly=True, notify=lambda _: None)
        if db is None:
            return ""
        try:
            row = db.read_history().get(script.version)
        finally:
            db.close()
    except Exception:  # the server may be gone too: then the state is unknown, and the message says so
        return None
    return row.state if row else ""


def _apply(url: DatabaseURL, options: Options, reporter: Reporter, progress: _Progress) -> Result:
    found = _discover(url, options, reporter)
    prints, warnings = found.prints, list(found.warnings)
    db = _connect(url, replace(options, create_database=options.create_database and not options.dry_run), reporter, readonly=options.dry_run)
    try:
        _refuse_replica(db)  # a dry run too: it would promise what the real run cannot do
        history = db.read_history() if db else {}
        todo = _plan(found.scripts, prints, history, options, reporter, warnings)
        waits = _repeatables_wait(found, history, options)
        due = [] if waits else _due(found, _ledger(db))
        if not todo and not due:
            reporter.info(_nothing_to_do(found, history, options))
            return Result(url.redacted(), (), options.dry_run, tuple(warnings))
        # An unset ${name} must stop the run before anything runs: no splitting while running then.
        overlap = None if options.placeholders else _checked_while_running(db, todo, prints, options)
        values = _placeholders(url, options)
        pending = [_prepare(script, prints[script.version], url.kind, check=script is not overlap, placeholders=values) for script in todo]
        pending += [_prepare(s, found.repeatable_prints[s.version], url.kind, placeholders=values) for s in due]
        if options.dry_run or db is None:
            return _dry_run(url, pending, reporter, warnings)
        prepared = {p.script.version: p for p in pending}
        return _apply_locked(db, url, found if not waits else replace(found, repeatable=()), prepared, options, reporter, warnings, progress)
    except Exception as exc:
        if db is None or isinstance(exc, SqlrunError) or not db.connection_lost(exc):
            raise
        raise ConnectionLostError(
            f"the connection to the database was lost while no script was running: {db.describe(exc)}; "
            "the scripts reported as applied are recorded, no other was started: run again"
        ) from exc
    finally:
        if db:
            db.close()


def _nothing_to_do(found: _Found, history: dict[int, HistoryRow], options: Options) -> str:
    """The line for a run with nothing to apply: every script is applied, or the rest lies beyond --target."""
    if options.target is not None:
        later = [s for s in found.scripts if s.version > options.target and s.version not in history]
        if later:
            return f"nothing to do up to version {options.target} (--target); {len(later)} script(s) pending after it"
    return "nothing to do: every script is applied"


class _Quiet(Reporter):
    """A reporter that says nothing: for the second planning under the lock, whose warnings were given already."""

    def info(self, message: str) -> None:
        """Nothing."""

    def warning(self, message: str) -> None:
        """Nothing."""


_SILENT = _Quiet()


def _plan(
    scripts: Sequence[Script],
    prints: dict[int, Fingerprint],
    history: dict[int, HistoryRow],
    options: Options,
    reporter: Reporter,
    warnings: list[str],
) -> list[Script]:
    """What to run, in order; refuses when applied scripts changed (unless re-running them was asked for)."""
    states = statuses(scripts, prints, history)
    changed = [s for s in states if s.state == "changed"]
    missing = [s for s in states if s.state == "missing"]
    if changed and not options.reapply_changed:
        raise ChangedError(_changed_message(changed))
    if missing:
        text = ", ".join(s.file for s in missing)
        if options.strict:
            raise ChangedError(f"recorded scripts are missing from {options.directory}: {text}; restore them, or run without --strict")
        for state in KNOWN_STATES:
            files = ", ".join(s.file for s in missing if s.recorded_state == state)
            if files:
                _warn(reporter, warnings, f"recorded as {state} but missing from {options.directory}: {files}")
    by_version = {s.version: s for s in scripts}
    wanted = {"pending", "failed"} | ({"changed"} if options.reapply_changed else set())
    todo = [s for s in states if s.state in wanted and (options.target is None or s.version <= options.target)]
    highest = max((v for v, r in history.items() if r.state == "applied"), default=None)
    late = [s for s in todo if s.state == "pending" and highest is not None and s.version < highest]
    if late:
        text = ", ".join(s.file for s in late)
        if options.strict:
            raise ChangedError(f"{text}: older than the newest applied version {highest}; renumber them, or run without --strict")
        _warn(reporter, warnings, f"applying out of order (older than the newest applied version {highest}): {text}")
    return [by_version[s.version] for s in todo]


def _warn(reporter: Reporter, warnings: list[str], message: str) -> None:
    warnings.append(message)
    reporter.warning(message)


def _changed_message(changed: Sequence[ScriptStatus]) -> str:
    lines = ["applied scripts were edited since they ran; nothing was applied:"]
    for s in changed:
        lines.append(f"  {s.file}: recorded {s.recorded_checksum}, now {s.checksum}")
    lines.append("choose one: restore the files as they were; or `repair` to accept the edits as they are;")
    lines.append("or `apply --reapply-changed` to re-run the edited scripts (errors meaning 'already there' are tolerated)")
    return "\n".join(lines)


def _checked_while_running(db: Database | None, todo: Sequence[Script], prints: dict[int, Fingerprint], options: Options) -> Script | None:
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


def _placeholders(url: DatabaseURL, options: Options) -> Placeholders | None:
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
    found: _Found,
    prepared: dict[int, _Pending],
    options: Options,
    reporter: Reporter,
    warnings: list[str],
    progress: _Progress,
) -> Result:
    lock = take(db, options, reporter)
    try:
        db.ensure_history()
        # Another runner may have applied scripts while this one waited: plan again from the history now.
        todo = _plan(found.scripts, found.prints, db.read_history(), options, _SILENT, [])
        due = _due(found, _ledger(db)) if found.repeatable else []
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
                    script, found.prints[script.version], url.kind, placeholders=_placeholders(url, options)
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
    lock: HeldLock, db: Database, url: DatabaseURL, found: _Found, due: list[Script], prepared: dict[int, _Pending],
    options: Options, who: str, reporter: Reporter, watch: LockWatch,
) -> list[ScriptResult]:
    """Apply the due repeatable scripts after the numbered ones, recording each in the repeatable ledger."""
    results = []
    with db.ledger(REPEATABLE_TABLE):
        db.ensure_history()
        for script in due:
            pending = prepared.get(script.version) or _prepare(
                script, found.repeatable_prints[script.version], url.kind, placeholders=_placeholders(url, options)
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
def _bookkeeping(url: DatabaseURL, options: Options, reporter: Reporter) -> Iterator[tuple[Database, dict[int, HistoryRow]]]:
    """The database under the migration lock, with its history read; one transaction around the body."""
    db = _connect(url, options, reporter, readonly=False)
    assert db is not None  # readonly=False creates or fails, never answers None
    try:
        _refuse_replica(db)
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


def repair(url: DatabaseURL, options: Options = Options(), reporter: Reporter | None = None) -> list[ScriptStatus]:
    """Accept the current checksum of every changed script, keeping the previous checksum and when it was replaced."""
    reporter = reporter or Reporter()
    found = _discover(url, options, reporter)
    with _bookkeeping(url, options, reporter) as (db, history):
        changed = [s for s in statuses(found.scripts, found.prints, history) if s.state == "changed"]
        for s in changed:
            old = history[s.version]
            db.write_history(replace(old, checksum=s.checksum or old.checksum, file=s.file, name=s.name, previous_checksum=old.checksum, checksum_replaced_at=utcnow()))
            reporter.info(f"repaired {s.file}: checksum {old.checksum[:12]}... -> {(s.checksum or '')[:12]}...")
    return changed


def baseline(url: DatabaseURL, version: int, options: Options = Options(), reporter: Reporter | None = None) -> list[Script]:
    """Record every script up to ``version`` as applied without running it (for a database built some other way)."""
    reporter = reporter or Reporter()
    found = _discover(url, options, reporter, upto=version)
    with _bookkeeping(url, options, reporter) as (db, history):
        who = f"{db.whoami()} (baseline)"
        todo = [s for s in found.scripts if s.version not in history or history[s.version].state == "failed"]
        for s in todo:
            db.write_history(HistoryRow(s.version, s.name, s.file, found.prints[s.version].checksum, "applied", utcnow(), applied_by=who))
            reporter.info(f"baselined {s.file}")
    return todo


# --- for check (sqlrun.converge) ------------------------------------------------------------------------


def discover_scripts(url: DatabaseURL, options: Options, reporter: Reporter) -> list[tuple[Script, Fingerprint]]:
    """Every script for ``url``'s database with its fingerprint, in version order (warnings reported)."""
    found = _discover(url, options, reporter)
    return [(s, found.prints[s.version]) for s in found.scripts]


def run_script(db: Database, script: Script, fingerprint: Fingerprint, reporter: Reporter) -> ScriptResult:
    """Run one script as ``apply`` would on a database that has never recorded it, whatever its history says."""
    pending = _prepare(script, fingerprint, db.kind)
    # A dialect replaces a history row only if it is still the one it read (MySQL: so that two runners
    # recording one version clash instead of the last one winning): let it read the row this run replaces.
    db.read_history()
    return _apply_script(db, pending, db.whoami(), reporter)
