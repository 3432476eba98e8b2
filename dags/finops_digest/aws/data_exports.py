"""Costs from an AWS Data Exports table (CUR 2.0, FOCUS 1.0 / 1.2) through Athena, instead of
Cost Explorer's GetCostAndUsage: the column mapping per export format, the one query of a run
(day x account x service over the billing day and its restated days), and its result read from
the CSV Athena writes (one S3 GET, however many rows).

Where the columns come from (docs/data_exports.md cites AWS's table dictionaries): CUR 2.0 names
its columns like the legacy CUR's Athena columns (``line_item_unblended_cost``), keeps product
attributes outside its fixed schema in the ``product`` map (``product['product_name']``) and
types costs as double; FOCUS exports use the specification's names (``BilledCost``,
``EffectiveCost``, ``ChargePeriodStart``, ``SubAccountId``, ``ServiceName``). Each line's cost is
cast to ``decimal(38,10)`` before it is summed, so a sum is exact and its text is what Cost
Explorer prints for the same line items (trailing zeros dropped, ``plain_amount``).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from finops_digest.errors import FinopsError

log = logging.getLogger(__name__)

SOURCE_NAME = "data_exports"
EXPORT_FORMATS = ("cur2", "focus1.0", "focus1.2")
ATHENA_PRICE_PER_TB_USD = Decimal(5)
# A column, or one key of a map column (CUR 2.0's product['product_name']): nothing else reaches
# the SQL from the configuration.
COLUMN_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}(\['[A-Za-z0-9_:./ -]{1,128}'\])?")
# What each column of the query is for; "cost" overrides the metric's column(s) below.
COLUMN_ROLES = (
    "usage_start",
    "account",
    "account_name",
    "service",
    "record_type",
    "charge_class",
    "billing_period",
    "cost",
)

_CUR2_COLUMNS = {
    "usage_start": "line_item_usage_start_date",
    "account": "line_item_usage_account_id",
    "account_name": "line_item_usage_account_name",
    # Cost Explorer's SERVICE is the product's name ("Amazon Simple Storage Service"); CUR 2.0
    # keeps it in the product map (product_servicecode is the code, "AmazonS3").
    "service": "product['product_name']",
    "record_type": "line_item_line_item_type",
    "charge_class": "",
    # Data Exports writes s3://<bucket>/<prefix>/<export>/data/BILLING_PERIOD=YYYY-MM/...
    "billing_period": "billing_period",
}
_FOCUS_COLUMNS = {
    "usage_start": "ChargePeriodStart",
    "account": "SubAccountId",
    "account_name": "SubAccountName",
    "service": "ServiceName",
    "record_type": "ChargeCategory",
    "charge_class": "ChargeClass",
    "billing_period": "billing_period",
}
DEFAULT_COLUMNS = {"cur2": _CUR2_COLUMNS, "focus1.0": _FOCUS_COLUMNS, "focus1.2": _FOCUS_COLUMNS}

# AWS's amortization of CUR line items (the AWS Billing "amortized cost" logic, as in AWS's CUR
# query library and the CUDOS dashboards): commitment-covered usage at its effective cost, the
# unused part of a commitment on its fee line, negations and upfront fees at zero.
_AMORTIZED = """CASE {rt}
      WHEN 'SavingsPlanCoveredUsage' THEN savings_plan_savings_plan_effective_cost
      WHEN 'SavingsPlanRecurringFee'
        THEN savings_plan_total_commitment_to_date - savings_plan_used_commitment
      WHEN 'SavingsPlanNegation' THEN 0
      WHEN 'SavingsPlanUpfrontFee' THEN 0
      WHEN 'DiscountedUsage' THEN reservation_effective_cost
      WHEN 'RIFee'
        THEN reservation_unused_amortized_upfront_fee_for_billing_period
          + reservation_unused_recurring_fee
      ELSE CASE WHEN {rt} = 'Fee' AND reservation_reservation_a_r_n <> '' THEN 0
        ELSE line_item_unblended_cost END
    END"""
_NET_AMORTIZED = """CASE {rt}
      WHEN 'SavingsPlanCoveredUsage' THEN savings_plan_net_savings_plan_effective_cost
      WHEN 'SavingsPlanRecurringFee'
        THEN savings_plan_total_commitment_to_date - savings_plan_used_commitment
      WHEN 'SavingsPlanNegation' THEN 0
      WHEN 'SavingsPlanUpfrontFee' THEN 0
      WHEN 'DiscountedUsage' THEN reservation_net_effective_cost
      WHEN 'RIFee'
        THEN reservation_net_unused_amortized_upfront_fee_for_billing_period
          + reservation_net_unused_recurring_fee
      ELSE CASE WHEN {rt} = 'Fee' AND reservation_reservation_a_r_n <> '' THEN 0
        ELSE line_item_net_unblended_cost END
    END"""
CUR2_METRICS = {
    "UnblendedCost": "line_item_unblended_cost",
    "BlendedCost": "line_item_blended_cost",
    "NetUnblendedCost": "line_item_net_unblended_cost",
    "AmortizedCost": _AMORTIZED,
    "NetAmortizedCost": _NET_AMORTIZED,
}
# FOCUS's two costs are both net of every discount ("inclusive of all reduced rates and
# discounts"); EffectiveCost also amortizes commitments. FOCUS has no cost before negotiated
# discounts and no blended cost: those metrics are refused (or name a column in "cost").
FOCUS_METRICS = {"NetUnblendedCost": "BilledCost", "NetAmortizedCost": "EffectiveCost"}

# Cost Explorer's RECORD_TYPE values as CUR 2.0 line item types (the same names but for the
# discounts, which CUR abbreviates). "Support" has no line item type of its own in CUR.
CUR2_RECORD_TYPES = {
    "Usage": "Usage",
    "Credit": "Credit",
    "Refund": "Refund",
    "Tax": "Tax",
    "SavingsPlanCoveredUsage": "SavingsPlanCoveredUsage",
    "SavingsPlanNegation": "SavingsPlanNegation",
    "SavingsPlanRecurringFee": "SavingsPlanRecurringFee",
    "SavingsPlanUpfrontFee": "SavingsPlanUpfrontFee",
    "DiscountedUsage": "DiscountedUsage",
    "RIFee": "RIFee",
    "Fee": "Fee",
    "Enterprise Discount Program Discount": "EdpDiscount",
    "Private Rate Discount": "PrivateRateDiscount",
    "Distributor Discount": "DistributorDiscount",
    "Bundled Discount": "BundledDiscount",
    "Solution Provider Program Discount": "SppDiscount",
}
# FOCUS classifies charges coarser: a category (Usage, Purchase, Tax, Credit, Adjustment) and a
# class ("Correction" for a correction of an earlier charge: a refund). Only these can be told.
FOCUS_RECORD_TYPES = {
    "Usage": ("record_type", "Usage"),
    "Credit": ("record_type", "Credit"),
    "Tax": ("record_type", "Tax"),
    "Refund": ("charge_class", "Correction"),
}


class ExportQueryError(FinopsError):
    """The export's query result is not what the pipeline asked for."""


@dataclass(frozen=True)
class Export:
    """A Data Exports table, its format and the columns (or expressions) each role reads."""

    database: str
    table: str
    format: str
    columns: dict[str, str]

    @classmethod
    def from_config(cls, settings: dict[str, Any]) -> Export:
        """From the validated ``data_exports`` object of ``finops_config``."""
        columns = {**DEFAULT_COLUMNS[settings["format"]], **settings.get("columns", {})}
        return cls(settings["database"], settings["table"], settings["format"], columns)

    @property
    def name(self) -> str:
        return f"{self.database}.{self.table}"

    @property
    def is_focus(self) -> bool:
        return self.format.startswith("focus")


def settings_problems(settings: Any, metric: str, excluded: Sequence[str]) -> list[str]:
    """What is wrong with a ``data_exports`` object for ``metric`` and the excluded record types
    (each problem naming the key, what it got and what is expected); [] when it is usable."""
    where = "data_exports"
    if not isinstance(settings, dict):
        return [
            f'{where}: expected an object such as {{"database": "cid_data_export", "table": '
            f'"cur2", "format": "cur2"}}, got {settings!r}'
        ]
    problems = []
    unknown = sorted(set(settings) - {"database", "table", "format", "columns"})
    if unknown:
        problems.append(
            f"{where}: unknown key(s) {unknown}; expected database, table, format, columns"
        )
    for key in ("database", "table"):
        value = settings.get(key)
        if not isinstance(value, str) or not re.fullmatch(r"[a-z_][a-z0-9_]{0,254}", value):
            problems.append(
                f"{where}.{key}: expected the Glue {key} of the export (lowercase letters, digits, "
                f"'_'), got {value!r}"
            )
    export_format = settings.get("format")
    if export_format not in EXPORT_FORMATS:
        problems.append(
            f"{where}.format: expected one of {', '.join(EXPORT_FORMATS)}, got {export_format!r}"
        )
        return problems
    columns = settings.get("columns", {})
    if not isinstance(columns, dict):
        return [
            *problems,
            f"{where}.columns: expected an object of role to column, got {columns!r}",
        ]
    for role, column in columns.items():
        if role not in COLUMN_ROLES:
            problems.append(
                f"{where}.columns: unknown role {role!r}; expected one of {', '.join(COLUMN_ROLES)}"
            )
        elif not isinstance(column, str) or not (
            COLUMN_RE.fullmatch(column)
            or (column == "" and role in ("billing_period", "charge_class", "account_name"))
        ):
            problems.append(
                f"{where}.columns.{role}: expected a column name such as line_item_usage_account_id "
                f"or a map key such as product['product_name'], got {column!r}"
            )
    focus = export_format.startswith("focus")
    if "cost" not in columns:
        known = FOCUS_METRICS if focus else CUR2_METRICS
        if metric not in known:
            problems.append(
                f"cost_metric: {metric} has no column in a FOCUS export (its BilledCost and "
                "EffectiveCost are net of every discount, and it has no blended cost): expected "
                f"one of {', '.join(known)}, or name the column to sum in data_exports.columns.cost"
            )
    kinds = FOCUS_RECORD_TYPES if focus else CUR2_RECORD_TYPES
    untold = [r for r in excluded if r not in kinds]
    if untold:
        problems.append(
            f"excluded_record_types: {', '.join(untold)} cannot be told apart in a "
            f"{export_format} export; expected only {', '.join(kinds)}"
        )
    refunds = focus and any(kinds[r][0] == "charge_class" for r in excluded if r in kinds)
    if refunds and "charge_class" in columns and not columns["charge_class"]:
        problems.append(
            "data_exports.columns.charge_class: refunds are excluded by ChargeClass; name "
            "that column, or do not exclude Refund"
        )
    return problems


def billing_periods(first: date, last: date) -> list[str]:
    """The ``YYYY-MM`` billing periods (the export's partitions) of the days first..last."""
    periods, day = [], first.replace(day=1)
    while day <= last:
        periods.append(f"{day:%Y-%m}")
        day = (day + timedelta(days=32)).replace(day=1)
    return periods


def _quoted(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _cost_expression(export: Export, metric: str) -> str:
    if export.columns.get("cost"):
        return export.columns["cost"]
    if export.is_focus:
        return FOCUS_METRICS[metric]
    return CUR2_METRICS[metric].format(rt=export.columns["record_type"])


def _filters(export: Export, first: date, last: date, excluded: Sequence[str]) -> list[str]:
    """The WHERE conditions: the days' partitions, the days, the record types left out."""
    columns = export.columns
    start = columns["usage_start"]
    conditions = []
    if columns["billing_period"]:
        periods = ", ".join(_quoted(p) for p in billing_periods(first, last))
        conditions.append(f"{columns['billing_period']} IN ({periods})")
    conditions.append(f"{start} >= TIMESTAMP '{first.isoformat()} 00:00:00'")
    conditions.append(f"{start} < TIMESTAMP '{(last + timedelta(days=1)).isoformat()} 00:00:00'")
    by_column: dict[str, list[str]] = {}
    for record_type in sorted(excluded):
        if export.is_focus:
            role, value = FOCUS_RECORD_TYPES[record_type]
        else:
            role, value = "record_type", CUR2_RECORD_TYPES[record_type]
        by_column.setdefault(columns[role], []).append(value)
    if by_column:
        # NULL (a FOCUS charge without a class) is no excluded type.
        left_out = " OR ".join(
            f"COALESCE({column}, '') IN ({', '.join(_quoted(v) for v in values)})"
            for column, values in by_column.items()
        )
        conditions.append(f"NOT ({left_out})")
    return conditions


def costs_sql(export: Export, metric: str, excluded: Sequence[str], first: date, last: date) -> str:
    """One query for every account's cost per day and service over first..last (the billing
    day and its restated days): the export's rows of those days' billing periods only."""
    columns = export.columns
    name = f"MAX({columns['account_name']})" if columns.get("account_name") else "''"
    where = "\n  AND ".join(_filters(export, first, last, excluded))
    return (
        f"SELECT CAST({columns['usage_start']} AS DATE) AS billing_date,\n"
        f"  {columns['account']} AS linked_account,\n"
        f"  {columns['service']} AS service,\n"
        f"  SUM(CAST({_cost_expression(export, metric)} AS DECIMAL(38, 10))) AS cost,\n"
        f"  {name} AS account_name\n"
        f"FROM {export.database}.{export.table}\n"
        f"WHERE {where}\n"
        "GROUP BY 1, 2, 3"
    )


def day_total_sql(export: Export, metric: str, excluded: Sequence[str], day: date) -> str:
    """The export's own total of ``day`` (every account, ungrouped): what the quality gate
    compares the consolidated CSV with, as it does with Cost Explorer's day total."""
    where = "\n  AND ".join(_filters(export, day, day, excluded))
    return (
        f"SELECT SUM(CAST({_cost_expression(export, metric)} AS DECIMAL(38, 10))) AS total\n"
        f"FROM {export.database}.{export.table}\n"
        f"WHERE {where}"
    )


def plain_amount(text: str | None) -> Decimal:
    """An Athena decimal as Cost Explorer prints the same amount: no trailing zeros ("0" for
    zero), so the CSV is byte for byte the Cost Explorer source's."""
    amount = Decimal(text or "0")
    return Decimal(0) if amount == 0 else amount.normalize()


@dataclass(frozen=True)
class QueryResult:
    """A finished export query: its id, the bytes Athena scanned (billed at $5 per TB, 10 MB at
    least per query) and where Athena wrote its result CSV."""

    query_id: str
    scanned_bytes: int
    result_uri: str


def run(hook: Any, sql: str, *, output_location: str, workgroup: str, database: str) -> QueryResult:
    """Run ``sql`` to its end (``athena.run_query``); the bytes it scanned and its result file."""
    from finops_digest.aws.athena import run_query

    query_id = run_query(
        hook, sql, database=database, output_location=output_location, workgroup=workgroup
    )
    execution = hook.get_query_info(query_id)["QueryExecution"]
    scanned = _scanned(execution)
    uri = execution["ResultConfiguration"]["OutputLocation"]
    log.info(
        "Athena query %s scanned %d bytes ($%.6f at $5/TB); result %s",
        query_id,
        scanned,
        scan_cost(scanned),
        uri,
    )
    return QueryResult(query_id, scanned, uri)


def _scanned(execution: dict[str, Any]) -> int:
    return int(execution.get("Statistics", {}).get("DataScannedInBytes") or 0)


def scanned_bytes(hook: Any, query_id: str) -> int:
    """The bytes a finished Athena query scanned (``Statistics.DataScannedInBytes``)."""
    scanned = _scanned(hook.get_query_info(query_id)["QueryExecution"])
    log.info("Athena query %s scanned %d bytes", query_id, scanned)
    return scanned


def scan_cost(scanned_bytes: int) -> Decimal:
    """What Athena bills for a query that scanned ``scanned_bytes`` (10 MB at least)."""
    billed = max(scanned_bytes, 10 * 1024**2)
    return ATHENA_PRICE_PER_TB_USD * billed / Decimal(1024**4)


RESULT_COLUMNS = ("billing_date", "linked_account", "service", "cost", "account_name")
# A decimal's text with a non-zero digit before any exponent ("0E-10" and "0.0000000000" are 0).
_NON_ZERO = r"^-?[0-9.]*[1-9]"


def _batches(source: Any, columns: Sequence[str]) -> Any:
    """The result CSV of :func:`costs_sql` (bytes, or a file object such as S3's streaming body)
    read batch by batch, its ``columns`` as text: a large day's result is never held whole."""
    import pyarrow as pa
    from pyarrow import csv

    stream = pa.BufferReader(source) if isinstance(source, bytes | bytearray) else source
    try:
        return csv.open_csv(
            stream,
            convert_options=csv.ConvertOptions(
                column_types=dict.fromkeys(RESULT_COLUMNS, pa.string()),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
                include_columns=list(columns),
            ),
        )
    except (pa.ArrowInvalid, KeyError) as exc:
        raise ExportQueryError(
            f"the export query's result is not a CSV with columns {list(RESULT_COLUMNS)}: {exc}"
        ) from exc


def read_result(source: Any, accounts: Iterable[str] | None = None) -> Any:
    """The rows of ``accounts`` (all when None) of the result CSV of :func:`costs_sql` (bytes or
    a file object), as an Arrow table of text columns as Athena wrote them; read batch by batch,
    only the wanted rows kept."""
    import pyarrow as pa
    import pyarrow.compute as pc

    reader = _batches(source, RESULT_COLUMNS)
    wanted = None if accounts is None else pa.array(sorted(set(accounts)), pa.string())
    kept = [
        batch if wanted is None else batch.filter(pc.is_in(batch["linked_account"], wanted))
        for batch in reader
    ]
    return pa.Table.from_batches(kept, schema=reader.schema)


def result_rows(source: Any) -> Iterator[tuple[str, str, str, str]]:
    """Every (day, account, service, cost) of the result CSV of :func:`costs_sql` (bytes or a
    file object), as Athena wrote them; batch by batch, so only one batch is held at a time."""
    for batch in _batches(source, RESULT_COLUMNS[:4]):
        yield from zip(*(batch[name].to_pylist() for name in RESULT_COLUMNS[:4]), strict=True)


def accounts_with_costs(source: Any) -> dict[str, str]:
    """Every account with a non-zero cost in the result CSV of :func:`costs_sql` (bytes or a
    file object), with its name; batch by batch, only one row per account kept."""
    import pyarrow as pa
    import pyarrow.compute as pc

    def named(table: Any, column: str) -> Any:
        return table.group_by("linked_account").aggregate([(column, "max")])

    reader = _batches(source, ("linked_account", "cost", "account_name"))
    per_batch = [
        named(
            pa.Table.from_batches(
                [batch.filter(pc.match_substring_regex(batch["cost"], _NON_ZERO))]
            ).select(["linked_account", "account_name"]),
            "account_name",
        )
        for batch in reader
    ]
    if not per_batch:
        return {}
    found = named(pa.concat_tables(per_batch), "account_name_max")
    return dict(
        sorted(
            zip(
                found["linked_account"].to_pylist(),
                found["account_name_max_max"].to_pylist(),
                strict=True,
            )
        )
    )
