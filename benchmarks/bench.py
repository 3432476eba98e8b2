"""`make bench`: how fast and how cheap the pipeline is, measured side by side in one run.

    python benchmarks/bench.py                      # everything (an hour or more: dashboard's large org)
    python benchmarks/bench.py --quick              # a smoke run of every section (~2 minutes)
    python benchmarks/bench.py --only consolidation,parse

Prints one table. Sections (each variant runs in its own fresh process):

1. consolidation: one day of staged per-OU parts (10k, 100k, 1M rows) to the sorted CSV and
   Parquet: ours (``consolidation.consolidate_parts``), the pyarrow-only floor, and the plain
   Python csv-module + Decimal reference (``cost_rows``); wall time (median of the repeats) and
   the process's peak RSS (``os.wait4``'s rusage of that child); whether our CSV and Parquet are
   byte-identical to the reference's.
2. requests: Cost Explorer ``GetCostAndUsage`` requests (each $0.01) per run for the large
   organisation, next to the design's minimum; a 30-day backfill, per day and as one request
   per OU over the range (measured on the demo organisation, computed for the large one); the
   history ``detect_anomalies`` pulls from Cost Explorer while the archive lacks it.
3. parse: importing the DAG file in a fresh interpreter beyond importing Airflow itself
   (median of N), and whether pandas, pyarrow, boto3 or botocore got imported.
4. e2e: the whole DAG with ``dag.test()`` on the sandbox: one day for the large organisation,
   and a backfill of consecutive days; per task, Airflow's task-instance durations.
5. dashboard: each drill-through view (organisation, OU, service, account, the organisation
   over the range) answered by ``build_view`` through the sandbox's Athena, on an archive the
   DAG's own runs wrote: median and max of fresh readers (empty cache), Athena queries, and the
   cold first answer; against the 2 s (demo) / 5 s (large organisation) target.
6. scale: one day end to end (``dag.test()``, every task) for 50, 2,000 and 18,000 accounts
   (``bench_scale.py``), Cost Explorer vs the Data Exports source: requests, Athena's bytes
   scanned, dollars, the run's wall time and each task's time and peak RSS (the per-task
   high-water mark in the process running it); the 18,000-account Cost Explorer run is computed
   from the organisation's groups and the page size, not run. Prints, last, the line
   ``scale: <rows> rows/day end to end in <seconds> s, peak task RSS <MiB> MiB``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "benchmarks"
RESULT_MARK = "BENCH-RESULT"
LARGE = "50,2000,150"
DEMO = "8,30,24"
PRICE = 0.01  # USD per Cost Explorer request (each page is a request)
SCALE = "50,18000,150"  # the large organisation scaled to ~1M rows a day
SECTIONS = ("consolidation", "requests", "parse", "e2e", "dashboard", "scale")
ATHENA_PRICE_PER_TB = 5.0  # USD per TB scanned, 10 MB at least per query
TASK_RSS_LIMIT_MIB = 2048  # no task above this at 1M rows (issue #18)
# A view must answer within this many seconds (the target), by organisation.
DASHBOARD_TARGET = {DEMO: 2.0, LARGE: 5.0}


def child(args: list[str], env: dict[str, str] | None = None) -> tuple[dict, int]:
    """Run ``python <args>`` to completion; its BENCH-RESULT JSON and its own peak RSS (KiB)."""
    process = subprocess.Popen(
        [sys.executable, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, **(env or {})},
        cwd=ROOT,
    )
    # communicate() would reap the child; read its pipes (stderr on a thread, so a chatty stderr
    # cannot fill its pipe while stdout is read), then reap it with wait4 for its rusage.
    errors: list[bytes] = []
    reader = threading.Thread(target=lambda: errors.append(process.stderr.read()))
    reader.start()
    out = process.stdout.read()
    reader.join()
    err = errors[0]
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode:
        tail = (err or out).decode(errors="replace")[-3000:]
        raise SystemExit(f"benchmark step failed: python {' '.join(args)}\n{tail}")
    for line in reversed(out.decode(errors="replace").splitlines()):
        if line.startswith(RESULT_MARK):
            return json.loads(line[len(RESULT_MARK) :]), usage.ru_maxrss
    raise SystemExit(f"no result line from python {' '.join(args)}")


class Table:
    """Rows of (section, case, variant, figure, detail), printed aligned at the end."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, ...]] = []

    def add(self, section: str, case: str, variant: str, figure: str, detail: str = "") -> None:
        self.rows.append((section, case, variant, figure, detail))
        print(f"  {section:13} {case:26} {variant:30} {figure:>22}  {detail}", flush=True)

    def print(self) -> None:
        header = ("section", "case", "variant", "figure", "detail")
        widths = [max(len(r[i]) for r in [header, *self.rows]) for i in range(4)]
        print()
        for row in [header, tuple("-" * w for w in widths) + ("",), *self.rows]:
            cells = [row[0].ljust(widths[0]), row[1].ljust(widths[1]), row[2].ljust(widths[2])]
            print("  ".join([*cells, row[3].rjust(widths[3]), row[4]]).rstrip())


# ----------------------------------------------------------------------------- 1. consolidation
def consolidation(table: Table, quick: bool, work: Path) -> None:
    sizes = [(10_000, 1, 1)] if quick else [(10_000, 3, 3), (100_000, 3, 3), (1_000_000, 5, 1)]
    script = str(BENCH / "bench_consolidation.py")
    for rows, repeats, python_repeats in sizes:
        parts = work / f"parts-{rows}"
        child([script, "generate", "--rows", str(rows), "--parts-dir", str(parts)])
        runs: dict[str, list[tuple[float, int]]] = {"ours": [], "floor": [], "python": []}
        for n in range(repeats):  # interleaved, so a busy moment hits every variant alike
            for variant in ("ours", "floor", "python"):
                if variant == "python" and n >= python_repeats:
                    continue
                out = work / f"out-{rows}-{variant}"
                result, rss = child(
                    [script, "run", "--variant", variant, "--parts-dir", str(parts)]
                    + ["--out-dir", str(out)]
                )
                runs[variant].append((result["seconds"], rss))
        same = all(
            (work / f"out-{rows}-ours" / name).read_bytes()
            == (work / f"out-{rows}-python" / name).read_bytes()
            for name in ("ou_breakdown.csv", "ou_breakdown.parquet")
        )
        floor = statistics.median(s for s, _ in runs["floor"])
        labels = {
            "ours": "ours (columnar, exact)",
            "floor": "floor (pyarrow only)",
            "python": "csv module + Decimal",
        }
        for variant, measured in runs.items():
            seconds = statistics.median(s for s, _ in measured)
            peak = max(r for _, r in measured) / 1024
            detail = f"{seconds / floor:.2f}x floor, peak RSS {peak:,.0f} MiB, n={len(measured)}"
            if variant == "ours":
                detail += f", CSV+Parquet identical to reference: {'yes' if same else 'NO'}"
            table.add(
                "consolidation", f"{rows:,} rows", labels[variant], f"{seconds:.2f} s", detail
            )


# ----------------------------------------------------------------------------- 2. requests
def requests(table: Table, quick: bool) -> None:
    script = str(BENCH / "bench_requests.py")
    runs = [(DEMO, True)] if quick else [(LARGE, False), (DEMO, True)]
    days = "3" if quick else "30"
    for size, measure_backfill in runs:
        args = [script, "--size", size, "--days", days]
        result, _ = child(args + (["--measure-backfill"] if measure_backfill else []))
        name = "large org" if size == LARGE else "demo org"
        _request_rows(table, f"{name} {size}", result, days)


def _request_rows(table: Table, case: str, result: dict, days: str) -> None:
    minimum, measured = result["minimum"], result["measured"]

    def figure(count: int) -> str:
        return f"{count:,} req ${count * PRICE:,.2f}"

    def row(key: str, variant: str, note: str = "") -> None:
        if key in measured:
            got = measured[key]["requests"]
            verdict = "= minimum" if got == minimum[key] else f"minimum is {minimum[key]:,}"
            detail = f"measured, {verdict}, {measured[key]['seconds']} s on the sandbox"
            table.add("requests", case, variant, figure(got), f"{detail}{note}")
        else:
            table.add("requests", case, variant, figure(minimum[key]), f"computed{note}")

    row("day", "one day (D + restated days)")
    row("backfill_per_day", f"{days}-day backfill, per day")
    saving = minimum["backfill_per_day"] - minimum["backfill_range"]
    row(
        "backfill_range",
        f"{days}-day backfill, prefetched",
        f"; saves {saving:,} req (${saving * PRICE:,.2f}, "
        f"{saving / minimum['backfill_per_day']:.0%})"
        + (", same staged parts" if result.get("range_parts_identical") else ""),
    )
    window = result["history_window_days"]
    row("history_first_run", f"first run's {window}-day history", " (detect_anomalies)")
    row(
        "history_fresh_backfill",
        f"history during {days}-day backfill",
        " (fresh archive, oldest day first)",
    )
    row("history_after_prefetch", f"first run's {window}-day history, prefetched backfill")
    everything = minimum["backfill_per_day"] + minimum["history_fresh_backfill"]
    saved = everything - minimum["backfill_prefetch_with_history"]
    row(
        "backfill_prefetch_with_history",
        f"{days}-day backfill + history, prefetched",
        f" (finops_prefetch_costs defaults); per day with history: {figure(everything)}; "
        f"saves {saved / everything:.0%}",
    )
    table.add(
        "requests",
        case,
        "page size / groups a day",
        f"{result['page_size']} / {result['groups_per_day']:,}",
        f"{result['ous_with_accounts']} OUs with accounts",
    )


# ----------------------------------------------------------------------------- 3. parse
PARSE_PROBE = r"""
import importlib.util, json, sys, time
started = time.perf_counter()
import airflow, airflow.sdk
airflow_done = time.perf_counter()
spec = importlib.util.spec_from_file_location("finops_daily_digest", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
dag_done = time.perf_counter()
heavy = [m for m in ("pandas", "pyarrow", "boto3", "botocore", "numpy") if m in sys.modules]
print("BENCH-RESULT", json.dumps({"airflow": airflow_done - started,
      "dag": dag_done - airflow_done, "heavy": heavy}))
"""


def parse(table: Table, quick: bool) -> None:
    runs = 3 if quick else 7
    home = tempfile.mkdtemp(prefix="finops-bench-parse-")
    env = {
        "AIRFLOW_HOME": home,
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
        "PYTHONPATH": os.pathsep.join([str(ROOT / "dags"), str(ROOT)]),
    }
    dag_file = str(ROOT / "dags" / "finops_daily_digest.py")
    results = [child(["-c", PARSE_PROBE, dag_file], env)[0] for _ in range(runs)]
    beyond = statistics.median(r["dag"] for r in results) * 1000
    airflow_ms = statistics.median(r["airflow"] for r in results) * 1000
    heavy = sorted({m for r in results for m in r["heavy"]})
    verdict = "meets" if beyond <= 50 else "MISSES"
    table.add(
        "parse",
        "DAG file import",
        "beyond `import airflow.sdk`",
        f"{beyond:.0f} ms",
        f"{verdict} the 50 ms target; median of {runs} fresh interpreters",
    )
    table.add("parse", "DAG file import", "`import airflow.sdk` itself", f"{airflow_ms:.0f} ms")
    table.add(
        "parse",
        "DAG file import",
        "heavy modules imported",
        ", ".join(heavy) or "none",
        "checked: pandas, pyarrow, boto3, botocore, numpy",
    )


# ----------------------------------------------------------------------------- 4. e2e
def e2e(table: Table, quick: bool) -> None:
    script = str(BENCH / "bench_e2e.py")
    cases = (
        [(DEMO, 1, "one day"), (DEMO, 2, "2-day backfill")]
        if quick
        else [(LARGE, 1, "one day"), (DEMO, 30, "30-day backfill")]
    )
    for size, days, label in cases:
        result, _ = child([script, "--size", size, "--days", str(days)])
        case = f"{label} {'large' if size == LARGE else 'demo'} {size}"
        runs = result["runs"]
        failed = [r["day"] for r in runs if "success" not in r["state"]]
        walls = [r["wall_seconds"] for r in runs]
        requests = sum(r["cost_explorer_requests"] for r in runs)
        table.add(
            "e2e",
            case,
            "wall per run (dag.test)",
            f"{statistics.mean(walls):.1f} s",
            f"{len(runs)} run(s), {'all succeeded' if not failed else 'FAILED: ' + ', '.join(failed)}"
            f"; {requests:,} GetCostAndUsage in all; history seeded in "
            f"{result.get('seed_seconds', 0)} s",
        )
        totals: dict[str, list[float]] = {}
        counts: dict[str, int] = {}
        for run in runs:
            for task, entry in run["tasks"].items():
                totals.setdefault(task, []).append(entry["seconds"])
                counts[task] = max(counts.get(task, 0), entry["count"])
        for task, seconds in sorted(totals.items(), key=lambda kv: -statistics.mean(kv[1])):
            mapped = f" x{counts[task]} mapped" if counts[task] > 1 else ""
            table.add(
                "e2e",
                case,
                f"task {task}",
                f"{statistics.mean(seconds):.2f} s",
                f"mean per run{mapped} (max {max(seconds):.2f} s)",
            )
        queryable = [
            r["tasks"]["validate_in_athena"]["end"] - r["tasks"]["archive_to_s3"]["end"]
            for r in runs
            if r["tasks"].get("validate_in_athena", {}).get("end")
            and r["tasks"].get("archive_to_s3", {}).get("end")
        ]
        if queryable:
            table.add(
                "e2e",
                case,
                "time to queryable",
                f"{statistics.mean(queryable):.1f} s",
                "archive_to_s3 end -> validate_in_athena end (catalog + Athena), mean",
            )


# ----------------------------------------------------------------------------- 5. dashboard
def dashboard(table: Table, quick: bool) -> None:
    script = str(BENCH / "bench_dashboard.py")
    cases = [(DEMO, 2)] if quick else [(DEMO, 7), (LARGE, 1)]
    for size, days in cases:
        result, _ = child([script, "--size", size, "--days", str(days)])
        case = f"{'large' if size == LARGE else 'demo'} {size}, {days} days"
        failed = [r["day"] for r in result["runs"] if "success" not in r["state"]]
        if failed:
            table.add("dashboard", case, "DAG runs", "FAILED", ", ".join(failed))
        target = DASHBOARD_TARGET[size]
        for view in result["views"]:
            slowest = max(view["max_seconds"], view["cold_seconds"])
            verdict = f"{'under' if slowest < target else 'OVER'} the {target:.0f} s target"
            table.add(
                "dashboard",
                case,
                f"view {view['level']}",
                f"{view['median_seconds']:.2f} s",
                f"max {view['max_seconds']:.2f} s of {len(view['seconds'])}, "
                f"{view['athena_queries']} queries, cold {view['cold_seconds']:.2f} s; {verdict}",
            )
            sandbox = view["sandbox_per_view"]
            table.add(
                "dashboard",
                case,
                f"  sandbox Athena, {view['level']}",
                f"{sandbox['run_query']:.2f} s",
                f"summed over the queries (side by side): Glue tables bound "
                f"{sandbox['bind_tables']:.2f} s, sqlglot + DuckDB {sandbox['duckdb_and_sqlglot']:.2f}"
                f" s; slowest query {sandbox['slowest_query']:.2f} s",
            )


# ----------------------------------------------------------------------------- 6. scale
def scale(table: Table, quick: bool) -> str:
    """The section's rows; returns the closing ``scale: ...`` line (of the first, largest run)."""
    script = str(BENCH / "bench_scale.py")
    small = "8,50,24"
    # The ~1M-row day first: the closing line is its own, and a failure there shows first.
    cases = (
        [(DEMO, "data_exports")]
        if quick
        else [
            (SCALE, "data_exports"),
            (small, "cost_explorer"),
            (small, "data_exports"),
            (LARGE, "cost_explorer"),
            (LARGE, "data_exports"),
        ]
    )
    lines = []
    for size, source in cases:
        result, _ = child([script, "run", "--size", size, "--cost-source", source])
        lines.append(_scale_rows(table, size, source, result))
    if not quick:
        computed, _ = child([script, "minimum", "--size", SCALE])
        requests = computed["requests"]
        table.add(
            "scale",
            _scale_case(SCALE, "cost_explorer"),
            "requests, dollars (computed)",
            f"{requests:,} req ${requests * PRICE:,.2f}",
            f"not run: {computed['groups_per_day']:,} groups a day, pages of "
            f"{computed['page_size']}, the day + 3 restated days + the org-wide request",
        )
    return lines[0]


def _scale_case(size: str, source: str) -> str:
    accounts = int(size.split(",")[1])
    return f"{accounts:,} accounts, {'CE' if source == 'cost_explorer' else 'Data Exports'}"


def _athena_dollars(bytes_per_query: list[int]) -> float:
    return sum(max(b, 10 * 1024**2) for b in bytes_per_query) / 1024**4 * ATHENA_PRICE_PER_TB


def _scale_rows(table: Table, size: str, source: str, result: dict) -> str:
    case = _scale_case(size, source)
    tasks = result["tasks"]
    peaks = {t: e["peak_mib"] for t, e in tasks.items() if "peak_mib" in e}
    worst = max(peaks, key=peaks.get)
    not_run = sorted(t for t, e in tasks.items() if "peak_mib" not in e)
    requests = result["calls"]["GetCostAndUsage"]
    athena = result["athena"]
    dollars = requests * PRICE + _athena_dollars(athena["bytes_per_query"])
    table.add(
        "scale",
        case,
        "wall (dag.test, one day)",
        f"{result['wall_seconds']:.0f} s",
        f"{result['rows']:,} rows, run {result['state']}; history {result['seeded']['days']} "
        f"days seeded in {result['seeded']['seconds']} s; sandbox peak "
        f"{result['sandbox_peak_mib']:,} MiB",
    )
    table.add(
        "scale",
        case,
        "requests, Athena, dollars",
        f"${dollars:,.2f}",
        f"{requests:,} GetCostAndUsage (${requests * PRICE:,.2f}), {athena['queries']} Athena "
        f"queries scanning {athena['bytes'] / 1024**2:,.1f} MiB "
        f"(${_athena_dollars(athena['bytes_per_query']):,.4f}, 10 MB minimum each)",
    )
    verdict = "within" if peaks[worst] <= TASK_RSS_LIMIT_MIB else "OVER"
    table.add(
        "scale",
        case,
        "peak task RSS",
        f"{peaks[worst]:,.0f} MiB",
        f"{worst}; {verdict} the {TASK_RSS_LIMIT_MIB} MiB limit; includes the process's "
        f"baseline; not run (skipped upstream): {', '.join(not_run) or 'none'}",
    )
    for task, entry in sorted(tasks.items(), key=lambda kv: -kv[1]["seconds"]):
        mapped = f" x{entry['count']} mapped (summed; max {entry['max']:.1f} s)"
        table.add(
            "scale",
            case,
            f"  task {task}",
            f"{entry['seconds']:.1f} s",
            (
                f"peak RSS {entry['peak_mib']:,.0f} MiB ({entry['start_mib']:,.0f} at start)"
                if "peak_mib" in entry
                else "no RSS"
            )
            + (mapped if entry["count"] > 1 else "")
            + f", {entry['state']}",
        )
    return (
        f"scale: {result['rows']} rows/day end to end in {result['wall_seconds']:.0f} s, "
        f"peak task RSS {peaks[worst]:.0f} MiB"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run")
    parser.add_argument("--only", default=",".join(SECTIONS), help="comma-separated sections")
    args = parser.parse_args(argv)
    chosen = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = sorted(set(chosen) - set(SECTIONS))
    if unknown:
        parser.error(f"unknown section(s) {unknown}; expected some of {', '.join(SECTIONS)}")
    table = Table()
    scale_line = ""
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="finops-bench-") as work:
        for section in chosen:
            print(f"== {section}", flush=True)
            if section == "consolidation":
                consolidation(table, args.quick, Path(work))
            elif section == "requests":
                requests(table, args.quick)
            elif section == "parse":
                parse(table, args.quick)
            elif section == "e2e":
                e2e(table, args.quick)
            elif section == "scale":
                scale_line = scale(table, args.quick)
            else:
                dashboard(table, args.quick)
    table.print()
    print(f"\n{'quick' if args.quick else 'full'} run, {time.perf_counter() - started:.0f} s")
    if scale_line:
        print(scale_line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
