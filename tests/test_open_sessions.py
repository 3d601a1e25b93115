"""The process keeps a weak list of its open sessions, so that Ctrl-C in a fan-out can stop every one."""

from __future__ import annotations

import gc
from pathlib import Path

from sqlrun.config import parse_url
from sqlrun.dialects import base, open_database


def test_every_open_session_is_reached_by_interrupt_all_and_forgotten_once_gone(tmp_path: Path) -> None:
    dbs = [open_database(parse_url(f"sqlite:///{tmp_path / f'{n}.db'}"), create=True, readonly=False, notify=lambda m: None)
           for n in range(2)]
    keys = [id(db) for db in dbs]
    assert all(key in base._OPEN for key in keys)
    base.interrupt_all()
    assert all(db is not None and db.interrupted for db in dbs)
    for db in dbs:
        assert db is not None
        db.close()
    del db
    dbs.clear()
    gc.collect()
    assert not any(key in base._OPEN for key in keys)  # held weakly: a finished session is not kept alive
