"""Probes of the Glue catalog, the crawler and the Athena workgroup.

Athena has no dry run: the probe runs ``SELECT 1`` in the workgroup (it scans no data; its result
file goes to the results location, ``athena-results/`` by default, which expires after 30 days),
as the DAG's validation query does. ``CreateTable``, ``UpdateTable``, ``BatchCreatePartition`` and
``StartCrawler`` are not called: each would change the catalog.
"""

from __future__ import annotations

import time

from finops_digest.aws.athena import RUNNING_STATES
from finops_digest.cli.probe import Probe, ProbeProblem, Session
from finops_digest.config import FinopsConfig
from finops_digest.store import layout
from finops_digest.store.catalog import partition_values, require_crawler_target

QUERY = "SELECT 1"
QUERY_SECONDS = 60
_LATER = "allowed (the table does not exist yet: register_table creates it on the first run)"


def probes(config: FinopsConfig) -> list[Probe]:
    """Catalog, crawler (with ``catalog_strategy`` crawler), then Athena."""
    db, table, budget_table = config.glue_database, config.glue_table, config.glue_budget_table
    crawler = f"crawler {config.glue_crawler}"
    if config.catalog_strategy == "crawler":
        crawls = [
            Probe("glue:GetCrawler", crawler, crawler_target),
            Probe("glue:GetCrawlerMetrics", crawler, crawler_metrics),
            Probe("glue:StartCrawler", crawler, skip="not called: it would start a crawl"),
        ]
    else:
        off = f"catalog_strategy is {config.catalog_strategy}: the DAG runs no crawler"
        crawls = [
            Probe(action, crawler, skip=off)
            for action in ("glue:GetCrawler", "glue:GetCrawlerMetrics", "glue:StartCrawler")
        ]
    workgroup = f"workgroup {config.athena_workgroup}"
    return [
        Probe("glue:GetDatabase", f"database {db}", get_database),
        Probe(
            "glue:GetTable", f"table {db}.{table}", lambda s: get_table(s, table), absent_ok=_LATER
        ),
        Probe(
            "glue:GetTable",
            f"table {db}.{budget_table}",
            lambda s: get_table(s, budget_table),
            absent_ok=_LATER,
        ),
        Probe("glue:GetPartitions", f"table {db}.{table}", get_partitions, absent_ok=_LATER),
        Probe(
            "glue:GetPartition",
            f"table {db}.{table}",
            get_partition,
            absent_ok="allowed (no such partition or table yet)",
        ),
        Probe(
            "glue:CreateTable", f"table {db}.{table}", skip="not called: it would create the table"
        ),
        Probe(
            "glue:UpdateTable",
            f"table {db}.{table}",
            skip="not called: it would change the table (register_table adds missing columns)",
        ),
        Probe(
            "glue:BatchCreatePartition",
            f"table {db}.{table}",
            skip="not called: it would register a partition",
        ),
        *crawls,
        Probe("athena:StartQueryExecution", workgroup, start_query),
        Probe("athena:GetQueryExecution", workgroup, wait_for_query),
        Probe("athena:GetQueryResults", workgroup, query_results),
    ]


def get_database(s: Session) -> str:
    """The database must exist: the DAG creates tables in it, never the database itself."""
    s.client("glue").get_database(Name=s.config.glue_database)
    return "exists"


def get_table(s: Session, table: str) -> str:
    """The table, if the DAG already created it."""
    found = s.client("glue").get_table(DatabaseName=s.config.glue_database, Name=table)["Table"]
    return f"exists, partitioned by {', '.join(k['Name'] for k in found.get('PartitionKeys', []))}"


def get_partitions(s: Session) -> str:
    """The first page (of one) of the cost table's partitions, as Athena reads them."""
    answer = s.client("glue").get_partitions(
        DatabaseName=s.config.glue_database, TableName=s.config.glue_table, MaxResults=1
    )
    return "partitions readable" + ("" if answer.get("Partitions") else " (none yet)")


def get_partition(s: Session) -> str:
    """The probe day's partition, looked up as the DAG's partition values spell it."""
    s.client("glue").get_partition(
        DatabaseName=s.config.glue_database,
        TableName=s.config.glue_table,
        PartitionValues=partition_values(s.day),
    )
    return f"partition of {s.day} exists"


def crawler_target(s: Session) -> str:
    """The DAG's own check (``require_crawler_target``): the crawler crawls the Parquet prefix."""
    location = layout.s3_uri(s.config.archive_bucket, layout.PARQUET_PREFIX + "/")
    require_crawler_target(s.client("glue"), s.config.glue_crawler, location)
    return f"crawls {location}"


def crawler_metrics(s: Session) -> str:
    """What the provider's wait for a crawl polls."""
    s.client("glue").get_crawler_metrics(CrawlerNameList=[s.config.glue_crawler])
    return "readable"


def start_query(s: Session) -> str:
    """``SELECT 1`` in the workgroup, results where the DAG's queries put theirs."""
    answer = s.client("athena").start_query_execution(
        QueryString=QUERY,
        WorkGroup=s.config.athena_workgroup,
        ResultConfiguration={"OutputLocation": s.config.results_location},
    )
    s.found["query"] = answer["QueryExecutionId"]
    return f"started {QUERY} ({s.found['query']}), results to {s.config.results_location}"


def wait_for_query(s: Session) -> str:
    """The probe query's state until it ends (at most ``QUERY_SECONDS``); it must succeed, or
    the DAG's validation query would fail the same way (e.g. results location not writable)."""
    query = s.need("query", "no query was started (athena:StartQueryExecution)")
    deadline = time.monotonic() + QUERY_SECONDS
    while True:
        status = s.client("athena").get_query_execution(QueryExecutionId=query)["QueryExecution"][
            "Status"
        ]
        if status["State"] not in RUNNING_STATES or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    if status["State"] in RUNNING_STATES:
        raise ProbeProblem(f"{QUERY} still {status['State']} after {QUERY_SECONDS} s")
    if status["State"] != "SUCCEEDED":
        raise ProbeProblem(
            f"{QUERY} ended {status['State']}: {status.get('StateChangeReason', 'no reason given')}"
        )
    s.found["succeeded"] = query
    return f"{QUERY} SUCCEEDED"


def query_results(s: Session) -> str:
    """The probe query's one row."""
    query = s.need("succeeded", "the query did not succeed")
    s.client("athena").get_query_results(QueryExecutionId=query, MaxResults=1)
    return "results readable"
