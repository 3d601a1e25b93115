"""Per-database catalog readers behind ``sqlrun.snapshot``: SQL and the shaping of its rows, no connections.

Each reader takes a ``query(sql, params) -> rows`` function, so the SQL can be read and tested apart from
where it runs (goose's dialect queriers work so). Only the reader of the database in use is imported.
"""

from __future__ import annotations

import re

_SPACE = re.compile(r"\s+")


def squeeze(text: str | None) -> str:
    """``text`` with runs of whitespace made one space, trimmed ('' for None)."""
    return _SPACE.sub(" ", text or "").strip()
