"""Database URLs: structural parsing and redaction, multi-host libpq URLs, empty or stray configuration."""

from __future__ import annotations

import uuid
from pathlib import Path
from urllib.parse import quote

import pytest

import subproc
from conftest import TempDatabase, admin, require, server_url
from sqlrun.config import parse_url, redact_text, url_from_env
from sqlrun.errors import ConfigError

A = "CREATE TABLE a (id INTEGER PRIMARY KEY);\nINSERT INTO a (id) VALUES (1);\n"
SECRET = "Zq9secretVx"  # distinctive: any piece of it in the output is a leak


# --- parsing ------------------------------------------------------------------------------------------


def test_a_multi_host_url_keeps_every_host_and_its_options() -> None:
    url = parse_url("postgresql://u@h1:5432,h2:5433,[::1]/app?target_session_attrs=read-write")
    assert url.hosts == (("h1", 5432), ("h2", 5433), ("::1", None))
    assert (url.host, url.port, url.database, url.user) == ("h1", 5432, "app", "u")
    assert url.options == {"target_session_attrs": "read-write"}
    assert url.redacted() == "postgresql://u@h1:5432,h2:5433,[::1]/app?target_session_attrs=read-write"


def test_a_multi_host_url_reaches_libpq_as_host_and_port_lists() -> None:
    from sqlrun.dialects.postgresql import connect_kwargs

    kwargs = connect_kwargs(parse_url("postgresql://u:pw@h1:5432,h2/app?target_session_attrs=read-write"))
    assert kwargs["host"] == "h1,h2" and kwargs["port"] == "5432,"  # an empty port is libpq's default
    assert kwargs["password"] == "pw" and kwargs["target_session_attrs"] == "read-write"


def test_mysql_refuses_a_list_of_hosts() -> None:
    with pytest.raises(ConfigError, match="one host"):
        parse_url("mysql://root@h1:3306,h2:3306/app")


@pytest.mark.parametrize("password", ["p@ss", "a:b", "sp ace", "ü/?#"])
def test_percent_encoded_passwords_round_trip(password: str) -> None:
    url = parse_url(f"postgresql://app:{quote(password, safe='')}@db:5432/app")
    assert url.password == password and url.host == "db" and url.port == 5432
    assert url.redacted() == "postgresql://app:***@db:5432/app"


@pytest.mark.parametrize("cut", ["/", "?", "#", "?x=", "/1"])
def test_an_unencoded_delimiter_in_a_password_is_refused_without_showing_any_of_it(cut: str) -> None:
    raw = f"postgresql://appuser:{SECRET[:5]}{cut}{SECRET[5:]}@dbhost:5432/app"
    with pytest.raises(ConfigError) as caught:
        parse_url(raw)
    message = str(caught.value)
    assert "percent-encode" in message
    for piece in (SECRET[:5], SECRET[5:], "appuser", "dbhost"):
        assert piece not in message


def test_a_bad_port_is_reported_without_the_netloc() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_url(f"mysql://appuser:{SECRET}@dbhost:99999/app")
    assert "port of host 1" in str(caught.value)
    assert SECRET not in str(caught.value) and "dbhost" not in str(caught.value)


def test_surrounding_whitespace_is_stripped() -> None:
    assert parse_url(" sqlite:///app.db\n").database == "app.db"
    assert parse_url("\tpostgresql://u@h/app\r\n").database == "app"


def test_an_application_name_with_an_at_sign_is_an_option_not_a_password() -> None:
    url = parse_url("postgresql://h:5432/db?application_name=deploy@ci")
    assert url.host == "h" and url.options == {"application_name": "deploy@ci"} and url.password is None


# --- redaction ----------------------------------------------------------------------------------------


def test_redact_text_hides_password_fields_only() -> None:
    text = (
        "cannot connect to postgresql://postgres:1@127.0.0.1:5432/rt_pw1 (SQLSTATE 42601); "
        "dsn: host=127.0.0.1 password=1 dbname=x; quoted: password='a b\\' c' port=1"
    )
    assert redact_text(text) == (
        "cannot connect to postgresql://postgres:***@127.0.0.1:5432/rt_pw1 (SQLSTATE 42601); "
        "dsn: host=127.0.0.1 password=*** dbname=x; quoted: password=*** port=1"
    )


def test_redact_text_leaves_text_without_passwords_alone() -> None:
    text = "applied 001_q.sql: 1 statement, 10 ms; mysql://root@127.0.0.1:3306/app (using password: YES)"
    assert redact_text(text) == text


def test_the_str_precheck_never_skips_a_url_password() -> None:
    # redact_text skips the regex when _may_hold_url_password says no: on every text the URL pattern
    # matches, it must say yes (random texts over the characters the pattern cares about).
    import random
    import re

    from sqlrun.config import _URL_PASSWORD, _may_hold_url_password

    pattern = re.compile(_URL_PASSWORD, re.IGNORECASE)
    rng = random.Random(17)
    pieces = ["://", "mysql", "a", ":", "@", "/", "?", "#", " ", "'", '"', "\t", "x1", "é"]
    matched = 0
    for _ in range(40_000):
        head = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 3)))
        text = head + "mysql://" + "".join(rng.choice(pieces) for _ in range(rng.randint(1, 10)))
        if pattern.search(text):
            matched += 1
            assert _may_hold_url_password(text), text
    assert matched > 1_000  # the generator does reach the pattern
    assert not _may_hold_url_password("database: mysql://root@127.0.0.1:3306/app (from DATABASE_URL)")


def test_the_start_line_compiles_no_pattern() -> None:
    import re

    re.purge()
    line = "database: mysql://root@127.0.0.1:3306/app (from DATABASE_URL)"
    assert redact_text(line) == line
    assert not [key for key in re._cache if "password" in str(key) or "://" in str(key)]  # type: ignore[attr-defined]


def test_the_password_query_option_is_redacted() -> None:
    url = parse_url(f"postgresql://u@h/app?password={SECRET}&sslmode=disable")
    assert SECRET not in url.redacted() and SECRET not in repr(url)
    assert url.redacted().endswith("?password=***&sslmode=disable")


@pytest.fixture
def login_with_password_1(request: pytest.FixtureRequest, tmp_path: Path):
    """A database and a URL whose password is ``1``: a text replace of it would mangle every number."""
    kind = request.param
    require(kind)
    name = f"rt_pw1_{uuid.uuid4().hex[:8]}"
    base = server_url(kind)
    user = base.user or "postgres"
    with admin(kind) as cur:
        cur.execute(f"CREATE DATABASE {name}")
        if kind == "mysql":
            user = name
            cur.execute(f"CREATE USER '{user}'@'%' IDENTIFIED BY '1'")
            cur.execute(f"GRANT ALL ON {name}.* TO '{user}'@'%'")
    yield kind, f"{kind}://{user}:1@{base.host}:{base.port}/{name}", name
    with admin(kind) as cur:
        cur.execute(f"DROP DATABASE IF EXISTS {name}" + (" WITH (FORCE)" if kind == "postgresql" else ""))
        if kind == "mysql":
            cur.execute(f"DROP USER IF EXISTS '{user}'@'%'")


@pytest.mark.parametrize("login_with_password_1", ["mysql", "postgresql"], indirect=True)
def test_a_one_character_password_does_not_mangle_the_output(login_with_password_1, scripts, cli) -> None:
    kind, url, name = login_with_password_1
    folder = scripts({"001_q.sql": A, "002_bad.sql": "SELEC 1;\n"})
    result = cli("--database-url", url, "--dir", str(folder))
    assert result.code == 1, result.text
    host = server_url(kind).host
    assert f"database: {kind}://" in result.out and f":***@{host}:" in result.out and f"/{name}" in result.out
    assert "applied 001_q.sql: 2 statements" in result.out
    assert "002_bad.sql:1: statement failed: SELEC 1" in result.err
    assert result.text.count("***") == 1  # the URL's password field, and nothing else


def test_a_dsn_echoed_by_the_driver_is_redacted(cli, scripts) -> None:
    folder = scripts({"001_a.sql": A})
    result = cli("--database-url", f"postgresql://u:{SECRET}@127.0.0.1:1/app?connect_timeout=1&password={SECRET}", "--dir", str(folder))
    assert result.code == 4, result.text
    assert SECRET not in result.text and "u:***@127.0.0.1:1/app" in result.text


# --- multi-host URLs against the real server ---------------------------------------------------------


def test_a_multi_host_url_connects_to_the_host_that_answers(pg: TempDatabase, scripts, cli) -> None:
    base = server_url("postgresql")
    url = f"postgresql://{base.user}@127.0.0.1:1,{base.host}:{base.port}/{pg.name}?target_session_attrs=read-write&connect_timeout=2"
    folder = scripts({"001_a.sql": A})
    result = cli("--database-url", url, "--dir", str(folder))
    assert result.code == 0, result.text
    assert f"127.0.0.1:1,{base.host}:{base.port}/{pg.name}?target_session_attrs=read-write" in result.out
    assert pg.query("SELECT id FROM a") == [(1,)]


# --- configuration from the environment --------------------------------------------------------------


@pytest.mark.parametrize("variable", ["DATABASE_URL", "MYSQL_HOST", "PGHOST"])
@pytest.mark.parametrize("value", ["", "  "])
def test_an_empty_variable_is_exit_2_and_migrates_nothing(variable: str, value: str, tmp_path: Path, scripts) -> None:
    folder = scripts({"001_a.sql": A})
    result = subproc.run(tmp_path, "--dir", str(folder), env={variable: value})
    assert result.code == 2, result.text
    assert f"error: {variable} is set but empty" in result.err
    assert not (tmp_path / "data").exists()  # the embedded default was not used


def test_an_empty_database_url_option_is_exit_2(tmp_path: Path, scripts) -> None:
    folder = scripts({"001_a.sql": A})
    result = subproc.run(tmp_path, "--database-url", "", "--dir", str(folder), env={"DATABASE_URL": "sqlite:///x.db"})
    assert result.code == 2 and "the database URL is empty" in result.err, result.text
    assert not (tmp_path / "x.db").exists()


def test_pghost_without_pgdatabase_is_refused() -> None:
    with pytest.raises(ConfigError, match="PGDATABASE"):
        url_from_env({"PGHOST": "db"})
    assert url_from_env({"PGHOST": "db", "PGDATABASE": "app"}) == ("postgresql://db:5432/app", "PG* variables")


def test_a_url_with_a_trailing_newline_makes_no_odd_file(tmp_path: Path, scripts) -> None:
    folder = scripts({"001_a.sql": A})
    result = subproc.run(tmp_path, "--database-url", "sqlite:///app.db\n", "--dir", str(folder))
    assert result.code == 0, result.text
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("app")) == ["app.db"]


def test_an_unencoded_password_in_the_environment_is_never_shown(tmp_path: Path, scripts) -> None:
    folder = scripts({"001_a.sql": A})
    result = subproc.run(tmp_path, "--dir", str(folder), env={"DATABASE_URL": f"postgresql://app:{SECRET[:4]}#{SECRET[4:]}@postgres/app"})
    assert result.code == 2, result.text
    assert SECRET[:4] not in result.text and SECRET[4:] not in result.text and "%23" in result.err


@pytest.mark.parametrize("text", ["", "app", "my-db_1.x~", "p@ss:w/rd", "ünï", "50%", "%41%zz", "a b+c", "a&b=c", "=x&y=", "k=v&k=w"])
def test_the_lazy_url_codecs_give_what_urllib_gives(text: str) -> None:
    # config imports urllib.parse only for a text that needs it (a start's cost): same results either way.
    from urllib.parse import parse_qsl, quote, unquote

    from sqlrun import config

    assert config._quote(text) == quote(text, safe="")
    assert config._unquote(text) == unquote(text)
    assert config._query(text) == tuple(parse_qsl(text))
    assert config._query(text, keep_blank=True) == tuple(parse_qsl(text, keep_blank_values=True))
