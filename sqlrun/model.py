"""The values the API takes and returns: run options, script states and results (no behaviour, no I/O)."""

from __future__ import annotations

import math

from .errors import ConfigError
from .values import value

TYPE_CHECKING = False

if TYPE_CHECKING:
    import argparse
    import os

    from .placeholders import Placeholders

DEFAULT_DIRECTORY = "data/migrations"
DEFAULT_LOCK_TIMEOUT = 3600.0  # an hour: other runners may be busy with a slow migration
# --lock: "auto" lets the database choose (see README, "Clusters, poolers and replicas"); "session" is an
# advisory lock on a connection of its own, "transaction" one per script's transaction, "table" a lease row
# in sqlrun_lock, "none" no lock at all (the user serialises runs).
LOCK_MODES = ("auto", "session", "transaction", "table", "none")
# How long one script statement may wait for another session's lock. While it waits, every query on the
# table queues behind it (its exclusive lock request comes first), so this is also how long sqlrun may hold
# the application up: short enough for a request to survive it, long enough for ordinary transactions to end.
DEFAULT_LOCK_WAIT = 10.0


@value
class Options:
    """How a run behaves; every field has the command line's default."""

    # As given: a str from the command line (pathlib is not imported on a start), a Path from sqlrun.apply.
    directory: str | os.PathLike[str] = DEFAULT_DIRECTORY
    target: int | None = None
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT
    lock_wait: float = DEFAULT_LOCK_WAIT  # 0: no limit
    wait: float = 0.0
    create_database: bool = True
    dry_run: bool = False
    strict: bool = False
    reapply_changed: bool = False
    placeholders: Placeholders | None = None  # None: ${name} is sent as written
    lock: str = "auto"  # one of LOCK_MODES

    def __post_init__(self) -> None:
        # --wait nan retried forever and --lock-timeout -1 was "held ... for -1s": refuse such values up front.
        for name in SECONDS_OPTIONS:
            value = getattr(self, name, None)  # None: an option left at its dialect's default
            if value is not None:
                check_seconds(name, value)
        if self.target is not None and self.target < 0:
            raise ConfigError(f"--target {self.target}: a version is a number of 0 or more")


def options_from(ns: argparse.Namespace) -> Options:
    """The run's Options from parsed command-line arguments (cli.parse's or argparse's; defaults filled in)."""
    return Options(
        directory=ns.dir or DEFAULT_DIRECTORY,
        target=getattr(ns, "target", None),
        lock_timeout=DEFAULT_LOCK_TIMEOUT if ns.lock_timeout is None else ns.lock_timeout,
        lock_wait=DEFAULT_LOCK_WAIT if getattr(ns, "lock_wait", None) is None else ns.lock_wait,
        wait=ns.wait or 0.0,
        create_database=not ns.no_create_database,
        dry_run=bool(getattr(ns, "dry_run", False)),
        strict=bool(ns.strict),
        reapply_changed=bool(getattr(ns, "reapply_changed", False)),
        placeholders=getattr(ns, "placeholders", None),
        lock=getattr(ns, "lock", None) or "auto",
    )


# The options that are durations in seconds, by field name; each must be a finite number >= 0.
# lock_wait: --lock-wait, how long one script statement may wait for another session's lock (0: no limit).
SECONDS_OPTIONS = ("wait", "lock_timeout", "lock_wait")


def check_seconds(name: str, value: object) -> None:
    """Refuse a duration that is not a finite number of 0 or more seconds (ConfigError: exit 2)."""
    flag = "--" + name.replace("_", "-")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"{flag} {value!r}: give a number of seconds")
    if not math.isfinite(value) or value < 0:
        raise ConfigError(f"{flag} {value:g}: give a finite number of seconds, 0 or more")


@value
class ScriptStatus:
    """A script's state: applied, pending, changed, failed or missing (recorded but not on disk).

    Repeatable scripts (``repeatable``) are new, applied, outdated, failed or missing; ``version`` is then the
    number their row is keyed by, derived from the name."""

    version: int
    name: str
    file: str
    state: str
    applied_at: str | None = None
    checksum: str | None = None  # of the file on disk
    recorded_checksum: str | None = None  # in the history
    recorded_state: str | None = None  # the history row's state ("applied" or "failed"), None when there is none
    #: an R__name.sql script: its state is new, applied, outdated (changed since), failed or missing
    repeatable: bool = False


@value
class ScriptResult:
    """What applying one script did."""

    version: int
    name: str
    file: str
    statements: int
    tolerated: int
    duration_ms: int
    state: str  # "applied", "failed" or "planned" (dry run)
    repeatable: bool = False  # an R__name.sql script (version is then the number derived from its name)


@value
class Result:
    """The outcome of ``apply``: the scripts it ran (or would run, in a dry run), in order."""

    database: str
    scripts: tuple[ScriptResult, ...] = ()
    dry_run: bool = False
    warnings: tuple[str, ...] = ()

    @property
    def applied(self) -> int:
        """How many scripts were applied."""
        return sum(1 for s in self.scripts if s.state == "applied")
