"""Script names are read with str methods (a no-op start never imports re): they accept what the regexes did."""

from __future__ import annotations

import itertools
import re

import pytest

from sqlrun.kinds import DIALECTS
from sqlrun.scripts import looks_numbered, no_transaction, repeatable_name, script_name

# The regexes the str methods replaced, as they were (scripts.py before 2026-12-03).
SCRIPT_RE = re.compile(r"^(\d+)_([^.]+?)(?:\.(" + "|".join(DIALECTS) + r"))?\.sql$", re.IGNORECASE)
REPEATABLE_RE = re.compile(r"^R__([^.]+?)(?:\.(" + "|".join(DIALECTS) + r"))?\.sql$")
NUMBERED_RE = re.compile(r"^\d+_.*\.sql$", re.IGNORECASE)
NO_TRANSACTION = re.compile(r"\A\ufeff?[ \t]*--[ \t]*sqlrun:[ \t]*no-transaction[ \t]*\r?$", re.IGNORECASE | re.MULTILINE)

HEADS = ["", "001", "1", "١٢", "20251214144332", "1a", "R", "R_", "r", "x"]
SEPS = ["", "_", "__"]
NAMES = ["", "init", "a_b", "v1.2_fix", "two words", "ſql", "_x", "x.y"]
DIALECT_PARTS = ["", ".mysql", ".MySQL", ".mariadb", ".postgres", ".PostgreSQL", ".sqlite", ".ſqlite", ".oracle", ".", ".sql"]
SUFFIXES = [".sql", ".SQL", ".Sql", ".sq", "", ".sql.bak"]


def file_names() -> list[str]:
    """Every combination of the parts above: numbered, repeatable and neither, well and badly formed."""
    return ["".join(p) for p in itertools.product(HEADS, SEPS, NAMES, DIALECT_PARTS, SUFFIXES)]


def test_script_name_matches_what_the_script_regex_matched() -> None:
    for name in file_names():
        m = SCRIPT_RE.match(name)
        expected = None if m is None else (m.group(1), m.group(2), m.group(3).lower() if m.group(3) else None)
        if expected is not None and expected[2] is not None and "ſ" in m.group(3):
            expected = (expected[0], expected[1], expected[2].replace("ſ", "s"))  # re's IGNORECASE folds ſ too
        assert script_name(name) == expected, name


def test_repeatable_name_matches_what_the_repeatable_regex_matched() -> None:
    for name in file_names():
        m = REPEATABLE_RE.match(name)
        assert repeatable_name(name) == (None if m is None else (m.group(1), m.group(2))), name


def test_looks_numbered_matches_what_the_numbered_regex_matched() -> None:
    for name in file_names():
        if name.lower().endswith(".sql"):  # discovery asks only about such names; re also folds ſ into .ſql
            assert looks_numbered(name) == (NUMBERED_RE.match(name) is not None), name


@pytest.mark.parametrize("line", [
    "-- sqlrun: no-transaction", "--sqlrun:no-transaction", "\ufeff  -- SQLRUN:  No-Transaction \t", "-- sqlrun: no-transaction\r",
    "-- sqlrun: no-transaction \r", "\t--\tsqlrun:\tno-transaction\t", "-- ſqlrun: no-tranſaction",
    "-- sqlrun: no-transaction\r ", "-- sqlrun: no-transaction!", "-- sqlrun no-transaction", "- sqlrun: no-transaction",
    "x -- sqlrun: no-transaction", "-- sqlrun: no-transactions", "-- sqlrun: no transaction", "", "--", "-- sqlrun:",
    "-- sqlrun: no-transaction\r\r", "/* sqlrun: no-transaction */",
])
def test_no_transaction_matches_what_the_marker_regex_matched(line: str) -> None:
    assert no_transaction(line) == (NO_TRANSACTION.match(line) is not None)
