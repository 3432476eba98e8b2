"""`make bench` must keep working: its quick consolidation section, run as a user runs it."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_quick_consolidation_bench_runs_and_matches_the_reference():
    done = subprocess.run(
        [sys.executable, "benchmarks/bench.py", "--quick", "--only", "consolidation"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    rows = [line for line in done.stdout.splitlines() if line.startswith("consolidation")]
    variants = {" ".join(line.split()[3:6]) for line in rows}
    assert len(rows) == 3, done.stdout
    assert any(v.startswith("ours (columnar") for v in variants)
    assert any(v.startswith("floor (pyarrow") for v in variants)
    assert "CSV+Parquet identical to reference: yes" in done.stdout


def test_an_unknown_section_is_refused_by_name():
    done = subprocess.run(
        [sys.executable, "benchmarks/bench.py", "--only", "consolidaton"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "unknown section(s) ['consolidaton']" in done.stderr


def test_requests_equal_the_minimum_and_the_prefetch_option_stages_the_same_parts():
    # The demo organisation on the sandbox: per-day extraction and the prefetched backfill option.
    done = subprocess.run(
        [sys.executable, "benchmarks/bench_requests.py", "--size", "8,30,24", "--days", "3"]
        + ["--measure-backfill"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    line = next(x for x in reversed(done.stdout.splitlines()) if x.startswith("BENCH-RESULT"))
    result = json.loads(line.removeprefix("BENCH-RESULT"))
    measured = {key: value["requests"] for key, value in result["measured"].items()}
    assert measured == {key: result["minimum"][key] for key in measured}
    assert set(measured) == {
        "day",
        "backfill_per_day",
        "backfill_range",
        "history_first_run",
        "history_after_prefetch",
    }
    assert measured["backfill_range"] < measured["backfill_per_day"]
    assert measured["history_after_prefetch"] < measured["history_first_run"]
    assert result["range_parts_identical"] is True
