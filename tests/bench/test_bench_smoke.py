"""`make bench` must keep working: its quick consolidation section, run as a user runs it."""

import json
import re
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


def test_the_per_task_peak_rss_shows_a_task_that_holds_500_mb():
    # bench_scale's listener resets VmHWM before each task and reads it after: a probe DAG whose
    # second task holds 500 MB must show it there, and not in the task before it.
    done = subprocess.run(
        [sys.executable, "benchmarks/bench_scale.py", "probe"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    line = next(x for x in reversed(done.stdout.splitlines()) if x.startswith("BENCH-RESULT"))
    result = json.loads(line.removeprefix("BENCH-RESULT"))
    assert "success" in result["state"]
    tasks = result["tasks"]
    holding, idle = tasks["allocate_500mb"], tasks["allocate_nothing"]
    assert holding["peak_mib"] - holding["start_mib"] >= 480, tasks
    assert idle["peak_mib"] - idle["start_mib"] < 50, tasks
    assert holding["peak_mib"] - idle["peak_mib"] >= 450, tasks


SCALE_LINE = re.compile(r"scale: (\d+) rows/day end to end in (\d+) s, peak task RSS (\d+) MiB")


def test_quick_scale_section_prints_its_line_last_and_every_task_run_has_a_peak_rss():
    # The scale section at a small size (the demo organisation, its 95-day history seeded,
    # costs from the sandbox's Data Exports): the whole DAG, every task timed and measured.
    done = subprocess.run(
        [sys.executable, "benchmarks/bench.py", "--quick", "--only", "scale"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stdout.rstrip().splitlines()
    found = SCALE_LINE.fullmatch(lines[-1])
    assert found, lines[-5:]
    rows, _, peak = (int(x) for x in found.groups())
    assert rows == 386  # the demo organisation's day
    assert 100 < peak < 2048
    tasks = [line for line in lines if line.startswith("  scale") and "  task " in line]
    assert len(tasks) >= 20, done.stdout[-3000:]
    # Tasks that ran succeeded; those a branch or trigger rule skipped never ran (no RSS).
    ran = [line for line in tasks if line.endswith(", success")]
    assert len(ran) >= 15 and all("peak RSS" in line for line in ran), tasks
    assert "wall (dag.test, one day)" in done.stdout
    assert "run success" in done.stdout, done.stdout[-3000:]
