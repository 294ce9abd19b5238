"""Python overhead against the CLI (docs/performance.md, 'Python package').

Usage: python bench.py DELEVER_BIN [ACCOUNTS] [REPEATS] [csv]

1. The default scenario: `delever -q run --format json` as a process (median of REPEATS,
   process start included), against `delever.scenario().run().to_json()` in one Python
   process, and the DataFrames of the report.
2. A retail book of ACCOUNTS accounts (default 1,000,000; `delever generate retail-book`,
   5 holdings each): the CLI running the generated YAML and CSV files, against Python
   reading the same CSVs into pandas DataFrames (not counted: the data is assumed to be in
   frames already) and passing them with `Scenario.with_book` (through Arrow when
   pyarrow is installed, else through CSV: the output says which), then running. With
   `csv` last, the book is sent down the CSV path even with pyarrow installed, to compare
   the two paths under the same load.

Everything is written under one temporary directory, removed at the end.
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import delever


CPU = {}


def timed(f, repeats, label=None):
    """Median wall seconds of `repeats` calls (and, under `label`, median CPU seconds of
    this process and its children: the machine is shared, so wall time is noisy)."""
    out, times, cpus = None, [], []
    for _ in range(repeats):
        c = _cpu()
        t = time.perf_counter()
        out = f()
        times.append(time.perf_counter() - t)
        cpus.append(_cpu() - c)
    if label:
        CPU[label] = statistics.median(cpus)
    return out, statistics.median(times)


def _cpu():
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def cli_seconds(binary, args, repeats, label=None):
    def once():
        subprocess.run([binary, "-q", *args], check=False, stdout=subprocess.DEVNULL)

    return timed(once, repeats, label)[1]


def main() -> int:
    binary = sys.argv[1]
    accounts = int(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000
    repeats = int(sys.argv[3]) if len(sys.argv) > 3 else 5
    import pandas as pd

    if len(sys.argv) > 4 and sys.argv[4] == "csv":
        delever._arrow_source = lambda rows, columns: None  # the CSV path, for comparison

    print(f"delever {delever.__version__}, pandas {pd.__version__}, repeats {repeats}")
    # 1. The default scenario.
    cli = cli_seconds(binary, ["run", "--format", "json"], repeats, "cli")
    s, load = timed(delever.scenario, repeats, "load")
    report, run = timed(lambda: s.run(), repeats, "run")
    _, to_json = timed(report.to_json, repeats)
    frames = lambda: (report.assets, report.holders, report.trace)  # noqa: E731
    _, tables = timed(frames, repeats)
    same = report.to_json() == subprocess.run(
        [binary, "-q", "run", "--format", "json"], capture_output=True, text=True
    ).stdout
    print(f"default scenario: CLI process {cli * 1e3:.1f} ms; Python load {load * 1e3:.1f} ms, "
          f"run {run * 1e3:.1f} ms, to_json {to_json * 1e6:.0f} us, "
          f"assets+holders+trace DataFrames {tables * 1e3:.1f} ms; same JSON: {same}")
    print(f"  CPU: CLI process {CPU['cli'] * 1e3:.1f} ms; Python load {CPU['load'] * 1e3:.1f} ms "
          f"+ run {CPU['run'] * 1e3:.1f} ms")

    # 2. A 1M-account book.
    with tempfile.TemporaryDirectory(prefix="delever-bench-") as tmp:
        d = Path(tmp)
        subprocess.run(
            [binary, "-q", "generate", "retail-book", "--accounts", str(accounts),
             "--name", "book", "--out-dir", str(d)],
            check=True,
        )
        yaml = d / "book.yaml"
        cli_run = cli_seconds(binary, ["run", str(yaml), "--format", "json"], repeats, "cli")
        t = time.perf_counter()
        acc = pd.read_csv(d / "book-retail-accounts.csv", engine="pyarrow")
        hold = pd.read_csv(d / "book-retail-holdings.csv", engine="pyarrow")
        read = time.perf_counter() - t
        base, load = timed(lambda: delever.load(yaml), 1)
        fed, with_book = timed(
            lambda: base.with_book(acc, hold, holder="retail"), repeats, "with_book"
        )
        rep, run = timed(lambda: fed.run(), repeats, "run")
        want = subprocess.run(
            [binary, "-q", "run", str(yaml), "--format", "json"], capture_output=True, text=True
        ).stdout
        same = rep.to_json() == want
        print(f"{accounts:,} accounts, {len(hold):,} holdings: CLI process {cli_run:.2f} s; "
              f"Python with_book {with_book:.2f} s + run {run:.2f} s = {with_book + run:.2f} s "
              f"(reading the CSVs into pandas, not counted: {read:.2f} s; loading the YAML "
              f"with its own CSV book: {load:.2f} s); same JSON: {same}; "
              f"book path: {fed.books_from['retail']}")
        print(f"  CPU: CLI process {CPU['cli']:.2f} s; Python with_book {CPU['with_book']:.2f} s "
              f"+ run {CPU['run']:.2f} s")
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    return 0


if __name__ == "__main__":
    sys.exit(main())
