"""An existing deployment upgraded: its Glue table and a day archived before ``accountname``
existed (five columns, as the previous version wrote them), then a run of the next day. The run
adds the column to the table, names the day's accounts in the Parquet (the CSV keeps its five
columns), and Athena answers over both days: the older day's names read as NULL."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from finops_digest.aws.cost_explorer import fetch_cost_rows
from finops_digest.aws.organizations import walk_organization
from finops_digest.ingest.cost_rows import CostRow, consolidate, from_csv, to_csv
from finops_digest.store import layout
from tests.deploy.test_athena_sql import _query, _view_body
from tests.integration.conftest import run_dag, task_states
from tests.integration.test_dag_run import expected_rows

ROOT = Path(__file__).resolve().parents[2]
BUCKET = "finops-digest-archive"
DB, TABLE = "finops_db", "ou_breakdown"
OLD_DAY, NEW_DAY = date(2025, 9, 8), date(2025, 9, 9)
LOCATION = f"s3://{BUCKET}/parquet/ou_breakdown/"
OLD_COLUMNS = [
    {"Name": "billingdate", "Type": "date"},
    {"Name": "ou", "Type": "string"},
    {"Name": "service", "Type": "string"},
    {"Name": "linkedaccount", "Type": "string"},
    {"Name": "dailycost", "Type": "double"},
]
# The table as the previous version's register_table created it.
OLD_TABLE = {
    "Name": TABLE,
    "TableType": "EXTERNAL_TABLE",
    "Parameters": {"classification": "parquet", "finops.cost_metric": "NetAmortizedCost"},
    "PartitionKeys": [{"Name": k, "Type": "int"} for k in ("year", "month", "day")],
    "StorageDescriptor": {
        "Columns": OLD_COLUMNS,
        "Location": LOCATION,
        "InputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
        "OutputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
        "SerdeInfo": {
            "SerializationLibrary": "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
        },
    },
}


def _day_rows(aws, day: date) -> list[CostRow]:
    """The day's consolidated rows from the sandbox's Organizations and Cost Explorer, as the
    pipeline fetches them (the CSV contract is the same before and after this change)."""
    rows = []
    for ou in walk_organization(aws("organizations"))["ous"]:
        if ou["accounts"]:
            fetched, _ = fetch_cost_rows(
                aws("ce"),
                ou=ou["name"],
                account_ids=ou["accounts"],
                start=day,
                end=day + timedelta(days=1),
                metric="NetAmortizedCost",
                excluded_record_types=("Credit", "Refund", "Tax"),
            )
            rows += fetched
    return consolidate(rows)


def _old_parquet(rows: list[CostRow]) -> bytes:
    """The day's Parquet as the previous version wrote it: the CSV's five columns only."""
    table = pa.table(
        [
            pa.array([r.billing_date for r in rows], pa.date32()),
            pa.array([r.ou for r in rows], pa.string()),
            pa.array([r.service for r in rows], pa.string()),
            pa.array([r.linked_account for r in rows], pa.string()),
            pa.array([float(r.daily_cost) for r in rows], pa.float64()),
        ],
        names=[c["Name"] for c in OLD_COLUMNS],
    )
    sink = io.BytesIO()
    pq.write_table(table, sink, compression="snappy")
    return sink.getvalue()


@pytest.fixture(scope="module")
def upgraded(sandbox, airflow_db, finops_config, aws):
    """The old day archived and catalogued by the previous version; then the new day's run."""
    s3, glue = aws("s3"), aws("glue")
    old_rows = _day_rows(aws, OLD_DAY)
    s3.put_object(Bucket=BUCKET, Key=layout.archive_key(OLD_DAY), Body=to_csv(old_rows))
    s3.put_object(Bucket=BUCKET, Key=layout.parquet_key(OLD_DAY), Body=_old_parquet(old_rows))
    glue.create_table(DatabaseName=DB, TableInput=OLD_TABLE)
    folder = f"year={OLD_DAY:%Y}/month={OLD_DAY:%m}/day={OLD_DAY:%d}/"
    glue.batch_create_partition(
        DatabaseName=DB,
        TableName=TABLE,
        PartitionInputList=[
            {
                "Values": [f"{OLD_DAY:%Y}", f"{OLD_DAY:%m}", f"{OLD_DAY:%d}"],
                "StorageDescriptor": {
                    **OLD_TABLE["StorageDescriptor"],
                    "Location": LOCATION + folder,
                },
                "Parameters": {},
            }
        ],
    )
    dag_run = run_dag(NEW_DAY)
    assert dag_run.state == "success", task_states(dag_run)  # the quality gate agreed
    return old_rows


def _partition_columns(glue, day: date) -> list[str]:
    partition = glue.get_partition(
        DatabaseName=DB,
        TableName=TABLE,
        PartitionValues=[f"{day:%Y}", f"{day:%m}", f"{day:%d}"],
    )["Partition"]
    return [c["Name"] for c in partition["StorageDescriptor"]["Columns"]]


def test_the_table_gains_accountname_at_the_end_and_keeps_the_rest(upgraded, aws):
    glue = aws("glue")
    table = glue.get_table(DatabaseName=DB, Name=TABLE)["Table"]
    sd = table["StorageDescriptor"]
    assert sd["Columns"] == [*OLD_COLUMNS, {"Name": "accountname", "Type": "string"}]
    for key in ("Location", "InputFormat", "OutputFormat", "SerdeInfo"):
        assert sd[key] == OLD_TABLE["StorageDescriptor"][key], key
    assert table["PartitionKeys"] == OLD_TABLE["PartitionKeys"]
    assert table["Parameters"] == OLD_TABLE["Parameters"]
    # Partitions carry their own columns: the old one keeps its five, the new one has six.
    assert _partition_columns(glue, OLD_DAY) == [c["Name"] for c in OLD_COLUMNS]
    assert _partition_columns(glue, NEW_DAY)[-1] == "accountname"


def test_athena_names_the_new_days_accounts_and_gives_null_for_the_old_day(upgraded, aws):
    names = {  # as Organizations names them (the pipeline's source)
        account["Id"]: account["Name"]
        for page in aws("organizations").get_paginator("list_accounts").paginate()
        for account in page["Accounts"]
    }
    new = _query(
        aws,
        f"SELECT linkedaccount, accountname FROM {TABLE} "
        f"WHERE year = 2025 AND month = 9 AND day = {NEW_DAY.day}",
    )
    assert len(new) == len(_day_rows(aws, NEW_DAY))
    assert all(names.values())
    assert all(row["accountname"] == names[row["linkedaccount"]] for row in new)
    [old] = _query(
        aws,
        f"SELECT COUNT(*) AS n, COUNT(accountname) AS named FROM {TABLE} "
        f"WHERE year = 2025 AND month = 9 AND day = {OLD_DAY.day}",
    )
    assert old == {"n": str(len(upgraded)), "named": "0"}
    # NULL because the old file lacks the column: the run did not rewrite it (no restatement).
    versions = aws("s3").list_object_versions(Bucket=BUCKET, Prefix=layout.parquet_key(OLD_DAY))
    assert len(versions["Versions"]) == 1


def test_the_readme_query_and_every_view_run_over_both_days(upgraded, aws):
    seed = re.search(r"```sql\n(.*?)```", (ROOT / "README.md").read_text(), re.S).group(1)
    rows = _query(aws, seed)
    assert {row["day"] for row in rows} == {str(OLD_DAY.day), str(NEW_DAY.day)}
    both = {str(OLD_DAY.day), str(NEW_DAY.day)}
    # The tables the upgraded DAG writes from its first day on: the budget table, the OU tree
    # (the roll-up views join it) and the spikes. The old day is not in those.
    new_only = {"month_to_date_vs_budget", "cost_rollup", "anomaly_rollup"}
    for view in sorted((ROOT / "include" / "sql" / "views").glob("*.sql")):
        rows = _query(aws, _view_body(view.stem))
        if view.stem == "focus_daily_costs":  # FOCUS names its days by the charge period
            days = {str(int(row["ChargePeriodStart"][8:10])) for row in rows}
        else:
            days = {row["day"] for row in rows}
        if view.stem == "anomaly_rollup":  # the new day's spikes, if it has any
            assert days <= {str(NEW_DAY.day)}, view.stem
        elif view.stem in new_only:
            assert days == {str(NEW_DAY.day)}, view.stem
        else:
            assert days == both, view.stem


def test_the_new_days_csv_keeps_the_five_column_contract(upgraded, aws, sandbox):
    body = aws("s3").get_object(Bucket=BUCKET, Key=layout.archive_key(NEW_DAY))["Body"].read()
    assert body.split(b"\r\n", 1)[0] == b"BillingDate,OU,Service,LinkedAccount,DailyCost"
    assert body == to_csv(_day_rows(aws, NEW_DAY)), "byte for byte the reference functions' CSV"
    archived = [
        (r.billing_date, r.ou, r.service, r.linked_account, r.daily_cost)
        for r in from_csv(body, "csv")
    ]
    assert archived == expected_rows(sandbox.organization, NEW_DAY)
