"""The command line: terminal output, exit codes and dispatch. No SQL here; the runner does the work.

The arguments (argparse, every option and its help) live in sqlrun/arguments.py.
"""

from __future__ import annotations

import os
import sys
import time

from .config import DatabaseURL, load_env_file, redact_text, resolve_url
from .errors import ConfigError, SqlrunError
from .report import Reporter
from .model import DEFAULT_DIRECTORY, Result, ScriptResult, ScriptStatus, options_from

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing, which costs a cold start ~3 ms

if TYPE_CHECKING:
    import argparse
    from threading import Lock
    from typing import Sequence, TextIO

    from .converge import CheckResult
    from .drift import DriftResult
    from .model import Options
    from .settings import Settings

__all__ = ["ConsoleReporter", "main"]


class ConsoleReporter(Reporter):
    """Prints a run's events: plain lines for logs, a live progress line and color on a terminal."""

    def __init__(self, *, verbose: bool = False, quiet: bool = False, out: TextIO | None = None, err: TextIO | None = None) -> None:
        self.verbose = verbose
        self.quiet = quiet
        self.secrets: list[str] = []  # secret placeholder values (see redact); never the URL's password
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        self.tty = self.out.isatty() and os.environ.get("TERM") != "dumb"
        self.color = self.tty and "NO_COLOR" not in os.environ
        self._progress_shown = False
        self._last_progress = 0.0
        self.prefix = ""  # with several databases: "[url] " before each line (see for_database)
        self.quiet_summary = False  # with several databases and -q: one summary for all, no "done:" line each
        self._lock: Lock | None = None

    def for_database(self, label: str, lock: Lock, *, quiet_summary: bool = False) -> ConsoleReporter:
        """A reporter for one of several databases run at once: each line starts with ``[label]``, whole lines only."""
        each = ConsoleReporter(verbose=self.verbose, quiet=self.quiet, out=self.out, err=self.err)
        each.secrets = list(self.secrets)
        each.tty = False  # no live progress line: several databases share the terminal
        each.prefix, each.quiet_summary, each._lock = f"[{label}] ", quiet_summary, lock
        return each

    # --- plumbing -----------------------------------------------------------------------------------
    def redact(self, text: str) -> str:
        """``text`` with URL passwords and ``password=`` values hidden (structurally: see config.redact_text).

        Values of secret placeholders (``secrets``) are replaced wherever they appear: they have no structure
        to find them by when a server echoes them in a message.
        """
        text = redact_text(text)
        for secret in self.secrets:
            text = text.replace(secret, "***")
        return text

    def _paint(self, text: str, code: str) -> str:
        return f"\033[{code}m{text}\033[0m" if self.color else text

    def _clear_progress(self) -> None:
        if self._progress_shown:
            self.out.write("\r\033[K")
            self._progress_shown = False

    def _write(self, stream: TextIO, text: str, head: str = "") -> None:
        self._clear_progress()
        if not self.prefix:
            print(head + self.redact(text), file=stream, flush=True)
            return
        assert self._lock is not None
        with self._lock:  # whole lines, never two databases' halves on one line
            for line in self.redact(text).splitlines() or [""]:
                print(self.prefix + head + line, file=stream, flush=True)

    def line(self, text: str) -> None:
        """A normal line on stdout (hidden by -q)."""
        if not self.quiet:
            self._write(self.out, text)

    def always(self, text: str) -> None:
        """A line on stdout that -q keeps (the summary)."""
        if not self.quiet_summary:
            self._write(self.out, text)

    def error(self, text: str) -> None:
        """An error on stderr."""
        self._write(self.err, text, self._paint("error: ", "1;31"))

    # --- Reporter -------------------------------------------------------------------------------------
    def info(self, message: str) -> None:
        self.line(message)

    def warning(self, message: str) -> None:
        # Kept under -q and --json: a warning (an ignored file, a script out of order) is what -q users need to see.
        self._write(self.err, message, self._paint("warning: ", "33"))

    def script_started(self, script, count: int) -> None:  # type: ignore[no-untyped-def]
        pass  # the progress line and the "applied" line say it; the base class's debug log would import logging

    def planned(self, script, count: int, no_transaction: bool) -> None:  # type: ignore[no-untyped-def]
        extra = ", no transaction" if no_transaction else ""
        self.line(f"{self._paint('would apply', '36')} {script.file}: {_n(count, 'statement')}{extra}")

    def progress(self, script, done: int, total: int, elapsed: float) -> None:  # type: ignore[no-untyped-def]
        if not self.tty or self.quiet or elapsed < 1.0:
            return
        now = time.monotonic()
        if now - self._last_progress < 0.2:
            return
        self._last_progress = now
        self.out.write(f"\r\033[K  {script.file}: {done}{f'/{total}' if total else ''} statements, {elapsed:.0f}s")
        self.out.flush()
        self._progress_shown = True

    def statement(self, script, statement) -> None:  # type: ignore[no-untyped-def]
        if self.verbose:
            self.line(f"  {script.file}:{statement.line}: {statement.text.strip().splitlines()[0] if statement.text.strip() else ''}")

    def tolerated(self, script, statement, reason: str) -> None:  # type: ignore[no-untyped-def]
        self.warning(f"{script.path}:{statement.line}: tolerated (already in place): {reason}")

    def absorbed(self, script, statement) -> None:  # type: ignore[no-untyped-def]
        if self.verbose:
            self.line(f"  {script.file}:{statement.line}: not sent, the script already runs in one transaction: {statement.text}")

    def script_done(self, result: ScriptResult) -> None:
        tolerated = f", {result.tolerated} tolerated" if result.tolerated else ""
        self.line(f"{self._paint('applied', '32')} {result.file}: {_n(result.statements, 'statement')}{tolerated}, {_ms(result.duration_ms)}")


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _ms(ms: int) -> str:
    return f"{ms} ms" if ms < 10_000 else f"{ms / 1000:.1f} s"


# --- commands ------------------------------------------------------------------------------------------


# A container's start runs ``init_db.py`` with no arguments (or -q, -v): that argv is parsed here, without
# importing argparse and building its parser, a tenth of the no-op run's own cost (docs/benchmarks.md).
# TRIVIAL_APPLY is what argparse makes of ``apply`` with every option left out; tests/test_arguments.py
# checks it against argparse for every such argv, so an option added to apply fails there until added here.
TRIVIAL_FLAGS = {"apply": ("command", "apply"), "-q": ("quiet", True), "--quiet": ("quiet", True), "-v": ("verbose", True), "--verbose": ("verbose", True)}
TRIVIAL_APPLY = {
    "database_url": None, "databases_from": None, "jobs": None, "fail_fast": False, "dir": None, "env_file": None,
    "wait": None, "no_create_database": False, "lock_timeout": None, "lock_wait": None, "lock": None, "strict": False, "vars": None,
    "verbose": False, "quiet": False, "command": "apply", "dry_run": False, "target": None, "reapply_changed": False,
    "json": False, "dump": None,
}
# ns.sources' keys: the settings file's name of each option (settings.RENAMED), None for what is no setting.
TRIVIAL_KEYS = {"dir": "directory", "no_create_database": "create_database", "database_url": None, "env_file": None, "vars": None, "command": None}


def parse(argv: Sequence[str], settings: Settings) -> argparse.Namespace:
    """The parsed command line: argparse's (arguments.parse_args), or the trivial argv's, with no settings file."""
    if settings.path is not None or not set(argv) <= TRIVIAL_FLAGS.keys() or list(argv).count("apply") > 1:
        from .arguments import parse_args

        return parse_args(argv, settings)
    from types import SimpleNamespace

    values = dict(TRIVIAL_APPLY)
    values.update(TRIVIAL_FLAGS[arg] for arg in argv)
    given = {TRIVIAL_FLAGS[arg][0] for arg in argv}
    keys = {TRIVIAL_KEYS.get(dest, dest): dest for dest in TRIVIAL_APPLY}
    values["sources"] = {key: "command line" if keys[key] in given else "default" for key in sorted(k for k in keys if k)}
    return SimpleNamespace(**values)  # type: ignore[return-value]  # read by attribute only, like a Namespace


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    from .settings import database_url, find, load, placeholders

    try:
        settings = load(find())
        ns = parse(sys.argv[1:] if argv is None else argv, settings)
        configured = database_url(settings)
    except SqlrunError as exc:  # a bad settings file: no reporter exists yet, and no secret can be in this text
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    # stdout carries the JSON, or the schema of a dump without --output: nothing else may be printed there.
    to_stdout = bool(getattr(ns, "json", False)) or (ns.command == "dump" and not ns.output)
    reporter = ConsoleReporter(verbose=bool(ns.verbose), quiet=bool(ns.quiet) or to_stdout)
    try:
        load_env_file(ns.env_file)
        ns.placeholders = placeholders(settings, ns.vars, os.environ)
        if ns.placeholders:  # a secret value may come back in a server's message: never print it
            reporter.secrets += [ns.placeholders.values[name] for name in ns.placeholders.secret if name in ns.placeholders.values]
        if ns.command == "new":
            return _new(ns, reporter)
        if ns.databases_from or len(ns.database_url or ()) > 1:  # several databases (cli_fanout imports threads)
            if ns.command == "dump" or getattr(ns, "dump", None):
                raise ConfigError("dump writes one database's schema: give one --database-url")
            from .cli_fanout import fan_out

            return fan_out(ns, reporter, run_one)
        given = ns.database_url[0] if ns.database_url else None
        url, source = resolve_url(given, configured=(configured, settings.label) if configured else None)
        reporter.line(f"database: {url.redacted()} (from {source})")
        if ns.verbose:
            _show_sources(ns, reporter)
        return _run(ns, url, reporter)
    except SqlrunError as exc:
        reporter.error(str(exc))
        if getattr(ns, "json", False):  # stdout stays valid JSON for scripts that parse it (docs/json.md)
            print_json({"error": {"type": type(exc).__name__, "message": reporter.redact(str(exc)), "exit_code": exc.exit_code}})
        if ns.verbose:
            _traceback(reporter)
        return exc.exit_code
    except KeyboardInterrupt:
        reporter.error("interrupted")
        return 130
    except Exception as exc:  # a driver or OS error nobody translated: still one clear line, no traceback
        reporter.error(f"unexpected {type(exc).__name__}: {exc} (run with -v for the traceback)")
        if ns.verbose:
            _traceback(reporter)
        return 1


def _show_sources(ns: argparse.Namespace, reporter: ConsoleReporter) -> None:
    """-v: each setting's effective value and where it came from (command line, settings file, default)."""
    from .settings import RENAMED

    shown = []
    for key, source in ns.sources.items():
        dest, inverted = RENAMED.get(key, (key, False))
        value = getattr(ns, dest, None)
        shown.append(f"{key}={(not value) if inverted else value} ({source})")
    reporter.line("settings: " + ", ".join(shown))


def _traceback(reporter: ConsoleReporter) -> None:
    import traceback

    print(reporter.redact(traceback.format_exc()), file=reporter.err)


def _run(ns: argparse.Namespace, url: DatabaseURL, reporter: ConsoleReporter) -> int:
    code, data, _ = run_one(ns, url, reporter)
    if data is not None:
        print_json(data)
    return code


def run_one(ns: argparse.Namespace, url: DatabaseURL, reporter: ConsoleReporter) -> tuple[int, dict[str, object] | None, Result | None]:
    """Run the command on one database: its exit code, (with --json) the object to print, and apply's Result."""
    from . import runner

    options = options_from(ns)
    if ns.command == "status":
        rows = runner.status(url, options, reporter)
        code = 3 if ns.exit_code and any(r.state != "applied" for r in rows) else 0
        if ns.json:
            return code, {"database": url.redacted(), "scripts": [_status_json(r) for r in rows]}, None
        _print_status(rows, reporter)
        return code, None, None
    if ns.command == "verify":
        rows = runner.status(url, options, reporter)
        # An outdated repeatable script is what repeatable scripts are for; a deleted one is a choice.
        bad = [r for r in rows if r.state in (("failed",) if r.repeatable else ("changed", "missing", "failed"))]
        for r in bad:
            reporter.error(f"{r.file}: {_state_words(r)}")
        pending = sum(r.state in ("pending", "new", "outdated") for r in rows)
        reporter.always(f"verify: {len(bad)} problem(s), {pending} pending, {len(rows) - len(bad) - pending} applied")
        drifted = getattr(ns, "schema", False) and _verify_schema(url, options, reporter)
        return (3 if bad or drifted else 0), None, None
    if ns.command == "repair":
        fixed = runner.repair(url, options, reporter)
        reporter.always(f"repair: {len(fixed)} checksum(s) updated")
        return 0, None, None
    if ns.command == "check":
        return _check(ns, url, options, reporter)
    if ns.command == "diff":
        return _diff(ns, url, options, reporter)
    if ns.command == "baseline":
        recorded = runner.baseline(url, ns.baseline_version, options, reporter)
        reporter.always(f"baseline: {len(recorded)} script(s) recorded as applied up to version {ns.baseline_version}")
        return 0, None, None
    if ns.command == "dump":
        return _dump(ns, url, options, reporter)
    if ns.command != "apply":  # a command added to arguments.py but not here must never fall through to apply
        raise ConfigError(f"{ns.command}: not a command run_one knows")
    started = time.monotonic()
    result = runner.apply(url, options, reporter)
    if ns.dump and result.applied and not result.dry_run:  # a no-op run leaves the file as it is
        _write_dump(ns.dump, url, options, reporter)
    if ns.json:
        return 0, _result_json(result), result
    _summary(result, reporter, time.monotonic() - started)
    return 0, None, result


def _summary(result: Result, reporter: ConsoleReporter, elapsed: float) -> None:
    if result.dry_run:
        reporter.always(f"dry run: {len(result.scripts)} script(s) would be applied; nothing was changed")
    elif result.scripts:
        statements = sum(s.statements for s in result.scripts)
        tolerated = sum(s.tolerated for s in result.scripts)
        reporter.always(f"{reporter._paint('done:', '1;32')} {result.applied} script(s) applied, {statements} statements, {tolerated} tolerated, {elapsed:.2f} s")
    elif reporter.quiet:
        reporter.always("done: nothing to do")


def _print_status(rows: Sequence[ScriptStatus], reporter: ConsoleReporter) -> None:
    width = max([len(r.file) for r in rows] + [4])
    reporter.always(f"{'version':>14}  {'file':<{width}}  {'state':<8}  applied_at")
    for r in rows:
        version = "R" if r.repeatable else r.version
        reporter.always(f"{version:>14}  {r.file:<{width}}  {_state_words(r):<8}  {r.applied_at or '-'}")
    if not rows:
        reporter.always("(no scripts)")


def _state_words(r: ScriptStatus) -> str:
    """A state as said to a person: a missing script says whether it had applied or failed."""
    if r.state == "missing" and r.recorded_state:
        return f"missing (recorded as {r.recorded_state}, file gone)"
    return r.state


def _status_json(r: ScriptStatus) -> dict[str, object]:
    return {
        "version": r.version,
        "name": r.name,
        "file": r.file,
        "state": r.state,
        "applied_at": r.applied_at,
        "checksum": r.checksum,
        "recorded_checksum": r.recorded_checksum,
        "repeatable": r.repeatable,
    }


def _result_json(result: Result) -> dict[str, object]:
    return {
        "database": result.database,
        "dry_run": result.dry_run,
        "applied": result.applied,
        "scripts": [
            {
                "version": s.version, "name": s.name, "file": s.file, "state": s.state, "statements": s.statements,
                "tolerated": s.tolerated, "duration_ms": s.duration_ms, "repeatable": s.repeatable,
            }
            for s in result.scripts
        ],
        "warnings": list(result.warnings),
    }


def _check(ns: argparse.Namespace, url: DatabaseURL, options: Options, reporter: ConsoleReporter) -> tuple[int, dict[str, object] | None, None]:
    """Exit 0 when the scripts converge, 3 when a second run changes something or fails."""
    from .converge import check

    result = check(url, options, reporter)
    if ns.json:
        return (0 if result.converges else 3), _check_json(result), None
    reporter.line(f"check: on {result.database}: {result.scripts} script(s) applied, then run again from the top: "
                  f"{result.statements} statement(s), {result.tolerated} tolerated")
    for f in result.findings:
        reporter.always(f"{f.location}: {f.problem}: {f.statement}")
        for change in f.changes:
            reporter.always(f"  {change}")
    if result.converges:
        reporter.always(f"{reporter._paint('check:', '1;32')} converges: running every script again changes nothing")
        return 0, None, None
    if not result.findings:
        reporter.always("  the second run as a whole: " + "; ".join(result.differences))
    reporter.always(f"{reporter._paint('check:', '1;31')} does not converge: {len(result.findings)} statement(s) change the database or fail when run again")
    return 3, None, None


def _check_json(result: CheckResult) -> dict[str, object]:
    return {
        "database": result.database,
        "converges": result.converges,
        "scripts": result.scripts,
        "statements": result.statements,
        "tolerated": result.tolerated,
        "findings": [
            {"file": f.file, "line": f.line, "statement": f.statement, "problem": f.problem, "changes": list(f.changes)}
            for f in result.findings
        ],
        "differences": list(result.differences),
    }


def _dump(ns: argparse.Namespace, url: DatabaseURL, options: Options, reporter: ConsoleReporter) -> tuple[int, None, None]:
    """The schema on stdout, or (--output) into a file."""
    if ns.output:
        _write_dump(ns.output, url, options, reporter)
        return 0, None, None
    from .dumpfile import dump

    reporter.out.write(dump(url, options, reporter))
    reporter.out.flush()
    return 0, None, None


def _write_dump(path: str, url: DatabaseURL, options: Options, reporter: ConsoleReporter) -> None:
    from .dumpfile import dump, write

    write(path, dump(url, options, reporter))
    reporter.line(f"dump: schema written to {path}")


def _drift(url: DatabaseURL, options: Options, reporter: ConsoleReporter, against: str | None = None) -> DriftResult:
    from .drift import diff

    from pathlib import Path

    return diff(url, options, reporter, against=Path(against) if against else None)


def _diff(ns: argparse.Namespace, url: DatabaseURL, options: Options, reporter: ConsoleReporter) -> tuple[int, dict[str, object] | None, None]:
    """Exit 0 when the database has the schema the scripts (or --against FILE) build, 3 when it drifted."""
    from .errors import DriftError

    result = _drift(url, options, reporter, ns.against)
    code = DriftError.exit_code if result.drifted else 0
    _warn_not_applied(result, reporter)
    if ns.json:
        return code, _drift_json(result), None
    _show_drift(result, reporter)
    return code, None, None


def _verify_schema(url: DatabaseURL, options: Options, reporter: ConsoleReporter) -> bool:
    """verify --schema: the differences, as diff prints them; True when the schema drifted."""
    result = _drift(url, options, reporter)
    _warn_not_applied(result, reporter)
    return _show_drift(result, reporter)


def _warn_not_applied(result: DriftResult, reporter: ConsoleReporter) -> None:
    """Say when scripts the target has not applied may be the cause: the scratch build ran them."""
    if result.drifted and result.not_applied:
        files = ", ".join(result.not_applied)
        reporter.warning(f"{_n(len(result.not_applied), 'script')} not applied on this database ({files}): "
                         "what they make shows as a difference; apply them first, or look at status")


def _show_drift(result: DriftResult, reporter: ConsoleReporter) -> bool:
    """Print each difference (both definitions of a changed object) and a summary line; True when drifted."""
    for d in result.differences:
        for line in d.lines():
            reporter.always(line)
    if result.drifted:
        reporter.always(f"{reporter._paint('diff:', '1;31')} {len(result.differences)} difference(s) between the database and {result.source}")
    else:
        reporter.always(f"{reporter._paint('diff:', '1;32')} no drift: the database's schema matches {result.source}")
    return result.drifted


def _drift_json(result: DriftResult) -> dict[str, object]:
    return {
        "database": result.database,
        "against": result.against,
        "drifted": result.drifted,
        "differences": [
            {"change": d.change, "kind": d.kind, "table": d.table, "name": d.name, "expected": d.expected, "actual": d.actual}
            for d in result.differences
        ],
        "not_applied": list(result.not_applied),
    }


def print_json(data: object) -> None:
    """``data`` as indented JSON on stdout."""
    import json

    print(json.dumps(data, indent=2, ensure_ascii=False))


def _new(ns: argparse.Namespace, reporter: ConsoleReporter) -> int:
    from .scripts import new_script

    from pathlib import Path

    path = new_script(Path(ns.dir or DEFAULT_DIRECTORY), ns.name, repeatable=ns.repeatable)
    reporter.always(f"created {path}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
