"""The schema as SQL, read from the catalogs: one module per database, each ``dump(query) -> str``.

Like ``sqlrun.catalog`` each module takes a ``query(sql, params) -> rows`` function (``snapshot.query_of``)
and holds no connection, so that its SQL can be read and tested apart from where it runs. The text is
deterministic: objects in a stable order by kind and name, no volatile values (AUTO_INCREMENT counters,
OIDs, timestamps), sqlrun's own tables (``snapshot.SQLRUN_TABLES``) left out.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..catalog import Query


def dump_sql(kind: str, query: Query) -> str:
    """The schema of the database behind ``query`` as SQL that database accepts (only ``kind``'s module is imported)."""
    if kind == "postgresql":
        from .postgresql import dump
    elif kind == "mysql":
        from .mysql import dump  # type: ignore[no-redef]
    else:
        from .sqlite import dump  # type: ignore[no-redef]
    return dump(query)
