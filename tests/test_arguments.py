"""The trivial argv of a container's start is parsed without argparse, into what argparse makes of it."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from pathlib import Path

import pytest

from sqlrun.arguments import parse_args
from sqlrun.cli import TRIVIAL_FLAGS, parse
from sqlrun.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
TRIVIAL = [list(argv) for n in range(4) for argv in itertools.product(sorted(TRIVIAL_FLAGS), repeat=n) if argv.count("apply") <= 1]


@pytest.mark.parametrize("argv", TRIVIAL, ids=lambda argv: " ".join(argv) or "no arguments")
def test_the_trivial_argv_parses_as_argparse_parses_it(argv: list[str]) -> None:
    assert vars(parse(argv, Settings())) == vars(parse_args(argv, Settings()))


@pytest.mark.parametrize("argv", [["apply", "apply"], ["status"], ["--dry-run"], ["-q", "--dir", "x"], ["-h"], ["--version"]])
def test_any_other_argv_goes_to_argparse(argv: list[str]) -> None:
    try:
        expected = vars(parse_args(argv, Settings()))
    except SystemExit as exc:
        with pytest.raises(SystemExit) as caught:
            parse(argv, Settings())
        assert caught.value.code == exc.code
        return
    assert vars(parse(argv, Settings())) == expected


def test_a_settings_file_goes_to_argparse(tmp_path: Path) -> None:
    settings = Settings(str(tmp_path / "sqlrun.toml"), {"strict": True})
    ns = parse([], settings)
    assert ns.strict is True and ns.sources["strict"] == settings.label


def test_a_no_op_start_does_not_import_argparse(tmp_path: Path) -> None:
    (tmp_path / "data" / "migrations").mkdir(parents=True)
    (tmp_path / "data" / "migrations" / "001_a.sql").write_text("CREATE TABLE a (id INTEGER);\n", encoding="utf-8")
    code = ("import sys; sys.argv = ['init_db.py', '-q']; from sqlrun.cli import main; "
            "codes = (main(), main()); print(codes, sorted(m for m in ('argparse', 'sqlrun.arguments') if m in sys.modules))")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MYSQL_", "PG"))}
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'app.db'}"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "(0, 0) []"
