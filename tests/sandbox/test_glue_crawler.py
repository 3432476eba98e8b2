"""A started crawler catalogues the Parquet archive and reports like AWS Glue."""

from __future__ import annotations

import io
import time

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from botocore.exceptions import ClientError

from sandbox import SANDBOX_DEFAULTS

BUCKET = SANDBOX_DEFAULTS["archive_bucket"]
DB = SANDBOX_DEFAULTS["glue_database"]
CRAWLER = SANDBOX_DEFAULTS["glue_crawler"]


def parquet_bytes(rows: int = 2) -> bytes:
    import datetime as dt

    table = pa.table(
        {
            "billingdate": pa.array([dt.date(2025, 9, 14)] * rows, pa.date32()),
            "ou": pa.array(["Marketing"] * rows),
            "service": pa.array(["Amazon CloudFront"] * rows),
            "linkedaccount": pa.array(["111111111111"] * rows),
            "dailycost": pa.array([1.5] * rows, pa.float64()),
        }
    )
    buf = io.BytesIO()
    pq.write_table(table, buf)
    return buf.getvalue()


def put_day(s3, prefix: str, y: str, m: str, d: str) -> None:
    key = f"{prefix}year={y}/month={m}/day={d}/ou_breakdown.parquet"
    s3.put_object(Bucket=BUCKET, Key=key, Body=parquet_bytes())


def test_crawler_creates_table_with_string_keys_when_none_exists(aws):
    s3, glue = aws("s3"), aws("glue")
    put_day(s3, "parquet/ou_breakdown/", "2025", "09", "13")
    put_day(s3, "parquet/ou_breakdown/", "2025", "09", "14")
    s3.put_object(Bucket=BUCKET, Key="parquet/ou_breakdown/_SUCCESS", Body=b"")
    glue.start_crawler(Name=CRAWLER)
    crawler = glue.get_crawler(Name=CRAWLER)["Crawler"]
    assert crawler["State"] == "READY" and crawler["LastCrawl"]["Status"] == "SUCCEEDED"
    table = glue.get_table(DatabaseName=DB, Name="ou_breakdown")["Table"]
    assert [(k["Name"], k["Type"]) for k in table["PartitionKeys"]] == [
        ("year", "string"),
        ("month", "string"),
        ("day", "string"),
    ]
    assert [(c["Name"], c["Type"]) for c in table["StorageDescriptor"]["Columns"]] == [
        ("billingdate", "date"),
        ("ou", "string"),
        ("service", "string"),
        ("linkedaccount", "string"),
        ("dailycost", "double"),
    ]
    sd = table["StorageDescriptor"]
    assert sd["SerdeInfo"]["SerializationLibrary"].endswith("ParquetHiveSerDe")
    assert sd["Location"] == SANDBOX_DEFAULTS["glue_crawler_target"]
    parts = glue.get_partitions(DatabaseName=DB, TableName="ou_breakdown")["Partitions"]
    assert sorted(p["Values"] for p in parts) == [["2025", "09", "13"], ["2025", "09", "14"]]
    metrics = glue.get_crawler_metrics(CrawlerNameList=[CRAWLER])["CrawlerMetricsList"][0]
    assert metrics["TablesCreated"] == 1


def test_crawler_keeps_predefined_typed_keys_and_only_adds_partitions(aws):
    s3, glue = aws("s3"), aws("glue")
    glue.delete_table(DatabaseName=DB, Name="ou_breakdown")
    cols = [
        {"Name": "billingdate", "Type": "date"},
        {"Name": "ou", "Type": "string"},
        {"Name": "service", "Type": "string"},
        {"Name": "linkedaccount", "Type": "string"},
        {"Name": "dailycost", "Type": "double"},
    ]
    glue.create_table(
        DatabaseName=DB,
        TableInput={
            "Name": "ou_breakdown",
            "TableType": "EXTERNAL_TABLE",
            "PartitionKeys": [{"Name": n, "Type": "int"} for n in ("year", "month", "day")],
            "StorageDescriptor": {
                "Columns": cols,
                "Location": SANDBOX_DEFAULTS["glue_crawler_target"],
            },
        },
    )
    glue.create_partition(
        DatabaseName=DB,
        TableName="ou_breakdown",
        PartitionInput={
            "Values": ["2025", "09", "13"],
            "StorageDescriptor": {"Location": "s3://x/already-there/"},
        },
    )
    put_day(s3, "parquet/ou_breakdown/", "2025", "09", "15")
    glue.start_crawler(Name=CRAWLER)
    table = glue.get_table(DatabaseName=DB, Name="ou_breakdown")["Table"]
    assert [k["Type"] for k in table["PartitionKeys"]] == ["int", "int", "int"]
    assert table["StorageDescriptor"]["Columns"] == cols
    parts = {
        tuple(p["Values"]): p
        for p in glue.get_partitions(DatabaseName=DB, TableName="ou_breakdown")["Partitions"]
    }
    assert set(parts) == {("2025", "09", "13"), ("2025", "09", "14"), ("2025", "09", "15")}
    assert parts[("2025", "09", "13")]["StorageDescriptor"]["Location"] == "s3://x/already-there/"
    assert parts[("2025", "09", "15")]["StorageDescriptor"]["Location"].endswith(
        "/parquet/ou_breakdown/year=2025/month=09/day=15/"
    )


def test_start_while_running_raises_crawler_running(sandbox, aws):
    from sandbox.config import SETTINGS

    glue = aws("glue")
    SETTINGS.crawler_run_seconds = 1.0
    try:
        glue.start_crawler(Name=CRAWLER)
        assert glue.get_crawler(Name=CRAWLER)["Crawler"]["State"] == "RUNNING"
        with pytest.raises(ClientError) as err:
            glue.start_crawler(Name=CRAWLER)
        assert err.value.response["Error"]["Code"] == "CrawlerRunningException"
        deadline = time.monotonic() + 10
        while glue.get_crawler(Name=CRAWLER)["Crawler"]["State"] != "READY":
            assert time.monotonic() < deadline
            time.sleep(0.2)
        assert glue.get_crawler(Name=CRAWLER)["Crawler"]["LastCrawl"]["Status"] == "SUCCEEDED"
    finally:
        SETTINGS.crawler_run_seconds = 0.0


def test_airflow_glue_crawler_operator_waits_to_success(sandbox):
    import warnings

    from airflow.providers.amazon.aws.operators.glue_crawler import GlueCrawlerOperator

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        op = GlueCrawlerOperator(
            task_id="crawl", config={"Name": CRAWLER}, wait_for_completion=True, poll_interval=1
        )
    assert op.execute(context={}) == CRAWLER
