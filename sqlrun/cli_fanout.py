"""The command line on many databases: each database's lines prefixed by its URL, a summary, one JSON object.

cli.main calls ``fan_out`` with its own ``run_one``; this module never imports cli (no import circle).
"""

from __future__ import annotations

import threading
import time

from .config import parse_url, redact_text
from .errors import ConfigError, SqlrunError
from .fanout import Outcome, Target, default_jobs, given_targets, most_severe, read_targets, run_each

TYPE_CHECKING = False

if TYPE_CHECKING:
    import argparse
    from typing import Any, Callable, Sequence

    # cli.ConsoleReporter: not imported, even for type checking, since cli imports this module (no import circle).
    ConsoleReporter = Any
    RunOne = Callable[[argparse.Namespace, object, ConsoleReporter], tuple[int, object, object]]

FAN_OUT_COMMANDS = ("apply", "status", "verify", "check")


def targets_of(ns: argparse.Namespace) -> list[Target]:
    """The databases named by --database-url (repeated) and --databases-from."""
    targets = given_targets(ns.database_url or [])
    if ns.databases_from:
        targets += read_targets(ns.databases_from)
    return targets


def fan_out(ns: argparse.Namespace, reporter: ConsoleReporter, run_one: RunOne) -> int:
    """Run the command on every database named; exit 0 only when every one succeeded, else the most severe code."""
    if ns.command not in FAN_OUT_COMMANDS:
        raise ConfigError(f"{ns.command} takes one database; several are given only to {', '.join(FAN_OUT_COMMANDS)}")
    from .model import options_from

    options_from(ns)  # bad option values: one error now, not one per database
    targets = targets_of(ns)
    jobs = default_jobs(len(targets)) if ns.jobs is None else ns.jobs
    if jobs < 1:
        raise ConfigError(f"--jobs {jobs}: run at least 1 database at a time")
    reporter.line(f"databases: {len(targets)}, {min(jobs, len(targets))} at a time{', stopping at the first failure' if ns.fail_fast else ''}")
    lock = threading.Lock()
    quiet_summary = reporter.quiet and ns.command == "apply"
    started = time.monotonic()

    def work(target: Target) -> tuple[int, object, object]:
        each = reporter.for_database(target.label(), lock, quiet_summary=quiet_summary)
        try:
            url = parse_url(target.url)
            each.line(f"database: {url.redacted()} (from {target.origin})")
            return run_one(ns, url, each)
        except Exception as exc:
            each.error(str(exc) if isinstance(exc, SqlrunError) else f"unexpected {type(exc).__name__}: {exc}")
            raise

    outcomes = run_each(targets, work, jobs=jobs, fail_fast=bool(ns.fail_fast))
    code = most_severe([_code(o) for o in outcomes])
    if getattr(ns, "json", False):
        import json

        data = {"databases": [_json(o) for o in outcomes], "summary": _counts(outcomes, code)}
        print(json.dumps(data, indent=2, ensure_ascii=False))
    else:
        reporter.always(_summary_line(ns.command, outcomes, code, time.monotonic() - started))
    return code


def _code(outcome: Outcome) -> int:
    """A database's exit code: its error's, else what the command answered (status --exit-code, verify: 3)."""
    if outcome.error is not None or outcome.value is None:
        return outcome.exit_code
    return outcome.value[0]  # type: ignore[index]


def _applied(outcome: Outcome) -> bool:
    result = outcome.value[2] if outcome.value is not None else None  # type: ignore[index]
    return bool(getattr(result, "applied", 0))


def _counts(outcomes: Sequence[Outcome], code: int) -> dict[str, int]:
    """How many databases ended which way."""
    failed = sum(1 for o in outcomes if o.started and _code(o))
    applied = sum(1 for o in outcomes if o.started and not _code(o) and _applied(o))
    not_started = sum(1 for o in outcomes if not o.started)
    return {
        "databases": len(outcomes),
        "applied": applied,
        "up_to_date": len(outcomes) - failed - applied - not_started,
        "failed": failed,
        "not_started": not_started,
        "exit_code": code,
    }


def _summary_line(command: str, outcomes: Sequence[Outcome], code: int, elapsed: float) -> str:
    counts = _counts(outcomes, code)
    ok = f"{counts['applied']} applied, {counts['up_to_date']} up to date" if command == "apply" else f"{counts['up_to_date']} ok"
    parts = [f"{command} on {counts['databases']} databases: {ok}, {counts['failed']} failed"]
    if counts["not_started"]:
        parts.append(f"{counts['not_started']} not started (--fail-fast)")
    failed = [f"{o.database} (exit {_code(o)})" for o in outcomes if o.started and _code(o)]
    text = ", ".join(parts) + f", {elapsed:.2f} s; exit {code}"
    if failed:
        text += "\nfailed: " + ", ".join(failed)
    return text


def _json(outcome: Outcome) -> dict[str, object]:
    """One database's object (docs/json.md, ``fan-out.databases[]``)."""
    error = None
    if outcome.error is not None:
        error = {"type": type(outcome.error).__name__, "message": redact_text(str(outcome.error)), "exit_code": outcome.error.exit_code}
    return {
        "database": outcome.database,
        "exit_code": _code(outcome),
        "started": outcome.started,
        "result": outcome.value[1] if outcome.value is not None else None,  # type: ignore[index]
        "error": error,
    }
