"""The project's settings: ``[tool.sqlrun]`` in pyproject.toml, or a sqlrun.toml, below the command line.

Precedence, highest first: the command line, the environment (DATABASE_URL, MYSQL_*, PG* for the database),
the settings file, the built-in defaults. Every command-line option has a key, named after the option
(``--lock-timeout`` -> ``lock_timeout``; ``--dir`` -> ``directory``; ``--no-create-database`` ->
``create_database = false``). An unknown key is a configuration error (exit 2): a typo must not be ignored.

The file is looked for in the working directory and its parents, the nearest first; tomllib is imported
only when a file really has a ``[tool.sqlrun]`` table, so a project without settings pays a few stat()s.
"""

from __future__ import annotations

import os

from .errors import ConfigError
from .values import field, value

TYPE_CHECKING = False

if TYPE_CHECKING:
    import argparse
    from typing import Any, Iterable, Mapping

    from .placeholders import Placeholders

TABLE = "tool.sqlrun"
# Setting keys whose name is not the option's argparse dest: key -> (dest, inverted).
RENAMED = {"directory": ("dir", False), "create_database": ("no_create_database", True)}
# Options that are not settings: they name one run's particulars, not a project's habits. database_url and
# vars are settings, but read apart (database_url(), placeholders()): the environment outranks them.
NOT_SETTINGS = frozenset({"help", "version", "command", "name", "baseline_version", "env_file", "database_url", "vars", "output", "against"})
# Keys that name a path: relative to the file that says it, as a project's paths are.
PATH_KEYS = frozenset({"directory", "dump"})
# Keys with no command-line option of their own.
FILE_ONLY = frozenset({"database_url", "vars", "placeholders", "secret_vars", "placeholders_in_dollar_quotes"})


@value
class Settings:
    """The settings file found (None: none) and its keys as written."""

    path: str | None = None
    values: dict[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        """Where the values came from, as -v shows it."""
        if self.path is None:
            return "no settings file"
        return f"{self.path} [{TABLE}]" if self.path.endswith("pyproject.toml") else self.path


def find(start: str = ".") -> str | None:
    """The nearest sqlrun.toml, or pyproject.toml with a [tool.sqlrun] table, from ``start`` upwards."""
    here = os.path.abspath(start)
    while True:
        own = os.path.join(here, "sqlrun.toml")
        if os.path.isfile(own):
            return own
        project = os.path.join(here, "pyproject.toml")
        if os.path.isfile(project) and _has_table(project):
            return project
        parent = os.path.dirname(here)
        if parent == here:
            return None
        here = parent


def _has_table(path: str) -> bool:
    # A cheap look before parsing: most pyproject.toml files have no [tool.sqlrun] at all, and importing
    # tomllib (with typing) costs a start ~20 ms.
    try:
        with open(path, encoding="utf-8", newline="") as f:  # the text tomllib.load would decode from the bytes
            text = f.read()
    except (OSError, UnicodeDecodeError):
        return False  # not a file pip or sqlrun could read: no settings of ours
    if not may_hold_table(text):
        return False
    import tomllib

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return True  # load() reports it, naming the file
    _PARSED[path] = data
    tool = data.get("tool")
    return isinstance(tool, dict) and "sqlrun" in tool


# pyproject.toml files find() has parsed: load() takes the one it is given from here instead of reading it again.
_PARSED: dict[str, dict[str, Any]] = {}


def may_hold_table(text: str) -> bool:
    """Whether pyproject.toml ``text`` may define tool.sqlrun in any TOML spelling (``[tool.sqlrun]``,
    ``[ tool . "sqlrun" ]``, ``sqlrun.directory = ...`` under ``[tool]``, an inline table); False only when it
    cannot. A project that merely depends on sqlrun (``"sqlrun>=1"``, poetry's ``sqlrun = "^1"``) is a no."""
    if "sqlrun" not in text:
        return False
    if '"""' in text or "'''" in text or "\\u" in text or "\\U" in text:
        return True  # a multi-line string or an escaped key: a look line by line cannot be sure
    table = ""
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("[") and _is_key(header := _squeeze(line.lstrip("[").partition("]")[0])):
            table = header  # (a nested array's line such as ``["a", "b"],`` is no key path, so no header)
            if _within(table):
                return True
        elif "sqlrun" in line and _is_key(key := _squeeze(line.partition("=")[0])):
            path = f"{table}.{key}" if table else key
            if _within(path) or path == "tool":  # tool = { sqlrun = {...} }: inline tables take one line
                return True
    return False


def _squeeze(key: str) -> str:
    return key.replace(" ", "").replace("\t", "").replace('"', "").replace("'", "")


def _is_key(key: str) -> bool:
    return bool(key) and all(c.isalnum() or c in "_-." for c in key)


def _within(path: str) -> bool:
    return path == "tool.sqlrun" or path.startswith("tool.sqlrun.")


def load(path: str | None) -> Settings:
    """Read the settings at ``path`` (None: no settings)."""
    if path is None:
        return Settings()
    data = _PARSED.pop(path, None)
    if data is None:
        data = _read(path)
    if not path.endswith("pyproject.toml"):
        return Settings(path, data)
    table = data.get("tool", {}).get("sqlrun", {})
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [{TABLE}] must be a table")
    return Settings(path, table)


def _read(path: str) -> dict[str, Any]:
    import tomllib

    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the settings: {exc}") from None


def merge(
    ns: argparse.Namespace, actions: Iterable[argparse.Action], given: set[str], settings: Settings, every: Iterable[argparse.Action]
) -> dict[str, str]:
    """Fill ``ns`` from ``settings`` where the command line left an option out; return each key's source.

    ``actions`` are this command's options, ``every`` every command's: a key of another command (target,
    when running status) is no typo, and its value is checked all the same, so a bad one is never silent.
    ``given`` holds the dests the command line set. Raises ConfigError for an unknown key or a value of the
    wrong type, naming the file and the key.
    """
    known = _by_key(every)
    _refuse_unknown(settings, {*known, *FILE_ONLY})
    values = {key: _value(settings, key, known[key]) for key in settings.values if key in known}
    sources: dict[str, str] = {}
    for key, action in sorted(_by_key(actions).items()):
        if action.dest in given:
            sources[key] = "command line"
        elif key in values and hasattr(ns, action.dest):
            value = values[key]
            if key in PATH_KEYS and settings.path:
                value = os.path.join(os.path.dirname(settings.path), value)
            setattr(ns, action.dest, value)
            sources[key] = settings.label
        else:
            sources[key] = "default"
    return sources


def _by_key(actions: Iterable[argparse.Action]) -> dict[str, argparse.Action]:
    return {_key(a.dest): a for a in actions if a.dest not in NOT_SETTINGS and a.option_strings}


def _key(dest: str) -> str:
    for key, (renamed, _) in RENAMED.items():
        if renamed == dest:
            return key
    return dest


def _refuse_unknown(settings: Settings, known: set[str]) -> None:
    for key in settings.values:
        if key in known:
            continue
        from difflib import get_close_matches

        near = get_close_matches(key, sorted(known), n=1)
        hint = f"; did you mean {near[0]!r}?" if near else f"; known keys: {', '.join(sorted(known))}"
        raise ConfigError(f"{settings.label}: unknown setting {key!r}{hint}")


def _value(settings: Settings, key: str, action: argparse.Action) -> Any:
    """The setting converted as the option's own parser would convert it."""
    raw = settings.values[key]
    inverted = RENAMED.get(key, ("", False))[1]
    if action.nargs == 0:  # a flag (store_true): the setting must say true or false
        if not isinstance(raw, bool):
            raise ConfigError(f"{settings.label}: {key} must be true or false, not {raw!r}")
        return not raw if inverted else raw
    if isinstance(raw, bool) or isinstance(raw, (dict, list)) and action.nargs is None:
        raise ConfigError(f"{settings.label}: {key} must be a {_kind(action)}, not {raw!r}")
    if action.type is None:
        if not isinstance(raw, str):
            raise ConfigError(f"{settings.label}: {key} must be a string, not {raw!r}")
        return raw
    try:
        return action.type(raw if isinstance(raw, str) else str(raw))
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{settings.label}: {key} = {raw!r}: {exc}") from None


def _kind(action: argparse.Action) -> str:
    name = getattr(action.type, "__name__", "")
    return {"float": "number", "int": "whole number"}.get(name, "string")


def database_url(settings: Settings) -> str | None:
    """The settings' database_url, which comes after the environment and before the embedded default."""
    value = settings.values.get("database_url")
    if value is not None and not isinstance(value, str):
        raise ConfigError(f"{settings.label}: database_url must be a string")
    return value


def placeholders(settings: Settings, cli_vars: list[str] | None, env: Mapping[str, str]) -> Placeholders | None:
    """The run's placeholder values, or None when placeholders are off (no ``placeholders = true``, no --var)."""
    on = settings.values.get("placeholders", False)
    if not isinstance(on, bool):
        raise ConfigError(f"{settings.label}: placeholders must be true or false, not {on!r}")
    if not on and not cli_vars:
        return None
    table = settings.values.get("vars", {})
    if not isinstance(table, dict):
        raise ConfigError(f"{settings.label}: vars must be a table ([tool.sqlrun.vars]), not {table!r}")
    secret = settings.values.get("secret_vars", [])
    if not isinstance(secret, list) or not all(isinstance(n, str) for n in secret):
        raise ConfigError(f"{settings.label}: secret_vars must be a list of names")
    in_dollar = settings.values.get("placeholders_in_dollar_quotes", False)
    if not isinstance(in_dollar, bool):
        raise ConfigError(f"{settings.label}: placeholders_in_dollar_quotes must be true or false")
    from .placeholders import resolve

    return resolve(cli_vars or [], env, table, secret, in_dollar)
