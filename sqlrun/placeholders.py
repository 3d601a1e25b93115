"""``${name}`` placeholders in scripts: replaced in statements, strings and identifiers, never in comments.

Opt-in (``placeholders = true`` in the settings, or any ``--var``). Values come from ``--var NAME=VALUE``,
then the environment (``SQLRUN_VAR_NAME``), then ``[tool.sqlrun.vars]``; built-ins name the run
(``${database}``, ``${user}``, ``${dialect}``, ``${version}``, ``${filename}``). ``$${name}`` writes a literal
``${name}``. Inside PostgreSQL dollar-quoted bodies nothing is replaced unless the settings say so (format
strings there often use ``${``). Replacement happens per statement, after splitting, so a value can never
end a statement early; the checksum is of the file as written, so every environment verifies equal.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .errors import ScriptError

TYPE_CHECKING = False

if TYPE_CHECKING:
    from typing import Iterable, Iterator, Mapping

    from .splitter import Statement

ENV_PREFIX = "SQLRUN_VAR_"
NAME = r"[A-Za-z_][A-Za-z0-9_]*"
PLACEHOLDER = re.compile(r"\$(\$?)\{(" + NAME + r")\}")
VALID_NAME = re.compile(NAME + r"\Z")
SECRET_WORDS = ("password", "secret", "token")
BUILT_INS = ("database", "user", "dialect", "version", "filename")

# One alternation per dialect: comments and dollar-quoted bodies are told from everything else (strings and
# quoted identifiers are matched whole, so that a quote inside them never starts a comment).
_LINE = r"--[^\n]*"
_BLOCK = r"/\*[\s\S]*?\*/"
_SINGLE_BACKSLASH = r"'(?:[^'\\]|\\[\s\S]|'')*'"
_SINGLE = r"'(?:[^']|'')*'"
_DOUBLE_BACKSLASH = r'"(?:[^"\\]|\\[\s\S]|"")*"'
_DOUBLE = r'"(?:[^"]|"")*"'
_BACKTICK = r"`(?:[^`]|``)*`"
_ESCAPE = r"\$?\$\{" + NAME + r"\}"  # a placeholder or its escape, tried before a dollar quote: $${x} is no $$
_DOLLAR = r"\$(?P<tag>(?:[A-Za-z_][A-Za-z0-9_]*)?)\$(?!\{)[\s\S]*?\$(?P=tag)\$"  # tag always set: $$ too
_LEXERS = {
    "mysql": re.compile(
        rf"(?P<comment>--(?=\s|$)[^\n]*|#[^\n]*|{_BLOCK})|(?P<text>{_SINGLE_BACKSLASH}|{_DOUBLE_BACKSLASH}|{_BACKTICK}|[^-#/'\"`]+|[\s\S])"
    ),
    "postgresql": re.compile(
        rf"(?P<comment>{_LINE}|{_BLOCK})|(?P<text>{_ESCAPE})|(?P<dollar>{_DOLLAR})"
        rf"|(?P<text2>[eE]{_SINGLE_BACKSLASH}|{_SINGLE}|{_DOUBLE}|(?:[^-/'\"$eE]|[eE](?!'))+|[\s\S])"
    ),
    "sqlite": re.compile(
        rf"(?P<comment>{_LINE}|{_BLOCK})|(?P<text>{_SINGLE}|{_DOUBLE}|{_BACKTICK}|\[[^\]]*\]|[^-/'\"`\[]+|[\s\S])"
    ),
}


class PlaceholderError(ScriptError):
    """A ``${name}`` with no value: exit 2, before anything runs."""


@dataclass(frozen=True)
class Placeholders:
    """The values a run replaces, which of them are secret, and whether dollar-quoted bodies are touched."""

    values: Mapping[str, str] = field(default_factory=dict)
    secret: frozenset[str] = frozenset()
    in_dollar_quotes: bool = False

    def for_script(self, built_ins: Mapping[str, str]) -> Placeholders:
        """These values with the run's built-ins (which a user's value of the same name overrides)."""
        return Placeholders({**built_ins, **self.values}, self.secret, self.in_dollar_quotes)

    def shown(self, name: str) -> str:
        """A value as output may show it: secrets never."""
        return "***" if name in self.secret else self.values.get(name, "")

    def substitute(self, text: str, dialect: str, where: str, line: int) -> str:
        """``text`` with every placeholder outside comments replaced; ``where``/``line`` name an unset one."""
        if "${" not in text:
            return text
        out: list[str] = []
        for m in _LEXERS[dialect].finditer(text):
            piece = m.group(0)
            if m.lastgroup == "comment" or (m.lastgroup == "dollar" and not self.in_dollar_quotes):
                out.append(piece)
            else:
                out.append(self._replace(piece, where, line + text.count("\n", 0, m.start())))
        return "".join(out)

    def _replace(self, piece: str, where: str, line: int) -> str:
        def one(m: re.Match[str]) -> str:
            if m.group(1):  # $${name}: the escape, written as ${name}
                return m.group(0)[1:]
            name = m.group(2)
            if name not in self.values:
                raise PlaceholderError(
                    f"{where}:{line + piece.count(chr(10), 0, m.start())}: placeholder ${{{name}}} has no value; "
                    f"give --var {name}=VALUE, set {ENV_PREFIX}{name.upper()}, or add it to [tool.sqlrun.vars]"
                )
            return self.values[name]

        return PLACEHOLDER.sub(one, piece)

    def statements(self, statements: Iterable[Statement], dialect: str, where: str) -> Iterator[Statement]:
        """The statements with their placeholders replaced (the same objects when there is none)."""
        from dataclasses import replace

        for stmt in statements:
            text = self.substitute(stmt.text, dialect, where, stmt.line)
            yield stmt if text is stmt.text else replace(stmt, text=text)


def is_secret(name: str, listed: Iterable[str] = ()) -> bool:
    """Names that look secret (``*password*``, ``*secret*``, ``*token*``) or are listed as such."""
    lower = name.lower()
    return any(word in lower for word in SECRET_WORDS) or name in set(listed)


def resolve(
    cli: Iterable[str], env: Mapping[str, str], configured: Mapping[str, object], secret: Iterable[str] = (), in_dollar_quotes: bool = False
) -> Placeholders:
    """The values, highest first: ``--var NAME=VALUE``, ``SQLRUN_VAR_NAME``, the settings' vars table."""
    from .errors import ConfigError

    values: dict[str, str] = {}
    for name, value in configured.items():
        if not VALID_NAME.match(name) or isinstance(value, (dict, list)):
            raise ConfigError(f"[tool.sqlrun.vars]: {name!r} must be a name with a string or number value")
        values[name] = str(value).lower() if isinstance(value, bool) else str(value)
    for key, value in env.items():
        if key.startswith(ENV_PREFIX) and len(key) > len(ENV_PREFIX):
            name = key[len(ENV_PREFIX):]
            # SQLRUN_VAR_APP_PASSWORD names ${app_password} (and ${APP_PASSWORD}): environments are upper case.
            values[_match_case(name, values)] = value
    for item in cli:
        name, sep, value = item.partition("=")
        if not sep or not VALID_NAME.match(name):
            raise ConfigError(f"--var {item!r}: write NAME=VALUE (a name of letters, digits and _)")
        values[name] = value
    listed = set(secret)
    return Placeholders(values, frozenset(n for n in values if is_secret(n, listed)) | frozenset(listed), in_dollar_quotes)


def _match_case(name: str, known: Mapping[str, str]) -> str:
    for existing in known:
        if existing.upper() == name.upper():
            return existing
    return name.lower()
