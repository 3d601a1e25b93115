"""Measure sqlrun.splitter throughput against sqlparse.split on generated scripts.

Three workloads: an INSERT-heavy script (the same text in every dialect); the same with short rows,
each with a trailing line comment, and a block comment every 50 rows ("commented": per-statement
work, not scanning, dominates there); and a schema-style mix per dialect (tables with comments,
indexes, a stored routine or trigger with a compound body, an INSERT), which exercises the paths an
INSERT script never reaches.

Times are the process's CPU time by default (--clock cpu): splitting is single-threaded CPU work, and on a
shared machine wall time also counts the time spent waiting for a core. On an idle machine the two agree;
--clock wall measures wall time.

Usage: python benchmarks/split_bench.py [--mb 10] [--dialect all] [--repeat 5] [--sqlparse-mb 0.5] [--sqlparse-repeat 3]
       [--stream-mb 0] [--clock cpu]   (docs/benchmarks.md uses --mb 10 --repeat 7 --sqlparse-repeat 5)
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlrun.splitter import iter_split, split  # noqa: E402

clock = time.process_time  # --clock: process_time (cpu) or perf_counter (wall)

LINE = "INSERT INTO t (a,b,c) VALUES ({i}, 'text with ''quote'' and ; semicolon', 'x');\n"
COMMENTED = "INSERT INTO t VALUES ({i}, 'n{i}; -- x', 'ab''c;d'); -- row {i}\n"
BLOCK_EVERY = 50
BLOCK = "/* rows {i} to {j}: a block comment; with a ; inside */\n"

MIXED = {
    "postgresql": """-- table {i}
CREATE TABLE IF NOT EXISTS t{i} (
    id bigserial PRIMARY KEY,  -- key
    name text NOT NULL DEFAULT 'x;y',
    price numeric(10,2) CHECK (price > 0),
    created timestamptz DEFAULT now()
);
/* index for {i} */
CREATE INDEX IF NOT EXISTS t{i}_name ON t{i} (lower(name));
CREATE OR REPLACE FUNCTION f{i}(a int) RETURNS int LANGUAGE plpgsql AS $$
BEGIN
  IF a > 0 THEN RETURN a; END IF;
  RETURN -a;
END;
$$;
INSERT INTO t{i} (name, price) VALUES ('it''s', 1.5), (E'a\\'b', 2);
COMMENT ON TABLE t{i} IS 'table number {i}';
""",
    "mysql": """-- table {i}
CREATE TABLE IF NOT EXISTS t{i} (
    id bigint AUTO_INCREMENT PRIMARY KEY,  # key
    name varchar(100) NOT NULL DEFAULT 'x;y',
    price decimal(10,2) CHECK (price > 0)
) ENGINE=InnoDB;
/* index for {i} */
CREATE INDEX t{i}_name ON t{i} (name);
CREATE PROCEDURE archive_{i}(IN cutoff DATE)
BEGIN
  -- move old rows
  INSERT INTO archive (id, name, created_at) SELECT id, name, created_at FROM t{i} WHERE created_at < cutoff;
  DELETE FROM t{i} WHERE created_at < cutoff;
  IF ROW_COUNT() > 0 THEN
    UPDATE stats SET archived = archived + ROW_COUNT(), note = 'archived; ok' WHERE name = 't{i}';
  END IF;
END;
INSERT INTO t{i} (name, price) VALUES ('it\\'s', 1.5), ("a""b", 2);
""",
    "sqlite": """-- table {i}
CREATE TABLE IF NOT EXISTS t{i} (
    id INTEGER PRIMARY KEY,  -- key
    name TEXT NOT NULL DEFAULT 'x;y',
    price REAL CHECK (price > 0)
);
/* index for {i} */
CREATE INDEX IF NOT EXISTS t{i}_name ON t{i} (name);
CREATE TRIGGER t{i}_total AFTER INSERT ON t{i} BEGIN
  -- keep totals
  UPDATE stats SET total = total + new.price, note = 'x; y' WHERE name = 't{i}';
  INSERT INTO audit (what, at) VALUES ('insert', CURRENT_TIMESTAMP);
END;
INSERT INTO t{i} (name, price) VALUES ('it''s', 1.5), ([a], 2);
""",
}


def mixed_text(dialect: str, megabytes: float) -> str:
    """A schema-style script of about ``megabytes`` MB for ``dialect``."""
    template = MIXED[dialect]
    n = max(1, int(megabytes * 1_000_000 / len(template)))
    return "".join(template.format(i=i) for i in range(n))


def commented_text(megabytes: float) -> str:
    """Short rows with a trailing line comment each and a block comment every BLOCK_EVERY rows, about ``megabytes`` MB."""
    target = int(megabytes * 1_000_000)
    parts: list[str] = []
    size = i = 0
    while size < target:
        block = BLOCK.format(i=i, j=i + BLOCK_EVERY - 1) + "".join(COMMENTED.format(i=i + k) for k in range(BLOCK_EVERY))
        parts.append(block)
        size += len(block)
        i += BLOCK_EVERY
    return "".join(parts)


def write_script(path: Path, megabytes: float) -> int:
    """Write an INSERT-heavy script of about ``megabytes`` MB; return its size in bytes."""
    target = int(megabytes * 1_000_000)
    size = 0
    with path.open("w", encoding="utf-8") as f:
        i = 0
        while size < target:
            block = "".join(LINE.format(i=i + k) for k in range(1000))
            f.write(block)
            size += len(block)
            i += 1000
    return size


def bench_split(text: str, dialect: str, repeat: int) -> tuple[float, list[float], int]:
    """(first call, later calls, statement count) in seconds for splitting ``text`` whole.

    The first call includes compiling the dialect's regexes once per process; the later
    ones are the steady state a runner sees from its second script on.
    """
    times = []
    n = 0
    for _ in range(repeat + 1):
        t0 = clock()
        n = len(split(text, dialect))
        times.append(clock() - t0)
    return times[0], times[1:], n


def bench_sqlparse(text: str, repeat: int) -> list[float]:
    """Seconds for each of ``repeat`` sqlparse.split calls on ``text``."""
    import sqlparse

    times = []
    for _ in range(repeat):
        t0 = clock()
        sqlparse.split(text)
        times.append(clock() - t0)
    return times


def bench_stream(path: Path, dialect: str) -> tuple[float, int, int]:
    """(seconds, statements, peak RSS in KB) for streaming ``path`` with iter_split."""
    t0 = time.perf_counter()
    n = 0
    with path.open(encoding="utf-8") as f:
        for _ in iter_split(f, dialect):
            n += 1
    return time.perf_counter() - t0, n, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def has_sqlparse() -> bool:
    """Whether sqlparse (the bench extra) can be imported."""
    import importlib.util

    return importlib.util.find_spec("sqlparse") is not None


def sqlparse_rate(text: str, args: argparse.Namespace) -> float:
    """Median MB/s of sqlparse.split on the first --sqlparse-mb of ``text`` (cut at a line end)."""
    small = text[: int(args.sqlparse_mb * 1_000_000)]
    small = small[: small.rfind("\n") + 1]
    return len(small) / statistics.median(bench_sqlparse(small, args.sqlparse_repeat)) / 1e6


def main() -> None:
    """Run the benchmarks and print MB/s figures (medians, with min-max)."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", type=float, default=10.0, help="size of the script split whole")
    ap.add_argument("--dialect", default="all", choices=["all", "mysql", "postgresql", "sqlite"])
    ap.add_argument("--repeat", type=int, default=5, help="timed splits per dialect after the first")
    ap.add_argument("--sqlparse-mb", type=float, default=0.5, help="size given to sqlparse (it is slow)")
    ap.add_argument("--sqlparse-repeat", type=int, default=3)
    ap.add_argument("--stream-mb", type=float, default=0.0, help="also stream a script this big (RSS check)")
    ap.add_argument("--clock", choices=["cpu", "wall"], default="cpu", help="process CPU time (default) or wall time")
    args = ap.parse_args()
    global clock
    clock = time.process_time if args.clock == "cpu" else time.perf_counter
    print(f"clock: {args.clock}")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "script.sql"
        size = write_script(path, args.mb)
        text = path.read_text(encoding="utf-8")
        dialects = ["mysql", "postgresql", "sqlite"] if args.dialect == "all" else [args.dialect]
        rates = {}
        for dialect in dialects:
            first, times, n = bench_split(text, dialect, args.repeat)
            rates[dialect] = size / statistics.median(times) / 1e6
            print(
                f"split {dialect:10} {size / 1e6:.1f} MB, {n} statements: median {statistics.median(times):.3f} s "
                f"= {rates[dialect]:.1f} MB/s (min-max {min(times):.3f}-{max(times):.3f} s, "
                f"first call with regex compile {first:.3f} s)"
            )
        compare = has_sqlparse()
        if compare:
            sp = sqlparse_rate(text, args)
            print(f"sqlparse.split on the first {args.sqlparse_mb:.2f} MB: {sp:.2f} MB/s")
            for dialect, rate in rates.items():
                print(f"ratio {dialect}: {rate / sp:.0f}x sqlparse")
        else:
            print("sqlparse is not installed (make bench, or pip install -e '.[bench]'): no ratios")
        del text
        print()
        commented = commented_text(args.mb)
        sp = sqlparse_rate(commented, args) if compare else 0.0  # the same text in every dialect: measured once
        for dialect in dialects:
            first, times, n = bench_split(commented, dialect, args.repeat)
            rate = len(commented) / statistics.median(times) / 1e6
            line = (f"commented {dialect:10} {len(commented) / 1e6:.1f} MB, {n} statements: {rate:.1f} MB/s "
                    f"(min-max {min(times):.3f}-{max(times):.3f} s)")
            if compare:
                line += f"; sqlparse {sp:.2f} MB/s; ratio {rate / sp:.0f}x"
            print(line)
        del commented
        print()
        for dialect in dialects:
            mixed = mixed_text(dialect, args.mb)
            first, times, n = bench_split(mixed, dialect, args.repeat)
            rate = len(mixed) / statistics.median(times) / 1e6
            line = f"mixed {dialect:10} {len(mixed) / 1e6:.1f} MB, {n} statements: {rate:.1f} MB/s (min-max {min(times):.3f}-{max(times):.3f} s)"
            if compare:
                sp = sqlparse_rate(mixed, args)
                line += f"; sqlparse {sp:.2f} MB/s; ratio {rate / sp:.0f}x"
            print(line)
        if args.stream_mb:
            big = Path(tmp) / "big.sql"
            size = write_script(big, args.stream_mb)
            for dialect in dialects:
                secs, n, rss = bench_stream(big, dialect)
                print(f"stream {dialect} {size / 1e6:.0f} MB, {n} statements: {secs:.1f} s = "
                      f"{size / secs / 1e6:.1f} MB/s, peak RSS {rss / 1024:.0f} MB")
            os.unlink(big)


if __name__ == "__main__":
    main()
