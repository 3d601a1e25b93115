"""An error-free apply, this checkout against another, measured alternately in one run.

The tolerance rule reads a statement's intent only after an error, and looks in the catalog before the few
statements that add an object without a name; a run without errors should cost what it cost before. This
applies two workloads to fresh databases, alternately with this checkout and with ``--before DIR`` (say
``git archive <commit> sqlrun init_db.py | tar -x -C DIR``), and prints the medians of wall and CPU time
(user + sys of the child, which a busy machine disturbs less) and the ratio after/before:

- ``inserts``: one script of N single-row INSERTs (N = ``--inserts``);
- ``many``: ``--scripts`` small scripts, each a table, an unnamed-key ALTER where the database has one
  (the statements the catalog is asked about before they run) and a seed row.

Usage: python benchmarks/apply_ab.py --before DIR [--db sqlite,mysql,postgresql] [--runs 5]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import tempfile
import uuid
from pathlib import Path

from startup_ab import PYTHON, ROOT, SERVERS, admin, environment, timed


def workload(kind: str, name: str, folder: Path, inserts: int, scripts: int) -> None:
    """Write the scripts of workload ``name`` into ``folder``."""
    folder.mkdir(parents=True)
    if name == "inserts":
        rows = "".join(f"INSERT INTO t (id, name) VALUES ({i}, 'row {i}');\n" for i in range(1, inserts + 1))
        (folder / "001_inserts.sql").write_text("CREATE TABLE t (id INTEGER PRIMARY KEY, name VARCHAR(50));\n" + rows)
        return
    for v in range(1, scripts + 1):
        unnamed = f"ALTER TABLE t{v} ADD UNIQUE (name);\n" if kind != "sqlite" else f"CREATE UNIQUE INDEX t{v}_name ON t{v} (name);\n"
        (folder / f"{v:03d}_t{v}.sql").write_text(
            f"CREATE TABLE t{v} (id INTEGER PRIMARY KEY, name VARCHAR(50));\n{unnamed}INSERT INTO t{v} (id, name) VALUES (1, 'one');\n"
        )


def one_run(kind: str, checkout: Path, folder: Path) -> tuple[float, float]:
    """Apply ``folder`` with ``checkout``'s init_db.py to a new database; (wall, CPU) seconds."""
    with tempfile.TemporaryDirectory() as tmp:
        name = f"sqlrun_ab_{uuid.uuid4().hex[:8]}"
        url = f"sqlite:///{Path(tmp) / 'ab.db'}" if kind == "sqlite" else SERVERS[kind] + name
        try:
            return timed([PYTHON, str(checkout / "init_db.py"), "-q", "--dir", str(folder)], Path(tmp), environment(url))
        finally:
            if kind != "sqlite":
                admin(kind, f"DROP DATABASE IF EXISTS {name}")


def measure(kind: str, name: str, before: Path, args: argparse.Namespace) -> dict[str, list[tuple[float, float]]]:
    """Each checkout ``args.runs`` times on workload ``name``, alternately, after one untimed run each."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "migrations"
        workload(kind, name, folder, args.inserts, args.scripts)
        checkouts = {"before": before, "after": ROOT}
        for checkout in checkouts.values():
            one_run(kind, checkout, folder)
        times: dict[str, list[tuple[float, float]]] = {label: [] for label in checkouts}
        for _ in range(args.runs):
            for label, checkout in checkouts.items():
                times[label].append(one_run(kind, checkout, folder))
        return times


def report(kind: str, name: str, times: dict[str, list[tuple[float, float]]]) -> None:
    """Medians per checkout, wall and CPU, and after/before."""
    cells = []
    for index, clock in ((0, "wall"), (1, "cpu")):
        before, after = (statistics.median(t[index] for t in times[label]) for label in ("before", "after"))
        cells.append(f"{clock} {before:.2f} s -> {after:.2f} s ({after / before:.3f}x)")
    print(f"{kind:10} {name:8} {len(times['after'])} runs each: " + "; ".join(cells), flush=True)


def main() -> None:
    """Compile both checkouts' bytecode, then measure each database and workload in turn."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--before", type=Path, required=True, help="the other checkout")
    ap.add_argument("--db", default="sqlite,mysql,postgresql")
    ap.add_argument("--only", default="inserts,many")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--inserts", type=int, default=100_000)
    ap.add_argument("--scripts", type=int, default=200)
    args = ap.parse_args()
    for checkout in (ROOT, args.before):
        subprocess.run([PYTHON, "-m", "compileall", "-q", str(checkout / "sqlrun")], check=True)
    for kind in args.db.split(","):
        for name in args.only.split(","):
            report(kind, name, measure(kind, name, args.before, args))


if __name__ == "__main__":
    main()
