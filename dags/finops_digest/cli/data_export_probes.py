"""Probes of the AWS Data Exports export the DAG reads with ``cost_source: data_exports``: what
Athena reads as the caller (the export's Glue table and partitions, its files in S3).

The export's bucket and prefix are the Glue table's location. Each probe names the statement it
proves (``Probe.statement``): the same actions are granted on the archive by other statements.
"""

from __future__ import annotations

from finops_digest.aws.data_exports import Export
from finops_digest.cli.probe import Probe, Session
from finops_digest.config import FinopsConfig
from finops_digest.store import layout

TABLE_SID = "ReadTheDataExportTable"
LIST_SID = "ListTheDataExportFiles"
FILES_SID = "ReadTheDataExportFiles"
_ACTIONS = (
    ("glue:GetDatabase", TABLE_SID),
    ("glue:GetTable", TABLE_SID),
    ("glue:GetPartitions", TABLE_SID),
    ("glue:GetPartition", TABLE_SID),
    ("s3:GetBucketLocation", LIST_SID),
    ("s3:ListBucket", LIST_SID),
    ("s3:GetObject", FILES_SID),
)


def probes(config: FinopsConfig) -> list[Probe]:
    """The export's table, then its files (under the table's location)."""
    if config.cost_source != "data_exports":
        off = f"cost_source is {config.cost_source}: the DAG reads no data export"
        return [Probe(action, "data export", skip=off, statement=sid) for action, sid in _ACTIONS]
    export = Export.from_config(config.data_exports)
    table = f"table {export.name}"
    calls = {
        "glue:GetDatabase": (f"database {export.database}", lambda s: get_database(s, export)),
        "glue:GetTable": (table, lambda s: get_table(s, export)),
        "glue:GetPartitions": (table, lambda s: get_partitions(s, export)),
        "glue:GetPartition": (table, lambda s: get_partition(s, export)),
        "s3:GetBucketLocation": ("the export's bucket", get_bucket_location),
        "s3:ListBucket": ("the export's prefix", list_files),
        "s3:GetObject": ("an export file", read_file),
    }
    return [
        Probe(action, calls[action][0], calls[action][1], statement=sid) for action, sid in _ACTIONS
    ]


def get_database(s: Session, export: Export) -> str:
    s.client("glue").get_database(Name=export.database)
    return "exists"


def get_table(s: Session, export: Export) -> str:
    found = s.client("glue").get_table(DatabaseName=export.database, Name=export.table)["Table"]
    location = found.get("StorageDescriptor", {}).get("Location", "")
    s.found["export_location"] = location or None
    keys = ", ".join(k["Name"] for k in found.get("PartitionKeys", [])) or "nothing"
    return f"exists at {location}, partitioned by {keys}"


def get_partitions(s: Session, export: Export) -> str:
    answer = s.client("glue").get_partitions(
        DatabaseName=export.database, TableName=export.table, MaxResults=1
    )
    s.found["export_partition"] = next((p["Values"] for p in answer.get("Partitions", [])), None)
    return f"listed ({len(answer.get('Partitions', []))} shown)"


def get_partition(s: Session, export: Export) -> str:
    values = s.need("export_partition", "no partition of the export listed")
    s.client("glue").get_partition(
        DatabaseName=export.database, TableName=export.table, PartitionValues=values
    )
    return f"read partition {values}"


def _location(s: Session) -> tuple[str, str]:
    location = s.need("export_location", "the export's table has no location")
    bucket, prefix = layout.parse_s3_uri(location)
    return bucket, prefix if prefix.endswith("/") or not prefix else prefix + "/"


def get_bucket_location(s: Session) -> str:
    bucket, _ = _location(s)
    s.client("s3").get_bucket_location(Bucket=bucket)
    return f"s3://{bucket}"


def list_files(s: Session) -> str:
    bucket, prefix = _location(s)
    answer = s.client("s3").list_objects_v2(Bucket=bucket, Prefix=prefix, MaxKeys=10)
    keys = [o["Key"] for o in answer.get("Contents", []) if not o["Key"].endswith("/")]
    s.found["export_file"] = f"s3://{bucket}/{keys[0]}" if keys else None
    return f"listed s3://{bucket}/{prefix} ({len(keys)} file(s) shown)"


def read_file(s: Session) -> str:
    uri = s.need("export_file", "no export file listed under the table's location")
    bucket, key = layout.parse_s3_uri(uri)
    s.client("s3").get_object(Bucket=bucket, Key=key, Range="bytes=0-3")
    return f"read the first bytes of {uri}"
