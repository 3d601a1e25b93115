"""The tolerance rule: an error is tolerated only when what the statement was meant to do is provably in place.

Judged from the statement's intent (``intent.read``: its verb and target, from its tokens) and the error's fault
(``dialects.faults``: which object exists or is missing, or a duplicate key), with catalog look-ups only on this
error path. What is proven in place is skipped; what is not is still applied (the other actions of an ALTER, the
rows of an INSERT that are not there yet) or the run stops, naming what could not be proven. Nothing is skipped
silently, and no rule-based data change (INSERT ... SELECT, UPDATE, DELETE) is ever tolerated.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

TYPE_CHECKING = False

if TYPE_CHECKING:
    from .dialects.base import Database
    from .dialects.faults import Fault
    from .intent import Action, Alter, Create, Drop, Insert, Name
    from .splitter import Statement


@dataclass(frozen=True)
class Verdict:
    """``in_place``: the statement's effect is there (``reason`` says why); else ``reason`` says what could not be proven.

    ``error`` is the error that decided a negative verdict, when it is not the statement's own (the re-issued
    remainder of an ALTER, a row inserted alone).
    """

    in_place: bool
    reason: str = ""
    error: BaseException | None = None


# --- the extension point for objects without a name and re-added primary keys (filled by sqlrun/equivalent.py) ------


# Statements that may add an object without a name (may say yes too often: equivalent.parse decides). Here,
# not in sqlrun.equivalent: the runner asks before every ALTER and CREATE of a run without errors, which must
# not import the lexers and the catalog readers (~10 ms of start-up) to hear "no".
_CANDIDATE = re.compile(
    r"\s*(?:ALTER\s+(?:ONLINE\s+|IGNORE\s+)?TABLE\b[\s\S]*?\bADD\s+(?:UNIQUE|FOREIGN|CHECK|INDEX|KEY)\b"
    r"|CREATE\s+(?:UNIQUE\s+)?INDEX\s+(?:CONCURRENTLY\s+)?(?:IF\s+NOT\s+EXISTS\s+)?ON\b)",
    re.IGNORECASE,
)


def needs_look(text: str, kind: str) -> bool:
    """Whether a statement creates an object without a name and must be looked up in the catalog before it runs.

    Called for statements starting with A or C only; it must stay cheap for everything else. SQLite cannot
    add a key to an existing table, and names every index it makes for a key itself.
    """
    return kind != "sqlite" and _CANDIDATE.match(text) is not None


def look(db: Database, statement: Statement) -> str | None:
    """Why a statement ``needs_look`` selected is already in place (naming the equivalent object), else None."""
    from .equivalent import look as equivalent

    return equivalent(db, statement)


def primary_key_in_place(db: Database, table: Name, action: Action, text: str) -> str | None:
    """Why a re-added primary key (``action`` of an ALTER on ``table``) is in place, else None (a real error)."""
    from .equivalent import catalog_table
    from .equivalent import primary_key_in_place as same_key

    return same_key(db, catalog_table(table.parts, table.quoted, db.kind), text)


# --- the rule ------------------------------------------------------------------------------------------------------


def settle(db: Database, statement: Statement, error: BaseException) -> Verdict:
    """Whether ``statement``, which failed with ``error``, is in place; applies the parts of it that are not."""
    from .intent import Alter, Create, Data, Drop, Insert, read

    intent = read(statement.text, db.kind)
    fault = db.fault(error)
    if isinstance(intent, Create):
        return _created(db, intent, fault)
    if isinstance(intent, Drop):
        return _dropped(db, statement, intent, fault)
    if isinstance(intent, Alter):
        return _altered(db, statement, intent, fault)
    if isinstance(intent, Insert):
        return _inserted(db, statement, intent, fault)
    if isinstance(intent, Data) and fault.what in ("duplicate_key", "exists"):
        return Verdict(False, f"{intent.verb} changes rows by a rule: a duplicate key there means rows were not changed")
    return Verdict(False)


def same(name: str | None, target: Name | None, kind: str) -> bool:
    """Whether the name an error gives is ``target`` (as the server folds names)."""
    if name is None or target is None:
        return False
    if kind == "postgresql":
        return name == target.key(kind)
    return name.lower() == target.last.lower()


# What an error may call the object a CREATE of each kind makes. For tables, views, sequences and indexes the
# errors are ambiguous (PostgreSQL's "relation", MySQL's 1050, SQLite's "table v already exists" for a view):
# the catalog is asked what the object is.
_DIRECT = {
    "table": {"table"}, "index": {"index"}, "trigger": {"trigger"}, "view": {"view"}, "sequence": {"sequence"},
    "function": {"function", "routine"}, "procedure": {"procedure", "routine"}, "schema": {"schema", "database"},
    "database": {"database", "schema"}, "user": {"user", "role"}, "role": {"role", "user"}, "event": {"event"},
    "type": {"type"}, "domain": {"type", "domain"}, "extension": {"extension"}, "operator": {"operator"},
}
_RELATIONS = {"table", "view", "sequence", "index"}


def _created(db: Database, intent: Create, fault: Fault) -> Verdict:
    if fault.what == "duplicate_key":
        return Verdict(False, "the rows already there hold duplicate keys: the unique index cannot be built over them")
    if fault.what != "exists" or intent.name is None or not same(fault.name, intent.name, db.kind):
        return Verdict(False)
    on = f" on {intent.table}" if intent.table else ""
    if intent.kind in _RELATIONS:  # the catalog says what it is (and, for an index, which table it is on)
        proven = db.probe(intent.kind, intent.name, intent.table) is True
    else:
        proven = fault.kind in _DIRECT.get(intent.kind, ())
    if proven:
        return Verdict(True, f"{intent.kind} {intent.name}{on} already exists")
    return Verdict(False, f"an object named {fault.name} exists, but it is not this {intent.kind}{on}")


def _dropped(db: Database, statement: Statement, intent: Drop, fault: Fault) -> Verdict:
    if fault.what != "missing" or fault.kind in ("table", "relation") and intent.kind not in ("table", "view", "sequence"):
        return _drop_on_missing_table(db, intent, fault)
    gone = [n for n in intent.names if same(fault.name, n, db.kind)]
    if not gone and fault.name is None and fault.kind == intent.kind and len(intent.names) == 1:
        gone = list(intent.names)  # MySQL's "Trigger does not exist" names nothing, and the statement drops one
    if not gone:
        return Verdict(False)
    reason = f"{intent.kind} {gone[0]} does not exist"
    rest = [n for n in intent.names if n is not gone[0]]
    if not rest:
        return Verdict(True, reason)
    text = statement.text
    again = replace(statement, text=text[: intent.names[0].start] + ", ".join(text[n.start:n.end] for n in rest) + text[intent.names[-1].end:])
    return _again(db, again, reason)


def _drop_on_missing_table(db: Database, intent: Drop, fault: Fault) -> Verdict:
    """DROP INDEX i ON t / DROP TRIGGER x ON t with t gone: the index or trigger went with it."""
    if fault.what == "missing" and intent.table is not None and same(fault.name, intent.table, db.kind):
        return Verdict(True, f"table {intent.table} does not exist, and its {intent.kind} {intent.names[0]} with it")
    return Verdict(False)


def _again(db: Database, statement: Statement, reason: str) -> Verdict:
    """Run the rest of a statement whose other part is in place; judge its error the same way."""
    outcome = db.run_batch([statement])
    if outcome.error is None:
        return Verdict(True, f"{reason}; ran the rest: {statement.text}")
    verdict = settle(db, statement, outcome.error)
    if verdict.in_place:
        return Verdict(True, f"{reason}; {verdict.reason}")
    return Verdict(False, f"{reason}, but the rest failed: {statement.text}" + (f" ({verdict.reason})" if verdict.reason else ""), verdict.error or outcome.error)


# --- ALTER TABLE, action by action ------------------------------------------------------------------------------


def _altered(db: Database, statement: Statement, intent: Alter, fault: Fault) -> Verdict:
    """An atomic ALTER failed on one action: skip that action if it is in place, and run the others again."""
    text = statement.text
    action, reason = _in_place_action(db, intent, fault, text)
    if action is None:
        if len(intent.actions) > 1 and fault.name:
            named = [a for a in intent.actions if same(fault.name, a.name, db.kind)]
            if named:
                return Verdict(False, f"cannot prove that {text[named[0].start:named[0].end]} is in place")
        return Verdict(False, reason)
    rest = [a for a in intent.actions if a is not action]
    if not rest:
        return Verdict(True, reason)
    again = replace(statement, text=text[: intent.actions[0].start] + ", ".join(text[a.start:a.end] for a in rest))
    return _again(db, again, reason)


def _in_place_action(db: Database, intent: Alter, fault: Fault, text: str) -> tuple[Action | None, str]:
    """The action the fault is about, when it is provably in place, and why."""
    for action in intent.actions:
        span = text[action.start:action.end]
        if fault.what == "exists" and action.verb == "add" and _adds(db, intent, action, fault):
            return action, f"{_what(action)} {action.name} already exists ({span})"
        if fault.what == "missing" and action.verb == "drop" and _drops(db, action, fault):
            return action, f"{_what(action)} {action.name or ''} does not exist ({span})".replace("  ", " ")
        if fault.what == "multiple_primary_keys" and (action.what == "primary" or action.constraint == "primary"):
            if action.verb == "add":
                why = primary_key_in_place(db, intent.table, action, span)
                if why:
                    return action, why
                return None, f"the table already has a primary key, and it cannot be shown to be this one ({span})"
    return None, ""


def _what(action: Action) -> str:
    return {"index": "index", "column": "column"}.get(action.what, "constraint")


def _adds(db: Database, intent: Alter, action: Action, fault: Fault) -> bool:
    if action.what == "primary" or action.constraint == "primary" and fault.kind != "relation":
        return False
    if fault.name is None and fault.kind == "constraint" and action.name is not None:  # MariaDB's errno 121
        return action.what in ("constraint", "foreign") and db.probe("constraint", action.name, intent.table) is True
    if not same(fault.name, action.name, db.kind) or (fault.table and not same(fault.table, intent.table, db.kind)):
        return False
    if (fault.kind == "column") != (action.what == "column"):
        return False
    # PostgreSQL's "relation n already exists" is any index, sequence or table named n: it must be an index on t.
    return fault.kind != "relation" or db.probe("index", action.name, intent.table) is True


def _drops(db: Database, action: Action, fault: Fault) -> bool:
    if fault.kind in ("table", "relation"):
        return False  # the table itself is missing: nothing about its parts is proven
    if fault.name is None or not same(fault.name, action.name, db.kind):
        return False
    return fault.kind is None or (fault.kind == "column") == (action.what == "column")


# --- keyed INSERT ... VALUES ----------------------------------------------------------------------------------------


def _inserted(db: Database, statement: Statement, intent: Insert, fault: Fault) -> Verdict:
    """Rows already there, identical, are in place; the others are inserted one by one; a differing row stops the run."""
    if fault.what != "duplicate_key" or intent.rows is None:
        return Verdict(False)
    text = statement.text
    table = text[intent.table.start:intent.table.end]
    columns = intent.columns or tuple(db.quote(c) for c in db.columns(intent.table))
    if not columns or any(len(v) != len(columns) for v in intent.values):
        return Verdict(False, "cannot tell which rows are already there (the columns are not known)")
    missing = [n for n, values in enumerate(intent.values) if not _present(db, table, columns, values)]
    head = text[: intent.head_end]
    for n in missing:
        start, end = intent.rows[n]
        outcome = db.run_batch([replace(statement, text=head + text[start:end])])
        if outcome.error is not None:
            why = "its key holds a different row" if db.fault(outcome.error).what == "duplicate_key" else "it failed"
            return Verdict(False, f"row {n + 1} of {len(intent.rows)} is not in place: {text[start:end]}: {why}", outcome.error)
    there = len(intent.rows) - len(missing)
    added = f"; inserted the other {len(missing)}: rows {', '.join(str(n + 1) for n in missing)}" if missing else ""
    return Verdict(True, f"{there} of {len(intent.rows)} rows already there with the same values{added}")


def _present(db: Database, table: str, columns: tuple[str, ...], values: tuple[str, ...]) -> bool:
    """Whether ``table`` holds a row with exactly these values (NULL matching NULL), the server comparing them."""
    where = " AND ".join(db.null_safe_equal(c, v) for c, v in zip(columns, values))
    rows = db.query(f"SELECT 1 FROM {table} WHERE {where}")
    return bool(rows)
