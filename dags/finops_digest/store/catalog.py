"""The Glue table definition (typed partition keys) and the Athena validation query."""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

from finops_digest.errors import FinopsError
from finops_digest.resources import sql_path
from finops_digest.schema import COST_TABLE_COLUMNS, PARTITION_KEYS

log = logging.getLogger(__name__)


class CatalogError(FinopsError):
    """The Glue catalog does not hold what the pipeline relies on."""


# Partition projection: Athena computes the budget table's partitions from these ranges and the
# Hive-style path, so no crawler run or partition registration is needed for it.
PROJECTION = {
    "projection.enabled": "true",
    "projection.year.type": "integer",
    "projection.year.range": "2020,2099",
    "projection.month.type": "integer",
    "projection.month.range": "1,12",
    "projection.month.digits": "2",
    "projection.day.type": "integer",
    "projection.day.range": "1,31",
    "projection.day.digits": "2",
}


def table_input(
    table: str,
    location: str,
    cost_metric: str,
    columns: tuple[tuple[str, str], ...] = COST_TABLE_COLUMNS,
    parameters: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The Glue ``TableInput`` of a Parquet table, partitioned by year, month, day."""
    return {
        "Name": table,
        "TableType": "EXTERNAL_TABLE",
        "Parameters": {
            "classification": "parquet",
            "finops.cost_metric": cost_metric,
            **(parameters or {}),
        },
        "PartitionKeys": [{"Name": n, "Type": t} for n, t in PARTITION_KEYS],
        "StorageDescriptor": {
            "Columns": [{"Name": n, "Type": t} for n, t in columns],
            "Location": location,
            "InputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
            "OutputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
            "SerdeInfo": {
                "SerializationLibrary": "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
            },
        },
    }


def projected_table_input(
    table: str, location: str, cost_metric: str, columns: tuple[tuple[str, str], ...]
) -> dict[str, Any]:
    """A table the DAG writes one object a day into, partitions projected (:data:`PROJECTION`):
    the budget table, the OU tree, the anomalies."""
    return table_input(table, location, cost_metric, columns, PROJECTION)


# What UpdateTable takes back of what GetTable returns (the rest, CreateTime, VersionId and
# the like, is read-only and refused in a TableInput).
_TABLE_INPUT_KEYS = (
    "Name",
    "Description",
    "Owner",
    "LastAccessTime",
    "LastAnalyzedTime",
    "Retention",
    "StorageDescriptor",
    "PartitionKeys",
    "ViewOriginalText",
    "ViewExpandedText",
    "TableType",
    "Parameters",
    "TargetTable",
    "ViewDefinition",
)


def ensure_table(glue_client: Any, database: str, wanted: dict[str, Any]) -> str:
    """Create the table ``wanted`` (a ``TableInput``) if missing; refuse one with other partition
    keys or another location; add the columns of ``wanted`` an existing table lacks (a table
    created before they were), with ``UpdateTable``.

    Returns "created", "updated" or "exists".
    """
    table = wanted["Name"]
    location = wanted["StorageDescriptor"]["Location"]
    try:
        existing = glue_client.get_table(DatabaseName=database, Name=table)["Table"]
    except glue_client.exceptions.EntityNotFoundException:
        try:
            glue_client.create_table(DatabaseName=database, TableInput=wanted)
        except glue_client.exceptions.AlreadyExistsException:
            # A concurrent run (a backfill runs several days at once) created it first: check
            # that one instead.
            existing = glue_client.get_table(DatabaseName=database, Name=table)["Table"]
        else:
            log.info("Created Glue table %s.%s at %s", database, table, location)
            return "created"
    keys = tuple((k["Name"], k["Type"]) for k in existing.get("PartitionKeys", []))
    if keys != PARTITION_KEYS:
        raise CatalogError(
            f"Glue table {database}.{table} has partition keys {keys}; expected {PARTITION_KEYS}. "
            "Drop it (the data stays in S3) and re-run so it is recreated with typed keys."
        )
    found = existing.get("StorageDescriptor", {}).get("Location", "")
    if found.rstrip("/") != location.rstrip("/"):
        raise CatalogError(
            f"Glue table {database}.{table} points at {found!r}; expected {location!r} "
            "(the archive_bucket in finops_config). Use another glue_database or fix the table."
        )
    missing = _missing_columns(f"{database}.{table}", existing, wanted)
    if not missing:
        return "exists"
    # Partitions registered before keep their own (older) columns; Athena reads their files by
    # name, so the new columns read as NULL there. New partitions copy the table's columns.
    glue_client.update_table(DatabaseName=database, TableInput=_widened(existing, missing))
    log.info(
        "Added columns %s to Glue table %s.%s",
        ", ".join(c["Name"] for c in missing),
        database,
        table,
    )
    return "updated"


def _missing_columns(
    name: str, existing: dict[str, Any], wanted: dict[str, Any]
) -> list[dict[str, str]]:
    """The columns of ``wanted`` (a ``TableInput``) the ``existing`` table (``GetTable``) lacks,
    in ``wanted``'s order. Additive only: a column it has with another type is an error, and its
    columns ``wanted`` lacks are left alone."""
    found = {
        c["Name"].lower(): c["Type"].lower()
        for c in existing.get("StorageDescriptor", {}).get("Columns", [])
    }
    missing = []
    for column in wanted["StorageDescriptor"]["Columns"]:
        kind = found.get(column["Name"].lower())
        if kind is None:
            missing.append(column)
        elif kind.replace(" ", "") != column["Type"].lower().replace(" ", ""):
            raise CatalogError(
                f"Glue table {name} has column {column['Name']} of type {kind}; expected "
                f"{column['Type']}. The DAG only adds columns, never retypes one: fix the "
                "column's type in Glue (the Parquet files hold the expected type)."
            )
    return missing


def _widened(existing: dict[str, Any], columns: list[dict[str, str]]) -> dict[str, Any]:
    """The ``TableInput`` of the ``existing`` table (``GetTable``) with ``columns`` appended to
    its own: location, SerDe, partition keys and parameters as they are."""
    table_input = {k: existing[k] for k in _TABLE_INPUT_KEYS if k in existing}
    sd = dict(existing["StorageDescriptor"])
    sd["Columns"] = [*sd.get("Columns", []), *columns]
    table_input["StorageDescriptor"] = sd
    return table_input


def require_crawler_target(glue_client: Any, crawler: str, location: str) -> None:
    """The crawler must crawl the table's location, or the day's partition would never appear."""
    targets = glue_client.get_crawler(Name=crawler)["Crawler"].get("Targets", {})
    paths = [t["Path"].rstrip("/") for t in targets.get("S3Targets", [])]
    if location.rstrip("/") not in paths:
        raise CatalogError(
            f"Glue crawler {crawler!r} crawls {paths or 'no S3 path'}; expected {location!r}. "
            "Point the crawler (or glue_crawler in finops_config) at the archive's Parquet prefix."
        )


def render_sql(name: str, **values: Any) -> str:
    """A SQL file from ``include/sql`` with its placeholders filled (validated names and ints only)."""
    return sql_path(name).read_text().format(**values)


def partition_totals_sql(database: str, table: str, day: date) -> str:
    """Row count and cost sum of one day's partition."""
    return render_sql(
        "partition_totals",
        database=database,
        table=table,
        year=day.year,
        month=day.month,
        day=day.day,
    )


def read_partition_totals(results: dict[str, Any]) -> tuple[int, float]:
    """(row count, cost sum) from ``GetQueryResults``; row 0 is the header row."""
    rows = results["ResultSet"]["Rows"]
    if len(rows) != 2:
        raise CatalogError(f"Athena returned {len(rows) - 1} result rows; expected exactly 1")
    values = [cell.get("VarCharValue") for cell in rows[1]["Data"]]
    count, cost = values[0], values[1]
    return int(count), float(cost) if cost is not None else 0.0


def partition_values(day: date) -> list[str]:
    """The day's partition values as the crawler records them from the path (``09``, not ``9``),
    so either catalog strategy finds the other's partition instead of adding a twin."""
    return [f"{day.year:04d}", f"{day.month:02d}", f"{day.day:02d}"]


def register_partition(glue_client: Any, database: str, table: str, day: date) -> str:
    """Add the day's partition with ``BatchCreatePartition`` (the ``partition_api`` strategy).

    The partition copies the table's storage descriptor with the day's location, as a crawler
    would. Idempotent: a partition that already exists is left alone. Returns "created" or "exists".
    """
    sd = dict(
        glue_client.get_table(DatabaseName=database, Name=table)["Table"]["StorageDescriptor"]
    )
    values = partition_values(day)
    keys = [name for name, _ in PARTITION_KEYS]
    sd["Location"] = (
        sd["Location"].rstrip("/")
        + "/"
        + "".join(f"{k}={v}/" for k, v in zip(keys, values, strict=True))
    )
    response = glue_client.batch_create_partition(
        DatabaseName=database,
        TableName=table,
        PartitionInputList=[{"Values": values, "StorageDescriptor": sd, "Parameters": {}}],
    )
    errors = response.get("Errors", [])
    codes = {e.get("ErrorDetail", {}).get("ErrorCode") for e in errors}
    if not errors:
        log.info("Registered partition %s of %s.%s at %s", values, database, table, sd["Location"])
        return "created"
    if codes == {"AlreadyExistsException"}:
        return "exists"
    raise CatalogError(
        f"BatchCreatePartition of {values} in {database}.{table} failed: "
        + "; ".join(
            f"{e['ErrorDetail'].get('ErrorCode')}: {e['ErrorDetail'].get('ErrorMessage')}"
            for e in errors
        )
    )
