"""What a run has to do: the scripts on disk against the history. Reads only; the writing is in execute.py.

Every command starts here (``prologue``, ``connect``), and a run with nothing pending ends here: this
module and what it imports are what a container start pays, so the apply machinery stays out of it.
"""

from __future__ import annotations

import time

from .config import DatabaseURL
from .dialects import Database, HistoryRow, open_database
from .dialects.base import KNOWN_STATES, REPEATABLE_TABLE, WAIT_NOTICE_SECONDS
from .errors import ChangedError, ConfigError, ConnectError, ReadOnlyError
from .model import Options, ScriptStatus
from .report import Reporter
from .scripts import Fingerprint, Script, discover
from .values import field, value

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing, which costs a cold start ~3 ms

if TYPE_CHECKING:
    from datetime import datetime
    from typing import Sequence


@value
class Found:
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


def prologue(url: DatabaseURL, options: Options, reporter: Reporter, upto: int | None = None) -> Found:
    """The prologue of every command: list the scripts (up to version ``upto``), report the warnings, checksum them."""
    found = discover(options.directory, url.kind, strict=options.strict)
    for w in found.warnings:
        reporter.warning(w)
    scripts = found.scripts if upto is None else tuple(s for s in found.scripts if s.version <= upto)
    rep = found.repeatable
    return Found(scripts, {s.version: s.fingerprint() for s in scripts}, found.warnings, rep, {s.version: s.fingerprint() for s in rep})


def read_ledger(db: Database | None) -> dict[int, HistoryRow]:
    """The repeatable scripts' rows (empty before the first one ran)."""
    if db is None:
        return {}
    with db.ledger(REPEATABLE_TABLE):
        return db.read_history()


def due_repeatables(found: Found, ledger: dict[int, HistoryRow]) -> list[Script]:
    """The repeatable scripts to apply, in name order: new ones, changed ones, and ones that failed."""
    due = []
    for script in found.repeatable:
        row = ledger.get(script.version)
        if row is None or row.state != "applied" or row.checksum != found.repeatable_prints[script.version].checksum:
            due.append(script)
    return due


def repeatables_wait(found: Found, history: dict[int, HistoryRow], options: Options) -> bool:
    """Repeatable scripts run after every numbered one: not while --target leaves some of those pending."""
    if options.target is None:
        return False
    return any(s.version > options.target and s.version not in history for s in found.scripts)


def connect(url: DatabaseURL, options: Options, reporter: Reporter, *, readonly: bool) -> Database | None:
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


def say_if_replica(db: Database | None, reporter: Reporter) -> None:
    """Tell the user when the history comes from a read-only replica (it may lag behind the primary)."""
    reason = db.read_only() if db else None
    if reason:
        reporter.info(f"reading a read-only replica ({reason}): the history is what it has received from the primary")


def refuse_replica(db: Database | None) -> None:
    """Stop before anything is planned or locked when the target accepts no writes."""
    reason = db.read_only() if db else None
    if reason:
        raise ReadOnlyError(reason)


# --- planning --------------------------------------------------------------------------------------


@value(frozen=False)
class Progress:
    """How far a run got, for the message when it is interrupted."""

    applied: list[str] = field(default_factory=list)
    current: Script | None = None


def nothing_to_do(found: Found, history: dict[int, HistoryRow], options: Options) -> str:
    """The line for a run with nothing to apply: every script is applied, or the rest lies beyond --target."""
    if options.target is not None:
        later = [s for s in found.scripts if s.version > options.target and s.version not in history]
        if later:
            return f"nothing to do up to version {options.target} (--target); {len(later)} script(s) pending after it"
    return "nothing to do: every script is applied"


def scripts_to_run(
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
