"""The tables' columns, in one place: the CSV header, the Parquet schemas and the Glue tables
derive from these lists (the shipped DDL in ``include/sql/ddl`` is checked against them by a test).
"""

from __future__ import annotations

from typing import Any

# The CSV contract's header, in order. Athena and Parquet use the same names lowercased.
CSV_HEADER = ("BillingDate", "OU", "Service", "LinkedAccount", "DailyCost")
COST_TYPES = ("date", "string", "string", "string", "double")
COST_COLUMNS = tuple(zip((n.lower() for n in CSV_HEADER), COST_TYPES, strict=True))
# What the Parquet file and the Athena table hold beyond the CSV contract (whose five columns
# never change): the account's name from the day's account-to-OU mapping, null when unknown.
# Appended after the CSV's columns rather than placed beside linkedaccount: Athena reads Parquet
# by name, but a reader that maps columns by position (Hive's parquet.column.index.access, some
# Spark or Presto settings) would read the files archived before this column shifted by one; at
# the end, those files simply lack it and read as NULL either way.
PARQUET_ONLY_COLUMNS = (("accountname", "string"),)
COST_TABLE_COLUMNS = COST_COLUMNS + PARQUET_ONLY_COLUMNS

# Typed keys let the seed's query compare `year = 2025` as Athena users expect; a crawler
# creating the table itself would type them as strings.
PARTITION_KEYS = (("year", "int"), ("month", "int"), ("day", "int"))

# The budget table: one row per OU per billing day, as forecast_month_end saw it (the digest's
# per-OU budget table), for the month_to_date_vs_budget view analysts and QuickSight read.
BUDGET_COLUMNS = (
    ("billingdate", "date"),
    ("ou", "string"),
    ("month_to_date", "double"),
    ("forecast", "double"),
    ("forecast_lower", "double"),
    ("forecast_upper", "double"),
    ("forecast_method", "string"),
    ("budget", "double"),
    ("budget_source", "string"),
    ("light", "string"),
)

# The OU tree of each archived day (the day's account-to-OU mapping): one row per OU and each of
# its ancestors, itself included, so "an OU with its children" is one join by ``ancestor_id``,
# keyed by id (renames and colliding labels change no sum). ``parent_id`` is null for top-level
# OUs and the root pseudo-OU.
OU_TREE_COLUMNS = (
    ("billingdate", "date"),
    ("ou", "string"),
    ("ou_id", "string"),
    ("parent_id", "string"),
    ("ancestor", "string"),
    ("ancestor_id", "string"),
    # 0 for the OU itself, 1 for its parent, ...: orders the path from the top.
    ("distance", "int"),
)

# Each day's spike findings (anomalies.json) as rows: what the dashboard marks on the trend, with
# the top driver account and usage type where detection found them.
ANOMALY_COLUMNS = (
    ("billingdate", "date"),
    ("ou", "string"),
    ("service", "string"),
    ("status", "string"),
    ("kind", "string"),
    ("severity", "string"),
    ("actual", "double"),
    ("expected", "double"),
    ("impact", "double"),
    ("reason", "string"),
    ("account", "string"),
    ("account_label", "string"),
    ("usage_type", "string"),
)


def arrow_schema(columns: tuple[tuple[str, str], ...], metadata: dict[str, str]) -> Any:
    """The Parquet (Arrow) schema of a table's columns, with ``metadata`` (provenance) attached."""
    import pyarrow as pa

    arrow_types = {
        "date": pa.date32(),
        "string": pa.string(),
        "double": pa.float64(),
        "int": pa.int32(),
    }
    return pa.schema(
        [(name, arrow_types[kind]) for name, kind in columns],
        metadata={k.encode(): v.encode() for k, v in metadata.items()},
    )


def parquet_bytes(
    columns: tuple[tuple[str, str], ...], records: list[dict[str, Any]], metadata: dict[str, str]
) -> bytes:
    """``records`` as one Parquet file with exactly ``columns`` (a table's rows for one day)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pylist(records, schema=arrow_schema(columns, metadata))
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    return sink.getvalue().to_pybytes()
