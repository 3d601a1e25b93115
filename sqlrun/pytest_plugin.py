"""A migrated database for every test suite: pytest fixtures, enabled by installing sqlrun (entry point pytest11).

``sqlrun_database`` (session): a scratch database with the project's migrations applied once; its URL.
``sqlrun_clean_database`` (function): a fresh migrated copy for one test alone, dropped by the session's end; its URL.

The server comes from ``--sqlrun-url`` or ``SQLRUN_TEST_URL`` (a URL whose database part is only a name
prefix); without either, a temporary SQLite file. The scripts come from ``--sqlrun-dir``, the ini option
``sqlrun_dir``, or ``data/migrations``. Under pytest-xdist every worker builds its own databases.
Nothing heavy is imported until a fixture is used: the plugin loads in every pytest run of every project
that has sqlrun installed.
"""

from __future__ import annotations

import os
import uuid

import pytest

TYPE_CHECKING = False

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from .config import DatabaseURL
    from .scratch import CopyPool

ENV_URL = "SQLRUN_TEST_URL"
DEFAULT_DIR = "data/migrations"


def pytest_addoption(parser: pytest.Parser) -> None:
    """--sqlrun-url, --sqlrun-dir and the ini option sqlrun_dir."""
    group = parser.getgroup("sqlrun", "sqlrun: migrated test databases")
    group.addoption("--sqlrun-url", default=None, help=f"server for test databases (default: ${ENV_URL}, else a SQLite file)")
    group.addoption("--sqlrun-dir", default=None, help=f"migrations directory (default: ini sqlrun_dir, else {DEFAULT_DIR})")
    parser.addini("sqlrun_dir", f"migrations directory for the sqlrun fixtures (default {DEFAULT_DIR})", default=DEFAULT_DIR)


class _Template:
    """The session's pristine migrated database, which every test database is copied from."""

    def __init__(self, config: pytest.Config, workdir: Path, *, copies_wanted: bool = False) -> None:
        from .config import parse_url

        text = config.getoption("sqlrun_url") or os.environ.get(ENV_URL) or ""
        self.server = parse_url(text) if text.strip() else None
        self.workdir = workdir
        # Server-side names: <prefix>_<worker>_<random>, so that parallel workers and runs never meet.
        worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        self.prefix = f"{(self.server.database if self.server and self.server.database else 'sqlrun')}_{worker}"
        self.directory = config.getoption("sqlrun_dir") or config.getini("sqlrun_dir") or DEFAULT_DIR
        self.made: list[DatabaseURL] = []
        self.source = self.fresh_url("tpl")
        from .scratch import Copier

        self.copier = Copier(self.source)
        self._migrate(self.source)
        self._pool: CopyPool | None = None
        if copies_wanted and self.source.kind == "postgresql":  # start now: the first test should find a copy ready
            self._start_pool()

    def fresh_url(self, tag: str) -> DatabaseURL:
        """A URL for a database that does not exist yet."""
        from .config import parse_url

        name = f"{self.prefix}_{tag}_{uuid.uuid4().hex[:8]}"
        if self.server is None:
            return parse_url(f"sqlite:///{self.workdir / (name + '.db')}")
        return self.server.with_database(name)

    def _migrate(self, url: DatabaseURL) -> None:
        from . import SqlrunError, apply
        from .scratch import url_text

        self.made.append(url)
        try:
            apply(url_text(url), self.directory)
            return
        except SqlrunError as exc:  # the script's own message (file:line) says it all; a traceback would not
            failure = f"sqlrun could not migrate the test database from {self.directory}: {exc}"
        pytest.fail(failure, pytrace=False)

    def copy(self, tag: str) -> DatabaseURL:
        """A new migrated database (a copy of the template)."""
        target = self.fresh_url(tag)
        self.made.append(target)
        return self.copier.copy(target.database or "")

    def drop(self, url: DatabaseURL) -> None:
        """Drop one database this template made."""
        self.copier.drop(url)
        self.made.remove(url)

    def clean(self) -> DatabaseURL:
        """A fresh copy for one test: on PostgreSQL one made ahead by background threads (scratch.CopyPool)."""
        if self.source.kind != "postgresql":
            return self.copy("test")
        return self._start_pool().take()

    def _start_pool(self) -> CopyPool:
        """The PostgreSQL copy pool, started on first use."""
        if self._pool is None:
            from .scratch import CopyPool

            # pytest-xdist's workers each run a pool against the same server's shared buffers.
            share = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
            budget = CopyPool.budget_for(self.source, share=share)
            self._pool = CopyPool(self.source, lambda: f"{self.prefix}_test_{uuid.uuid4().hex[:8]}", budget=budget)
        return self._pool

    def discard(self, url: DatabaseURL) -> None:
        """Drop a test's copy (with a later batch, on PostgreSQL)."""
        if self._pool is not None and url not in self.made:
            self._pool.give_back(url)
        else:
            self.drop(url)

    def close(self) -> None:
        """Drop every database still standing, then close the admin connection."""
        try:
            if self._pool is not None:
                self._pool.close()
            for url in list(reversed(self.made)):
                self.drop(url)
        finally:
            self.copier.close()


@pytest.fixture(scope="session")
def _sqlrun_template(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[_Template]:
    wanted = any("sqlrun_clean_database" in getattr(item, "fixturenames", ()) for item in request.session.items)
    template = _Template(request.config, tmp_path_factory.mktemp("sqlrun"), copies_wanted=wanted)
    try:
        yield template
    finally:
        template.close()


@pytest.fixture(scope="session")
def sqlrun_database(_sqlrun_template: _Template) -> str:
    """URL of a database with the project's migrations applied, shared by the whole session (or xdist worker)."""
    from .scratch import url_text

    return url_text(_sqlrun_template.copy("session"))


@pytest.fixture
def sqlrun_clean_database(_sqlrun_template: _Template) -> Iterator[str]:
    """URL of a fresh migrated database for this test alone (dropped after it, or on PostgreSQL with a later batch)."""
    from .scratch import url_text

    url = _sqlrun_template.clean()
    try:
        yield url_text(url)
    finally:
        _sqlrun_template.discard(url)
