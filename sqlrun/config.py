"""Where to connect: the URL from the command line, the environment or .env, parsed into a frozen value."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, quote, unquote, urlsplit

from .errors import ConfigError
from .kinds import DIALECTS

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing, which costs a cold start ~3 ms

if TYPE_CHECKING:
    from typing import Mapping

DEFAULT_URL = "sqlite:///data/app.db"

# Every accepted URL scheme, mapped to the database it names: the dialect names (kinds.DIALECTS), plus
# the SQLAlchemy-style name+driver forms of the drivers sqlrun uses, and sqlite3.
SCHEMES = {
    **DIALECTS,
    "mysql+pymysql": "mysql",
    "mariadb+pymysql": "mysql",
    "postgresql+psycopg": "postgresql",
    "postgresql+psycopg3": "postgresql",
    "sqlite3": "sqlite",
}


@dataclass(frozen=True)
class DatabaseURL:
    """A parsed database URL; ``str()`` and ``repr()`` never show the password."""

    kind: str  # "mysql", "postgresql" or "sqlite"
    host: str | None = None
    port: int | None = None
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    database: str | None = None  # for SQLite, the file path (or ":memory:")
    query: tuple[tuple[str, str], ...] = ()
    scheme: str = ""

    @property
    def options(self) -> dict[str, str]:
        """The query-string options, passed on to the driver."""
        return dict(self.query)

    def with_database(self, database: str | None) -> DatabaseURL:
        """The same server and login, another database."""
        return DatabaseURL(self.kind, self.host, self.port, self.user, self.password, database, self.query, self.scheme)

    def redacted(self) -> str:
        """The URL as text with the password replaced by ``***``."""
        if self.kind == "sqlite":
            return f"sqlite:///{self.database}"  # an absolute path brings its own slash: sqlite:////abs.db
        auth = ""
        if self.user:
            auth = quote(self.user, safe="")
            if self.password is not None:
                auth += ":***"
            auth += "@"
        host = self.host or ""
        if ":" in host:
            host = f"[{host}]"
        port = f":{self.port}" if self.port else ""
        db = f"/{quote(self.database, safe='')}" if self.database else "/"
        query = "&".join(f"{k}={'***' if k.lower() == 'password' else v}" for k, v in self.query)
        return f"{self.scheme or self.kind}://{auth}{host}{port}{db}" + (f"?{query}" if query else "")

    def __str__(self) -> str:
        return self.redacted()


def parse_url(url: str) -> DatabaseURL:
    """Parse a database URL (mysql://, postgresql://, sqlite:///relative.db, sqlite:////absolute.db...)."""
    scheme, sep, rest = url.partition("://")
    kind = SCHEMES.get(scheme.lower()) if sep else None
    if kind is None:
        shown = scheme if sep else url.split(":", 1)[0]
        known = ", ".join(f"{s}://" for s in SCHEMES)
        raise ConfigError(f"unknown database URL scheme {shown!r}: use one of {known}")
    if kind == "sqlite":
        return _parse_sqlite(rest, scheme)
    parts = urlsplit(f"//{rest}")
    try:
        port = parts.port
    except ValueError as exc:
        raise ConfigError(f"bad port in database URL {_redact_text(url)}: {exc}") from None
    database = unquote(parts.path.lstrip("/")) or None
    return DatabaseURL(
        kind=kind,
        host=unquote(parts.hostname) if parts.hostname else None,
        port=port,
        user=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password is not None else None,
        database=database,
        query=tuple(parse_qsl(parts.query, keep_blank_values=True)),
        scheme=scheme.lower(),
    )


def _parse_sqlite(rest: str, scheme: str) -> DatabaseURL:
    # sqlite:///relative.db -> rest "/relative.db"; sqlite:////abs.db -> rest "//abs.db" (SQLAlchemy's rule).
    path, _, query = rest.partition("?")
    if path.startswith("/"):
        path = path[1:]
    if not path or path == ":memory:":
        path = ":memory:"
    return DatabaseURL(kind="sqlite", database=unquote(path), query=tuple(parse_qsl(query)), scheme=scheme.lower())


def _redact_text(url: str) -> str:
    """Best-effort redaction of a URL that failed to parse."""
    scheme, sep, rest = url.partition("://")
    if not sep or "@" not in rest:
        return url
    auth, _, tail = rest.rpartition("@")
    user = auth.split(":", 1)[0]
    return f"{scheme}://{user}:***@{tail}" if ":" in auth else url


def url_from_env(env: Mapping[str, str]) -> tuple[str, str] | None:
    """The URL named by the environment and where it came from, or None when nothing is configured."""
    if env.get("DATABASE_URL"):
        return env["DATABASE_URL"], "DATABASE_URL"
    if any(env.get(k) for k in ("MYSQL_HOST", "MYSQL_DATABASE")):
        return _compose("mysql", env, "MYSQL_", 3306), "MYSQL_* variables"
    if any(env.get(k) for k in ("PGHOST", "PGDATABASE")):
        return _compose("postgresql", env, "PG", 5432), "PG* variables"
    return None


def _compose(scheme: str, env: Mapping[str, str], prefix: str, default_port: int) -> str:
    user = env.get(f"{prefix}USER") or ("root" if scheme == "mysql" else "")
    password = env.get(f"{prefix}PASSWORD")
    host = env.get(f"{prefix}HOST") or "127.0.0.1"
    port = env.get(f"{prefix}PORT") or str(default_port)
    database = env.get(f"{prefix}DATABASE") or ""
    auth = quote(user, safe="")
    if password:
        auth += ":" + quote(password, safe="")
    if ":" in host:
        host = f"[{host}]"
    at = "@" if auth else ""
    return f"{scheme}://{auth}{at}{host}:{port}/{quote(database, safe='')}"


def load_env_file(path: str | None) -> None:
    """Load ``.env`` (or ``path``) into os.environ without overriding what is already set."""
    target = path or ".env"
    if not os.path.exists(target):
        if path:
            raise ConfigError(f"--env-file {path}: no such file")
        return
    from dotenv import load_dotenv  # imported only when there is a file to read

    load_dotenv(target, override=False)


def resolve_url(
    url: str | None, env: Mapping[str, str] | None = None, configured: tuple[str, str] | None = None
) -> tuple[DatabaseURL, str]:
    """The database to use and a short description of where that choice came from.

    ``configured`` is (URL, where) from a settings file: below the environment, above the default.
    """
    if url:
        return parse_url(url), "--database-url"
    found = url_from_env(os.environ if env is None else env) or configured
    if found:
        return parse_url(found[0]), found[1]
    return parse_url(DEFAULT_URL), "the embedded default (set DATABASE_URL to use MySQL or PostgreSQL)"
