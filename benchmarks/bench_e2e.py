"""The whole DAG on the sandbox, day after day, timed by Airflow's own task instances.

    python benchmarks/bench_e2e.py --size 50,2000,150 --start 2025-09-14 --days 1

Runs ``dag.test()`` for each day in turn (a backfill, oldest day first) in one process against
one sandbox, and prints one JSON object: per task, the durations Airflow recorded (mapped tasks:
count, sum and max over map indexes), the wall time of each run, the Cost Explorer requests of
each run, and time-to-queryable (end of ``archive_to_s3`` to end of ``validate_in_athena``: the
catalog step plus Athena's answer).

The ``HISTORY_WINDOW`` days before the first day are archived beforehand from the synthetic
organisation's own data (``--no-seed`` to skip): the steady state, where ``detect_anomalies``
reads its history from the archive. Without it the first runs pull that history from Cost
Explorer (``bench_requests.py`` counts those requests).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULT_MARK = "BENCH-RESULT"  # prefixes the JSON line bench.py reads (Airflow logs to stdout)
for path in (ROOT, ROOT / "dags"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from scripts.local_env import airflow_env, aws_env, migrate_db, pipeline_config  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", default="50,2000,150", help="OUS,ACCOUNTS,SERVICES")
    parser.add_argument("--start", type=date.fromisoformat, default=date(2025, 9, 14))
    parser.add_argument("--days", type=int, default=1)
    parser.add_argument("--no-seed", action="store_true", help="do not archive history first")
    args = parser.parse_args(argv)

    home = Path(tempfile.mkdtemp(prefix="finops-bench-airflow-"))
    os.environ.update(airflow_env(home))
    os.environ["AIRFLOW__LOGGING__LOGGING_LEVEL"] = "WARNING"
    migrate_db({"AIRFLOW_HOME": str(home)})

    from sandbox import SANDBOX_DEFAULTS, Sandbox
    from sandbox.organization import Organization
    from scripts.local_env import variable_env

    ous, accounts, services = (int(x) for x in args.size.split(","))
    org = Organization.synthetic(ous=ous, accounts=accounts, services=services)
    days = [args.start + timedelta(days=n) for n in range(args.days)]
    result: dict = {"size": args.size, "days": [d.isoformat() for d in days], "runs": []}
    with Sandbox.start(organization=org) as sandbox:
        os.environ.update(aws_env(sandbox.endpoint_url))
        config = pipeline_config(SANDBOX_DEFAULTS)
        os.environ.update(variable_env(config))
        if not args.no_seed:
            started = time.perf_counter()
            result["seeded_days"] = seed_history(org, config, days[0])
            result["seed_seconds"] = round(time.perf_counter() - started, 1)

        from airflow.dag_processing.dagbag import DagBag

        dag = DagBag(dag_folder=str(ROOT / "dags")).get_dag("finops_daily_digest")
        for day in days:
            before = sandbox.calls("GetCostAndUsage")
            started = time.perf_counter()
            run = dag.test(logical_date=datetime(day.year, day.month, day.day, tzinfo=UTC))
            wall = time.perf_counter() - started
            result["runs"].append(
                {
                    "day": day.isoformat(),
                    "state": str(run.state),
                    "wall_seconds": round(wall, 2),
                    "cost_explorer_requests": sandbox.calls("GetCostAndUsage") - before,
                    "tasks": task_durations(run),
                }
            )
    print(RESULT_MARK, json.dumps(result), flush=True)
    return 0


def task_durations(run) -> dict[str, dict]:
    """Per task id: map indexes run, summed and longest duration (s), and its timestamps."""
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session

    tasks: dict[str, dict] = defaultdict(
        lambda: {"count": 0, "seconds": 0.0, "max": 0.0, "start": None, "end": None}
    )
    with create_session() as session:
        for ti in session.query(TaskInstance).filter_by(dag_id=run.dag_id, run_id=run.run_id):
            entry = tasks[ti.task_id]
            entry["state"] = str(ti.state)
            if ti.start_date is None or ti.end_date is None:
                continue
            seconds = (ti.end_date - ti.start_date).total_seconds()
            entry["count"] += 1
            entry["seconds"] += seconds
            entry["max"] = max(entry["max"], seconds)
            start, end = ti.start_date.timestamp(), ti.end_date.timestamp()
            entry["start"] = start if entry["start"] is None else min(entry["start"], start)
            entry["end"] = end if entry["end"] is None else max(entry["end"], end)
    return dict(tasks)


def seed_history(org, config: dict, first_day: date) -> int:
    """Archive the consolidated CSV of the history window before ``first_day``, computed from
    the organisation's line items (what the pipeline would have archived on those days)."""
    import boto3

    from finops_digest.ingest.cost_history import HISTORY_WINDOW_DAYS
    from finops_digest.ingest.cost_rows import CostRow, consolidate, to_csv
    from finops_digest.store import layout

    s3 = boto3.client("s3")
    window = HISTORY_WINDOW_DAYS
    excluded = {"Credit", "Refund", "Tax"}
    for n in range(window, 0, -1):
        day = first_day - timedelta(days=n)
        totals: dict[tuple[str, str, str], Decimal] = defaultdict(Decimal)
        for line in org.cost_lines(day):
            if line.record_type in excluded:
                continue
            ou = org.ou_path_of(line.account_id) or "Root"
            totals[(ou, line.service, line.account_id)] += line.amounts["NetAmortizedCost"]
        rows = consolidate(CostRow(day, *key, amount) for key, amount in totals.items())
        s3.put_object(
            Bucket=config["archive_bucket"], Key=layout.archive_key(day), Body=to_csv(rows)
        )
    return window


if __name__ == "__main__":
    sys.exit(main())
