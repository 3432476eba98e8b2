"""Glue crawlers that really crawl S3 (Parquet + Hive partitions) and report like AWS.

moto's crawlers never look at S3, report COMPLETED where AWS says SUCCEEDED, and moto has no
GetCrawlerMetrics (which the Amazon provider's wait path calls). All three are patched here.
"""

from __future__ import annotations

import copy
import io
import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from moto.core.utils import utcnow
from moto.glue.exceptions import CrawlerRunningException, TableNotFoundException
from moto.glue.models import FakeCrawler, GlueBackend

from sandbox.config import SETTINGS
from sandbox.patching import patch
from sandbox.s3_store import list_latest, read_latest, split_s3_uri

PARQUET_INPUT = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"
PARQUET_OUTPUT = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat"
PARQUET_SERDE = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"


def glue_type(arrow_type: pa.DataType) -> str:
    """The Hive/Glue column type a Glue crawler records for an Arrow (Parquet) type."""
    t = arrow_type
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return "string"
    if pa.types.is_int8(t):
        return "tinyint"
    if pa.types.is_int16(t):
        return "smallint"
    if pa.types.is_int32(t) or pa.types.is_uint8(t) or pa.types.is_uint16(t):
        return "int"
    if pa.types.is_integer(t):
        return "bigint"
    if pa.types.is_float32(t):
        return "float"
    if pa.types.is_floating(t):
        return "double"
    if pa.types.is_boolean(t):
        return "boolean"
    if pa.types.is_date(t):
        return "date"
    if pa.types.is_timestamp(t):
        return "timestamp"
    if pa.types.is_decimal(t):
        return f"decimal({t.precision},{t.scale})"
    if pa.types.is_binary(t) or pa.types.is_large_binary(t):
        return "binary"
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        return f"array<{glue_type(t.value_type)}>"
    if pa.types.is_struct(t):
        fields = ",".join(f"{f.name}:{glue_type(f.type)}" for f in t)
        return f"struct<{fields}>"
    return "string"


@dataclass
class CrawlOutcome:
    """What one crawl did (feeds GetCrawlerMetrics)."""

    tables_created: int = 0
    tables_updated: int = 0
    partitions_added: int = 0


class SandboxCrawl:
    """A crawl that ran synchronously but reports RUNNING for `run_seconds` (default 0)."""

    def __init__(self, crawler_name: str, run_seconds: float) -> None:
        self.crawl_id = str(uuid.uuid4())
        self.start_time = utcnow()
        self.end_time = None
        self.started = time.monotonic()
        self.ready_at = self.started + run_seconds
        self.result = "SUCCEEDED"  # or FAILED / CANCELLED
        self.error_message: str | None = None
        self.outcome = CrawlOutcome()
        self.log_group = "/aws-glue/crawlers"
        self.log_stream = crawler_name
        self.message_prefix = self.crawl_id
        self.dpu_hour = 0

    @property
    def running(self) -> bool:
        """True until the reported run time has passed."""
        return time.monotonic() < self.ready_at

    @property
    def status(self) -> str:
        """RUNNING, then the crawl's result (moto's code reads this attribute)."""
        if self.running:
            return "RUNNING"
        if self.end_time is None:
            self.end_time = utcnow()
        return self.result

    @status.setter
    def status(self, value: str) -> None:
        # moto's stop_crawler sets STOPPING: end the crawl now, as cancelled.
        if value == "STOPPING":
            self.result = "CANCELLED"
            self.ready_at = time.monotonic()

    def advance(self) -> None:
        """moto calls this from ListCrawls; time drives our state instead."""

    def runtime_seconds(self) -> float:
        """Seconds between start and READY."""
        return max(0.0, self.ready_at - self.started)

    def as_dict(self) -> dict[str, Any]:
        """ListCrawls entry (its State enum says COMPLETED/STOPPED where LastCrawl says
        SUCCEEDED/CANCELLED)."""
        state = {"SUCCEEDED": "COMPLETED", "CANCELLED": "STOPPED"}.get(self.status, self.status)
        out: dict[str, Any] = {
            "CrawlId": self.crawl_id,
            "State": state,
            "StartTime": self.start_time,
            "LogGroup": self.log_group,
            "LogStream": self.log_stream,
            "MessagePrefix": self.message_prefix,
            "DPUHour": self.dpu_hour,
        }
        if self.end_time:
            out["EndTime"] = self.end_time
        if self.error_message:
            out["ErrorMessage"] = self.error_message
        return out


def table_name_for(target_path: str, prefix: str | None) -> str:
    """A crawler names a table after its target folder: lowercased, '-' -> '_'."""
    _, key = split_s3_uri(target_path)
    folder = (
        [p for p in key.split("/") if p][-1] if key.strip("/") else split_s3_uri(target_path)[0]
    )
    return f"{prefix or ''}{folder}".lower().replace("-", "_")


def crawl_target(backend: GlueBackend, crawler: FakeCrawler, target_path: str) -> CrawlOutcome:
    """Crawl one S3 target: create the table if missing, add missing partitions."""
    outcome = CrawlOutcome()
    location = target_path if target_path.endswith("/") else target_path + "/"
    bucket, prefix = split_s3_uri(location)
    data_files: list[tuple[str, list[tuple[str, str]]]] = []
    for key in list_latest(location):
        rel = key[len(prefix) :]
        parts = rel.split("/")
        name = parts[-1]
        if not name or name.startswith(("_", ".")) or name.endswith("_$folder$"):
            continue  # folder markers, _SUCCESS files: crawlers skip them
        body = read_latest(bucket, key)
        if body[:4] != b"PAR1":
            continue  # one format per table location: only Parquet is catalogued here
        partitions = [tuple(p.split("=", 1)) for p in parts[:-1] if "=" in p]
        data_files.append((key, partitions))  # type: ignore[arg-type]
    if not data_files:
        return outcome

    schema = pq.read_schema(io.BytesIO(read_latest(bucket, data_files[0][0])))
    partition_names = [k for k, _ in data_files[0][1]]
    table_name = table_name_for(target_path, crawler.table_prefix)
    db = crawler.database_name
    try:
        table = backend.get_table(db, table_name)
    except TableNotFoundException:
        columns = [
            {"Name": f.name.lower(), "Type": glue_type(f.type)}
            for f in schema
            if f.name.lower() not in partition_names
        ]
        sd = {
            "Columns": columns,
            "Location": location,
            "InputFormat": PARQUET_INPUT,
            "OutputFormat": PARQUET_OUTPUT,
            "Compressed": False,
            "NumberOfBuckets": -1,
            "SerdeInfo": {
                "SerializationLibrary": PARQUET_SERDE,
                "Parameters": {"serialization.format": "1"},
            },
            "BucketColumns": [],
            "SortColumns": [],
            "Parameters": {"classification": "parquet", "typeOfData": "file"},
            "StoredAsSubDirectories": False,
        }
        table_input = {
            "Name": table_name,
            "Owner": "owner",
            "Retention": 0,
            "StorageDescriptor": sd,
            "PartitionKeys": [{"Name": k, "Type": "string"} for k in partition_names],
            "TableType": "EXTERNAL_TABLE",
            "Parameters": {
                "classification": "parquet",
                "CrawlerSchemaSerializerVersion": "1.0",
                "CrawlerSchemaDeserializerVersion": "1.0",
                "UPDATED_BY_CRAWLER": crawler.name,
                "typeOfData": "file",
            },
        }
        table = backend.create_table(db, table_name, table_input)
        outcome.tables_created += 1

    current = table.get_version(str(table._current_version))
    keys = [k["Name"].lower() for k in current.get("PartitionKeys") or []]
    base_sd = current.get("StorageDescriptor") or {}
    added = 0
    for _key, partitions in data_files:
        found = dict(partitions)
        if not keys or len(partitions) != len(keys):
            continue
        # Values follow the table's key order; match by name, else by position.
        values = [found[k] if k in found else partitions[i][1] for i, k in enumerate(keys)]
        if str(values) in table.partitions:
            continue
        sd = copy.deepcopy(base_sd)
        sd["Location"] = location + "".join(f"{k}={v}/" for k, v in partitions)
        table.create_partition({"Values": values, "StorageDescriptor": sd, "Parameters": {}})
        added += 1
    if added and not outcome.tables_created:
        outcome.tables_updated += 1
    outcome.partitions_added += added
    return outcome


def _start_crawler(self: FakeCrawler) -> None:
    """StartCrawler: crawl now, then report RUNNING for the configured seconds, then READY."""
    if self.crawls and self.crawls[-1].status == "RUNNING":
        raise CrawlerRunningException(f"Crawler with name {self.name} has already started")
    crawl = SandboxCrawl(self.name, SETTINGS.crawler_run_seconds)
    self.crawls.append(crawl)  # type: ignore[arg-type]
    try:
        for target in (self.targets or {}).get("S3Targets", []):
            done = crawl_target(self.backend, self, target["Path"])
            crawl.outcome.tables_created += done.tables_created
            crawl.outcome.tables_updated += done.tables_updated
            crawl.outcome.partitions_added += done.partitions_added
    except Exception as exc:  # a crawl failure is reported by the API, not raised
        crawl.result = "FAILED"
        crawl.error_message = f"{type(exc).__name__}: {exc}"


def _crawler_status(self: FakeCrawler) -> str:
    if not self.crawls:
        return "READY"
    last = self.crawls[-1]
    if last.status == "RUNNING":
        return "RUNNING"
    return "READY"


def _crawler_as_dict(self: FakeCrawler) -> dict[str, Any]:
    data = _original_as_dict(self)
    finished = [c for c in self.crawls if c.status != "RUNNING"]
    if finished:
        last = finished[-1]
        data["LastCrawl"] = {
            "Status": last.status,
            "LogGroup": last.log_group,
            "LogStream": last.log_stream,
            "MessagePrefix": last.message_prefix,
            "StartTime": last.start_time,
        }
        if getattr(last, "error_message", None):
            data["LastCrawl"]["ErrorMessage"] = last.error_message
    else:
        data.pop("LastCrawl", None)
    return data


def crawler_metrics(crawler: FakeCrawler) -> dict[str, Any]:
    """One CrawlerMetrics entry, computed from the crawler's SandboxCrawl history."""
    crawls = [c for c in crawler.crawls if isinstance(c, SandboxCrawl)]
    done = [c for c in crawls if not c.running]
    runtimes = sorted(c.runtime_seconds() for c in done)
    last = done[-1] if done else None
    current = crawls[-1] if crawls and crawls[-1].running else None
    return {
        "CrawlerName": crawler.name,
        "TimeLeftSeconds": max(0.0, current.ready_at - time.monotonic()) if current else 0.0,
        "StillEstimating": False,
        "LastRuntimeSeconds": last.runtime_seconds() if last else 0.0,
        "MedianRuntimeSeconds": runtimes[len(runtimes) // 2] if runtimes else 0.0,
        "TablesCreated": last.outcome.tables_created if last else 0,
        "TablesUpdated": last.outcome.tables_updated if last else 0,
        "TablesDeleted": 0,
    }


_original_as_dict = FakeCrawler.as_dict


def install() -> None:
    """Patch moto's Glue crawler model and add GetCrawlerMetrics (idempotent)."""
    from moto.glue.responses import GlueResponse

    def get_crawler_metrics(self: GlueResponse) -> str:
        params = json.loads(self.body or "{}")
        names = params.get("CrawlerNameList")
        crawlers = self.glue_backend.get_crawlers()
        selected = [c for c in crawlers if names is None or c.name in names]
        return json.dumps({"CrawlerMetricsList": [crawler_metrics(c) for c in selected]})

    patch(FakeCrawler, "start_crawler", _start_crawler)
    patch(FakeCrawler, "status", property(_crawler_status))
    patch(FakeCrawler, "as_dict", _crawler_as_dict)
    patch(GlueResponse, "get_crawler_metrics", get_crawler_metrics)
