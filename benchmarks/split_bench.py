"""Measure sqlrun.splitter throughput against sqlparse.split on a generated INSERT-heavy script.

Usage: python benchmarks/split_bench.py [--mb 10] [--dialect mysql] [--sqlparse-mb 1] [--stream-mb 0]
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlrun.splitter import iter_split, split  # noqa: E402

LINE = "INSERT INTO t (a,b,c) VALUES ({i}, 'text with ''quote'' and ; semicolon', 'x');\n"


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


def bench_split(text: str, dialect: str) -> tuple[float, int]:
    """Seconds to split ``text`` whole, and the statement count."""
    t0 = time.perf_counter()
    n = len(split(text, dialect))
    return time.perf_counter() - t0, n


def bench_sqlparse(text: str) -> float:
    """Seconds for sqlparse.split on ``text``."""
    import sqlparse

    t0 = time.perf_counter()
    sqlparse.split(text)
    return time.perf_counter() - t0


def bench_stream(path: Path, dialect: str) -> tuple[float, int, int]:
    """(seconds, statements, peak RSS in KB) for streaming ``path`` with iter_split."""
    t0 = time.perf_counter()
    n = 0
    with path.open(encoding="utf-8") as f:
        for _ in iter_split(f, dialect):
            n += 1
    return time.perf_counter() - t0, n, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def main() -> None:
    """Run the benchmarks and print MB/s figures."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", type=float, default=10.0, help="size of the script split whole")
    ap.add_argument("--dialect", default="mysql", choices=["mysql", "postgresql", "sqlite"])
    ap.add_argument("--sqlparse-mb", type=float, default=0.5, help="size given to sqlparse (it is slow)")
    ap.add_argument("--stream-mb", type=float, default=0.0, help="also stream a script this big (RSS check)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "script.sql"
        size = write_script(path, args.mb)
        text = path.read_text(encoding="utf-8")
        dialects = [args.dialect] if args.dialect != "mysql" else ["mysql", "postgresql", "sqlite"]
        rates = {}
        for dialect in dialects:
            secs, n = bench_split(text, dialect)
            rates[dialect] = size / secs / 1e6
            print(f"split {dialect:10} {size / 1e6:.1f} MB, {n} statements: {secs:.3f} s = {rates[dialect]:.1f} MB/s")
        small = text[: int(args.sqlparse_mb * 1_000_000)]
        small = small[: small.rfind("\n") + 1]
        sp = len(small) / bench_sqlparse(small) / 1e6
        print(f"sqlparse.split {len(small) / 1e6:.2f} MB: {sp:.2f} MB/s")
        for dialect, rate in rates.items():
            print(f"ratio {dialect}: {rate / sp:.0f}x sqlparse")
        del text, small
        if args.stream_mb:
            big = Path(tmp) / "big.sql"
            size = write_script(big, args.stream_mb)
            secs, n, rss = bench_stream(big, args.dialect)
            print(f"stream {args.dialect} {size / 1e6:.0f} MB, {n} statements: {secs:.1f} s = "
                  f"{size / secs / 1e6:.1f} MB/s, peak RSS {rss / 1024:.0f} MB")
            os.unlink(big)


if __name__ == "__main__":
    main()
