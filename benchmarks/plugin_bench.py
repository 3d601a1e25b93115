"""What a fresh migrated database costs a test: the pytest plugin's sqlrun_clean_database, per database.

Usage: python benchmarks/plugin_bench.py [--db sqlite,mysql,postgresql] [--tests 100] [--repeat 3]

For each database, a throwaway project with the sample app's migrations runs N trivial tests in a real
``pytest`` process twice, alternately: once where each test takes ``sqlrun_clean_database``, once where it
takes nothing. The difference of the wall times divided by N is the per-test cost (median of the repeats);
the session's one-time migration is counted in it, spread over the N tests.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SERVERS = {
    "mysql": os.environ.get("SQLRUN_TEST_MYSQL_URL", "mysql://root@127.0.0.1:3306/") + "sqlrunbench",
    "postgresql": os.environ.get("SQLRUN_TEST_POSTGRESQL_URL", "postgresql://postgres@127.0.0.1:5432/postgres").rsplit("/", 1)[0] + "/sqlrunbench",
}


def _project(where: Path, tests: int, fixture: str) -> Path:
    project = where / (fixture or "bare")
    shutil.copytree(ROOT / "data" / "migrations", project / "data" / "migrations")
    (project / "tests").mkdir()
    arg = fixture or ""
    (project / "tests" / "test_many.py").write_text(
        "import pytest\n\n"
        f"@pytest.mark.parametrize('n', range({tests}))\n"
        f"def test_one({arg + ', ' if arg else ''}n):\n    assert n >= 0\n"
    )
    return project


def _wall(project: Path, kind: str) -> float:
    args = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"]
    if kind != "sqlite":
        args += ["--sqlrun-url", SERVERS[kind]]
    start = time.perf_counter()
    done = subprocess.run(args, cwd=project, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{kind}: the inner pytest failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    return wall


def main() -> None:
    """Measure and print one markdown row per database."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="sqlite,mysql,postgresql")
    parser.add_argument("--tests", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print("| database | tests | wall, bare | wall, sqlrun_clean_database | per test |")
    print("|---|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        for kind in args.db.split(","):
            bare = _project(Path(tmp) / kind, args.tests, "")
            clean = _project(Path(tmp) / kind, args.tests, "sqlrun_clean_database")
            walls: dict[str, list[float]] = {"bare": [], "clean": []}
            for _ in range(args.repeat):
                walls["bare"].append(_wall(bare, kind))
                walls["clean"].append(_wall(clean, kind))
            b, c = statistics.median(walls["bare"]), statistics.median(walls["clean"])
            print(f"| {kind} | {args.tests} | {b:.2f} s | {c:.2f} s | {(c - b) / args.tests * 1000:.1f} ms |")


if __name__ == "__main__":
    main()
