"""The periodic reports' Athena SQL (``include/sql/reports``), rendered with the Glue names and
the days each query reads, named on the partition keys (year/month/day) so Athena reads only
those partitions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from finops_digest.config import FinopsConfig
from finops_digest.dashboard.queries import partition_filter
from finops_digest.resources import sql_path
from finops_digest.store import layout


@dataclass(frozen=True)
class Tables:
    """Where the reports read: ``finops_config``'s Glue database, cost and budget tables."""

    database: str
    table: str
    budget_table: str

    @classmethod
    def of(cls, config: FinopsConfig) -> Tables:
        return cls(config.glue_database, config.glue_table, config.glue_budget_table)

    def names(self) -> dict[str, str]:
        return {
            "database": self.database,
            "table": self.table,
            "budget_table": self.budget_table,
            "ou_tree_table": layout.OU_TREE_TABLE,
            "anomaly_table": layout.ANOMALY_TABLE,
        }


def _render(name: str, tables: Tables, **values: str) -> str:
    return sql_path(f"reports/{name}").read_text().format(**tables.names(), **values)


def _labels(tables: Tables, start: date, end: date) -> str:
    """The ``labels`` subquery (``ou_labels.sql``) over ``start``..``end``, its comments left out
    (it is rendered inside another statement)."""
    sql = _render(
        "ou_labels",
        tables,
        tree_days=partition_filter(start, end),
        days=partition_filter(start, end, "t"),
    )
    return "\n".join(line for line in sql.splitlines() if not line.lstrip().startswith("--"))


def ou_labels_sql(tables: Tables, start: date, end: date) -> str:
    """Each archived day's OU labels with the OU's id and its latest label in the range."""
    return _labels(tables, start, end)


def period_totals_sql(tables: Tables, previous_start: date, start: date, end: date) -> str:
    """Cost per (period, OU, service): "current" is ``start``..``end``, "previous" is
    ``previous_start`` up to the day before ``start``."""
    return _render(
        "period_totals",
        tables,
        labels=_labels(tables, previous_start, end),
        start=start.isoformat(),
        days=partition_filter(previous_start, end, "c"),
    )


def archived_days_sql(tables: Tables, start: date, end: date) -> str:
    """The archived days of ``start``..``end`` and their totals."""
    return _render("archived_days", tables, days=partition_filter(start, end, "c"))


def anomalies_sql(tables: Tables, start: date, end: date) -> str:
    """The spike findings of ``start``..``end``, day by day, largest first."""
    return _render(
        "anomalies",
        tables,
        labels=_labels(tables, start, end),
        days=partition_filter(start, end, "a"),
    )


def budget_on_day_sql(tables: Tables, day: date) -> str:
    """Month to date vs budget per OU on ``day``, as that day's digest reported it."""
    return _render("budget_on_day", tables, days=partition_filter(day, day, "b"))


def month_budgets_sql(tables: Tables, start: date, end: date) -> str:
    """The monthly budget per OU on the latest day of ``start``..``end`` in the budget table."""
    return _render(
        "month_budgets",
        tables,
        labels=_labels(tables, start, end),
        days=partition_filter(start, end, "b"),
        budget_days=partition_filter(start, end, "m"),
    )


def month_chargeback_sql(tables: Tables, start: date, end: date) -> str:
    """Cost per (OU, service, linked account) over ``start``..``end``."""
    return _render(
        "month_chargeback",
        tables,
        labels=_labels(tables, start, end),
        days=partition_filter(start, end, "c"),
    )
