"""``check``: prove that running a migrations directory again changes nothing, statement by statement.

On a scratch database (a temporary SQLite file, or a temporary database on the same server, dropped
afterwards whatever happens) every script is applied once, then every script is run again from the top as
the first run on a legacy database would run it: with the runner's tolerance, whatever the history says.
After each statement of the second run the catalog and the data are snapshot (sqlrun.snapshot) and compared
with the moment before. A statement is reported when the second run fails on it, when it changes something
that its script does not end up undoing, or when it loses rows (a seed table dropped and made again would
drop a real database's rows too).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Sequence

from . import snapshot
from .config import DatabaseURL
from .errors import StatementError
from .model import Options
from .report import Reporter
from .sqltext import first_line

if TYPE_CHECKING:
    from .dialects import Database
    from .dialects.base import BatchOutcome, HistoryRow
    from .scripts import Fingerprint, Script
    from .splitter import Statement

SCRATCH_PREFIX = "sqlrun_check_"
SCRATCH_LOCK_TIMEOUT = 60.0  # the scratch database is this run's own: nobody else holds its lock


@dataclass(frozen=True)
class Finding:
    """A statement that does not converge: ``problem`` is "changed" (``changes`` says what) or "failed"."""

    file: str
    line: int
    statement: str
    problem: str
    changes: tuple[str, ...]

    @property
    def location(self) -> str:
        """``file:line``."""
        return f"{self.file}:{self.line}"


@dataclass(frozen=True)
class CheckResult:
    """What ``check`` found: the second run's statements, and those that changed something or failed."""

    database: str
    scripts: int
    statements: int
    tolerated: int
    findings: tuple[Finding, ...]
    differences: tuple[str, ...]  # the whole second run's net effect on the catalog and the data

    @property
    def converges(self) -> bool:
        """True when running every script again changes nothing and fails nowhere."""
        return not self.findings and not self.differences


@dataclass(frozen=True)
class _Step:
    statement: Statement
    changes: tuple[snapshot.Difference, ...]


class Quiet(Reporter):
    """Passes on warnings about the directory (once); keeps the runs' own progress and notices to itself."""

    def __init__(self, outer: Reporter | None) -> None:
        self.outer = outer
        self.tolerated_count = 0

    def info(self, message: str) -> None:
        pass

    def warning(self, message: str) -> None:
        if self.outer is not None:
            self.outer.warning(message)

    def planned(self, script: Any, count: int, no_transaction: bool) -> None:
        pass

    def script_started(self, script: Any, count: int) -> None:
        pass

    def statement(self, script: Any, statement: Any) -> None:
        pass

    def tolerated(self, script: Any, statement: Any, reason: str) -> None:
        self.tolerated_count += 1

    def absorbed(self, script: Any, statement: Any) -> None:
        pass

    def script_done(self, result: Any) -> None:
        pass


class _Observer:
    """Makes ``db`` run one statement per round trip and snapshots it after each one."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.current = snapshot.take(db)
        self.steps: list[_Step] = []
        self.failed: Statement | None = None
        self._inner = db.run_batch
        # On this scratch session only: per-statement batches, so that each change has one author. The
        # runner still decides everything else (tolerance, transactions), exactly as for a real re-run.
        db.batch_statements = 1
        db.run_batch = self._run_batch  # type: ignore[method-assign]

    def _run_batch(self, statements: Sequence[Statement], finish: HistoryRow | None = None) -> BatchOutcome:
        outcome = self._inner(statements, finish)
        if outcome.error is not None and outcome.done < len(statements):
            self.failed = statements[outcome.done]
        after = snapshot.take(self.db)
        # One statement per batch (see __init__), so whatever changed is this statement's doing.
        self.steps.append(_Step(statements[0], tuple(snapshot.diff(self.current, after))))
        self.current = after
        return outcome

    def start_script(self) -> snapshot.Snapshot:
        """Forget the previous script's steps; the snapshot the next script starts from."""
        self.steps, self.failed = [], None
        return self.current


def check(url: DatabaseURL, options: Options = Options(), reporter: Reporter | None = None) -> CheckResult:
    """Apply every script on a scratch database beside ``url``, run them all again, and report what changed."""
    scratch = scratch_url(url)
    try:
        return _check_on(scratch, options, reporter)
    finally:
        discard(scratch)


def scratch_url(url: DatabaseURL) -> DatabaseURL:
    """A database nobody uses: a temporary SQLite file, or a new database name on ``url``'s server."""
    import uuid

    if url.kind == "sqlite":
        import tempfile

        folder = tempfile.mkdtemp(prefix="sqlrun-check-")
        return url.with_database(os.path.join(folder, "check.db"))
    return url.with_database(f"{SCRATCH_PREFIX}{uuid.uuid4().hex[:12]}")


def discard(scratch: DatabaseURL) -> None:
    """Drop the scratch database (its folder, for SQLite)."""
    if scratch.kind == "sqlite":
        import shutil

        shutil.rmtree(os.path.dirname(scratch.database or ""), ignore_errors=True)
        return
    from .scratch import drop

    drop(scratch)


def _check_on(scratch: DatabaseURL, options: Options, reporter: Reporter | None) -> CheckResult:
    from . import runner
    from .dialects import open_database

    opts = replace(options, create_database=True, dry_run=False, target=None, lock_timeout=SCRATCH_LOCK_TIMEOUT)
    runner.apply(scratch, opts, Quiet(reporter))
    quiet = Quiet(None)
    scripts = runner.discover_scripts(scratch, opts, quiet)
    db = open_database(scratch, create=False, readonly=False, notify=quiet.info)
    assert db is not None  # it was just made
    try:
        _forget_history(db)
        observer = _Observer(db)
        first = observer.current
        findings: list[Finding] = []
        statements = 0
        for script, fingerprint in scripts:
            found, ran = _rerun(db, script, fingerprint, observer, quiet)
            findings += found
            statements += ran
        differences = tuple(str(d) for d in snapshot.diff(first, observer.current))
    finally:
        db.close()
    return CheckResult(scratch.redacted(), len(scripts), statements, quiet.tolerated_count, tuple(findings), differences)


def _forget_history(db: Database) -> None:
    """Empty the history, as on a legacy database: a runner that meets a row for the script it is writing takes
    it for another runner's work."""
    sql = f"DELETE FROM {db.table}"  # plain SQL every database reads alike; the session is in autocommit here
    conn: Any = getattr(db, "conn")
    if db.kind == "mysql":
        with conn.cursor() as cur:
            cur.execute(sql)
    else:
        conn.execute(sql)


def _rerun(db: Database, script: Script, fingerprint: Fingerprint, observer: _Observer, reporter: Reporter) -> tuple[list[Finding], int]:
    """Run one script again; its findings, and how many of its statements were sent."""
    from . import execute

    start = observer.start_script()
    error: StatementError | None = None
    try:
        execute.run_script(db, script, fingerprint, reporter)
    except StatementError as exc:
        error = exc
        observer.current = snapshot.take(db)  # after the rollback: what the failed script left behind
    # A step counts when what it changed is still changed at the script's end (a helper function made and
    # dropped again by the same script is not), or when it lost rows on the way.
    lasting = {d.subject for d in snapshot.diff(start, observer.current)}
    findings = [
        _changed(script, step) for step in observer.steps
        if any(d.subject in lasting for d in step.changes) or _loses_rows(step)
    ]
    if error is not None:
        findings.append(_failed(script, observer.failed, error))
    return findings, len(observer.steps)


def _loses_rows(step: _Step) -> bool:
    return any(d.rows_lost for d in step.changes)


def _changed(script: Script, step: _Step) -> Finding:
    return Finding(script.file, step.statement.line, first_line(step.statement.text), "changed", tuple(str(d) for d in step.changes))


def _failed(script: Script, statement: Statement | None, error: StatementError) -> Finding:
    line = statement.line if statement is not None else 1
    text = first_line(statement.text) if statement is not None else ""
    return Finding(script.file, line, text, "failed", (str(error).split("\n", 1)[-1].strip(),))
