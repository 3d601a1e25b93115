"""Per-database catalog readers behind ``sqlrun.snapshot``: SQL and the shaping of its rows, no connections.

Each reader takes a ``query(sql, params) -> rows`` function, so the SQL can be read and tested apart from
where it runs (goose's dialect queriers work so). Only the reader of the database in use is imported.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable, Sequence

Query = Callable[[str, Sequence[Any]], list[tuple]]

_SPACE = re.compile(r"\s+")


def squeeze(text: str | None) -> str:
    """``text`` with runs of whitespace made one space, trimmed ('' for None)."""
    return _SPACE.sub(" ", text or "").strip()


@dataclass(frozen=True, order=True)
class Item:
    """One schema object: its kind, the table it belongs to ('' for none), its name, and what it means.

    ``generated`` is True when the server chose the name; ``meaning`` then leaves the name out.
    """

    kind: str
    table: str
    name: str
    definition: str
    generated: bool = False

    @property
    def meaning(self) -> tuple[str, str, str | None, str]:
        """What identifies the object when comparing: everything but a server-generated name."""
        return (self.kind, self.table, None if self.generated else self.name, self.definition)

    def describe(self) -> str:
        """A short human description, e.g. ``index child_parent_id_idx1 on child: btree (parent_id)``."""
        where = f" on {self.table}" if self.table and self.kind != "table" else ""
        definition = f": {self.definition}" if self.definition else ""
        return f"{self.kind} {self.name}{where}{definition}"


@dataclass(frozen=True)
class TableData:
    """A table's rows, summarised: how many, and a digest of them as a multiset (order does not count)."""

    rows: int
    digest: str
