"""The command line on many databases: each database's lines prefixed by its URL, a summary, one JSON object."""

from __future__ import annotations

import argparse
import threading
import time

from .cli import ConsoleReporter, print_json, run_one
from .config import parse_url
from .errors import ConfigError, SqlrunError
from .fanout import Outcome, Target, default_jobs, given_targets, most_severe, read_targets, run_each

TYPE_CHECKING = False

if TYPE_CHECKING:
    from typing import Sequence

FAN_OUT_COMMANDS = ("apply", "status", "verify")  # add "check" here once it lands (run_one must know it)


class PrefixedReporter(ConsoleReporter):
    """A ConsoleReporter for one of several databases run at once: every line starts with the database's URL."""

    def __init__(self, prefix: str, lock: threading.Lock, *, verbose: bool, quiet: bool, quiet_summary: bool = False) -> None:
        super().__init__(verbose=verbose, quiet=quiet)
        self.quiet_summary = quiet_summary  # -q apply: one summary for all databases, not one "done:" line each
        self.prefix = f"[{prefix}] "
        self.lock = lock
        self.tty = False  # no live progress line: several databases share the terminal

    def _emit(self, stream: object, text: str, head: str = "") -> None:
        with self.lock:  # whole lines, never two databases' halves on one line
            for line in self.redact(text).splitlines() or [""]:
                print(self.prefix + head + line, file=stream, flush=True)  # type: ignore[call-overload]

    def line(self, text: str) -> None:
        if not self.quiet:
            self._emit(self.out, text)

    def always(self, text: str) -> None:
        if not self.quiet_summary:
            self._emit(self.out, text)

    def error(self, text: str) -> None:
        self._emit(self.err, text, self._paint("error: ", "1;31"))

    def warning(self, message: str) -> None:
        self._emit(self.err, message, self._paint("warning: ", "33"))


def targets_of(ns: argparse.Namespace) -> list[Target]:
    """The databases named by --database-url (repeated) and --databases-from."""
    targets = given_targets(ns.database_url or [])
    if ns.databases_from:
        targets += read_targets(ns.databases_from)
    return targets


def fan_out(ns: argparse.Namespace, reporter: ConsoleReporter) -> int:
    """Run the command on every database named; exit 0 only when every one succeeded, else the most severe code."""
    if ns.command not in FAN_OUT_COMMANDS:
        raise ConfigError(f"{ns.command} takes one database; several are given only to {', '.join(FAN_OUT_COMMANDS)}")
    from .arguments import options_from

    options_from(ns)  # bad option values: one error now, not one per database
    targets = targets_of(ns)
    jobs = default_jobs(len(targets)) if ns.jobs is None else ns.jobs
    if jobs < 1:
        raise ConfigError(f"--jobs {jobs}: run at least 1 database at a time")
    reporter.line(f"databases: {len(targets)}, {min(jobs, len(targets))} at a time{', stopping at the first failure' if ns.fail_fast else ''}")
    lock = threading.Lock()
    quiet = bool(ns.quiet) or bool(getattr(ns, "json", False))
    started = time.monotonic()

    def work(target: Target) -> tuple[int, object, object]:
        each = PrefixedReporter(target.label(), lock, verbose=bool(ns.verbose), quiet=quiet, quiet_summary=quiet and ns.command == "apply")
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
        print_json({"databases": [_json(o) for o in outcomes], "summary": _counts(outcomes, code)})
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
        from .config import redact_text

        error = {"type": type(outcome.error).__name__, "message": redact_text(str(outcome.error)), "exit_code": outcome.error.exit_code}
    return {
        "database": outcome.database,
        "exit_code": _code(outcome),
        "started": outcome.started,
        "result": outcome.value[1] if outcome.value is not None else None,  # type: ignore[index]
        "error": error,
    }
