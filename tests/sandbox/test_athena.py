"""Athena runs the seed's SQL on DuckDB over the catalogued Parquet, answering like AWS."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from sandbox import SANDBOX_DEFAULTS

BUCKET = SANDBOX_DEFAULTS["archive_bucket"]
DB = SANDBOX_DEFAULTS["glue_database"]
TARGET = SANDBOX_DEFAULTS["glue_crawler_target"]
SEED_QUERY = """SELECT year, month, day, Service, SUM(DailyCost) AS Total
FROM finops_db.ou_breakdown
WHERE OU = 'Marketing' AND year = 2025 AND month BETWEEN 07 AND 09
GROUP BY year, month, day, Service ORDER BY year, month, day;"""


def _day_parquet(day: dt.date) -> bytes:
    table = pa.table(
        {
            "billingdate": pa.array([day] * 3, pa.date32()),
            "ou": ["Marketing", "Marketing", "Sales"],
            "service": ["Amazon CloudFront", "Amazon CloudFront", "AWS Lambda"],
            "linkedaccount": ["111111111111", "222222222222", "333333333333"],
            "dailycost": pa.array([100.25, 2500.5, 7.0], pa.float64()),
        }
    )
    buf = io.BytesIO()
    pq.write_table(table, buf)
    return buf.getvalue()


@pytest.fixture(scope="module")
def ou_breakdown(aws):
    """A table defined beforehand with typed keys, two partitions, data in S3."""
    s3, glue = aws("s3"), aws("glue")
    glue.create_table(
        DatabaseName=DB,
        TableInput={
            "Name": "ou_breakdown",
            "TableType": "EXTERNAL_TABLE",
            "PartitionKeys": [{"Name": n, "Type": "int"} for n in ("year", "month", "day")],
            "StorageDescriptor": {
                "Columns": [
                    {"Name": "billingdate", "Type": "date"},
                    {"Name": "ou", "Type": "string"},
                    {"Name": "service", "Type": "string"},
                    {"Name": "linkedaccount", "Type": "string"},
                    {"Name": "dailycost", "Type": "double"},
                ],
                "Location": TARGET,
            },
        },
    )
    for day in (dt.date(2025, 9, 13), dt.date(2025, 9, 14)):
        folder = f"year={day:%Y}/month={day:%m}/day={day:%d}/"
        s3.put_object(
            Bucket=BUCKET,
            Key=f"parquet/ou_breakdown/{folder}part-0.parquet",
            Body=_day_parquet(day),
        )
        glue.create_partition(
            DatabaseName=DB,
            TableName="ou_breakdown",
            PartitionInput={
                "Values": [f"{day:%Y}", f"{day:%m}", f"{day:%d}"],
                "StorageDescriptor": {"Location": TARGET + folder},
            },
        )
    return "ou_breakdown"


def test_seed_query_through_airflow_athena_hook(sandbox, ou_breakdown, aws):
    from airflow.providers.amazon.aws.hooks.athena import AthenaHook

    hook = AthenaHook(aws_conn_id=None, region_name="us-east-1")
    qid = hook.run_query(
        SEED_QUERY,
        query_context={"Database": DB},
        result_configuration={},
        workgroup=SANDBOX_DEFAULTS["athena_workgroup"],
    )
    assert hook.poll_query_status(qid, sleep_time=1) == "SUCCEEDED"
    result = hook.get_query_results(qid)
    rows = [[c.get("VarCharValue") for c in r["Data"]] for r in result["ResultSet"]["Rows"]]
    assert rows == [
        ["year", "month", "day", "Service", "Total"],  # headers keep the query's casing
        ["2025", "9", "13", "Amazon CloudFront", "2600.75"],
        ["2025", "9", "14", "Amazon CloudFront", "2600.75"],
    ]
    types = [c["Type"] for c in result["ResultSet"]["ResultSetMetadata"]["ColumnInfo"]]
    assert types == ["integer", "integer", "integer", "varchar", "double"]
    # Athena writes <query id>.csv under the workgroup's output location.
    bucket, _, prefix = SANDBOX_DEFAULTS["athena_output_location"][5:].partition("/")
    body = aws("s3").get_object(Bucket=bucket, Key=f"{prefix}{qid}.csv")["Body"].read().decode()
    assert list(csv.reader(io.StringIO(body)))[0] == ["year", "month", "day", "Service", "Total"]
    execution = aws("athena").get_query_execution(QueryExecutionId=qid)["QueryExecution"]
    assert execution["ResultConfiguration"]["OutputLocation"].endswith(f"{qid}.csv")


def test_results_paginate_with_header_only_on_first_page(ou_breakdown, aws):
    athena = aws("athena")
    qid = athena.start_query_execution(
        QueryString="SELECT linkedaccount FROM ou_breakdown ORDER BY 1",
        QueryExecutionContext={"Database": DB},
        WorkGroup="finops",
    )["QueryExecutionId"]
    first = athena.get_query_results(QueryExecutionId=qid, MaxResults=4)
    second = athena.get_query_results(
        QueryExecutionId=qid, MaxResults=4, NextToken=first["NextToken"]
    )
    values = [
        r["Data"][0].get("VarCharValue")
        for r in first["ResultSet"]["Rows"] + second["ResultSet"]["Rows"]
    ]
    assert values[0] == "linkedaccount" and len(values) == 7 and "NextToken" not in second


@pytest.mark.parametrize(
    ("sql", "reason"),
    [
        ("SELECT nope FROM finops_db.ou_breakdown", "nope"),
        ("SELECT * FROM finops_db.missing_table", "missing_table"),
        ("SELEC 1", "SYNTAX_ERROR"),
    ],
)
def test_bad_sql_fails_with_the_engine_reason(ou_breakdown, aws, sql, reason):
    athena = aws("athena")
    qid = athena.start_query_execution(QueryString=sql, WorkGroup="finops")["QueryExecutionId"]
    status = athena.get_query_execution(QueryExecutionId=qid)["QueryExecution"]["Status"]
    assert status["State"] == "FAILED"
    assert reason in status["StateChangeReason"]


def test_null_values_are_empty_cells(ou_breakdown, aws):
    athena = aws("athena")
    qid = athena.start_query_execution(
        QueryString="SELECT NULL AS x, 1 AS y, 2 + 3", WorkGroup="finops"
    )["QueryExecutionId"]
    rows = athena.get_query_results(QueryExecutionId=qid)["ResultSet"]["Rows"]
    assert [c.get("VarCharValue") for c in rows[0]["Data"]] == ["x", "y", "_col2"]
    assert rows[1]["Data"] == [{}, {"VarCharValue": "1"}, {"VarCharValue": "5"}]


def _run(athena, sql):
    qid = athena.start_query_execution(
        QueryString=sql, QueryExecutionContext={"Database": DB}, WorkGroup="finops"
    )["QueryExecutionId"]
    status = athena.get_query_execution(QueryExecutionId=qid)["QueryExecution"]["Status"]
    assert status["State"] == "SUCCEEDED", status.get("StateChangeReason")
    rows = athena.get_query_results(QueryExecutionId=qid)["ResultSet"]["Rows"]
    return [[c.get("VarCharValue") for c in r["Data"]] for r in rows[1:]]


def test_create_view_stores_it_in_glue_as_athena_does_and_queries_read_through_it(
    ou_breakdown, aws
):
    from finops_digest.store.views import ensure_views, stored_select, view_select

    athena, glue = aws("athena"), aws("glue")
    statement = (
        "-- Per-OU totals\nCREATE OR REPLACE VIEW finops_db.by_ou AS\n"
        "SELECT ou, SUM(dailycost) AS total FROM finops_db.ou_breakdown GROUP BY ou"
    )
    run = lambda sql: _run(athena, sql)  # noqa: E731
    assert ensure_views(glue, DB, {"by_ou": statement}, run) == {"by_ou": "created"}
    table = glue.get_table(DatabaseName=DB, Name="by_ou")["Table"]
    assert table["TableType"] == "VIRTUAL_VIEW"
    assert stored_select(table) == view_select(statement)
    assert [c["Name"] for c in table["StorageDescriptor"]["Columns"]] == ["ou", "total"]
    assert sorted(_run(athena, "SELECT ou, total FROM by_ou")) == [
        ["Marketing", "5201.5"],
        ["Sales", "14.0"],
    ]
    # A view over a view, as the dashboard's queries read cost_rollup.
    _run(athena, "CREATE OR REPLACE VIEW big AS SELECT ou FROM finops_db.by_ou WHERE total > 100")
    assert _run(athena, "SELECT * FROM big") == [["Marketing"]]
    # Current: one GetTable, no query; changed: replaced in place.
    assert ensure_views(glue, DB, {"by_ou": statement}, run) == {"by_ou": "exists"}
    changed = statement.replace("SUM(dailycost)", "MAX(dailycost)")
    assert ensure_views(glue, DB, {"by_ou": changed}, run) == {"by_ou": "updated"}
    assert sorted(_run(athena, "SELECT ou, total FROM by_ou")) == [
        ["Marketing", "2500.5"],
        ["Sales", "7.0"],
    ]


def test_create_view_without_or_replace_refuses_an_existing_view(ou_breakdown, aws):
    athena = aws("athena")
    sql = "CREATE VIEW once AS SELECT 1 AS x"
    _run(athena, sql)
    qid = athena.start_query_execution(
        QueryString=sql, QueryExecutionContext={"Database": DB}, WorkGroup="finops"
    )["QueryExecutionId"]
    status = athena.get_query_execution(QueryExecutionId=qid)["QueryExecution"]["Status"]
    assert status["State"] == "FAILED" and "already exists" in status["StateChangeReason"]


def _scanned(aws, sql: str) -> tuple[int, list]:
    athena = aws("athena")
    qid = athena.start_query_execution(
        QueryString=sql,
        QueryExecutionContext={"Database": DB},
        WorkGroup=SANDBOX_DEFAULTS["athena_workgroup"],
    )["QueryExecutionId"]
    execution = athena.get_query_execution(QueryExecutionId=qid)["QueryExecution"]
    rows = athena.get_query_results(QueryExecutionId=qid)["ResultSet"]["Rows"][1:]
    return execution["Statistics"]["DataScannedInBytes"], [
        [c.get("VarCharValue") for c in r["Data"]] for r in rows
    ]


def test_a_query_scans_the_named_columns_of_the_partitions_it_allows(ou_breakdown, aws):
    one_day = "WHERE year = 2025 AND month = 9 AND day = 14"
    both, _ = _scanned(aws, "SELECT SUM(dailycost) FROM ou_breakdown")
    day, rows = _scanned(aws, f"SELECT SUM(dailycost) FROM ou_breakdown {one_day}")
    wider, _ = _scanned(aws, f"SELECT ou, SUM(dailycost) FROM ou_breakdown {one_day} GROUP BY 1")
    everything, _ = _scanned(aws, f"SELECT * FROM ou_breakdown {one_day}")
    assert rows == [["2607.75"]], "the 13th's rows were not read"
    assert 0 < day < both and abs(both - 2 * day) <= 2, "one of two identical partitions"
    assert day < wider < everything, "bytes grow with the columns named"
    # Under an OR nothing is pruned (the sandbox may read more than Athena, never less).
    either, rows = _scanned(
        aws, "SELECT SUM(dailycost) FROM ou_breakdown WHERE day = 14 OR ou = 'Sales'"
    )
    assert either > both and rows == [["2614.75"]]
