"""Real-world schemas nobody here wrote, fetched from Debian 12 packages at test time (never committed).

Each corpus is an install script, optionally followed by its upgrade files in version order, turned into a
folder of numbered scripts. Packages are fetched with ``apt-get download`` and unpacked with ``dpkg -x`` into
a cache outside the repository (``SQLRUN_CORPORA_CACHE``, default ``~/.cache/sqlrun-corpora``), once.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

CACHE = Path(os.environ.get("SQLRUN_CORPORA_CACHE") or Path.home() / ".cache" / "sqlrun-corpora")


@dataclass(frozen=True)
class Corpus:
    """An install script and the upgrade files after it, from one Debian package, for one database."""

    name: str
    kind: str  # sqlite, mysql or postgresql
    package: str
    install: str  # path inside the package
    upgrades: str = ""  # a folder inside the package whose *.sql files follow, in version order
    upgrades_from: str = ""  # the first upgrade version that applies on top of the install script
    features: tuple[str, ...] = ()  # what makes it worth having: delimiter, dollar-quotes, pragmas, ...
    volatile: tuple[str, ...] = ()  # "table.column" whose value differs between any two builds (a clock read)

    def __str__(self) -> str:
        return self.name


ICINGA_MY = "usr/share/icinga2-ido-mysql/schema"
ICINGA_PG = "usr/share/icinga2-ido-pgsql/schema"
PDNS = "usr/share/pdns-backend-{}/schema"
ICINGADB_CLOCK = ("icingadb_schema.timestamp",)  # UNIX_TIMESTAMP() * 1000 when the schema was installed
CORPORA = (
    # a monitoring product: DELIMITER procedures in its upgrade series, which from 2.8.1 on is re-runnable
    Corpus("icinga2-ido-mysql", "mysql", "icinga2-ido-mysql", f"{ICINGA_MY}/mysql.sql", f"{ICINGA_MY}/upgrade", "2.8.1", ("delimiter", "upgrades")),
    Corpus("icinga2-ido-pgsql", "postgresql", "icinga2-ido-pgsql", f"{ICINGA_PG}/pgsql.sql", features=("dollar-quotes",)),
    # its successor: triggers with end;$$ inside DELIMITER, and an upgrade series
    Corpus("icingadb-mysql", "mysql", "icingadb", "usr/share/icingadb/schema/mysql/schema.sql", features=("delimiter",), volatile=ICINGADB_CLOCK),
    Corpus("icingadb-pgsql", "postgresql", "icingadb", "usr/share/icingadb/schema/pgsql/schema.sql", features=("dollar-quotes",), volatile=ICINGADB_CLOCK),
    Corpus("ejabberd-mysql", "mysql", "ejabberd", "usr/share/ejabberd/sql/mysql.sql"),
    Corpus("ejabberd-pg", "postgresql", "ejabberd", "usr/share/ejabberd/sql/pg.sql"),
    Corpus("ejabberd-lite", "sqlite", "ejabberd", "usr/share/ejabberd/sql/lite.sql"),
    Corpus("pdns-mysql", "mysql", "pdns-backend-mysql", f"{PDNS.format('mysql')}/schema.mysql.sql"),
    Corpus("pdns-pgsql", "postgresql", "pdns-backend-pgsql", f"{PDNS.format('pgsql')}/schema.pgsql.sql"),
    Corpus("pdns-sqlite3", "sqlite", "pdns-backend-sqlite3", f"{PDNS.format('sqlite3')}/schema.sqlite3.sql"),
    # a backup system: its SQLite schema ends with PRAGMA synchronous = NORMAL
    Corpus("bacula-sqlite3", "sqlite", "bacula-director-sqlite3", "usr/share/dbconfig-common/data/bacula-director-sqlite3/install/sqlite3", features=("pragmas",)),
    Corpus("bacula-mysql", "mysql", "bacula-director-mysql", "usr/share/dbconfig-common/data/bacula-director-mysql/install/mysql"),
    Corpus("bacula-pgsql", "postgresql", "bacula-director-pgsql", "usr/share/dbconfig-common/data/bacula-director-pgsql/install/pgsql"),
    Corpus("tt-rss-mysql", "mysql", "tt-rss", "usr/share/tt-rss/schema/ttrss_schema_mysql.sql"),
    Corpus("tt-rss-pgsql", "postgresql", "tt-rss", "usr/share/tt-rss/schema/ttrss_schema_pgsql.sql"),
    Corpus("spamassassin-awl-pg", "postgresql", "spamassassin", "usr/share/doc/spamassassin/sql/awl_pg.sql", features=("dollar-quotes",)),
    Corpus("spamassassin-txrep-mysql", "mysql", "spamassassin", "usr/share/doc/spamassassin/sql/txrep_mysql.sql"),
    Corpus("spamassassin-txrep-sqlite", "sqlite", "spamassassin", "usr/share/doc/spamassassin/sql/txrep_sqlite.sql"),
)


class Unavailable(Exception):
    """The package could not be fetched (offline, no apt): the corpus cannot be built here."""


def package_root(package: str) -> Path:
    """The unpacked package, fetched and unpacked into the cache the first time."""
    root = CACHE / package
    if (root / ".complete").exists():
        return root
    for tool in ("apt-get", "dpkg"):
        if shutil.which(tool) is None:
            raise Unavailable(f"{tool} is not installed: the corpora come from Debian packages")
    CACHE.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=CACHE) as tmp:
        got = subprocess.run(["apt-get", "download", "-q", package], cwd=tmp, capture_output=True, text=True, timeout=600)
        debs = list(Path(tmp).glob("*.deb"))
        if got.returncode != 0 or not debs:
            raise Unavailable(f"apt-get download {package} failed: {got.stderr.strip()[-400:]}")
        unpacked = Path(tmp) / "root"
        subprocess.run(["dpkg", "-x", str(debs[0]), str(unpacked)], check=True, timeout=600)
        (unpacked / ".complete").write_text(debs[0].name + "\n")
        shutil.rmtree(root, ignore_errors=True)
        unpacked.rename(root)  # atomic: a concurrent or interrupted fetch never leaves half a package behind
    return root


def version_key(name: str) -> tuple[int, ...]:
    """2.8.1.sql -> (2, 8, 1): upgrade files in version order (as ``sort -V`` would)."""
    return tuple(int(n) for n in re.findall(r"\d+", name))


def files(corpus: Corpus) -> list[Path]:
    """The corpus's scripts in the order they apply: the install script, then the upgrades."""
    root = package_root(corpus.package)
    out = [root / corpus.install]
    if corpus.upgrades:
        first = version_key(corpus.upgrades_from)
        upgrades = [p for p in (root / corpus.upgrades).glob("*.sql") if version_key(p.name) >= first]
        out += sorted(upgrades, key=lambda p: version_key(p.name))
    return out


def migrations(corpus: Corpus, folder: Path) -> Path:
    """Write the corpus as numbered scripts into ``folder`` (created) and return it."""
    folder.mkdir(parents=True, exist_ok=True)
    for number, path in enumerate(files(corpus), start=1):
        stem = "install" if number == 1 else "upgrade_" + re.sub(r"\W+", "_", path.stem)
        shutil.copyfile(path, folder / f"{number:03d}_{stem}.sql")
    return folder
