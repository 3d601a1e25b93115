"""Benchmark sqlrun against the native clients and its peers, side by side, on fresh databases.

Usage (from anywhere; the defaults finish in a few minutes):

    python benchmarks/run.py [--db sqlite,mysql,postgresql] [--only noop,inserts,many,split,memory,concurrent]
                             [--inserts 20000] [--scripts 100] [--repeat 3] [--gb 0.05] [--markdown FILE]

The issue's figures: ``--inserts 100000 --scripts 500 --repeat 5 --gb 1``; the fan-out case (issue 14):
``--only fanout --tenants 200``.

Every contender runs as a child process, alternately within each repeat, each on a database created for that
run (temp databases on the servers named by SQLRUN_TEST_MYSQL_URL / SQLRUN_TEST_POSTGRESQL_URL, else the
local defaults). Wall time is measured around the child; peak RSS and CPU come from ``os.wait4``'s rusage of
that child alone. Peers (dbmate, yoyo) are used when installed and skipped with a note when not.
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator, Sequence
from urllib.parse import quote, unquote, urlsplit

ROOT = Path(__file__).resolve().parents[1]
VENV_PYTHON = ROOT / ".venv" / "bin" / "python"
PYTHON = str(VENV_PYTHON if VENV_PYTHON.exists() else Path(sys.executable))
INIT_DB = str(ROOT / "init_db.py")
MYSQL_ADMIN = os.environ.get("SQLRUN_TEST_MYSQL_URL", "mysql://root@127.0.0.1:3306/")
POSTGRESQL_ADMIN = os.environ.get("SQLRUN_TEST_POSTGRESQL_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
ALL_DBS = ("sqlite", "mysql", "postgresql")
ALL_CASES = ("noop", "inserts", "many", "split", "memory", "concurrent", "fanout")
# Targets of issue 6, per case and database: (what the figure is compared with, the allowed ratio).
NOOP_LIMIT_MS = {"sqlite": 60.0, "mysql": 100.0}
NOOP_PG_RATIO = 1.3
INSERTS_MYSQL_RATIO = 0.3
MEMORY_LIMIT_MB = 150.0
CONCURRENT_RATIO = 2.0
# Issue 14's fan-out targets: sqlrun --jobs 8 at most this share of a shell loop, and this many times faster than xargs -P 4.
FANOUT_LOOP_RATIO = 0.1
FANOUT_XARGS_SPEEDUP = 3.0
FANOUT_SCRIPTS = 5
ROW = "INSERT INTO items (id, name, note) VALUES ({i}, 'item {i}', 'caf\u00e9 {emoji} text with ''quotes'' and a ; semicolon');\n"


# --- processes ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    """One child process: wall seconds, CPU seconds (user+sys), peak RSS in MB, exit code."""

    wall: float
    cpu: float
    rss_mb: float
    code: int
    err: str = ""


def run(argv: Sequence[str], *, cwd: Path | None = None, env: dict[str, str] | None = None, stdin: Path | None = None) -> Run:
    """Run ``argv`` to completion and measure it alone (rusage of this child, not of all children)."""
    with tempfile.TemporaryFile() as err, (stdin.open("rb") if stdin else open(os.devnull, "rb")) as inp:
        start = time.perf_counter()
        proc = subprocess.Popen(list(argv), cwd=cwd, env=env, stdin=inp, stdout=subprocess.DEVNULL, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        text = err.read().decode(errors="replace")[-2000:]
    return Run(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, proc.returncode, text)


def run_many(argvs: Sequence[Sequence[str]], *, cwd: Path, env: dict[str, str]) -> tuple[float, list[Run]]:
    """Start every command at once; the wall time until the last one ends, and each one's figures."""
    start = time.perf_counter()
    procs = [subprocess.Popen(list(a), cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) for a in argvs]
    runs = []
    for proc in procs:
        _, status, usage = os.wait4(proc.pid, 0)
        code = os.waitstatus_to_exitcode(status)
        err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
        runs.append(Run(time.perf_counter() - start, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, code, err))
    return time.perf_counter() - start, runs


# --- databases ----------------------------------------------------------------------------------------


@dataclass
class Target:
    """A fresh database for one run, in the URL forms sqlrun, the clients and the peers each want."""

    kind: str
    name: str
    workdir: Path

    @property
    def sqlite_path(self) -> Path:
        return self.workdir / f"{self.name}.db"

    def sqlrun_url(self) -> str:
        if self.kind == "sqlite":
            return f"sqlite:///{self.sqlite_path}"
        return _with_database(MYSQL_ADMIN if self.kind == "mysql" else POSTGRESQL_ADMIN, self.name)

    def dbmate_url(self) -> str:
        if self.kind == "sqlite":
            return f"sqlite:{self.sqlite_path}"
        if self.kind == "mysql":
            return self.sqlrun_url()
        url = self.sqlrun_url().replace("postgresql://", "postgres://", 1)
        return url + ("&" if "?" in url else "?") + "sslmode=disable"

    def yoyo_url(self) -> str:
        if self.kind == "sqlite":
            return f"sqlite:///{self.sqlite_path}"
        if self.kind == "mysql":
            return self.sqlrun_url()
        return self.sqlrun_url().replace("postgresql://", "postgresql+psycopg://", 1)

    def create(self) -> None:
        if self.kind == "mysql":
            mysql_admin(f"CREATE DATABASE `{self.name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
        elif self.kind == "postgresql":
            psql_admin(f'CREATE DATABASE "{self.name}"')

    def drop(self) -> None:
        if self.kind == "mysql":
            mysql_admin(f"DROP DATABASE IF EXISTS `{self.name}`")
        elif self.kind == "postgresql":
            psql_admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        elif self.sqlite_path.exists():
            self.sqlite_path.unlink()


def _with_database(admin_url: str, name: str) -> str:
    parts = urlsplit(admin_url)
    return parts._replace(path="/" + quote(name)).geturl()


def mysql_args(url: str) -> tuple[list[str], dict[str, str]]:
    """mariadb client options for ``url``; the password goes in MYSQL_PWD, never on the command line."""
    parts = urlsplit(url)
    args = ["-h", parts.hostname or "127.0.0.1", "-P", str(parts.port or 3306), "-u", unquote(parts.username or "root")]
    env = dict(os.environ)
    if parts.password:
        env["MYSQL_PWD"] = unquote(parts.password)
    return args, env


def mysql_client() -> str:
    return shutil.which("mariadb") or shutil.which("mysql") or "mariadb"


def mysql_admin(sql: str) -> None:
    args, env = mysql_args(MYSQL_ADMIN)
    subprocess.run([mysql_client(), *args, "-e", sql], env=env, check=True, stdout=subprocess.DEVNULL)


def psql_admin(sql: str) -> None:
    subprocess.run(["psql", "-X", "-q", "-d", POSTGRESQL_ADMIN, "-c", sql], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def start_latency(delay_ms: float, kinds: Sequence[str], report: Report) -> list[subprocess.Popen]:
    """Put benchmarks/latency_proxy.py in front of each server; every contender then connects through it."""
    global MYSQL_ADMIN, POSTGRESQL_ADMIN
    proxies = []
    for kind in kinds:
        if kind == "sqlite":
            continue
        parts = urlsplit(MYSQL_ADMIN if kind == "mysql" else POSTGRESQL_ADMIN)
        target = f"{parts.hostname or '127.0.0.1'}:{parts.port or (3306 if kind == 'mysql' else 5432)}"
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        argv = [PYTHON, str(ROOT / "benchmarks" / "latency_proxy.py"), "--listen", f"127.0.0.1:{port}", "--to", target, "--delay-ms", str(delay_ms)]
        proxy = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)
        proxy.stdout.readline()  # it prints once it listens
        proxies.append(proxy)
        userinfo = parts.netloc.rpartition("@")[0]
        url = parts._replace(netloc=f"{userinfo}{'@' if userinfo else ''}127.0.0.1:{port}").geturl()
        if kind == "mysql":
            MYSQL_ADMIN = url
        else:
            POSTGRESQL_ADMIN = url
        report.note(f"{kind}: every contender connects through a latency proxy ({delay_ms:g} ms each way): {round_trip(kind, url)}")
    return proxies


def round_trip(kind: str, url: str) -> str:
    """The median time of ``SELECT 1`` over ``url``, as measured by the driver sqlrun uses."""
    code = (
        "import sys, time, statistics\n"
        "from sqlrun.config import parse_url\n"
        "u = parse_url(sys.argv[1])\n"
        "if u.kind == 'mysql':\n"
        "    import pymysql; from sqlrun.dialects.mysql import connect_kwargs; c = pymysql.connect(**connect_kwargs(u, None)); q = lambda: c.cursor().execute('SELECT 1')\n"
        "else:\n"
        "    import psycopg; from sqlrun.dialects.postgresql import connect_kwargs; c = psycopg.connect(**connect_kwargs(u)); q = lambda: c.execute('SELECT 1')\n"
        "t = []\n"
        "for _ in range(50):\n"
        "    s = time.perf_counter(); q(); t.append(time.perf_counter() - s)\n"
        "print(f'round trip {statistics.median(t) * 1000:.2f} ms (SELECT 1, median of 50)')\n"
    )
    out = subprocess.run([PYTHON, "-c", code, url], capture_output=True, text=True, cwd=ROOT)
    return out.stdout.strip() or f"round trip not measured: {out.stderr.strip()[-200:]}"


def server_reachable(kind: str) -> str | None:
    """Why the server for ``kind`` cannot be used, or None when it answers."""
    try:
        if kind == "mysql":
            mysql_admin("SELECT 1")
        elif kind == "postgresql":
            psql_admin("SELECT 1")
    except (OSError, subprocess.CalledProcessError) as exc:
        return f"{kind} server not reachable: {exc}"
    return None


def fresh(kind: str, workdir: Path) -> Target:
    """A newly created empty database."""
    target = Target(kind, f"sqlrun_bench_{uuid.uuid4().hex[:10]}", workdir)
    target.create()
    return target


# --- inputs -------------------------------------------------------------------------------------------


def create_items(kind: str) -> str:
    text = "TEXT" if kind != "mysql" else "VARCHAR(200)"
    return f"CREATE TABLE items (id INTEGER PRIMARY KEY, name VARCHAR(50) NOT NULL, note {text});\n"


def write_inserts(path: Path, kind: str, rows: int) -> int:
    """One script: a CREATE TABLE then ``rows`` single-row INSERTs (about 120 bytes each); returns bytes."""
    with path.open("w", encoding="utf-8") as f:
        f.write(create_items(kind))
        for start in range(0, rows, 1000):
            f.write("".join(ROW.format(i=i, emoji="\U0001f600" if i % 1000 == 0 else "x") for i in range(start, min(rows, start + 1000))))
    return path.stat().st_size


def write_big(path: Path, kind: str, gigabytes: float) -> int:
    """A script of INSERTs of about ``gigabytes`` GB, written in blocks (the generator stays small too)."""
    target = int(gigabytes * 1e9)
    with path.open("w", encoding="utf-8") as f:
        f.write(create_items(kind))
        i = 0
        while f.tell() < target:
            f.write("".join(ROW.format(i=i + k, emoji="x") for k in range(5000)))
            i += 5000
    return path.stat().st_size


def small_script(i: int) -> str:
    return f"CREATE TABLE t{i:04d} (id INTEGER PRIMARY KEY, name VARCHAR(50));\nCREATE INDEX ix_t{i:04d}_name ON t{i:04d} (name);\n"


@dataclass
class Inputs:
    """One workload in every layout: sqlrun's folder, dbmate's, yoyo's, and the native clients' files."""

    root: Path
    sqlrun: Path = field(init=False)
    dbmate: Path = field(init=False)
    yoyo: Path = field(init=False)
    files: list[Path] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.sqlrun = self.root / "data" / "migrations"
        self.dbmate = self.root / "dbmate"
        self.yoyo = self.root / "yoyo"
        for d in (self.sqlrun, self.dbmate, self.yoyo):
            d.mkdir(parents=True, exist_ok=True)

    def add(self, number: int, name: str, write: Callable[[Path], object]) -> None:
        """Write one script once and link it into every layout."""
        path = self.sqlrun / f"{number:04d}_{name}.sql"
        write(path)
        self.files.append(path)
        os.link(path, self.yoyo / f"{number:04d}_{name}.sql")
        with (self.dbmate / f"{20240101000000 + number}_{name}.sql").open("w", encoding="utf-8") as out:
            out.write("-- migrate:up\n")
            with path.open(encoding="utf-8") as src:
                shutil.copyfileobj(src, out)
            out.write("\n-- migrate:down\n")

    def one_transaction(self, kind: str) -> Path:
        """All files concatenated inside one transaction, for the native clients' best case."""
        path = self.root / "all_in_one_transaction.sql"
        with path.open("w", encoding="utf-8") as out:
            out.write("SET autocommit = 0;\n" if kind == "mysql" else "BEGIN;\n")
            for f in self.files:
                with f.open(encoding="utf-8") as src:
                    shutil.copyfileobj(src, out)
            out.write("COMMIT;\n")
        return path

    def concatenated(self) -> Path:
        path = self.root / "all.sql"
        with path.open("w", encoding="utf-8") as out:
            for f in self.files:
                with f.open(encoding="utf-8") as src:
                    shutil.copyfileobj(src, out)
        return path


# --- contenders ---------------------------------------------------------------------------------------

Command = Callable[[Target], Run]


def sqlrun_cmd(inputs: Inputs) -> Command:
    def go(t: Target) -> Run:
        env = {**os.environ, "DATABASE_URL": t.sqlrun_url()}
        return run([PYTHON, INIT_DB, "-q"], cwd=inputs.root, env=env)

    return go


def native_cmds(inputs: Inputs, kind: str) -> dict[str, Command]:
    """The database's own client on the same input: statement by statement, and in one transaction."""
    one = inputs.one_transaction(kind)
    if kind == "postgresql":
        files = [a for f in inputs.files for a in ("-f", str(f))]
        psql = ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1"]
        return {
            "psql -f": lambda t: run([*psql, "-d", t.sqlrun_url(), *files]),
            "psql --single-transaction": lambda t: run([*psql, "--single-transaction", "-d", t.sqlrun_url(), *files]),
        }
    if kind == "mysql":
        allf = inputs.concatenated()

        def client(path: Path) -> Command:
            def go(t: Target) -> Run:
                args, env = mysql_args(MYSQL_ADMIN)
                return run([mysql_client(), "--default-character-set=utf8mb4", *args, t.name], env=env, stdin=path)

            return go

        return {"mariadb <": client(allf), "mariadb < (one transaction)": client(one)}
    if shutil.which("sqlite3"):
        return {"sqlite3 <": lambda t: run(["sqlite3", str(t.sqlite_path)], stdin=one)}
    return {}


def dbmate_argv() -> list[str] | None:
    """The dbmate command; npm's `dbmate` is a Node wrapper (~70 ms a start), so prefer the Go binary it runs."""
    found = shutil.which("dbmate")
    if found:
        real = Path(found).resolve()
        if real.suffix == ".js":  # npm install -g dbmate: .../dbmate/dist/cli.js
            for binary in sorted(real.parents[1].glob("node_modules/@dbmate/*/bin/dbmate")):
                return [str(binary)]
        return [found]
    if shutil.which("npx") and subprocess.run(["npx", "--no-install", "dbmate", "--version"], capture_output=True).returncode == 0:
        return ["npx", "--no-install", "dbmate"]
    return None


def yoyo_argv() -> list[str] | None:
    local = Path(PYTHON).parent / "yoyo"
    if local.exists():
        return [str(local)]
    found = shutil.which("yoyo")
    return [found] if found else None


def peer_cmds(inputs: Inputs) -> dict[str, Command]:
    """dbmate and yoyo, when installed."""
    out: dict[str, Command] = {}
    dbmate = dbmate_argv()
    if dbmate:
        out["dbmate"] = lambda t: run([*dbmate, "--url", t.dbmate_url(), "--migrations-dir", str(inputs.dbmate), "--no-dump-schema", "up"])
    yoyo = yoyo_argv()
    if yoyo:
        out["yoyo"] = lambda t: run([*yoyo, "apply", "--batch", "--no-config-file", "--database", t.yoyo_url(), str(inputs.yoyo)])
    return out


def missing_peers() -> list[str]:
    notes = []
    if not dbmate_argv():
        notes.append("dbmate not installed (npm install -g dbmate): skipped")
    if not yoyo_argv():
        notes.append("yoyo not installed (make bench, or .venv/bin/pip install -e '.[bench]'): skipped")
    return notes


# --- results ------------------------------------------------------------------------------------------


@dataclass
class Row:
    """One contender's figures over its runs."""

    name: str
    runs: list[Run] = field(default_factory=list)
    note: str = ""

    def ok(self) -> list[Run]:
        return [r for r in self.runs if r.code == 0]

    def median(self) -> float | None:
        ok = self.ok()
        return statistics.median(r.wall for r in ok) if ok else None

    def cells(self, unit: float, fmt: str, reference: float | None, ref_name: str) -> list[str]:
        ok = self.ok()
        if not ok:
            failed = self.runs[0].err.strip().splitlines()[-1:] if self.runs else ["not run"]
            return [self.name, "failed: " + (failed[0][:100] if failed else "?"), "", "", "", ""]
        walls = [r.wall for r in ok]
        med = statistics.median(walls)
        ratio = f"{med / reference:.2f}x {ref_name}" if reference else ""
        rss = max(r.rss_mb for r in ok)
        runs = f"{len(ok)}" + (f" ({len(self.runs) - len(ok)} failed)" if len(ok) < len(self.runs) else "")
        return [self.name, fmt.format(med * unit), fmt.format(min(walls) * unit) + " - " + fmt.format(max(walls) * unit), ratio, f"{rss:.0f} MB", runs + (f"; {self.note}" if self.note else "")]


@dataclass
class Report:
    """Every table printed so far, for the terminal and (optionally) a markdown file."""

    sections: list[str] = field(default_factory=list)

    def table(self, title: str, header: list[str], rows: list[list[str]], verdict: str = "") -> None:
        widths = [max(len(header[i]), *(len(r[i]) for r in rows)) for i in range(len(header))]
        lines = [f"\n## {title}", "", "| " + " | ".join(h.ljust(w) for h, w in zip(header, widths)) + " |"]
        lines.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
        lines += ["| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |" for r in rows]
        if verdict:
            lines += ["", verdict]
        text = "\n".join(lines)
        print(text, flush=True)
        self.sections.append(text)

    def note(self, text: str) -> None:
        print(text, flush=True)
        self.sections.append("\n" + text)


TIME_HEADER = ["contender", "median", "min - max", "ratio", "peak RSS", "runs"]


def verdict(ok: bool, text: str) -> str:
    return f"target {'MET' if ok else 'MISSED'}: {text}"


# --- cases --------------------------------------------------------------------------------------------


def alternate(kind: str, workdir: Path, contenders: dict[str, Command], repeat: int, once: Sequence[str] = ()) -> dict[str, Row]:
    """Run every contender ``repeat`` times, alternately, each on a fresh database; ``once`` ones only once."""
    rows = {name: Row(name) for name in contenders}
    for i in range(repeat):
        for name, cmd in contenders.items():
            if name in once and i > 0:
                continue
            target = fresh(kind, workdir)
            try:
                result = cmd(target)
            finally:
                target.drop()
            rows[name].runs.append(result)
            if result.code != 0:
                print(f"  {name} failed (exit {result.code}): {result.err.strip()[-300:]}", file=sys.stderr)
    for name in once:
        if name in rows:
            rows[name].note = "slow peer: one run"
    return rows


def case_inserts(kind: str, args: argparse.Namespace, report: Report, tmp: Path) -> None:
    inputs = Inputs(tmp / f"inserts_{kind}")
    inputs.add(1, "inserts", lambda p: write_inserts(p, kind, args.inserts))
    size = inputs.files[0].stat().st_size / 1e6
    contenders = {"sqlrun": sqlrun_cmd(inputs), **native_cmds(inputs, kind), **peer_cmds(inputs)}
    rows = alternate(kind, inputs.root, contenders, args.repeat, once=("yoyo",) if args.inserts > 5000 else ())
    mine = rows["sqlrun"].median()
    ref_name, limit = {"postgresql": ("dbmate", 1.0), "mysql": ("mariadb <", INSERTS_MYSQL_RATIO)}.get(kind, ("", 0.0))
    reference = rows[ref_name].median() if ref_name in rows else None
    table = [r.cells(1, "{:.2f} s", reference, ref_name) for r in rows.values()]
    text = ""
    if mine and reference:
        text = verdict(mine <= limit * reference, f"sqlrun {mine:.2f} s <= {limit}x {ref_name} ({limit * reference:.2f} s)")
    report.table(f"{kind}: one script of {args.inserts:,} single-row INSERTs ({size:.1f} MB)", TIME_HEADER, table, text)


def case_many(kind: str, args: argparse.Namespace, report: Report, tmp: Path) -> None:
    inputs = Inputs(tmp / f"many_{kind}")
    for i in range(1, args.scripts + 1):
        inputs.add(i, f"t{i}", lambda p, i=i: p.write_text(small_script(i), encoding="utf-8"))
    contenders = {"sqlrun": sqlrun_cmd(inputs), **native_cmds(inputs, kind), **peer_cmds(inputs)}
    rows = alternate(kind, inputs.root, contenders, args.repeat, once=("yoyo",) if args.scripts > 100 else ())
    mine, reference = rows["sqlrun"].median(), rows["dbmate"].median() if "dbmate" in rows else None
    table = [r.cells(1, "{:.2f} s", reference, "dbmate") for r in rows.values()]
    text = verdict(mine <= reference, f"sqlrun {mine:.2f} s <= dbmate {reference:.2f} s") if mine and reference else ""
    report.table(f"{kind}: {args.scripts} small scripts (a table and an index each)", TIME_HEADER, table, text)


def noop_inputs(kind: str, tmp: Path) -> Inputs:
    """A folder of ten small scripts, in every layout."""
    inputs = Inputs(tmp / f"noop_{kind}")
    for i in range(1, 11):
        inputs.add(i, f"t{i}", lambda p, i=i: p.write_text(small_script(i), encoding="utf-8"))
    return inputs


def applied(kind: str, inputs: Inputs, cmd: Command) -> Target:
    """A database on which ``cmd`` applied every script already: the container-restart case."""
    target = fresh(kind, inputs.root)
    first = cmd(target)
    if first.code != 0:
        target.drop()
        raise SystemExit(f"setting up the no-op case failed: {first.err}")
    return target


def case_noop(kind: str, args: argparse.Namespace, report: Report, tmp: Path) -> None:
    inputs = noop_inputs(kind, tmp)
    tools = {"sqlrun": sqlrun_cmd(inputs), **peer_cmds(inputs)}
    targets = {name: applied(kind, inputs, cmd) for name, cmd in tools.items()}
    try:
        contenders: dict[str, Callable[[], Run]] = {"python -c pass": lambda: run([PYTHON, "-c", "pass"])}
        if kind == "postgresql":
            contenders["python -c 'import psycopg'"] = lambda: run([PYTHON, "-c", "import psycopg"])
        if kind == "mysql":
            contenders["python -c 'import pymysql'"] = lambda: run([PYTHON, "-c", "import pymysql"])
        for name, cmd in tools.items():
            contenders[f"{name} (nothing pending)"] = lambda cmd=cmd, t=targets[name]: cmd(t)
        rows = {name: Row(name) for name in contenders}
        for _ in range(args.noop_runs):
            for name, go in contenders.items():
                rows[name].runs.append(go())
    finally:
        for t in targets.values():
            t.drop()
    mine = rows["sqlrun (nothing pending)"].median() or float("inf")
    if kind == "postgresql":
        ref = rows["python -c 'import psycopg'"].median()
        table = [r.cells(1000, "{:.0f} ms", ref, "import psycopg") for r in rows.values()]
        text = verdict(bool(ref) and mine <= NOOP_PG_RATIO * (ref or 0), f"{mine * 1000:.0f} ms <= {NOOP_PG_RATIO}x import psycopg ({NOOP_PG_RATIO * (ref or 0) * 1000:.0f} ms)")
    else:
        limit = NOOP_LIMIT_MS[kind]
        table = [r.cells(1000, "{:.0f} ms", limit / 1000, f"{limit:.0f} ms target") for r in rows.values()]
        text = verdict(mine * 1000 <= limit, f"{mine * 1000:.0f} ms <= {limit:.0f} ms")
    report.table(f"{kind}: nothing pending (10 applied scripts), {args.noop_runs} runs each", TIME_HEADER, table, text)


@dataclass(frozen=True)
class Burst:
    """One command run alone and ``n`` copies of it started at once, over the repeats."""

    name: str
    singles: list[float]
    togethers: list[float]
    cpu: list[float]
    failures: int

    def row(self, n: int) -> list[str]:
        single, together = statistics.median(self.singles), statistics.median(self.togethers)
        # On few cores n processes cannot all run at once: the CPU they need sets a floor none can beat.
        floor = n * statistics.median(self.cpu) / (os.cpu_count() or 1)
        return [
            self.name,
            f"{single * 1000:.0f} ms",
            f"{together * 1000:.0f} ms ({min(self.togethers) * 1000:.0f} - {max(self.togethers) * 1000:.0f})",
            f"{together / single:.2f}x",
            f"{statistics.median(self.cpu) * 1000:.0f} ms",
            f"{floor * 1000:.0f} ms = {floor / single:.2f}x one",
            f"{together / floor:.2f}x",
            f"{self.failures}",
        ]


def burst(name: str, argv: Sequence[str], n: int, repeat: int, *, cwd: Path, env: dict[str, str]) -> Burst:
    """Measure ``argv`` alone and ``n`` at once, alternately, ``repeat`` times."""
    singles, togethers, cpu, failures = [], [], [], 0
    for _ in range(repeat):
        one = run(argv, cwd=cwd, env=env)
        singles.append(one.wall)
        cpu.append(one.cpu)
        failures += one.code != 0
        wall, runs = run_many([argv] * n, cwd=cwd, env=env)
        togethers.append(wall)
        failures += sum(1 for r in runs if r.code != 0)
    return Burst(name, singles, togethers, cpu, failures)


def case_concurrent(kind: str, args: argparse.Namespace, report: Report, tmp: Path) -> None:
    inputs = noop_inputs(kind, tmp / "concurrent")
    target = applied(kind, inputs, sqlrun_cmd(inputs))
    dbmate = dbmate_argv()
    peer = applied(kind, inputs, peer_cmds(inputs)["dbmate"]) if dbmate else None
    env = {**os.environ, "DATABASE_URL": target.sqlrun_url()}
    n = args.runners
    # What any Python runner must do before its first query: start the interpreter and import the driver.
    driver = {"mysql": "import pymysql", "postgresql": "import psycopg"}.get(kind, "import sqlite3")
    commands = {"sqlrun (nothing pending)": [PYTHON, INIT_DB, "-q"], f"python -c '{driver}'": [PYTHON, "-c", driver]}
    if dbmate and peer:
        commands["dbmate (nothing pending)"] = [*dbmate, "--url", peer.dbmate_url(), "--migrations-dir", str(inputs.dbmate), "--no-dump-schema", "up"]
    try:
        bursts = [burst(name, argv, n, args.repeat, cwd=inputs.root, env=env) for name, argv in commands.items()]
    finally:
        target.drop()
        if peer:
            peer.drop()
    mine = bursts[0]
    single, together = statistics.median(mine.singles), statistics.median(mine.togethers)
    header = ["command", "one alone", f"{n} at once (min - max)", "ratio", "CPU of one", f"CPU floor ({n} x CPU / {os.cpu_count()} cores)", "vs floor", "failed"]
    text = verdict(together <= CONCURRENT_RATIO * single and mine.failures == 0, f"{n} at once {together * 1000:.0f} ms <= {CONCURRENT_RATIO}x one ({CONCURRENT_RATIO * single * 1000:.0f} ms)")
    report.table(f"{kind}: {n} runners start at once, nothing pending ({args.repeat} repeats)", header, [b.row(n) for b in bursts], text)


def case_memory(kind: str, args: argparse.Namespace, report: Report, tmp: Path) -> None:
    inputs = Inputs(tmp / f"memory_{kind}")
    inputs.add(1, "big", lambda p: write_big(p, kind, args.gb))
    size = inputs.files[0].stat().st_size
    target = fresh(kind, inputs.root)
    try:
        result = sqlrun_cmd(inputs)(target)
    finally:
        target.drop()
    inputs.files[0].unlink()
    row = Row("sqlrun", [result])
    table = [row.cells(1, "{:.1f} s", None, "") + [f"{size / 1e6 / result.wall:.1f} MB/s" if result.code == 0 else ""]]
    text = verdict(result.code == 0 and result.rss_mb <= MEMORY_LIMIT_MB, f"peak RSS {result.rss_mb:.0f} MB <= {MEMORY_LIMIT_MB:.0f} MB")
    report.table(f"{kind}: one generated script of {size / 1e9:.2f} GB", TIME_HEADER + ["throughput"], table, text)


def case_split(args: argparse.Namespace, report: Report) -> None:
    """The splitter's own benchmark (benchmarks/split_bench.py), relayed."""
    script = ROOT / "benchmarks" / "split_bench.py"
    if not script.exists():
        report.note("split: benchmarks/split_bench.py is missing: skipped")
        return
    out = subprocess.run([PYTHON, str(script), "--mb", str(args.split_mb)], capture_output=True, text=True)
    body = out.stdout.strip() or out.stderr.strip()
    report.note(f"\n## splitter (python benchmarks/split_bench.py --mb {args.split_mb})\n\n```\n{body}\n```")


# --- main ---------------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--db", default=",".join(ALL_DBS), help="comma-separated: sqlite,mysql,postgresql")
    ap.add_argument("--only", default=",".join(ALL_CASES), help="comma-separated: " + ",".join(ALL_CASES))
    ap.add_argument("--inserts", type=int, default=20000, help="rows in the INSERT script (the issue: 100000)")
    ap.add_argument("--scripts", type=int, default=100, help="small scripts in the many-scripts case (the issue: 500)")
    ap.add_argument("--repeat", type=int, default=3, help="runs per contender (medians over these)")
    ap.add_argument("--noop-runs", type=int, default=15, help="runs per contender in the no-op case")
    ap.add_argument("--runners", type=int, default=16, help="runners started at once in the concurrent case")
    ap.add_argument("--gb", type=float, default=0.05, help="size of the memory case's script (the issue: 1)")
    ap.add_argument("--tenants", type=int, default=40, help="databases in the fan-out case (the issue: 200)")
    ap.add_argument("--fanout-repeat", type=int, default=1, help="runs per contender in the fan-out case")
    ap.add_argument("--split-mb", type=float, default=10.0, help="size given to split_bench.py")
    ap.add_argument("--latency-ms", type=float, default=0.0, help="delay each way between every client and the servers (benchmarks/latency_proxy.py)")
    ap.add_argument("--markdown", type=Path, help="also write the tables to this file")
    ns = ap.parse_args(argv)
    ns.dbs = [d for d in ns.db.split(",") if d]
    ns.cases = [c for c in ns.only.split(",") if c]
    bad = [d for d in ns.dbs if d not in ALL_DBS] + [c for c in ns.cases if c not in ALL_CASES]
    if bad:
        ap.error(f"unknown: {', '.join(bad)}")
    return ns


def versions() -> Iterator[str]:
    """The versions that the figures depend on."""
    yield f"python {subprocess.run([PYTHON, '-c', 'import sys; print(sys.version.split()[0])'], capture_output=True, text=True).stdout.strip()} ({PYTHON})"
    probe = "import importlib.metadata as m\nfor p in ('psycopg', 'psycopg-binary', 'PyMySQL', 'yoyo-migrations'):\n  try: print(p, m.version(p))\n  except Exception: pass"
    yield from subprocess.run([PYTHON, "-c", probe], capture_output=True, text=True).stdout.split("\n")[:-1]
    for argv in (["psql", "--version"], [mysql_client(), "--version"], ["sqlite3", "--version"], [*(dbmate_argv() or ["dbmate"]), "--version"]):
        try:
            yield subprocess.run(argv, capture_output=True, text=True).stdout.strip().splitlines()[0]
        except (OSError, IndexError):
            continue


def machine() -> str:
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name")), "?")
    mem = next((line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal")), "0")
    os_name = next((line.split("=", 1)[1].strip('"') for line in Path("/etc/os-release").read_text().splitlines() if line.startswith("PRETTY_NAME")), "?")
    return f"{os.cpu_count()} CPUs ({model}), {int(mem) / 1024 / 1024:.1f} GB RAM, {os_name}, kernel {os.uname().release}"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the chosen cases on the chosen databases and print the tables."""
    args = parse_args(argv)
    # As an installed package would be: with PYTHONDONTWRITEBYTECODE=1 every start would compile sqlrun again.
    subprocess.run([PYTHON, "-m", "compileall", "-q", "sqlrun", "init_db.py"], cwd=ROOT, check=True)
    report = Report()
    report.note(f"machine: {machine()}\n" + "\n".join(f"- {v}" for v in versions()))
    for note in missing_peers():
        report.note(note)
    proxies = start_latency(args.latency_ms, args.dbs, report) if args.latency_ms else []
    try:
        run_cases(args, report)
    finally:
        for proxy in proxies:
            proxy.terminate()
    if args.markdown:
        args.markdown.write_text("\n".join(report.sections) + "\n", encoding="utf-8")
    return 0


def run_cases(args: argparse.Namespace, report: Report) -> None:
    """Every chosen case on every chosen database."""
    with tempfile.TemporaryDirectory(prefix="sqlrun_bench_") as tmpname:
        tmp = Path(tmpname)
        if "split" in args.cases:
            case_split(args, report)
        for kind in args.dbs:
            reason = server_reachable(kind) if kind != "sqlite" else None
            if reason:
                report.note(f"{kind}: skipped ({reason})")
                continue
            for case in args.cases:
                if case != "split":
                    CASES[case](kind, args, report, tmp)


@dataclass
class Tenants:
    """``count`` empty databases of one kind, created together (outside the timing) and listed one URL a line."""

    kind: str
    count: int
    workdir: Path
    targets: list[Target] = field(default_factory=list)

    def create(self) -> Path:
        tag = uuid.uuid4().hex[:8]
        self.targets = [Target(self.kind, f"sqlrun_fo_{tag}_{i:03d}", self.workdir) for i in range(self.count)]
        if self.kind == "mysql":
            mysql_admin("".join(f"CREATE DATABASE `{t.name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;" for t in self.targets))
        elif self.kind == "postgresql":
            self._psql(f'CREATE DATABASE "{t.name}";' for t in self.targets)
        listing = self.workdir / "tenants.txt"
        listing.write_text("".join(t.sqlrun_url() + "\n" for t in self.targets), encoding="utf-8")
        # The mariadb client takes a database name, not a URL: beside the listing, for fanout_floor.
        listing.with_suffix(".names").write_text("".join(t.name + "\n" for t in self.targets), encoding="utf-8")
        return listing

    def drop(self) -> None:
        if self.kind == "mysql":
            mysql_admin("".join(f"DROP DATABASE IF EXISTS `{t.name}`;" for t in self.targets))
        elif self.kind == "postgresql":
            self._psql(f'DROP DATABASE IF EXISTS "{t.name}" WITH (FORCE);' for t in self.targets)
        else:
            for t in self.targets:
                t.sqlite_path.unlink(missing_ok=True)

    def _psql(self, statements: Iterator[str]) -> None:
        # psql -f runs each statement on its own (CREATE DATABASE cannot run inside a transaction block).
        script = self.workdir / "admin.sql"
        script.write_text("\n".join(statements) + "\n", encoding="utf-8")
        subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", POSTGRESQL_ADMIN, "-f", str(script)], check=True, stdout=subprocess.DEVNULL)


def fanout_cmds(folder: Path, jobs: int) -> dict[str, Callable[[Path], list[str]]]:
    """sqlrun in one process against the ways a shell runs one process per database."""
    one = f"{PYTHON} {INIT_DB} -q --dir {folder} --database-url"
    return {
        f"sqlrun --jobs {jobs}": lambda listing: [PYTHON, INIT_DB, "-q", "--dir", str(folder), "--databases-from", str(listing), "--jobs", str(jobs)],
        "shell loop": lambda listing: ["sh", "-c", f'while read -r u; do {one} "$u" || exit 1; done < {listing}'],
        "xargs -P 4": lambda listing: ["sh", "-c", f"xargs -P 4 -n 1 {one} < {listing}"],
    }


def fanout_floor(kind: str, folder: Path, jobs: int) -> dict[str, Callable[[Path], list[str]]]:
    """The server's own floor: the official client, ``jobs`` at once, sending the scripts alone (no history, no lock)."""
    scripts = folder.parent / "all.sql"
    scripts.write_text("".join(small_script(i) for i in range(1, FANOUT_SCRIPTS + 1)), encoding="utf-8")
    name = f"official client x{jobs}, no history"
    if kind == "postgresql":
        psql = f"psql -X -q -v ON_ERROR_STOP=1 -f {scripts} -d"
        return {name: lambda listing: ["sh", "-c", f"xargs -P {jobs} -n 1 {psql} < {listing}"]}
    if kind == "mysql":
        args, _ = mysql_args(MYSQL_ADMIN)  # the password, if any, reaches it in MYSQL_PWD (case_fanout's env)
        client = shlex.join([mysql_client(), "--default-character-set=utf8mb4", *args])
        # xargs gives its children /dev/null as stdin: a shell per database redirects the scripts into the client.
        each = shlex.quote(f'{client} "$0" < {shlex.quote(str(scripts))}')
        return {name: lambda listing: ["sh", "-c", f"xargs -P {jobs} -n 1 sh -c {each} < {listing.with_suffix('.names')}"]}
    return {}


def case_fanout(kind: str, args: argparse.Namespace, report: Report, tmp: Path) -> None:
    folder = tmp / f"fanout_{kind}" / "migrations"
    folder.mkdir(parents=True)
    for i in range(1, FANOUT_SCRIPTS + 1):
        (folder / f"{i:03d}_t{i}.sql").write_text(small_script(i), encoding="utf-8")
    contenders = fanout_cmds(folder, 8)
    floor = fanout_floor(kind, folder, 8)
    contenders.update(floor)
    env = mysql_args(MYSQL_ADMIN)[1] if kind == "mysql" else None
    rows = {name: Row(name) for name in contenders}
    for _ in range(args.fanout_repeat):
        for name, argv in contenders.items():  # alternately, each on its own fresh databases
            tenants = Tenants(kind, args.tenants, folder.parent)
            listing = tenants.create()
            try:
                rows[name].runs.append(run(argv(listing), cwd=folder.parent, env=env))
            finally:
                tenants.drop()
            if rows[name].runs[-1].code != 0:
                print(f"  {name} failed: {rows[name].runs[-1].err.strip()[-300:]}", file=sys.stderr)
    mine, loop, xargs = (rows[n].median() for n in list(contenders)[:3])
    table = [r.cells(1, "{:.2f} s", loop, "loop") for r in rows.values()]
    for r in table:
        r[4] = ""  # the shells' own RSS, not their children's: not a figure of the contenders
    text = ""
    if mine and loop and xargs:
        met = mine <= FANOUT_LOOP_RATIO * loop and xargs >= FANOUT_XARGS_SPEEDUP * mine
        text = verdict(met, f"sqlrun {mine:.2f} s <= {FANOUT_LOOP_RATIO}x the loop ({FANOUT_LOOP_RATIO * loop:.2f} s) and {xargs / mine:.1f}x faster than xargs -P 4 (>= {FANOUT_XARGS_SPEEDUP}x)")
        text += floor_note(mine, [rows[n] for n in floor])
    report.table(f"{kind}: {args.tenants} databases x {FANOUT_SCRIPTS} scripts, one command", TIME_HEADER, table, text)


def floor_note(mine: float, floor: list[Row]) -> str:
    """sqlrun against the server's floor, for the verdict line (no target: what no client can beat)."""
    best = floor[0].median() if floor else None
    if not best:
        return ""
    return f"; against the server's floor ({floor[0].name}, {best:.2f} s): sqlrun {mine / best:.2f}x"


CASES: dict[str, Callable[[str, argparse.Namespace, Report, Path], None]] = {
    "noop": case_noop,
    "inserts": case_inserts,
    "many": case_many,
    "memory": case_memory,
    "concurrent": case_concurrent,
    "fanout": case_fanout,
}

if __name__ == "__main__":
    raise SystemExit(main())
