"""Input an unlucky operator or an attacker gives: bad option values, odd files, foreign history rows, signals."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from conftest import TempDatabase
from sqlrun.errors import ConfigError
from sqlrun.model import Options

A = "CREATE TABLE a (id INTEGER PRIMARY KEY);\nINSERT INTO a (id) VALUES (1);\n"
B = "CREATE TABLE b (id INTEGER PRIMARY KEY);\n"


# --- option values ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "option, value", [("--wait", "nan"), ("--wait", "inf"), ("--wait", "-1"), ("--lock-timeout", "nan"), ("--lock-timeout", "-1"), ("--lock-timeout", "-inf")]
)
def test_a_non_finite_or_negative_duration_is_exit_2_at_once(option: str, value: str, db: TempDatabase, scripts, cli) -> None:
    folder = scripts({"001_a.sql": A})
    started = time.monotonic()
    result = cli("--database-url", db.url, "--dir", str(folder), f"{option}={value}")
    assert result.code == 2, result.text
    assert f"error: {option} {value}: give a finite number of seconds, 0 or more" in result.err
    assert time.monotonic() - started < 5
    assert db.tables() == set()


@pytest.mark.parametrize("field", ["wait", "lock_timeout"])
@pytest.mark.parametrize("value", [float("nan"), float("inf"), -0.5, "10", True])
def test_options_refuse_bad_durations_in_the_library_too(field: str, value: object) -> None:
    with pytest.raises(ConfigError):
        Options(**{field: value})  # type: ignore[arg-type]


def test_a_negative_target_is_exit_2(scripts, cli, tmp_path: Path) -> None:
    folder = scripts({"001_a.sql": A})
    result = cli("--database-url", f"sqlite:///{tmp_path / 'x.db'}", "--dir", str(folder), "--target", "-1")
    assert result.code == 2 and "--target -1" in result.err, result.text
