"""The dashboard's SQL: only the range's partitions are named, and a name from a URL is data."""

from __future__ import annotations

import re
from datetime import date, timedelta
from urllib.parse import parse_qsl, urlsplit

import pytest
import sqlglot
from hypothesis import given
from hypothesis import strategies as st

from finops_digest.dashboard import queries
from finops_digest.dashboard.urls import DrillState, drill_url, parse_state

NAMES = queries.Names("finops_db", "ou_budget")


def _admits(predicate: str, day: date) -> bool:
    """Whether the generated partition predicate admits ``day`` (read back from its terms)."""
    for y, m, a, b in re.findall(
        r"year = (\d+) AND \w*\.?month = (\d+) AND \w*\.?day BETWEEN (\d+) AND (\d+)", predicate
    ):
        if (day.year, day.month) == (int(y), int(m)) and int(a) <= day.day <= int(b):
            return True
    return False


@given(st.dates(date(2024, 1, 1), date(2026, 6, 30)), st.integers(0, 120))
def test_partition_filter_names_exactly_the_range(start, length):
    end = start + timedelta(days=length)
    predicate = queries.partition_filter(start, end)
    sqlglot.parse_one(f"SELECT 1 FROM t WHERE {predicate}", read="trino")
    wanted = {start + timedelta(days=n) for n in range(length + 1)}
    assert {
        d
        for d in wanted | {start - timedelta(days=1), end + timedelta(days=1)}
        if _admits(predicate, d)
    } == wanted


def test_a_reversed_range_is_refused():
    with pytest.raises(ValueError, match="after"):
        queries.partition_filter(date(2025, 9, 2), date(2025, 9, 1))


@pytest.mark.parametrize(
    "name", ["O'Brien", "x' OR '1'='1", "<script>alert(1)</script>", '=HYPERLINK("a")', "a\\'b"]
)
def test_a_name_from_a_url_stays_one_string_literal(name):
    sql = queries.breakdown_sql(
        NAMES, "linkedaccount", "ou-1", name, None, date(2025, 9, 1), date(2025, 9, 2)
    )
    tree = sqlglot.parse_one(sql, read="trino")
    literals = [s.this for s in tree.find_all(sqlglot.exp.Literal) if s.is_string]
    assert name in literals
    assert "1'='1" not in sql.replace(queries.literal(name), "")


def test_the_previous_period_is_as_long_and_just_before():
    assert queries.previous_period(date(2025, 9, 12), date(2025, 9, 14)) == (
        date(2025, 9, 9),
        date(2025, 9, 11),
    )


def test_every_query_parses_as_trino_for_each_level():
    start, end = date(2025, 8, 30), date(2025, 9, 2)
    for ou in (None, "ou-abcd-12345678"):
        for sql in (
            queries.child_ous_sql(NAMES, ou, start, end),
            queries.breakdown_sql(NAMES, "service", ou, None, None, start, end),
            queries.trend_sql(NAMES, ou, "Amazon S3", "123456789012", start, end),
            queries.anomalies_sql(NAMES, ou, "Amazon S3", None, start, end),
            queries.budgets_sql(NAMES, ou, end),
            queries.find_ou_sql(NAMES, "Engineering", start, end),
            queries.archived_days_sql(NAMES, start, end),
            queries.latest_archived_sql(NAMES, end),
        ):
            sqlglot.parse_one(sql, read="trino")


def test_a_state_round_trips_through_its_url():
    state = DrillState(
        start=date(2025, 9, 1), end=date(2025, 9, 14), ou="R&D/Eng ?", service="S3", account="1"
    )
    url = drill_url("https://x.example/dash/", state)
    assert parse_state(dict(parse_qsl(urlsplit(url).query)), date(2000, 1, 1)) == state


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"from": "2025-13-01"}, "'from' must be a date"),
        ({"from": "2025-09-02", "to": "2025-09-01"}, "after"),
    ],
)
def test_bad_dates_are_named(params, message):
    with pytest.raises(ValueError, match=message):
        parse_state(params, date(2025, 9, 14))
