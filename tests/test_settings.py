"""Settings in pyproject.toml ([tool.sqlrun]) or sqlrun.toml: each key, precedence, and unknown keys."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import TempDatabase

SCRIPTS = {
    "001_a.sql": "CREATE TABLE a (x INT);\n",
    "002_b.sql": "CREATE TABLE b (x INT);\n",
}


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project folder as the working directory, its scripts in db/migrations (not the default folder)."""
    root = tmp_path / "project"
    (root / "db" / "migrations").mkdir(parents=True)
    for name, body in SCRIPTS.items():
        (root / "db" / "migrations" / name).write_text(body)
    monkeypatch.chdir(root)
    for var in ("DATABASE_URL", "MYSQL_HOST", "MYSQL_DATABASE", "PGHOST", "PGDATABASE"):
        monkeypatch.delenv(var, raising=False)
    return root


def _pyproject(root: Path, body: str) -> None:
    (root / "pyproject.toml").write_text(f'[project]\nname = "app"\n\n[tool.sqlrun]\n{body}\n')


def _applied(db: TempDatabase) -> list[int]:
    return [row[0] for row in db.query("SELECT version FROM sqlrun_history ORDER BY version")]


def test_database_url_and_directory_come_from_pyproject(db: TempDatabase, project: Path, cli) -> None:
    """With only settings, the run goes to the settings' database and reads the settings' folder."""
    _pyproject(project, f'database_url = "{db.url}"\ndirectory = "db/migrations"')
    done = cli()
    assert done.code == 0, done.text
    assert "[tool.sqlrun]" in done.out  # the database line names where the URL came from
    assert _applied(db) == [1, 2]


def test_directory_is_relative_to_the_settings_file_not_the_working_directory(
    db: TempDatabase, project: Path, cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    _pyproject(project, f'database_url = "{db.url}"\ndirectory = "db/migrations"')
    (project / "src").mkdir()
    monkeypatch.chdir(project / "src")
    assert cli().code == 0
    assert _applied(db) == [1, 2]


def test_sqlrun_toml_is_read_when_there_is_no_pyproject_table(db: TempDatabase, project: Path, cli) -> None:
    (project / "sqlrun.toml").write_text(f'database_url = "{db.url}"\ndirectory = "db/migrations"\ntarget = 1\n')
    assert cli().code == 0
    assert _applied(db) == [1]


def test_the_command_line_beats_the_environment_beats_the_file(
    db: TempDatabase, project: Path, cli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """--database-url > DATABASE_URL > database_url in the file; --target 2 beats target = 1."""
    unused = tmp_path / "unused.db"
    _pyproject(project, f'database_url = "sqlite:///{unused}"\ndirectory = "db/migrations"\ntarget = 1')
    monkeypatch.setenv("DATABASE_URL", db.url)
    done = cli()
    assert done.code == 0 and "from DATABASE_URL" in done.out
    assert _applied(db) == [1]
    assert not unused.exists()
    other = tmp_path / "other.db"
    done = cli("--database-url", f"sqlite:///{other}", "--target", "2")
    assert done.code == 0 and "from --database-url" in done.out
    assert other.exists() and _applied(db) == [1]


def test_a_command_line_value_equal_to_the_default_still_beats_the_file(db: TempDatabase, project: Path, cli) -> None:
    """--lock-timeout 3600 (the built-in default) given on the command line wins over lock_timeout = 5."""
    _pyproject(project, f'database_url = "{db.url}"\ndirectory = "db/migrations"\nlock_timeout = 5')
    done = cli("-v", "--lock-timeout", "3600")
    assert done.code == 0
    assert "lock_timeout=3600.0 (command line)" in done.out


def test_verbose_says_where_each_setting_came_from(db: TempDatabase, project: Path, cli) -> None:
    _pyproject(project, f'database_url = "{db.url}"\ndirectory = "db/migrations"\nwait = 2.5\nstrict = true')
    done = cli("-v", "--lock-timeout", "60")
    assert done.code == 0, done.text
    settings_line = next(line for line in done.out.splitlines() if line.startswith("settings: "))
    label = f"{project / 'pyproject.toml'} [tool.sqlrun]"
    assert f"wait=2.5 ({label})" in settings_line
    assert f"strict=True ({label})" in settings_line
    assert "lock_timeout=60.0 (command line)" in settings_line
    assert "quiet=False (default)" in settings_line


def test_flag_settings_behave_as_their_options(db: TempDatabase, project: Path, cli) -> None:
    """dry_run = true changes nothing; json = true prints JSON; create_database = false refuses a missing one."""
    _pyproject(project, f'database_url = "{db.url}"\ndirectory = "db/migrations"\ndry_run = true\njson = true')
    done = cli()
    assert done.code == 0, done.text
    assert json.loads(done.out)["dry_run"] is True
    assert "sqlrun_history" not in db.tables()


def test_create_database_false_is_no_create_database(project: Path, cli, tmp_path: Path) -> None:
    missing = tmp_path / "missing.db"
    _pyproject(project, f'database_url = "sqlite:///{missing}"\ndirectory = "db/migrations"\ncreate_database = false')
    done = cli()
    assert done.code == 4
    assert not missing.exists()


def test_an_unknown_key_is_exit_2_naming_it_and_the_likely_one(project: Path, cli) -> None:
    _pyproject(project, 'directory = "db/migrations"\nlock_timout = 30')
    done = cli("status")
    assert done.code == 2
    assert "unknown setting 'lock_timout'" in done.err and "did you mean 'lock_timeout'" in done.err
    assert "pyproject.toml [tool.sqlrun]" in done.err


@pytest.mark.parametrize(
    "line, says",
    [
        ('wait = "soon"', "wait = 'soon'"),
        ("strict = 1", "strict must be true or false"),
        ("directory = 7", "directory must be a string"),
        ("database_url = 5", "database_url must be a string"),
        ("target = true", "target must be a whole number"),
    ],
)
def test_a_value_of_the_wrong_type_is_exit_2(project: Path, cli, line: str, says: str) -> None:
    _pyproject(project, line)
    done = cli("status")
    assert done.code == 2
    assert says in done.err


def test_a_broken_settings_file_is_exit_2_naming_the_file(project: Path, cli) -> None:
    (project / "pyproject.toml").write_text("[tool.sqlrun]\ndirectory = \n")
    done = cli("status")
    assert done.code == 2
    assert "pyproject.toml: cannot read the settings" in done.err


@pytest.mark.parametrize("pyproject", [
    '[project]\nname = "app"\n',
    '[project]\nname = "app"\ndependencies = ["sqlrun>=1"]\n\n[tool.poetry.dependencies]\nsqlrun = "^1"\n',  # only depends on it
])
def test_a_pyproject_without_the_table_is_not_a_settings_file(project: Path, cli, tmp_path: Path, pyproject: str) -> None:
    """A parent's sqlrun.toml is found when the nearer pyproject.toml has no [tool.sqlrun]."""
    (project / "pyproject.toml").write_text(pyproject)
    db_file = tmp_path / "from_parent.db"
    (project.parent / "sqlrun.toml").write_text(f'database_url = "sqlite:///{db_file}"\ndirectory = "project/db/migrations"\n')
    done = cli()
    assert done.code == 0, done.text
    assert db_file.exists()


SPELLINGS = {  # pyproject.toml texts, and whether tomllib finds tool.sqlrun in them
    '[tool.sqlrun]\ndirectory = "db"\n': True,
    '[ tool . "sqlrun" ]\ndirectory = "db"\n': True,
    "[tool.'sqlrun']  # ours\ndirectory = 'db'\n": True,
    '[tool]\nsqlrun.directory = "db"\n': True,
    '[tool]\n"sqlrun" = { directory = "db" }\n': True,
    'tool.sqlrun.directory = "db"\n[project]\nname = "a"\n': True,
    'tool = { sqlrun = { directory = "db" } }\n': True,
    '[[tool.sqlrun]]\ndirectory = "db"\n': True,
    '[tool.sqlrun.extra]\nx = 1\n': True,
    '[tool]\nx = [\n  ["a", "b"],\n]\nsqlrun.directory = "db"\n': True,
    '[project]\ndependencies = [\n  "sqlrun>=1.0",\n  "sqlrun[extra] ; python_version >= \'3.11\'",\n]\n': False,
    '[project]\ndependencies = ["sqlrun"]\n': False,
    '[tool.poetry.dependencies]\nsqlrun = "^1.0"\n': False,
    '[tool.uv.sources]\nsqlrun = { path = "../sqlrun" }\n': False,
    '[tool.other]\nnote = "not [tool.sqlrun] at all"\n': False,
    '[project]\nname = "app"\n': False,
}


@pytest.mark.parametrize("text", list(SPELLINGS))
def test_the_cheap_look_never_misses_a_table_tomllib_finds(text: str) -> None:
    # Before parsing pyproject.toml (tomllib costs a start ~20 ms), settings.may_hold_table looks at it line by
    # line: it may say yes to a file without the table (tomllib then decides), never no to one with it.
    import tomllib

    from sqlrun.settings import may_hold_table

    tool = tomllib.loads(text).get("tool", {})
    assert ("sqlrun" in tool) == SPELLINGS[text]  # the table of expectations is itself right
    if SPELLINGS[text]:
        assert may_hold_table(text)
    elif "[tool.sqlrun]" not in text:
        assert not may_hold_table(text)  # a project that merely depends on sqlrun does not pay for tomllib


def test_a_table_spelled_otherwise_is_read(db: TempDatabase, project: Path, cli) -> None:
    (project / "pyproject.toml").write_text(f'[project]\nname = "app"\n\n[ tool ]\nsqlrun.database_url = "{db.url}"\nsqlrun.directory = "db/migrations"\n')
    done = cli()
    assert done.code == 0, done.text
    assert _applied(db) == [1, 2]
