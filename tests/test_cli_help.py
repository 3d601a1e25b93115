"""Every command and every option explains itself in --help."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import pytest

from sqlrun.arguments import COMMANDS, build_parser

ROOT = Path(__file__).resolve().parent.parent


def subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    """The parser's commands by name."""
    found: dict[str, argparse.ArgumentParser] = {}
    for action in parser._actions:  # argparse offers no public walk over its actions
        if isinstance(action, argparse._SubParsersAction):
            found.update(action.choices)
    return found


def undocumented(parser: argparse.ArgumentParser) -> list[str]:
    """Options and arguments of ``parser`` whose help is missing or empty."""
    missing = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            missing += [f"command {c.dest}" for c in action._choices_actions if not (c.help or "").strip()]
            continue
        if action.help is argparse.SUPPRESS:
            continue
        if not (action.help or "").strip():
            missing.append("/".join(action.option_strings) or action.dest)
    return missing


def test_every_command_is_in_the_parser() -> None:
    assert set(subparsers(build_parser())) == set(COMMANDS)


def test_every_option_of_every_command_has_help() -> None:
    parser = build_parser()
    assert undocumented(parser) == [], "top level"
    for name, sub in subparsers(parser).items():
        assert undocumented(sub) == [], name
        assert (sub.description or "").strip(), f"{name} has no description"
        assert len(sub._actions) > 5, f"{name}: the common options are missing"


def test_the_walk_finds_an_option_without_help() -> None:
    parser = build_parser()
    parser.add_argument("--undocumented")
    assert undocumented(parser) == ["--undocumented"]


@pytest.mark.parametrize("command", COMMANDS)
def test_help_exits_0_for_each_command(command: str) -> None:
    result = subprocess.run([sys.executable, str(ROOT / "init_db.py"), command, "--help"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"usage: sqlrun {command}")
    assert "--database-url URL" in result.stdout and "--wait SECONDS" in result.stdout


def test_top_level_help_lists_commands_and_exit_codes() -> None:
    result = subprocess.run([sys.executable, str(ROOT / "init_db.py"), "--help"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    for command in COMMANDS:
        assert f"    {command}" in result.stdout
    assert "exit codes:" in result.stdout and "4  cannot connect" in result.stdout
