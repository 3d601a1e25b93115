"""The command line's arguments: argparse, every option and its help.

cli.py prints and dispatches; this module turns an argv into a Namespace (cli.parse takes the trivial argv of
a container's start without it, and model.options_from makes the Options).
"""

from __future__ import annotations

import argparse
import os
import sys

from . import __version__
from .model import DEFAULT_DIRECTORY, DEFAULT_LOCK_TIMEOUT, DEFAULT_LOCK_WAIT, LOCK_MODES

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing, which costs a cold start ~3 ms

if TYPE_CHECKING:
    from typing import Sequence

    from .settings import Settings

COMMANDS = ("apply", "status", "verify", "repair", "baseline", "new", "check", "dump", "diff")
EXIT_CODES = """exit codes:
  0  done (or nothing to do)
  1  a statement failed (file:line and the database's message are printed)
  2  usage or configuration error, or a script that cannot be read or split
  3  applied scripts were changed or are missing (see repair, --reapply-changed); check: the scripts do not converge;
     diff, verify --schema: the database's schema has drifted from the scripts
  4  cannot connect to the database (or --wait ran out)
  5  another runner held the migration lock longer than --lock-timeout, or the lock was lost
  6  the database is a read-only replica (apply, repair, baseline): point at the primary
  130  interrupted (Ctrl-C); the message says what was applied and what state was left"""


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
    g.add_argument(
        "--database-url", metavar="URL", action=_Repeated,
        help="database URL (default: DATABASE_URL, MYSQL_*, PG* or sqlite:///data/app.db); repeat it to run on several",
    )
    g.add_argument("--databases-from", metavar="FILE", help="run on every database URL in FILE (one a line, # comments)")
    g.add_argument("--jobs", metavar="N", type=int, help="with several databases: how many at once (default: min(4, count))")
    g.add_argument("--fail-fast", action="store_true", help="with several databases: start no more after the first failure")
    g.add_argument("--dir", metavar="DIR", help=f"folder of numbered .sql scripts (default: {DEFAULT_DIRECTORY})")
    g.add_argument("--env-file", metavar="FILE", help="read variables from FILE instead of ./.env (the real environment wins)")
    g.add_argument("--wait", metavar="SECONDS", type=float, help="retry connecting for up to SECONDS while the database starts (exit 4 after)")
    g.add_argument("--no-create-database", action="store_true", help="fail instead of creating a missing database")
    g.add_argument("--lock-timeout", metavar="SECONDS", type=float, help=f"how long to wait for another runner's lock (default {DEFAULT_LOCK_TIMEOUT:.0f}; exit 5 after)")
    g.add_argument(
        "--lock", choices=LOCK_MODES, metavar="MODE",
        help="the migration lock: auto (default: chosen for the server, said in one line), session, transaction, "
        "table (a lease row in sqlrun_lock: Galera, poolers), none (you serialise runs yourself)",
    )
    g.add_argument(
        "--lock-wait", metavar="SECONDS", type=float,
        help=f"how long a script statement may wait for another session's table or row lock, 0 for no limit (default {DEFAULT_LOCK_WAIT:.0f}; 3 retries, then exit 1)",
    )
    g.add_argument("--strict", action="store_true", help="treat missing and out-of-order scripts as errors")
    g.add_argument("--var", dest="vars", metavar="NAME=VALUE", action="append", help="replace ${NAME} in scripts by VALUE (turns placeholders on; repeatable)")
    o = common.add_argument_group("output")
    o.add_argument("-v", "--verbose", action="store_true", help="show every statement, and tracebacks on errors")
    o.add_argument("-q", "--quiet", action="store_true", help="show only errors, warnings and the summary")
    return common


class _Repeated(argparse.Action):
    """Collects every value of a repeatable option into a list (a default that is not a list counts as none yet)."""

    def __call__(self, parser: argparse.ArgumentParser, ns: argparse.Namespace, values: object, option_string: str | None = None) -> None:
        current = getattr(ns, self.dest, None)
        setattr(ns, self.dest, [*(current if isinstance(current, list) else []), values])


def _apply_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--dry-run", action="store_true", help="connect and show what would run; change nothing")
    p.add_argument("--target", metavar="VERSION", type=int, help="apply up to and including VERSION")
    p.add_argument("--reapply-changed", action="store_true", help="re-run edited applied scripts tolerantly and record their new checksums")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.add_argument("--dump", metavar="FILE", help="after an apply that applied something, rewrite FILE with the schema (see the dump command)")


def _dump_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--output", metavar="FILE", help="write the schema to FILE (replaced whole) instead of stdout")


def _status_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="print the table as JSON")
    p.add_argument("--exit-code", action="store_true", help="exit 3 while anything is pending, changed, failed or missing")


def _baseline_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--version", dest="baseline_version", metavar="VERSION", type=int, required=True, help="the last version already in place")


def _check_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="print the findings as JSON")


def _verify_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--schema", action="store_true", help="also compare the schema with the one the scripts build, as diff does (exit 3 when drifted)")


def _diff_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--against", metavar="FILE", help="compare with the schema FILE builds (a dump, any script the client accepts) instead of the scripts")
    p.add_argument("--json", action="store_true", help="print the differences as JSON")


def _new_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("name", help="what the script does, e.g. add_user_email")
    p.add_argument("--repeatable", action="store_true", help="create R__NAME.sql, applied again whenever it changes (views, functions)")


# command: (help in the command list, description, adds the command's own options)
SUBCOMMANDS = {
    "apply": ("apply pending scripts (the default command)", "Apply every pending script in version order, under a lock.", _apply_options),
    "status": ("show each script's state", "Show each script's state: applied, pending, changed, failed or missing.", _status_options),
    "verify": ("check without applying: exit 3 when anything is changed, missing or failed", "Check applied scripts against the files without applying anything.", _verify_options),
    "repair": ("accept the current checksums of edited applied scripts", "Record the current checksum of every changed script, keeping the previous one.", None),
    "baseline": ("record scripts up to a version as applied without running them", "Record scripts up to VERSION as applied without running them, for a database built some other way.", _baseline_options),
    "check": (
        "prove the scripts converge: a second run from the top changes nothing (exit 3 when not)",
        "On a scratch database beside the target (a temporary SQLite file, or a temporary database on the same server, "
        "dropped afterwards), apply every script, run them all again as on a legacy database, and report every statement "
        "that changed the schema or the data the second time, or failed, with file:line.",
        _check_options,
    ),
    "dump": (
        "print the schema as SQL (tables, indexes, views, routines, triggers; sqlrun's tables left out)",
        "Write the target database's schema as SQL that the same database accepts, read from its catalogs "
        "(no pg_dump or mysqldump needed). The same schema always gives the same bytes: no timestamps, no "
        "AUTO_INCREMENT counters, objects ordered by kind and name.",
        _dump_options,
    ),
    "diff": (
        "show how the database's schema drifted from the scripts (exit 3 when it did)",
        "Build the schema the scripts make (or, with --against, a schema file) on a scratch database beside the target, "
        "dropped afterwards, and list every object the target has in addition (added), lacks (removed) or defines "
        "otherwise (changed, with both definitions). Names the server made up for unnamed keys do not count.",
        _diff_options,
    ),
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


def parse_args(argv: Sequence[str], settings: Settings | None = None) -> argparse.Namespace:
    """Parse ``argv``; without a command, ``apply`` is meant. ``settings`` fill what the command line leaves
    out; ``ns.sources`` then says where each setting came from (command line, the file, default)."""
    args = list(argv)
    command = _command_of(args)
    if command is None and not HELP_FLAGS & set(args):
        command = "apply"
        args.insert(0, command)
    parser = build_parser(command)
    if settings is None:
        return parser.parse_args(args)
    actions = _actions(parser)
    # A sentinel default tells an option the command line gave from one it left out, even when the
    # value given equals the built-in default (--wait 0 must beat a file's wait = 60).
    # (A subcommand's copy of a common option defaults to SUPPRESS, so that a value given before the
    # command's name survives: it is left alone.)
    defaults = {a.dest: a.default for a in actions if a.default is not argparse.SUPPRESS}
    for action in actions:
        if action.default is not argparse.SUPPRESS:
            action.default = _UNSET
    ns = parser.parse_args(args)
    given = {dest for dest in defaults if getattr(ns, dest, None) is not _UNSET}
    for dest, default in defaults.items():
        if getattr(ns, dest, None) is _UNSET:
            setattr(ns, dest, default)
    from .settings import merge

    # Building every command's parser costs ~10 ms: only when there are settings to check against it.
    every = _actions(build_parser()) if settings.values else actions
    ns.sources = merge(ns, actions, given, settings, every)
    return ns


_UNSET = object()


def _actions(parser: argparse.ArgumentParser) -> list[argparse.Action]:
    """Every action of ``parser`` and of its subcommands' parsers."""
    found: list[argparse.Action] = []
    for action in parser._actions:
        found.append(action)
        for sub in getattr(action, "choices", None) or {}:
            if isinstance(action.choices, dict):
                found += _actions(action.choices[sub])
    return found


HELP_FLAGS = {"-h", "--help", "--version"}


def _command_of(args: Sequence[str]) -> str | None:
    """The command named in ``args``; None when there is none, or when top-level help comes first."""
    for arg in args:
        if arg in COMMANDS:
            return arg
        if arg in HELP_FLAGS:
            return None
    return None
