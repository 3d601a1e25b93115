"""``diff``: does the live database still have the schema the scripts build? Object by object.

The scripts (or, with ``--against``, one schema file) run on a scratch database beside the target, as for
``check``, dropped afterwards whatever happens. Both databases are snapshot schema-only (sqlrun.snapshot)
and compared item by item: an object only the live database has was ``added`` (by hand, say), one only the
scripts make was ``removed``, and one both have under the same name but defined otherwise was ``changed``.
Names the server made up for unnamed keys are no part of the comparison: a key dropped and made again under
another made-up name is no drift.
"""

from __future__ import annotations

import os
from collections import Counter, defaultdict
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

from . import converge, snapshot
from .config import DatabaseURL
from .errors import ConfigError, DriftError
from .model import Options
from .report import Reporter

if TYPE_CHECKING:
    from .catalog import Item

ADDED, REMOVED, CHANGED = "added", "removed", "changed"


@dataclass(frozen=True)
class Drift:
    """One object that differs: ``expected`` is its definition as the scripts build it (None when ``added``),
    ``actual`` as the live database has it (None when ``removed``)."""

    change: str
    kind: str
    table: str
    name: str
    expected: str | None
    actual: str | None

    @property
    def subject(self) -> str:
        """``column users.email``, ``view role_names``: what the object is and where."""
        where = f"{self.table}." if self.table and self.kind != "table" else ""
        return f"{self.kind} {where}{self.name}"

    def __str__(self) -> str:
        definition = self.actual if self.change == ADDED else self.expected
        return f"{self.change} {self.subject}" + (f": {definition}" if definition and self.change != CHANGED else "")

    def lines(self) -> tuple[str, ...]:
        """As ``diff`` prints it: one line, and for a changed object both definitions below it."""
        if self.change != CHANGED:
            return (str(self),)
        return (str(self), f"  expected: {self.expected}", f"  actual:   {self.actual}")


@dataclass(frozen=True)
class DriftResult:
    """What ``diff`` found: the live database, what it was compared with, and every difference."""

    database: str
    differences: tuple[Drift, ...]
    against: str | None = None  # the schema file given with --against; None for the scripts
    # Scripts the target has not applied as they are now (pending, changed, failed...): the scratch database
    # ran them, so what they make shows as removed or changed without anybody having touched the target.
    not_applied: tuple[str, ...] = ()

    @property
    def source(self) -> str:
        """What the database was compared with, in words: ``the scripts`` or the file's path."""
        return "the scripts" if self.against is None else self.against

    @property
    def drifted(self) -> bool:
        """True when the live schema differs from the expected one."""
        return bool(self.differences)

    def raise_for_drift(self) -> None:
        """Raise DriftError (exit code 3) when the schema drifted: one call for a test or a deploy script."""
        if self.drifted:
            lines = "\n".join(f"  {line}" for d in self.differences for line in d.lines())
            raise DriftError(f"{self.database} differs from {self.source} in {len(self.differences)} object(s):\n{lines}")


def diff(url: DatabaseURL, options: Options = Options(), reporter: Reporter | None = None, *, against: Path | None = None) -> DriftResult:
    """Compare ``url``'s schema with the one the scripts (or the file ``against``) build on a scratch database."""
    actual = live_schema(url, options)  # first: a wrong URL fails before the scratch build, not after it
    expected = expected_schema(url, options, reporter, against)
    if against is not None:
        return DriftResult(url.redacted(), compare(expected, actual), str(against))
    return DriftResult(url.redacted(), compare(expected, actual), None, not_applied(url, options))


def not_applied(url: DatabaseURL, options: Options) -> tuple[str, ...]:
    """The scripts whose state on ``url`` is not ``applied``, read from its history (nothing is changed)."""
    from . import runner

    return tuple(r.file for r in runner.status(url, options, converge.Quiet(None)) if r.state != "applied")


def expected_schema(url: DatabaseURL, options: Options, reporter: Reporter | None, against: Path | None = None) -> snapshot.Snapshot:
    """The schema the scripts (or ``against``) build, read from a scratch database beside ``url`` that is then dropped."""
    if against is not None and not against.is_file():
        raise ConfigError(f"--against {against}: no such file; give a schema file (a dump, or any script the client accepts)")
    scratch = converge.scratch_url(url)  # looked up on the module: tests watch what it makes, as for check
    try:
        _build(scratch, options, converge.Quiet(reporter), against)
        return _schema(scratch, options)
    finally:
        converge.discard(scratch)


def live_schema(url: DatabaseURL, options: Options = Options()) -> snapshot.Snapshot:
    """The schema of the database at ``url``, opened read-only (waiting ``options.wait``); ConfigError when there is none."""
    return _schema(url, options)


def _build(scratch: DatabaseURL, options: Options, reporter: Reporter, against: Path | None) -> None:
    from . import runner

    if against is None:
        # The scratch database is this run's own: made here, no other runner, every script (no --target).
        opts = replace(options, create_database=True, dry_run=False, target=None, lock_timeout=converge.SCRATCH_LOCK_TIMEOUT)
        runner.apply(scratch, opts, reporter)
    else:
        _run_file(scratch, against, reporter)


def _run_file(scratch: DatabaseURL, path: Path, reporter: Reporter) -> None:
    """Run ``path`` as one script, split as the target's client would, with the runner's transactions and tolerance."""
    from . import execute
    from .dialects import open_database
    from .scripts import Script, fingerprint

    db = open_database(scratch, create=True, readonly=False, notify=reporter.info)
    assert db is not None  # created
    try:
        db.ensure_history()  # run_script records a history row, as for any script; snapshots leave it out
        shown = str(path)  # errors then say FILE:line
        execute.run_script(db, Script(0, path.stem, path, shown), fingerprint(path, shown), reporter)
    finally:
        db.close()


def _schema(url: DatabaseURL, options: Options) -> snapshot.Snapshot:
    """A schema-only snapshot of ``url`` on a fresh read-only session (a dump's SET search_path stays behind)."""
    from .plan import connect

    db = connect(url, replace(options, create_database=False), converge.Quiet(None), readonly=True)
    if db is None or _file_missing(db):
        if db is not None:
            db.close()
        raise ConfigError(f"{url.redacted()}: no such database; nothing to compare (apply the scripts first, or check --database-url)")
    try:
        return snapshot.take(db, snapshot.Scope(data=False))
    finally:
        db.close()


def _file_missing(db: object) -> bool:
    """A database file that is not there: read-only, SQLite answers with an empty database in memory instead."""
    path = getattr(db, "path", None)
    return isinstance(path, str) and path != ":memory:" and not os.path.exists(path)


def compare(expected: snapshot.Snapshot, actual: snapshot.Snapshot) -> tuple[Drift, ...]:
    """Every object that differs between ``expected`` and ``actual``, sorted by kind, table, name."""
    removed = _surplus(expected.items, actual.items)
    added = _surplus(actual.items, expected.items)
    # Only a name the user chose identifies an object across databases: a made-up one may differ by history.
    came: dict[tuple[str, str, str], list[Item]] = defaultdict(list)
    for item in added:
        if not item.generated:
            came[_key(item)].append(item)
    out: list[Drift] = []
    for item in removed:
        twin = came[_key(item)].pop() if not item.generated and came.get(_key(item)) else None
        if twin is None:
            out.append(Drift(REMOVED, item.kind, item.table, item.name, item.definition, None))
        else:
            out.append(Drift(CHANGED, item.kind, item.table, item.name, item.definition, twin.definition))
    for items in [[i for i in added if i.generated], *came.values()]:
        out += [Drift(ADDED, i.kind, i.table, i.name, None, i.definition) for i in items]
    return tuple(sorted(out, key=lambda d: (d.kind, d.table, d.name, d.change)))


def _key(item: Item) -> tuple[str, str, str]:
    return (item.kind, item.table, item.name)


def _surplus(items: Iterable[Item], others: Iterable[Item]) -> list[Item]:
    """The items of ``items`` that ``others`` lacks, by meaning, counting copies (a second unnamed key shows)."""
    items, others = list(items), list(others)
    left = Counter(i.meaning for i in items) - Counter(i.meaning for i in others)
    named = {_key(i) for i in others}
    out: list[Item] = []
    # Of several copies, the surplus is the one ``others`` has no object of that name for (as snapshot.diff).
    for item in sorted(items, key=lambda i: (_key(i) in named, i)):
        if left[item.meaning] > 0:
            left[item.meaning] -= 1
            out.append(item)
    return out
