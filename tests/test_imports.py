"""The shape of sqlrun's imports: no module imports one that imports it back, and importing stays light."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "sqlrun"


def module_name(path: Path) -> str:
    """``sqlrun/dialects/base.py`` -> ``sqlrun.dialects.base``; a package's ``__init__.py`` -> the package."""
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    """Every module of sqlrun by dotted name."""
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def import_nodes(tree: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    """Every import statement: at module level, inside a function, and under TYPE_CHECKING too.

    An import only a type checker follows still ties the two modules together: report.py naming
    runner.ScriptResult under TYPE_CHECKING, while runner.py imported report.py, was the circle model.py broke.
    """
    return [n for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom))]


def targets(name: str, node: ast.Import | ast.ImportFrom, known: dict[str, Path]) -> set[str]:
    """The sqlrun modules one import statement in module ``name`` loads (a parent package's implicit import aside)."""
    if isinstance(node, ast.Import):
        return {a.name for a in node.names if a.name in known}
    package = name if known[name].name == "__init__.py" else name.rpartition(".")[0]
    if node.level:
        base = package
        for _ in range(node.level - 1):
            base = base.rpartition(".")[0]
        base = f"{base}.{node.module}" if node.module else base
    else:
        base = node.module or ""
    found = set()
    for alias in node.names:
        # "from . import runner" names a module; "from . import __version__" names the package's attribute.
        found.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base)
    return found & set(known)


def import_graph() -> dict[str, set[str]]:
    """Module -> the sqlrun modules it imports, read from the source."""
    known = modules()
    graph: dict[str, set[str]] = {}
    for name, path in known.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        graph[name] = set().union(*(targets(name, n, known) for n in import_nodes(tree))) - {name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every import circle, each as one path that comes back to where it started."""
    found = []
    for start in sorted(graph):
        stack = [(start, [start])]
        seen = set()
        while stack:
            node, path = stack.pop()
            for nxt in sorted(graph[node]):
                if nxt == start:
                    found.append([*path, start])
                elif nxt not in seen and nxt > start:  # each circle once, from its smallest name
                    seen.add(nxt)
                    stack.append((nxt, [*path, nxt]))
    return found


def test_the_graph_sees_the_imports_it_must() -> None:
    graph = import_graph()
    assert {"sqlrun.errors", "sqlrun.model", "sqlrun.report", "sqlrun.dialects"} <= graph["sqlrun.runner"]
    assert "sqlrun" in graph["sqlrun.arguments"]  # from . import __version__
    assert "sqlrun.runner" in graph["sqlrun"]  # imported inside apply(): still an edge
    assert "sqlrun.splitter.postgresql" in graph["sqlrun.dialects.postgresql"]
    assert "sqlrun.model" in graph["sqlrun.report"]  # under TYPE_CHECKING


def test_the_cycle_finder_finds_a_circle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c", "a"]]
    assert cycles({"a": {"b"}, "b": {"a"}}) == [["a", "b", "a"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_module_imports_one_that_imports_it_back() -> None:
    assert cycles(import_graph()) == []


def test_the_circle_model_py_broke_would_be_found(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    package = tmp_path / "sqlrun"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "report.py").write_text("TYPE_CHECKING = False\nif TYPE_CHECKING:\n    from .runner import ScriptResult\n")
    (package / "runner.py").write_text("from .report import Reporter\n")
    monkeypatch.setattr(sys.modules[__name__], "PACKAGE", package)
    assert cycles(import_graph()) == [["sqlrun.report", "sqlrun.runner", "sqlrun.report"]]


LOADED = "import sys; before = set(sys.modules); {code}; print(json.dumps(sorted(set(sys.modules) - before)))"


def loaded_by(code: str) -> set[str]:
    """The modules a fresh interpreter loads to run ``code``."""
    script = "import json; " + LOADED.format(code=code)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return set(json.loads(result.stdout))


# Drivers, and the standard modules a start pays for (each costs milliseconds: see docs/benchmarks.md).
HEAVY = {"pymysql", "psycopg", "sqlite3", "dotenv", "ssl", "argparse", "dataclasses", "inspect", "typing", "logging", "pathlib", "re", "threading"}


def test_import_sqlrun_loads_only_its_errors() -> None:
    loaded = loaded_by("import sqlrun")
    assert {m for m in loaded if m.startswith("sqlrun")} == {"sqlrun", "sqlrun.errors"}
    assert not loaded & HEAVY, loaded & HEAVY


@pytest.mark.parametrize("dialect, other", [("sqlite", "mysql"), ("mysql", "postgresql"), ("postgresql", "sqlite")])
def test_splitting_loads_only_the_lexer_asked_for(dialect: str, other: str) -> None:
    loaded = loaded_by(f"import sqlrun; sqlrun.split('SELECT 1;', {dialect!r})")
    assert f"sqlrun.splitter.{dialect}" in loaded
    assert f"sqlrun.splitter.{other}" not in loaded
    assert not loaded & {"pymysql", "psycopg", "sqlite3", "argparse", "sqlrun.runner", "sqlrun.dialects"}


def test_the_dialect_registry_loads_no_driver_until_a_database_is_opened() -> None:
    loaded = loaded_by("import sqlrun.dialects")
    assert not loaded & {"pymysql", "psycopg", "sqlite3"}, loaded


def test_a_run_without_errors_loads_no_tolerance_machinery(tmp_path: Path) -> None:
    # The runner asks before every ALTER and CREATE whether it adds an unnamed object; hearing "no" must
    # not import the lexers, the catalog readers or logging (the console reporter never logs).
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "001_t.sql").write_text("CREATE TABLE t (id INTEGER PRIMARY KEY);\nCREATE INDEX t_id ON t (id);\nALTER TABLE t ADD COLUMN n INTEGER;\n")
    url = f"sqlite:///{tmp_path / 'app.db'}"
    quiet = "import contextlib, io; out = contextlib.redirect_stdout(io.StringIO()); out.__enter__()"
    run = f"from sqlrun.cli import main; main(['-q', '--database-url', {url!r}, '--dir', {str(folder)!r}])"
    loaded = loaded_by(f"{quiet}; {run}; out.__exit__(None, None, None)")
    assert {"sqlrun.runner", "sqlrun.tolerance"} <= loaded
    assert not loaded & {"sqlrun.intent", "sqlrun.equivalent", "sqlrun.snapshot", "logging", "typing"}, loaded


def test_a_run_with_nothing_pending_loads_no_apply_machinery(tmp_path: Path) -> None:
    # Every container start is such a run (`python init_db.py`, DATABASE_URL set): what it loads is paid
    # each time (docs/benchmarks.md, start-up).
    import sqlrun

    folder = tmp_path / "data" / "migrations"
    folder.mkdir(parents=True)
    (folder / "001_t.sql").write_text("CREATE TABLE t (id INTEGER PRIMARY KEY);\nCREATE INDEX t_id ON t (id);\n")
    url = f"sqlite:///{tmp_path / 'app.db'}"
    assert sqlrun.apply(url, folder).applied == 1
    setup = f"import os; os.chdir({str(tmp_path)!r}); os.environ['DATABASE_URL'] = {url!r}"
    quiet = "import contextlib, io; out = contextlib.redirect_stdout(io.StringIO()); out.__enter__()"
    run = "from sqlrun.cli import main; code = main([])"
    loaded = loaded_by(f"{setup}; {quiet}; {run}; out.__exit__(None, None, None); assert code == 0")
    assert {"sqlrun.runner", "sqlrun.plan", "sqlite3"} <= loaded
    apply_path = {"sqlrun.execute", "sqlrun.tolerance", "sqlrun.sqltext", "sqlrun.locking", "sqlrun.waits", "sqlrun.splitter"}
    unwanted = apply_path | {"urllib.parse", "hashlib", "enum"} | HEAVY - {"sqlite3"}
    assert not loaded & unwanted, loaded & unwanted


def test_a_mariadb_start_with_nothing_pending_loads_no_idna_codec(tmp_path: Path) -> None:
    # pymysql hands socket.getaddrinfo the host as str, which imports the "idna" codec (~2 ms of every start);
    # sqlrun opens the socket with the host as bytes. The redaction patterns are not compiled either.
    import sqlrun
    from conftest import make_database

    for database in make_database("mysql", tmp_path):
        folder = tmp_path / "data" / "migrations"
        folder.mkdir(parents=True)
        (folder / "001_t.sql").write_text("CREATE TABLE t (id INTEGER PRIMARY KEY);\n")
        assert sqlrun.apply(database.url, folder).applied == 1
        setup = f"import os; os.chdir({str(tmp_path)!r}); os.environ['DATABASE_URL'] = {database.url!r}"
        quiet = "import contextlib, io; out = contextlib.redirect_stdout(io.StringIO()); out.__enter__()"
        run = "from sqlrun.cli import main; code = main([])"
        loaded = loaded_by(f"{setup}; {quiet}; {run}; out.__exit__(None, None, None); assert code == 0")
        assert {"pymysql", "sqlrun.plan"} <= loaded
        assert not loaded & {"encodings.idna", "stringprep", "unicodedata", "sqlrun.execute"}, loaded & {"encodings.idna", "stringprep", "unicodedata", "sqlrun.execute"}
