"""The command line: argparse, terminal output and exit codes. No SQL here; the runner does the work."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from . import __version__
from .config import DatabaseURL, load_env_file, resolve_url
from .errors import SqlrunError
from .report import Reporter
from .model import DEFAULT_DIRECTORY, DEFAULT_LOCK_TIMEOUT, Options, Result, ScriptResult, ScriptStatus

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing, which costs a cold start ~3 ms

if TYPE_CHECKING:
    from typing import Sequence, TextIO

COMMANDS = ("apply", "status", "verify", "repair", "baseline", "new")
EXIT_CODES = """exit codes:
  0  done (or nothing to do)
  1  a statement failed (file:line and the database's message are printed)
  2  usage or configuration error, or a script that cannot be read or split
  3  applied scripts were changed or are missing (see repair, --reapply-changed)
  4  cannot connect to the database (or --wait ran out)
  5  another runner held the migration lock longer than --lock-timeout"""


class ConsoleReporter(Reporter):
    """Prints a run's events: plain lines for logs, a live progress line and color on a terminal."""

    def __init__(self, *, verbose: bool = False, quiet: bool = False, out: TextIO | None = None, err: TextIO | None = None, secrets: Sequence[str] = ()) -> None:
        self.verbose = verbose
        self.quiet = quiet
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        self.secrets = [s for s in secrets if s]
        self.tty = self.out.isatty() and os.environ.get("TERM") != "dumb"
        self.color = self.tty and "NO_COLOR" not in os.environ
        self._progress_shown = False
        self._last_progress = 0.0

    # --- plumbing -----------------------------------------------------------------------------------
    def redact(self, text: str) -> str:
        """Hide every known secret in ``text``."""
        for secret in self.secrets:
            text = text.replace(secret, "***")
        return text

    def _paint(self, text: str, code: str) -> str:
        return f"\033[{code}m{text}\033[0m" if self.color else text

    def _clear_progress(self) -> None:
        if self._progress_shown:
            self.out.write("\r\033[K")
            self._progress_shown = False

    def line(self, text: str) -> None:
        """A normal line on stdout (hidden by -q)."""
        if not self.quiet:
            self._clear_progress()
            print(self.redact(text), file=self.out, flush=True)

    def always(self, text: str) -> None:
        """A line on stdout that -q keeps (the summary)."""
        self._clear_progress()
        print(self.redact(text), file=self.out, flush=True)

    def error(self, text: str) -> None:
        """An error on stderr."""
        self._clear_progress()
        print(self._paint("error: ", "1;31") + self.redact(text), file=self.err, flush=True)

    # --- Reporter -------------------------------------------------------------------------------------
    def info(self, message: str) -> None:
        self.line(message)

    def warning(self, message: str) -> None:
        if not self.quiet:
            self._clear_progress()
            print(self._paint("warning: ", "33") + self.redact(message), file=self.err, flush=True)

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


# --- argument parsing ----------------------------------------------------------------------------------


class _Formatter(argparse.RawDescriptionHelpFormatter):
    """argparse's formatter, sized without importing shutil.

    argparse builds a formatter for every add_argument() call, and the stock one imports shutil (with
    bz2, lzma and zlib: ~7 ms of every start) just to ask the terminal's width.
    """

    def __init__(self, prog: str, indent_increment: int = 2, max_help_position: int = 24, width: int | None = None) -> None:
        super().__init__(prog, indent_increment, max_help_position, _terminal_width() - 2 if width is None else width)


def _terminal_width() -> int:
    """$COLUMNS, else the terminal's width, else 80 (what shutil.get_terminal_size() answers)."""
    try:
        return int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        pass
    try:
        return os.get_terminal_size(sys.__stdout__.fileno()).columns
    except (AttributeError, ValueError, OSError):
        return 80


def _common(*, inherit: bool) -> argparse.ArgumentParser:
    """The options every command takes; ``inherit`` makes a subcommand keep values given before its name."""
    common = argparse.ArgumentParser(
        add_help=False, argument_default=argparse.SUPPRESS if inherit else None, formatter_class=_Formatter
    )
    g = common.add_argument_group("connection and scripts")
    g.add_argument("--database-url", metavar="URL", help="database URL (default: DATABASE_URL, MYSQL_*, PG* or sqlite:///data/app.db)")
    g.add_argument("--dir", metavar="DIR", help=f"folder of numbered .sql scripts (default: {DEFAULT_DIRECTORY})")
    g.add_argument("--env-file", metavar="FILE", help="read variables from FILE instead of ./.env (the real environment wins)")
    g.add_argument("--wait", metavar="SECONDS", type=float, help="retry connecting for up to SECONDS while the database starts (exit 4 after)")
    g.add_argument("--no-create-database", action="store_true", help="fail instead of creating a missing database")
    g.add_argument("--lock-timeout", metavar="SECONDS", type=float, help=f"how long to wait for another runner's lock (default {DEFAULT_LOCK_TIMEOUT:.0f}; exit 5 after)")
    g.add_argument("--strict", action="store_true", help="treat missing and out-of-order scripts as errors")
    o = common.add_argument_group("output")
    o.add_argument("-v", "--verbose", action="store_true", help="show every statement, and tracebacks on errors")
    o.add_argument("-q", "--quiet", action="store_true", help="show only errors and the summary")
    return common


def _apply_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--dry-run", action="store_true", help="connect and show what would run; change nothing")
    p.add_argument("--target", metavar="VERSION", type=int, help="apply up to and including VERSION")
    p.add_argument("--reapply-changed", action="store_true", help="re-run edited applied scripts tolerantly and record their new checksums")
    p.add_argument("--json", action="store_true", help="print the result as JSON")


def _status_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="print the table as JSON")
    p.add_argument("--exit-code", action="store_true", help="exit 3 while anything is pending, changed, failed or missing")


def _baseline_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--version", dest="baseline_version", metavar="VERSION", type=int, required=True, help="the last version already in place")


def _new_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("name", help="what the script does, e.g. add_user_email")


# command: (help in the command list, description, adds the command's own options)
SUBCOMMANDS = {
    "apply": ("apply pending scripts (the default command)", "Apply every pending script in version order, under a lock.", _apply_options),
    "status": ("show each script's state", "Show each script's state: applied, pending, changed, failed or missing.", _status_options),
    "verify": ("check without applying: exit 3 when anything is changed, missing or failed", "Check applied scripts against the files without applying anything.", None),
    "repair": ("accept the current checksums of edited applied scripts", "Record the current checksum of every changed script, keeping the previous one.", None),
    "baseline": ("record scripts up to a version as applied without running them", "Record scripts up to VERSION as applied without running them, for a database built some other way.", _baseline_options),
    "new": ("create the next numbered script", "Create the next numbered script with a header comment.", _new_options),
}


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The argument parser for every command, or (``only``) for one: building all of them costs a cold start ~10 ms."""
    parser = argparse.ArgumentParser(
        prog="sqlrun",
        description="Apply numbered SQL scripts to SQLite, MySQL/MariaDB or PostgreSQL, each exactly once.",
        epilog=EXIT_CODES,
        formatter_class=_Formatter,
        parents=[_common(inherit=False)],
    )
    common = _common(inherit=True)
    parser.add_argument("--version", action="version", version=f"sqlrun {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (summary, description, add_options) in SUBCOMMANDS.items():
        if only is None or name == only:
            p = sub.add_parser(name, parents=[common], help=summary, description=description, formatter_class=_Formatter)
            if add_options:
                add_options(p)
    return parser


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    """Parse ``argv``; without a command, ``apply`` is meant."""
    args = list(argv)
    command = _command_of(args)
    if command is None and not HELP_FLAGS & set(args):
        command = "apply"
        args.insert(0, command)
    return build_parser(command).parse_args(args)


HELP_FLAGS = {"-h", "--help", "--version"}


def _command_of(args: Sequence[str]) -> str | None:
    """The command named in ``args``; None when there is none, or when top-level help comes first."""
    for arg in args:
        if arg in COMMANDS:
            return arg
        if arg in HELP_FLAGS:
            return None
    return None


def _options(ns: argparse.Namespace) -> Options:
    return Options(
        directory=Path(ns.dir or DEFAULT_DIRECTORY),
        target=getattr(ns, "target", None),
        lock_timeout=DEFAULT_LOCK_TIMEOUT if ns.lock_timeout is None else ns.lock_timeout,
        wait=ns.wait or 0.0,
        create_database=not ns.no_create_database,
        dry_run=bool(getattr(ns, "dry_run", False)),
        strict=bool(ns.strict),
        reapply_changed=bool(getattr(ns, "reapply_changed", False)),
    )


# --- commands ------------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    ns = parse_args(sys.argv[1:] if argv is None else argv)
    secrets = _known_secrets()
    reporter = ConsoleReporter(verbose=bool(ns.verbose), quiet=bool(ns.quiet) or bool(getattr(ns, "json", False)), secrets=secrets)
    try:
        load_env_file(ns.env_file)
        reporter.secrets = _known_secrets()
        if ns.command == "new":
            return _new(ns, reporter)
        url, source = resolve_url(ns.database_url)
        if url.password:
            reporter.secrets.append(url.password)
        reporter.line(f"database: {url.redacted()} (from {source})")
        return _run(ns, url, reporter)
    except SqlrunError as exc:
        reporter.error(str(exc))
        if getattr(ns, "json", False):  # stdout stays valid JSON for scripts that parse it (docs/json.md)
            _print_json({"error": {"type": type(exc).__name__, "message": reporter.redact(str(exc)), "exit_code": exc.exit_code}})
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


def _traceback(reporter: ConsoleReporter) -> None:
    import traceback

    print(reporter.redact(traceback.format_exc()), file=reporter.err)


def _known_secrets() -> list[str]:
    return [os.environ[k] for k in ("MYSQL_PASSWORD", "PGPASSWORD") if os.environ.get(k)]


def _run(ns: argparse.Namespace, url: DatabaseURL, reporter: ConsoleReporter) -> int:
    from . import runner

    options = _options(ns)
    if ns.command == "status":
        rows = runner.status(url, options, reporter)
        _print_status(rows, url, reporter, as_json=ns.json)
        return 3 if ns.exit_code and any(r.state != "applied" for r in rows) else 0
    if ns.command == "verify":
        rows = runner.status(url, options, reporter)
        bad = [r for r in rows if r.state in ("changed", "missing", "failed")]
        for r in bad:
            reporter.error(f"{r.file}: {r.state}")
        pending = sum(r.state == "pending" for r in rows)
        reporter.always(f"verify: {len(bad)} problem(s), {pending} pending, {len(rows) - len(bad) - pending} applied")
        return 3 if bad else 0
    if ns.command == "repair":
        fixed = runner.repair(url, options, reporter)
        reporter.always(f"repair: {len(fixed)} checksum(s) updated")
        return 0
    if ns.command == "baseline":
        recorded = runner.baseline(url, ns.baseline_version, options, reporter)
        reporter.always(f"baseline: {len(recorded)} script(s) recorded as applied up to version {ns.baseline_version}")
        return 0
    started = time.monotonic()
    result = runner.apply(url, options, reporter)
    if ns.json:
        _print_json(_result_json(result))
    else:
        _summary(result, reporter, time.monotonic() - started)
    return 0


def _summary(result: Result, reporter: ConsoleReporter, elapsed: float) -> None:
    if result.dry_run:
        reporter.always(f"dry run: {len(result.scripts)} script(s) would be applied; nothing was changed")
    elif result.scripts:
        statements = sum(s.statements for s in result.scripts)
        tolerated = sum(s.tolerated for s in result.scripts)
        reporter.always(f"{reporter._paint('done:', '1;32')} {result.applied} script(s) applied, {statements} statements, {tolerated} tolerated, {elapsed:.2f} s")
    elif reporter.quiet:
        reporter.always("done: nothing to do")


def _print_status(rows: Sequence[ScriptStatus], url: DatabaseURL, reporter: ConsoleReporter, *, as_json: bool) -> None:
    if as_json:
        _print_json({"database": url.redacted(), "scripts": [_status_json(r) for r in rows]})
        return
    width = max([len(r.file) for r in rows] + [4])
    reporter.always(f"{'version':>14}  {'file':<{width}}  {'state':<8}  applied_at")
    for r in rows:
        reporter.always(f"{r.version:>14}  {r.file:<{width}}  {r.state:<8}  {r.applied_at or '-'}")
    if not rows:
        reporter.always("(no scripts)")


def _status_json(r: ScriptStatus) -> dict[str, object]:
    return {
        "version": r.version,
        "name": r.name,
        "file": r.file,
        "state": r.state,
        "applied_at": r.applied_at,
        "checksum": r.checksum,
        "recorded_checksum": r.recorded_checksum,
    }


def _result_json(result: Result) -> dict[str, object]:
    return {
        "database": result.database,
        "dry_run": result.dry_run,
        "applied": result.applied,
        "scripts": [
            {"version": s.version, "name": s.name, "file": s.file, "state": s.state, "statements": s.statements, "tolerated": s.tolerated, "duration_ms": s.duration_ms}
            for s in result.scripts
        ],
        "warnings": list(result.warnings),
    }


def _print_json(data: object) -> None:
    import json

    print(json.dumps(data, indent=2, ensure_ascii=False))


def _new(ns: argparse.Namespace, reporter: ConsoleReporter) -> int:
    from .scripts import new_script

    path = new_script(Path(ns.dir or DEFAULT_DIRECTORY), ns.name)
    reporter.always(f"created {path}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
