"""The no-op run's start-up against the bare driver import, measured alternately in one run.

A container start runs ``python init_db.py`` with nothing pending. This times that (DATABASE_URL in the
environment, ten applied scripts in data/migrations, no .env, bytecode compiled and
PYTHONDONTWRITEBYTECODE=1 as in a container image) against ``python -c 'import <driver>'``, one after
the other, so that both see the same load. Targets: at most 1.3x the driver import on MariaDB and
PostgreSQL, at most 2x ``import sqlite3`` on SQLite. ``--before DIR`` adds another checkout (say
``git archive <commit> | tar -x -C DIR``) as a third contender.

Each run is timed twice: wall time (what the targets mean), and the child's CPU time (user + sys, from
wait4), which a busy machine disturbs far less: the no-op run's own waits (a local server's round
trips) are a few milliseconds, so on an idle machine the two agree within those.

Usage: python benchmarks/startup_ab.py [--db sqlite,mysql,postgresql] [--runs 21] [--before DIR]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
DRIVERS = {"sqlite": "sqlite3", "mysql": "pymysql", "postgresql": "psycopg"}
TARGETS = {"sqlite": 2.0, "mysql": 1.3, "postgresql": 1.3}
SERVERS = {"mysql": "mysql://root@127.0.0.1:3306/", "postgresql": "postgresql://postgres@127.0.0.1:5432/"}
# Variables that would choose a database, or change how Python starts, behind the benchmark's back.
CLEARED = ("DATABASE_URL", "MYSQL_HOST", "MYSQL_PORT", "MYSQL_USER", "MYSQL_PASSWORD", "MYSQL_DATABASE", "PGHOST",
           "PGPORT", "PGUSER", "PGPASSWORD", "PGDATABASE", "PGSERVICE", "PYTHONPATH", "PYTHONSTARTUP", "PYTHONPROFILEIMPORTTIME")


def admin(kind: str, sql: str) -> None:
    """Run one statement on the server of ``kind`` (autocommit)."""
    if kind == "mysql":
        import pymysql

        conn = pymysql.connect(host="127.0.0.1", port=3306, user="root", autocommit=True)
    else:
        import psycopg

        conn = psycopg.connect(host="127.0.0.1", port=5432, user="postgres", dbname="postgres", autocommit=True)
    try:
        conn.cursor().execute(sql)
    finally:
        conn.close()


def prepare(kind: str, workdir: Path) -> tuple[str, str | None]:
    """Ten small scripts in ``workdir``/data/migrations; (DATABASE_URL, database name to drop after)."""
    folder = workdir / "data" / "migrations"
    folder.mkdir(parents=True)
    for i in range(1, 11):
        (folder / f"{i:03d}_t{i}.sql").write_text(f"CREATE TABLE t{i} (id INTEGER PRIMARY KEY, name VARCHAR(50));\n"
                                                  f"CREATE INDEX t{i}_name ON t{i} (name);\n", encoding="utf-8")
    if kind == "sqlite":
        return f"sqlite:///{workdir / 'app.db'}", None
    name = f"sqlrun_startup_{uuid.uuid4().hex[:8]}"
    return SERVERS[kind] + name, name


def environment(url: str) -> dict[str, str]:
    """The container's environment: DATABASE_URL, no bytecode written, nothing else that matters."""
    env = {k: v for k, v in os.environ.items() if k not in CLEARED}
    env.update(DATABASE_URL=url, PYTHONDONTWRITEBYTECODE="1")
    return env


def timed(argv: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one run of ``argv``, which must succeed."""
    with tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
        if os.waitstatus_to_exitcode(status) != 0:
            err.seek(0)
            raise SystemExit(f"{' '.join(argv)} failed: {err.read().decode(errors='replace')[-500:]}")
    return elapsed, usage.ru_utime + usage.ru_stime


def contenders(kind: str, before: Path | None) -> dict[str, list[str]]:
    """What is timed: the bare driver import, this checkout's no-op run, and the ``before`` checkout's."""
    found = {f"python -c 'import {DRIVERS[kind]}'": [PYTHON, "-c", f"import {DRIVERS[kind]}"],
             "sqlrun (nothing pending)": [PYTHON, str(ROOT / "init_db.py")]}
    if before is not None:
        found["before (nothing pending)"] = [PYTHON, str(before / "init_db.py")]
    return found


def measure(kind: str, runs: int, before: Path | None) -> dict[str, list[tuple[float, float]]]:
    """Every contender ``runs`` times, alternately, after one untimed run each (which also applies the scripts)."""
    with tempfile.TemporaryDirectory() as tmp:
        url, database = prepare(kind, Path(tmp))
        env = environment(url)
        try:
            commands = contenders(kind, before)
            for argv in commands.values():
                timed(argv, Path(tmp), env)
            times: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
            for _ in range(runs):
                for name, argv in commands.items():
                    times[name].append(timed(argv, Path(tmp), env))
            return times
        finally:
            if database:
                admin(kind, f"DROP DATABASE IF EXISTS {database}")


def report(kind: str, times: dict[str, list[tuple[float, float]]]) -> None:
    """Medians (and min-max) per contender, wall and CPU, and the ratios to the driver import."""
    print(f"{kind}: {len(next(iter(times.values())))} runs each, alternately")
    verdicts = []
    for index, clock in ((0, "wall"), (1, "cpu")):
        reference = statistics.median(t[index] for t in next(iter(times.values())))
        for name, runs in times.items():
            values = [t[index] for t in runs]
            median = statistics.median(values)
            print(f"  {clock:4} {name:32} median {median * 1000:6.1f} ms (min-max {min(values) * 1000:.1f}-"
                  f"{max(values) * 1000:.1f})  {median / reference:.2f}x")
        mine = statistics.median(t[index] for t in times["sqlrun (nothing pending)"]) / reference
        verdict = "met" if mine <= TARGETS[kind] else f"missed by {(mine / TARGETS[kind] - 1) * 100:.0f}%"
        verdicts.append(f"{clock} {mine:.2f}x, {verdict}")
    print(f"  target <= {TARGETS[kind]}x the driver import: " + "; ".join(verdicts))


def main() -> None:
    """Compile the bytecode, then measure each database in turn."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", default="sqlite,mysql,postgresql", help="comma-separated: sqlite, mysql, postgresql")
    ap.add_argument("--runs", type=int, default=21, help="timed runs of each contender")
    ap.add_argument("--before", type=Path, help="another checkout to time as well")
    args = ap.parse_args()
    for checkout in [ROOT] + ([args.before] if args.before else []):
        subprocess.run([PYTHON, "-m", "compileall", "-q", str(checkout / "sqlrun")], check=True)
    for kind in args.db.split(","):
        report(kind, measure(kind, args.runs, args.before))


if __name__ == "__main__":
    main()
