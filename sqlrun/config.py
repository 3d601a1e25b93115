"""Where to connect: the URL from the command line, the environment or .env, parsed into a frozen value."""

from __future__ import annotations

import os

from .errors import ConfigError
from .kinds import DIALECTS
from .values import field, replace, value

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


@value(repr=False)
class DatabaseURL:
    """A parsed database URL; ``str()`` and ``repr()`` never show the password."""

    kind: str  # "mysql", "postgresql" or "sqlite"
    host: str | None = None  # the first host of a libpq multi-host URL
    port: int | None = None
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    database: str | None = None  # for SQLite, the file path (or ":memory:")
    query: tuple[tuple[str, str], ...] = ()
    scheme: str = ""
    # Every (host, port) of a libpq multi-host URL (h1:5432,h2:5433), first one included; empty for one host.
    hosts: tuple[tuple[str, int | None], ...] = ()

    @property
    def options(self) -> dict[str, str]:
        """The query-string options, passed on to the driver."""
        return dict(self.query)

    def with_database(self, database: str | None) -> DatabaseURL:
        """The same server and login, another database."""
        return replace(self, database=database)

    def redacted(self) -> str:
        """The URL as text with the password replaced by ``***``."""
        if self.kind == "sqlite":
            return f"sqlite:///{self.database}"  # an absolute path brings its own slash: sqlite:////abs.db
        auth = ""
        if self.user:
            auth = _quote(self.user)
            if self.password is not None:
                auth += ":***"
            auth += "@"
        hosts = self.hosts or ((self.host or "", self.port),)
        where = ",".join(_host_text(h, p) for h, p in hosts)
        db = f"/{_quote(self.database)}" if self.database else "/"
        query = "&".join(f"{k}={'***' if k.lower() in SECRET_OPTIONS else v}" for k, v in self.query)
        return f"{self.scheme or self.kind}://{auth}{where}{db}" + (f"?{query}" if query else "")

    def __str__(self) -> str:
        return self.redacted()

    def __repr__(self) -> str:
        # Not the dataclass's: a password may also sit in the query (?password=...).
        return f"DatabaseURL({self.redacted()!r})"


# Query options whose value is a secret: libpq's password, and sslpassword (the client key's passphrase).
SECRET_OPTIONS = frozenset({"password", "sslpassword", "passwd"})
# What a percent-encoded password looks like to a user who has to write one.
_ENCODING_HINT = "percent-encode special characters in the user and password (/ as %2F, ? as %3F, # as %23, @ as %40)"


def _host_text(host: str, port: int | None) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"{shown}:{port}" if port else shown


def parse_url(url: str) -> DatabaseURL:
    """Parse a database URL (mysql://, postgresql://, sqlite:///relative.db, sqlite:////absolute.db...).

    Surrounding whitespace (a stray newline from a secret file, say) is dropped. A URL that cannot be read is
    refused with a ConfigError that never shows its user, password or host.
    """
    url = url.strip()
    if not url:
        raise ConfigError("the database URL is empty: give --database-url or set DATABASE_URL")
    scheme, sep, rest = url.partition("://")
    kind = SCHEMES.get(scheme.lower()) if sep else None
    if kind is None:
        # Only what precedes the first ':' is shown: a URL without '://' may still carry a password after it.
        shown = scheme if sep else url.split(":", 1)[0].split("@", 1)[-1][:40]
        known = ", ".join(f"{s}://" for s in SCHEMES)
        raise ConfigError(f"unknown database URL scheme {shown!r}: use one of {known}")
    if kind == "sqlite":
        return _parse_sqlite(rest, scheme)
    return _parse_server(kind, scheme.lower(), rest)


def _parse_server(kind: str, scheme: str, rest: str) -> DatabaseURL:
    """A server URL's parts, read structurally: userinfo@host[:port][,host[:port]...]/database?options."""
    shown = f"{scheme}://.../"  # how a URL that cannot be read is named: never its netloc
    if "#" in rest:
        raise ConfigError(f"database URL {shown}... contains '#', which no database URL uses; {_ENCODING_HINT}")
    netloc, path, query = _split_rest(rest)
    userinfo, at, hostlist = netloc.rpartition("@")
    if not at and _looks_like_cut_password(netloc, path, query):
        raise ConfigError(f"database URL {shown}... cannot be read: its password seems to contain '/' or '?'; {_ENCODING_HINT}")
    user, colon, password = userinfo.partition(":")
    hosts = tuple(_parse_host(h, i, shown) for i, h in enumerate(hostlist.split(","), 1)) if hostlist else ()
    if len(hosts) > 1 and kind != "postgresql":
        raise ConfigError(f"database URL {shown}...: a list of hosts is a PostgreSQL (libpq) feature; give {kind} one host")
    database = _unquote(path.lstrip("/")) or None
    return DatabaseURL(
        kind=kind,
        host=hosts[0][0] or None if hosts else None,
        port=hosts[0][1] if hosts else None,
        user=_unquote(user) if user else None,
        password=_unquote(password) if colon else None,
        database=database,
        query=_query(query, keep_blank=True),
        scheme=scheme,
        hosts=hosts if len(hosts) > 1 else (),
    )


def _split_rest(rest: str) -> tuple[str, str, str]:
    """netloc, path and query of what follows ``scheme://``: the netloc ends at the first '/' or '?'."""
    cut = min((i for i in (rest.find("/"), rest.find("?")) if i >= 0), default=len(rest))
    netloc, tail = rest[:cut], rest[cut:]
    path, _, query = tail.partition("?")
    return netloc, path, query


def _looks_like_cut_password(netloc: str, path: str, query: str) -> bool:
    """True when an unencoded '/' or '?' in a password moved its end (and the host) into the path or query.

    ``user:pa/ss@host/db`` reads as host ``user``, port ``pa``, database ``ss@host/db``. A '@' after the
    netloc in the path, in a query that follows the netloc directly, or in a query item without '=', only
    appears that way.
    """
    if "@" in path or ("@" in query and not path):  # user:pa?ss=x@host/db: the query starts right after the netloc
        return True
    return any("@" in item and "=" not in item for item in query.split("&"))


def _parse_host(text: str, index: int, shown: str) -> tuple[str, int | None]:
    """One ``host[:port]`` (``[v6]:port`` too) of the host list."""
    if text.startswith("["):
        host, bracket, after = text[1:].partition("]")
        if not bracket or (after and not after.startswith(":")):
            raise ConfigError(f"database URL {shown}...: host {index} has an unclosed '[' ; write IPv6 hosts as [::1]:5432")
        port_text = after[1:]
    else:
        host, _, port_text = text.partition(":")
    if not port_text:
        return _unquote(host), None
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        # The port's text is not shown: when a password's ':' or '/' confused the URL, it is part of the password.
        raise ConfigError(f"database URL {shown}...: the port of host {index} is not a number from 1 to 65535; {_ENCODING_HINT}")
    return _unquote(host), int(port_text)


def _parse_sqlite(rest: str, scheme: str) -> DatabaseURL:
    # sqlite:///relative.db -> rest "/relative.db"; sqlite:////abs.db -> rest "//abs.db" (SQLAlchemy's rule).
    path, _, query = rest.partition("?")
    if path.startswith("/"):
        path = path[1:]
    if not path or path == ":memory:":
        path = ":memory:"
    return DatabaseURL(kind="sqlite", database=_unquote(path), query=_query(query), scheme=scheme.lower())


# The password of a URL (scheme://user:PASSWORD@) and the value of a libpq keyword/value ``password=...``,
# quoted or not: what driver messages that echo a connection string may carry. Compiled when first needed
# (re caches them): a start that prints no such message does not pay for compiling them.
_URL_PASSWORD = r"([a-z][a-z0-9+.-]*://[^:/?#@\s'\"]*:)[^\s'\"]*@"
_KEYWORD_PASSWORD = r"\b((?:ssl)?password\s*=\s*)('(?:[^'\\]|\\.)*'|[^\s'&]+)"


def redact_text(text: str) -> str:
    """``text`` with every URL password field and every ``password=`` value replaced by ``***``.

    Structural: only what stands in a password's place is hidden, so the rest of a message is never mangled
    (replacing a password's text everywhere would turn ``127.0.0.1`` into ``***27.0.0.***`` for password 1).
    """
    if "password" not in text.lower() and not _may_hold_url_password(text):
        return text
    import re  # only now: a start that prints no connection string does not import it

    text = re.sub(_KEYWORD_PASSWORD, lambda m: m.group(1) + "***", text, flags=re.IGNORECASE)
    return re.sub(_URL_PASSWORD, lambda m: m.group(1) + "***@", text, flags=re.IGNORECASE)


def _may_hold_url_password(text: str) -> bool:
    """Whether some ``scheme://`` in ``text`` has a ``:`` before the next ``@``: every URL password has (the
    converse need not hold). Checked with str methods so that the start's "database: mysql://root@host/db"
    line does not compile the patterns (~0.8 ms)."""
    start = text.find("://")
    while start != -1:
        at = text.find("@", start + 3)
        if at == -1:
            return False
        if ":" in text[start + 3 : at]:
            return True
        start = text.find("://", start + 3)
    return False


def url_from_env(env: Mapping[str, str]) -> tuple[str, str] | None:
    """The URL named by the environment and where it came from, or None when nothing is configured.

    A variable that is set but empty is refused rather than skipped: docker compose passes an unset
    ``${DATABASE_URL}`` as an empty value, and falling through to the default would migrate the wrong database.
    """
    for name in ("DATABASE_URL", "MYSQL_HOST", "PGHOST"):
        if name in env and not env[name].strip():
            raise ConfigError(f"{name} is set but empty (compose passes an unset ${{{name}}} that way): set it, or unset it")
    if env.get("DATABASE_URL"):
        return env["DATABASE_URL"], "DATABASE_URL"
    if any(env.get(k) for k in ("MYSQL_HOST", "MYSQL_DATABASE")):
        return _compose("mysql", env, "MYSQL_", 3306), "MYSQL_* variables"
    if any(env.get(k) for k in ("PGHOST", "PGDATABASE")):
        if not env.get("PGDATABASE"):
            # libpq would quietly use a database named like the user (postgres): never the one meant.
            raise ConfigError("PGHOST is set but PGDATABASE is not: set PGDATABASE to the database to migrate")
        return _compose("postgresql", env, "PG", 5432), "PG* variables"
    return None


def _compose(scheme: str, env: Mapping[str, str], prefix: str, default_port: int) -> str:
    user = env.get(f"{prefix}USER") or ("root" if scheme == "mysql" else "")
    password = env.get(f"{prefix}PASSWORD")
    host = env.get(f"{prefix}HOST") or "127.0.0.1"
    port = env.get(f"{prefix}PORT") or str(default_port)
    database = env.get(f"{prefix}DATABASE") or ""
    auth = _quote(user)
    if password:
        auth += ":" + _quote(password)
    if ":" in host:
        host = f"[{host}]"
    at = "@" if auth else ""
    return f"{scheme}://{auth}{at}{host}:{port}/{_quote(database)}"


# urllib.parse (with ipaddress) is ~5 ms of a start, and most URLs have nothing to decode, encode or split:
# these three import it only for a text that needs it, and give what it would give.
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-~")


def _unquote(text: str) -> str:
    """``urllib.parse.unquote(text)``."""
    if "%" not in text:
        return text
    from urllib.parse import unquote

    return unquote(text)


def _quote(text: str) -> str:
    """``urllib.parse.quote(text, safe="")``."""
    if _UNRESERVED.issuperset(text):
        return text
    from urllib.parse import quote

    return quote(text, safe="")


def _query(text: str, *, keep_blank: bool = False) -> tuple[tuple[str, str], ...]:
    """``tuple(urllib.parse.parse_qsl(text, keep_blank_values=keep_blank))``."""
    if not text:
        return ()
    from urllib.parse import parse_qsl

    return tuple(parse_qsl(text, keep_blank_values=keep_blank))


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
    if url is not None:
        return parse_url(url), "--database-url"
    found = url_from_env(os.environ if env is None else env) or configured
    if found:
        return parse_url(found[0]), found[1]
    return parse_url(DEFAULT_URL), "the embedded default (set DATABASE_URL to use MySQL or PostgreSQL)"
