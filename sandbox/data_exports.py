"""A synthetic AWS Data Exports export (CUR 2.0 and FOCUS 1.2) of the sandbox's organisation.

Written from the very line items Cost Explorer answers from (``Organization.cost_lines``), so a
day summed from the export equals Cost Explorer's answer for it, metric by metric and record type
by record type. Laid out as Data Exports writes to S3, Parquet under
``s3://<bucket>/<prefix>/data/BILLING_PERIOD=YYYY-MM/``, with the Glue tables a crawler (or the
CloudFormation template AWS ships with its exports) would define over them: columns as AWS's
table dictionaries name and type them (costs double, dates timestamp, CUR's product a map), the
billing period a string partition.

Days are written on request (``write_days``, ``POST /_sandbox/data-exports``), never all history
at start-up: the large organisation has a million lines a day. Each day is one file in its
month's partition (Data Exports itself rewrites the month's files at each refresh; a day's file
here is rewritten when the day is written again, which is how a restatement reaches the export).

What the sandbox simplifies: its Cost Explorer calls Savings-Plans-covered usage "Usage" while
the export names it SavingsPlanCoveredUsage (as AWS does), with no SavingsPlanNegation or
recurring fee lines; FOCUS's BilledCost and EffectiveCost are Cost Explorer's NetUnblendedCost and
NetAmortizedCost of the line; ServiceName and CUR's product_name are Cost Explorer's SERVICE.
"""

from __future__ import annotations

import io
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from sandbox.config import ACCOUNT_ID, REGION
from sandbox.organization import CostLine, Organization
from sandbox.s3_store import put_object

BUCKET = "finops-data-exports"
DATABASE = "data_exports"
PARTITION_KEY = "billing_period"


@dataclass(frozen=True)
class ExportSpec:
    """One export: its Glue table, where its files go, and its columns (Glue types)."""

    format: str
    table: str
    prefix: str
    columns: tuple[tuple[str, str], ...]

    @property
    def location(self) -> str:
        return f"s3://{BUCKET}/{self.prefix}"


_CUR2_COLUMNS = (
    ("bill_billing_period_start_date", "timestamp"),
    ("bill_payer_account_id", "string"),
    ("line_item_line_item_type", "string"),
    ("line_item_usage_start_date", "timestamp"),
    ("line_item_usage_end_date", "timestamp"),
    ("line_item_usage_account_id", "string"),
    ("line_item_usage_account_name", "string"),
    ("line_item_product_code", "string"),
    ("line_item_usage_type", "string"),
    ("line_item_usage_amount", "double"),
    ("line_item_currency_code", "string"),
    ("line_item_unblended_cost", "double"),
    ("line_item_blended_cost", "double"),
    ("line_item_net_unblended_cost", "double"),
    ("product", "map<string,string>"),
    ("product_servicecode", "string"),
    ("savings_plan_savings_plan_effective_cost", "double"),
    ("savings_plan_net_savings_plan_effective_cost", "double"),
    ("savings_plan_total_commitment_to_date", "double"),
    ("savings_plan_used_commitment", "double"),
    ("reservation_reservation_a_r_n", "string"),
    ("reservation_effective_cost", "double"),
    ("reservation_net_effective_cost", "double"),
    ("reservation_unused_amortized_upfront_fee_for_billing_period", "double"),
    ("reservation_unused_recurring_fee", "double"),
    ("reservation_net_unused_amortized_upfront_fee_for_billing_period", "double"),
    ("reservation_net_unused_recurring_fee", "double"),
)
# Glue keeps the names a crawler gives them (lowercase); the Parquet files keep FOCUS's casing.
_FOCUS_COLUMNS = (
    ("BillingPeriodStart", "timestamp"),
    ("ChargePeriodStart", "timestamp"),
    ("ChargePeriodEnd", "timestamp"),
    ("ChargeCategory", "string"),
    ("ChargeClass", "string"),
    ("SubAccountId", "string"),
    ("SubAccountName", "string"),
    ("ServiceName", "string"),
    ("BilledCost", "double"),
    ("EffectiveCost", "double"),
    ("BillingCurrency", "string"),
    ("ConsumedQuantity", "double"),
    ("x_ServiceCode", "string"),
    ("x_UsageType", "string"),
)
EXPORTS = {
    "cur2": ExportSpec("cur2", "cur2", "cur2/finops-cur2/data/", _CUR2_COLUMNS),
    "focus1.2": ExportSpec("focus1.2", "focus", "focus/finops-focus/data/", _FOCUS_COLUMNS),
}
# FOCUS's charge category (and class: a refund corrects an earlier charge) of each record type.
_FOCUS_CHARGE = {
    "Usage": ("Usage", None),
    "Credit": ("Credit", None),
    "Refund": ("Credit", "Correction"),
    "Tax": ("Tax", None),
}
_ARROW = {"string": pa.string(), "double": pa.float64(), "timestamp": pa.timestamp("ms")}


def table_input(spec: ExportSpec) -> dict[str, Any]:
    """The Glue TableInput of an export's table (partitioned by its billing period)."""
    return {
        "Name": spec.table,
        "TableType": "EXTERNAL_TABLE",
        "Parameters": {"classification": "parquet"},
        "PartitionKeys": [{"Name": PARTITION_KEY, "Type": "string"}],
        "StorageDescriptor": {
            "Columns": [{"Name": name.lower(), "Type": kind} for name, kind in spec.columns],
            "Location": spec.location,
            "InputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
            "OutputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
            "SerdeInfo": {
                "SerializationLibrary": "org.apache.hadoop.hive.ql.io.parquet.serde."
                "ParquetHiveSerDe"
            },
        },
    }


def _record_type(line: CostLine) -> str:
    """The line's CUR line item type: Savings-Plans-covered usage is named as AWS names it."""
    if (
        line.record_type == "Usage"
        and line.amounts["AmortizedCost"] != line.amounts["UnblendedCost"]
    ):
        return "SavingsPlanCoveredUsage"
    return line.record_type


def _codes(services: list[str]) -> pa.Array:
    """A service code per line ("AmazonSimpleStorageService"), worked out once per service."""
    code = {s: "".join(ch for ch in s if ch.isalnum())[:40] for s in set(services)}
    return pa.array([code[s] for s in services], pa.string())


def cur2_table(org: Organization, day: date, lines: list[CostLine]) -> pa.Table:
    """The day's lines as CUR 2.0 rows."""
    n = len(lines)
    start = datetime(day.year, day.month, day.day)  # noqa: DTZ001 (UTC, as CUR's timestamps)
    names = {a.id: a.name for a in org.accounts}
    types = [_record_type(line) for line in lines]
    covered = [t == "SavingsPlanCoveredUsage" for t in types]

    def metric(name: str) -> pa.Array:
        return pa.array([float(line.amounts[name]) for line in lines], pa.float64())

    def covered_only(name: str) -> pa.Array:
        return pa.array(
            [
                float(line.amounts[name]) if c else None
                for line, c in zip(lines, covered, strict=True)
            ],
            pa.float64(),
        )

    services = [line.service for line in lines]
    codes = _codes(services)
    product = pa.MapArray.from_arrays(
        pa.array(range(0, n + 1), pa.int32()),
        pa.array(["product_name"] * n, pa.string()),
        pa.array(services, pa.string()),
    )
    nulls = pa.nulls(n, pa.float64())
    columns = {
        "bill_billing_period_start_date": pa.array(
            [datetime(day.year, day.month, 1)] * n,  # noqa: DTZ001
            pa.timestamp("ms"),
        ),
        "bill_payer_account_id": pa.array([ACCOUNT_ID] * n, pa.string()),
        "line_item_line_item_type": pa.array(types, pa.string()),
        "line_item_usage_start_date": pa.array([start] * n, pa.timestamp("ms")),
        "line_item_usage_end_date": pa.array([start + timedelta(days=1)] * n, pa.timestamp("ms")),
        "line_item_usage_account_id": pa.array([line.account_id for line in lines], pa.string()),
        "line_item_usage_account_name": pa.array(
            [names.get(line.account_id, "") for line in lines], pa.string()
        ),
        "line_item_product_code": codes,
        "line_item_usage_type": pa.array([line.usage_type for line in lines], pa.string()),
        "line_item_usage_amount": pa.array(
            [float(line.usage_quantity) for line in lines], pa.float64()
        ),
        "line_item_currency_code": pa.array(["USD"] * n, pa.string()),
        "line_item_unblended_cost": metric("UnblendedCost"),
        "line_item_blended_cost": metric("BlendedCost"),
        "line_item_net_unblended_cost": metric("NetUnblendedCost"),
        "product": product,
        "product_servicecode": codes,
        "savings_plan_savings_plan_effective_cost": covered_only("AmortizedCost"),
        "savings_plan_net_savings_plan_effective_cost": covered_only("NetAmortizedCost"),
        "savings_plan_total_commitment_to_date": nulls,
        "savings_plan_used_commitment": nulls,
        "reservation_reservation_a_r_n": pa.nulls(n, pa.string()),
        "reservation_effective_cost": nulls,
        "reservation_net_effective_cost": nulls,
        "reservation_unused_amortized_upfront_fee_for_billing_period": nulls,
        "reservation_unused_recurring_fee": nulls,
        "reservation_net_unused_amortized_upfront_fee_for_billing_period": nulls,
        "reservation_net_unused_recurring_fee": nulls,
    }
    return pa.table(columns)


def focus_table(org: Organization, day: date, lines: list[CostLine]) -> pa.Table:
    """The day's lines as FOCUS 1.2 rows (the columns the pipeline and FinOps tools read)."""
    n = len(lines)
    start = datetime(day.year, day.month, day.day)  # noqa: DTZ001
    names = {a.id: a.name for a in org.accounts}
    charges = [_FOCUS_CHARGE.get(line.record_type, ("Adjustment", None)) for line in lines]
    services = [line.service for line in lines]
    codes = _codes(services)
    return pa.table(
        {
            "BillingPeriodStart": pa.array(
                [datetime(day.year, day.month, 1)] * n,  # noqa: DTZ001
                pa.timestamp("ms"),
            ),
            "ChargePeriodStart": pa.array([start] * n, pa.timestamp("ms")),
            "ChargePeriodEnd": pa.array([start + timedelta(days=1)] * n, pa.timestamp("ms")),
            "ChargeCategory": pa.array([c[0] for c in charges], pa.string()),
            "ChargeClass": pa.array([c[1] for c in charges], pa.string()),
            "SubAccountId": pa.array([line.account_id for line in lines], pa.string()),
            "SubAccountName": pa.array(
                [names.get(line.account_id, "") for line in lines], pa.string()
            ),
            "ServiceName": pa.array(services, pa.string()),
            "BilledCost": pa.array(
                [float(line.amounts["NetUnblendedCost"]) for line in lines], pa.float64()
            ),
            "EffectiveCost": pa.array(
                [float(line.amounts["NetAmortizedCost"]) for line in lines], pa.float64()
            ),
            "BillingCurrency": pa.array(["USD"] * n, pa.string()),
            "ConsumedQuantity": pa.array(
                [float(line.usage_quantity) for line in lines], pa.float64()
            ),
            "x_ServiceCode": codes,
            "x_UsageType": pa.array([line.usage_type for line in lines], pa.string()),
        }
    )


_BUILDERS = {"cur2": cur2_table, "focus1.2": focus_table}


def day_key(spec: ExportSpec, day: date) -> str:
    """The S3 key of a day's file: in its billing period's partition, as Data Exports lays out."""
    return f"{spec.prefix}BILLING_PERIOD={day:%Y-%m}/{spec.table}-{day.isoformat()}.snappy.parquet"


def write_days(
    org: Organization, days: Iterable[date], formats: Iterable[str] = tuple(EXPORTS)
) -> dict[str, Any]:
    """Write each day's export file of each format (a new version if written before) and
    register its billing period's partition; what was written, and how long it took."""
    from moto.glue.models import glue_backends

    glue = glue_backends[ACCOUNT_ID][REGION]
    started = time.monotonic()
    written = {"days": [], "rows": 0, "bytes": 0}
    specs = [EXPORTS[f] for f in formats]
    for day in sorted(set(days)):
        lines = org.cost_lines(day)
        for spec in specs:
            sink = io.BytesIO()
            pq.write_table(_BUILDERS[spec.format](org, day, lines), sink, compression="snappy")
            body = sink.getvalue()
            put_object(f"s3://{BUCKET}/{day_key(spec, day)}", body)
            written["bytes"] += len(body)
            table = glue.get_table(DATABASE, spec.table)
            period = f"{day:%Y-%m}"
            if str([period]) not in table.partitions:
                location = f"{spec.location}BILLING_PERIOD={period}/"
                sd = {**table_input(spec)["StorageDescriptor"], "Location": location}
                table.create_partition({"Values": [period], "StorageDescriptor": sd})
        written["days"].append(day.isoformat())
        written["rows"] += len(lines)
    written["seconds"] = round(time.monotonic() - started, 3)
    written["written_at"] = datetime.now(UTC).isoformat()
    return written


def provision(s3: Any, glue: Any) -> None:
    """The export bucket and its Glue database and tables (no partitions: ``write_days`` adds
    each billing period as it writes its first day), over the given boto3 clients."""
    s3.create_bucket(Bucket=BUCKET)
    glue.create_database(DatabaseInput={"Name": DATABASE})
    for spec in EXPORTS.values():
        glue.create_table(DatabaseName=DATABASE, TableInput=table_input(spec))


def write_requested(spec: dict[str, Any]) -> dict[str, Any]:
    """``POST /_sandbox/data-exports`` with ``{"from": "YYYY-MM-DD", "to"?: ..., "formats"?:
    [...]}``: write those days of the running sandbox's organisation."""
    from sandbox.config import SETTINGS

    if SETTINGS.organization is None:
        raise ValueError("the sandbox has no organisation loaded")
    first = date.fromisoformat(spec["from"])
    last = date.fromisoformat(spec.get("to") or spec["from"])
    if last < first:
        raise ValueError(f"'to' {last} is before 'from' {first}")
    formats = spec.get("formats") or list(EXPORTS)
    unknown = [f for f in formats if f not in EXPORTS]
    if unknown:
        raise ValueError(f"unknown formats {unknown}; expected {list(EXPORTS)}")
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    return write_days(SETTINGS.organization, days, formats)
