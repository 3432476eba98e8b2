"""Time-to-queryable per day: the Glue crawler vs BatchCreatePartition (`catalog_strategy`).

For each strategy, on a fresh sandbox, N consecutive days are archived one after the other (the
day's Parquet at its partition, as archive_to_s3 writes it), then the DAG's own `crawl_catalog`
step runs and the day's partition_totals query is run in Athena: time-to-queryable is from the end
of the upload to Athena returning the day's exact row count. The sandbox's crawler has no start-up
latency (crawler_run_seconds=0); on AWS a crawl adds its own ~1 minute, reported separately.

    .venv/bin/python benchmarks/catalog_strategies.py [--days 30]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import sys
import time
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "dags")]

import boto3  # noqa: E402

from finops_digest.config import parse_config  # noqa: E402
from finops_digest.ingest.cost_rows import CostRow, consolidate, to_parquet  # noqa: E402
from finops_digest.store import archive, layout  # noqa: E402
from finops_digest.store.catalog import ensure_table, partition_totals_sql, table_input  # noqa: E402
from finops_digest.tasks.catalog import crawl_catalog  # noqa: E402
from sandbox import SANDBOX_DEFAULTS, Sandbox  # noqa: E402
from scripts.local_env import aws_env, pipeline_config  # noqa: E402

FIRST_DAY = date(2025, 8, 1)
STRATEGIES = ("crawler", "partition_api")


def day_rows(organization, day: date) -> list[CostRow]:
    """The day's consolidated rows, straight from the sandbox's synthetic data."""
    totals: dict[tuple, Decimal] = defaultdict(Decimal)
    for line in organization.cost_lines(day):
        if line.record_type not in ("Credit", "Refund", "Tax"):
            ou = organization.ou_path_of(line.account_id) or "Root"
            totals[(ou, line.service, line.account_id)] += line.amounts["NetAmortizedCost"]
    return consolidate(
        CostRow(day, ou, service, account, cost)
        for (ou, service, account), cost in totals.items()
        if cost
    )


def athena_rows(athena, sql: str, workgroup: str) -> int:
    qid = athena.start_query_execution(
        QueryString=sql, WorkGroup=workgroup, QueryExecutionContext={"Database": "finops_db"}
    )["QueryExecutionId"]
    while True:
        status = athena.get_query_execution(QueryExecutionId=qid)["QueryExecution"]["Status"]
        if status["State"] in ("SUCCEEDED", "FAILED", "CANCELLED"):
            break
        time.sleep(0.05)
    if status["State"] != "SUCCEEDED":
        raise RuntimeError(status.get("StateChangeReason"))
    rows = athena.get_query_results(QueryExecutionId=qid)["ResultSet"]["Rows"]
    return int(rows[1]["Data"][0]["VarCharValue"])


def measure(strategy: str, days: int) -> dict:
    """Per-day seconds to queryable (and API calls) for one strategy on a fresh sandbox."""
    with Sandbox.start() as sb:
        os.environ.update(aws_env(sb.endpoint_url))
        # No Airflow metadata DB here: the provider's hooks find aws_default in the environment.
        os.environ["AIRFLOW_CONN_AWS_DEFAULT"] = json.dumps({"conn_type": "aws"})
        config = parse_config({**pipeline_config(SANDBOX_DEFAULTS), "catalog_strategy": strategy})

        def client(service: str):
            return boto3.client(service, endpoint_url=sb.endpoint_url, region_name="us-east-1")

        s3, athena = client("s3"), client("athena")
        location = layout.s3_uri(config.archive_bucket, layout.PARQUET_PREFIX + "/")
        ensure_table(
            client("glue"), "finops_db", table_input("ou_breakdown", location, config.cost_metric)
        )
        seconds, catalog_calls = [], []
        for n in range(days):
            day = FIRST_DAY + timedelta(days=n)
            rows = day_rows(sb.organization, day)
            archive.put_archived(
                s3,
                config.archive_bucket,
                layout.parquet_key(day),
                to_parquet(rows, {"billing-date": day.isoformat()}, {}),
                content_type="application/vnd.apache.parquet",
                metadata={},
            )
            calls_before = sum(sb.faults.calls().values())
            started = time.perf_counter()
            crawl_catalog(
                {
                    "billing_date": day.isoformat(),
                    "use_prefetched_costs": False,
                    "config": config.to_dict(),
                },
                {config.glue_table: "exists"},
                {"parquet": {"uri": layout.s3_uri(config.archive_bucket, layout.parquet_key(day))}},
            )
            count = athena_rows(
                athena,
                partition_totals_sql("finops_db", "ou_breakdown", day),
                config.athena_workgroup,
            )
            seconds.append(time.perf_counter() - started)
            catalog_calls.append(sum(sb.faults.calls().values()) - calls_before - 3)  # - Athena
            if count != len(rows):
                raise AssertionError(
                    f"{strategy} {day}: Athena sees {count} rows, {len(rows)} archived"
                )
    return {
        "strategy": strategy,
        "days": days,
        "median_s": statistics.median(seconds),
        "p95_s": sorted(seconds)[max(0, int(0.95 * days) - 1)],
        "first_day_s": seconds[0],
        "last_day_s": seconds[-1],
        "glue_calls_per_day": statistics.median(catalog_calls),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=30)
    args = parser.parse_args(argv)
    logging.disable(logging.INFO)  # the tasks log every partition and crawl
    results = [measure(strategy, args.days) for strategy in STRATEGIES]
    print(f"Time-to-queryable per day on the sandbox, {args.days} consecutive days:")
    print("| strategy | median (s) | p95 (s) | day 1 (s) | last day (s) | Glue calls / day |")
    print("| --- | --- | --- | --- | --- | --- |")
    for r in results:
        print(
            f"| {r['strategy']} | {r['median_s']:.3f} | {r['p95_s']:.3f} | {r['first_day_s']:.3f} "
            f"| {r['last_day_s']:.3f} | {r['glue_calls_per_day']:.0f} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
