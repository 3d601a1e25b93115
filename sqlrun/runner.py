"""The core's commands: compare scripts with the history (plan.py), then apply what is pending, once, under a
lock (execute.py, imported only when something is pending).
"""

from __future__ import annotations

from .config import DatabaseURL
from .dialects import HistoryRow, open_database
from .dialects.base import utcnow
from .errors import ConnectionLostError, Interrupted, SqlrunError
from .model import Options, Result, ScriptStatus
from .plan import (
    Progress, connect, due_repeatables, nothing_to_do, prologue, read_ledger, refuse_replica, repeatables_wait, repeatable_statuses,
    say_if_replica, scripts_to_run, statuses,
)
from .report import Reporter
from .scripts import Fingerprint, Script
from .values import replace

TYPE_CHECKING = False



def status(url: DatabaseURL, options: Options = Options(), reporter: Reporter | None = None) -> list[ScriptStatus]:
    """Each script's state against the database, changing nothing."""
    reporter = reporter or Reporter()
    found = prologue(url, options, reporter)
    db = connect(url, replace(options, create_database=False), reporter, readonly=True)
    try:
        say_if_replica(db, reporter)
        history = db.read_history() if db else {}
        ledger = read_ledger(db)
    finally:
        if db:
            db.close()
    return statuses(found.scripts, found.prints, history) + repeatable_statuses(found.repeatable, found.repeatable_prints, ledger)


def apply(url: DatabaseURL, options: Options = Options(), reporter: Reporter | None = None) -> Result:
    """Apply every pending script in version order, each exactly once, under the migration lock."""
    progress = Progress()
    try:
        return _apply(url, options, reporter or Reporter(), progress)
    except KeyboardInterrupt:
        raise _interrupted(url, progress) from None


def _interrupted(url: DatabaseURL, progress: Progress) -> Interrupted:
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


def _apply(url: DatabaseURL, options: Options, reporter: Reporter, progress: Progress) -> Result:
    found = prologue(url, options, reporter)
    warnings = list(found.warnings)
    db = connect(url, replace(options, create_database=options.create_database and not options.dry_run), reporter, readonly=options.dry_run)
    try:
        refuse_replica(db)  # a dry run too: it would promise what the real run cannot do
        history = db.read_history() if db else {}
        todo = scripts_to_run(found.scripts, found.prints, history, options, reporter, warnings)
        waits = repeatables_wait(found, history, options)
        # Without R__ scripts nothing in the ledger can be due: no query for it (a round trip of every start).
        due = [] if waits or not found.repeatable else due_repeatables(found, read_ledger(db))
        if not todo and not due:
            reporter.info(nothing_to_do(found, history, options))
            return Result(url.redacted(), (), options.dry_run, tuple(warnings))
        from .execute import apply_pending  # only now: a run with nothing pending never loads the apply machinery

        return apply_pending(db, url, found if not waits else replace(found, repeatable=()), todo, due, options, reporter, warnings, progress)
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


def repair(url: DatabaseURL, options: Options = Options(), reporter: Reporter | None = None) -> list[ScriptStatus]:
    """Accept the current checksum of every changed script, keeping the previous checksum and when it was replaced."""
    reporter = reporter or Reporter()
    found = prologue(url, options, reporter)
    from .execute import bookkeeping

    with bookkeeping(url, options, reporter) as (db, history):
        changed = [s for s in statuses(found.scripts, found.prints, history) if s.state == "changed"]
        for s in changed:
            old = history[s.version]
            db.write_history(replace(old, checksum=s.checksum or old.checksum, file=s.file, name=s.name, previous_checksum=old.checksum, checksum_replaced_at=utcnow()))
            reporter.info(f"repaired {s.file}: checksum {old.checksum[:12]}... -> {(s.checksum or '')[:12]}...")
    return changed


def baseline(url: DatabaseURL, version: int, options: Options = Options(), reporter: Reporter | None = None) -> list[Script]:
    """Record every script up to ``version`` as applied without running it (for a database built some other way)."""
    reporter = reporter or Reporter()
    found = prologue(url, options, reporter, upto=version)
    from .execute import bookkeeping

    with bookkeeping(url, options, reporter) as (db, history):
        who = f"{db.whoami()} (baseline)"
        todo = [s for s in found.scripts if s.version not in history or history[s.version].state == "failed"]
        for s in todo:
            db.write_history(HistoryRow(s.version, s.name, s.file, found.prints[s.version].checksum, "applied", utcnow(), applied_by=who))
            reporter.info(f"baselined {s.file}")
    return todo


# --- for check (sqlrun.converge) ------------------------------------------------------------------------


def discover_scripts(url: DatabaseURL, options: Options, reporter: Reporter) -> list[tuple[Script, Fingerprint]]:
    """Every script for ``url``'s database with its fingerprint, in version order (warnings reported)."""
    found = prologue(url, options, reporter)
    return [(s, found.prints[s.version]) for s in found.scripts]
