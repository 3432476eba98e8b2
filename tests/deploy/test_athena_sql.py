"""The Athena DDL and views in include/sql: the DDL says what the DAG creates, and each view's
query runs on the sandbox's Athena with the numbers an independent computation gives.

The sandbox's Athena runs queries only (no CREATE VIEW), so each view's SELECT is run as a query.
"""

from __future__ import annotations

import time
from collections import defaultdict
from datetime import date
from decimal import Decimal

import pytest
import sqlglot
from sqlglot import exp

from finops_digest import layout
from finops_digest.catalog import COLUMNS, PARTITION_KEYS, render_sql
from sandbox import SANDBOX_DEFAULTS
from scripts.local_env import pipeline_config, variable_env
from tests.integration.conftest import run_dag
from tests.integration.test_dag_run import expected_rows

DAYS = (date(2025, 9, 1), date(2025, 9, 2))
DB, TABLE = "finops_db", "ou_breakdown"
VIEWS = ("daily_cost_by_ou", "daily_cost_by_service", "month_to_date_by_ou")


@pytest.fixture(scope="module")
def archived(sandbox, airflow_db):
    """Two archived days, by the DAG (partition_api: no crawler needed)."""
    config = {**pipeline_config(SANDBOX_DEFAULTS), "catalog_strategy": "partition_api"}
    with pytest.MonkeyPatch.context() as monkeypatch:
        for key, value in variable_env(config).items():
            monkeypatch.setenv(key, value)
        for day in DAYS:
            assert run_dag(day).state == "success"
    return sandbox


def _query(aws, sql: str) -> list[dict[str, str]]:
    athena = aws("athena")
    qid = athena.start_query_execution(
        QueryString=sql,
        QueryExecutionContext={"Database": DB},
        WorkGroup=SANDBOX_DEFAULTS["athena_workgroup"],
    )["QueryExecutionId"]
    for _ in range(100):
        status = athena.get_query_execution(QueryExecutionId=qid)["QueryExecution"]["Status"]
        if status["State"] in ("SUCCEEDED", "FAILED", "CANCELLED"):
            break
        time.sleep(0.1)
    assert status["State"] == "SUCCEEDED", status.get("StateChangeReason")
    rows = athena.get_query_results(QueryExecutionId=qid)["ResultSet"]["Rows"]
    header = [c["VarCharValue"] for c in rows[0]["Data"]]
    return [
        dict(zip(header, (c.get("VarCharValue") for c in r["Data"]), strict=True)) for r in rows[1:]
    ]


def _view_body(name: str) -> str:
    tree = sqlglot.parse_one(render_sql(f"views/{name}", database=DB, table=TABLE), read="trino")
    assert isinstance(tree, exp.Create) and tree.kind == "VIEW", name
    assert tree.this.sql() == f"{DB}.{name}", "a view is named after its file"
    return tree.expression.sql(dialect="trino")


def _expected(organization) -> list[tuple]:
    return [row for day in DAYS for row in expected_rows(organization, day)]


def test_ddl_declares_the_table_the_dag_creates():
    sql = render_sql("ddl/ou_breakdown", database=DB, table=TABLE, bucket="my-archive")
    tree = sqlglot.parse_one(sql, read="athena")
    assert isinstance(tree, exp.Create) and tree.kind == "TABLE"
    columns = [(c.name, c.args["kind"].sql("hive").lower()) for c in tree.this.expressions]
    assert tuple(columns) == COLUMNS
    props = {type(p).__name__: p for p in tree.args["properties"].expressions}
    keys = [
        (c.name, c.args["kind"].sql("hive").lower())
        for c in props["PartitionedByProperty"].this.expressions
    ]
    assert tuple(keys) == PARTITION_KEYS
    location = props["LocationProperty"].this.name
    assert location == layout.s3_uri("my-archive", layout.PARQUET_PREFIX + "/")
    assert props["FileFormatProperty"].this.name.upper() == "PARQUET"


def test_daily_cost_by_ou(archived, aws):
    expected: dict[tuple, Decimal] = defaultdict(Decimal)
    for day, ou, _service, _account, cost in _expected(archived.organization):
        expected[(day.isoformat(), ou)] += cost
    rows = _query(aws, _view_body("daily_cost_by_ou"))
    got = {(r["billingdate"], r["ou"]): Decimal(r["total_cost"]) for r in rows}
    assert got.keys() == expected.keys()
    for key, value in expected.items():
        assert abs(got[key] - value) < Decimal("0.01"), key


def test_daily_cost_by_service(archived, aws):
    expected: dict[tuple, Decimal] = defaultdict(Decimal)
    for day, _ou, service, _account, cost in _expected(archived.organization):
        expected[(day.isoformat(), service)] += cost
    rows = _query(aws, _view_body("daily_cost_by_service"))
    got = {(r["billingdate"], r["service"]): Decimal(r["total_cost"]) for r in rows}
    assert got.keys() == expected.keys()
    for key, value in expected.items():
        assert abs(got[key] - value) < Decimal("0.01"), key


def test_month_to_date_by_ou_accumulates_within_the_month(archived, aws):
    daily: dict[tuple, Decimal] = defaultdict(Decimal)
    for day, ou, _service, _account, cost in _expected(archived.organization):
        daily[(day, ou)] += cost
    rows = _query(aws, _view_body("month_to_date_by_ou"))
    got = {(r["billingdate"], r["ou"]): Decimal(r["month_to_date_cost"]) for r in rows}
    first, second = DAYS
    for (day, ou), cost in daily.items():
        expected = cost + (daily.get((first, ou), Decimal(0)) if day == second else 0)
        assert abs(got[(day.isoformat(), ou)] - expected) < Decimal("0.01"), (day, ou)
