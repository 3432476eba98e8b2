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


def arrow_schema(columns: tuple[tuple[str, str], ...], metadata: dict[str, str]) -> Any:
    """The Parquet (Arrow) schema of a table's columns, with ``metadata`` (provenance) attached."""
    import pyarrow as pa

    arrow_types = {"date": pa.date32(), "string": pa.string(), "double": pa.float64()}
    return pa.schema(
        [(name, arrow_types[kind]) for name, kind in columns],
        metadata={k.encode(): v.encode() for k, v in metadata.items()},
    )
