"""The periodic reports' Athena SQL names its days on the partition keys, and every page of a
result is read, amounts kept as Athena's text."""

from __future__ import annotations

import re
from datetime import date

from finops_digest.aws.athena import query_rows
from finops_digest.report import period_sql

TABLES = period_sql.Tables("finops_db", "ou_breakdown", "ou_budget")


def test_every_query_reads_only_the_partitions_of_its_days():
    queries = [
        period_sql.period_totals_sql(
            TABLES, date(2025, 11, 17), date(2025, 11, 24), date(2025, 11, 30)
        ),
        period_sql.archived_days_sql(TABLES, date(2025, 11, 17), date(2025, 11, 30)),
        period_sql.anomalies_sql(TABLES, date(2025, 11, 24), date(2025, 11, 30)),
        period_sql.month_budgets_sql(TABLES, date(2025, 11, 1), date(2025, 11, 30)),
        period_sql.month_chargeback_sql(TABLES, date(2025, 11, 1), date(2025, 11, 30)),
        period_sql.budget_on_day_sql(TABLES, date(2025, 11, 30)),
        period_sql.ou_labels_sql(TABLES, date(2025, 11, 1), date(2025, 11, 30)),
    ]
    for sql in queries:
        assert "{" not in sql and "}" not in sql, sql
        # Every table read (FROM) is filtered on year, month and day of November 2025 only.
        reads = len(re.findall(r"\bFROM finops_db\.", sql))
        filters = re.findall(r"year = (\d+) AND \w*\.?month = (\d+) AND \w*\.?day BETWEEN", sql)
        assert reads and len(filters) >= reads, sql
        assert set(filters) == {("2025", "11")}, sql


def test_a_range_across_months_names_each_months_days():
    sql = period_sql.period_totals_sql(
        TABLES, date(2025, 10, 27), date(2025, 11, 3), date(2025, 11, 9)
    )
    assert "(c.year = 2025 AND c.month = 10 AND c.day BETWEEN 27 AND 31)" in sql
    assert "(c.year = 2025 AND c.month = 11 AND c.day BETWEEN 1 AND 9)" in sql
    assert "DATE '2025-11-03'" in sql


class PagedHook:
    """The AthenaHook surface query_rows uses: a query that succeeds, results in two pages."""

    def run_query(self, sql, query_context, result_configuration, workgroup):
        return "q1"

    def poll_query_status(self, query_id, sleep_time=None):
        return "SUCCEEDED"

    def get_query_results_paginator(self, query_id):
        info = {"ColumnInfo": [{"Name": "ou"}, {"Name": "cost"}]}
        cell = lambda v: {} if v is None else {"VarCharValue": v}  # noqa: E731
        return [
            {
                "ResultSet": {
                    "Rows": [
                        {"Data": [cell("ou"), cell("cost")]},
                        {"Data": [cell("A"), cell("1.5E7")]},
                    ],
                    "ResultSetMetadata": info,
                }
            },
            {
                "ResultSet": {
                    "Rows": [{"Data": [cell("B"), cell(None)]}],
                    "ResultSetMetadata": info,
                }
            },
        ]


def test_every_page_is_read_and_the_header_row_only_once():
    rows = query_rows(
        PagedHook(), "SELECT 1", database="d", output_location="s3://b/r/", workgroup="w"
    )
    assert rows == [{"ou": "A", "cost": "1.5E7"}, {"ou": "B", "cost": None}]
