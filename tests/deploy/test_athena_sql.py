"""The Athena DDL and views in include/sql: the DDL says what the DAG creates, and each view's
query runs on the sandbox's Athena with the numbers an independent computation gives.

The sandbox's Athena runs queries only (no CREATE VIEW), so each view's SELECT is run as a query.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import sqlglot
from sqlglot import exp

from finops_digest.config import FinopsConfig
from finops_digest.resources import include_dir
from finops_digest.schema import BUDGET_COLUMNS, COST_TABLE_COLUMNS, PARTITION_KEYS
from finops_digest.store import layout
from finops_digest.store.catalog import PROJECTION, render_sql
from finops_digest.store.views import placeholders
from sandbox import SANDBOX_DEFAULTS
from scripts.local_env import pipeline_config, variable_env
from tests.integration.conftest import run_dag
from tests.integration.test_dag_run import expected_rows

DAYS = (date(2025, 9, 1), date(2025, 9, 2))
DB, TABLE, BUDGET_TABLE = "finops_db", "ou_breakdown", "ou_budget"
# One OU with room to spare, one far over budget, the rest without a budget.
BUDGETS = {"Data": 250000, "Marketing": 1000}
# The DAG runs with finops_config's default metric and currency, so the FOCUS view is rendered so.
DEFAULTS = FinopsConfig(archive_bucket="unused")
VIEW_VALUES = placeholders(DB, TABLE, BUDGET_TABLE, DEFAULTS.cost_metric, DEFAULTS.currency)


@pytest.fixture(scope="module")
def archived(sandbox, airflow_db):
    """Two archived days, by the DAG (partition_api: no crawler needed)."""
    config = {
        **pipeline_config(SANDBOX_DEFAULTS),
        "catalog_strategy": "partition_api",
        "budgets": BUDGETS,
    }
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
    sql = render_sql(f"views/{name}", **VIEW_VALUES)
    tree = sqlglot.parse_one(sql, read="trino")
    assert isinstance(tree, exp.Create) and tree.kind == "VIEW", name
    assert tree.this.sql() == f"{DB}.{name}", "a view is named after its file"
    return tree.expression.sql(dialect="trino")


def _expected(organization) -> list[tuple]:
    return [row for day in DAYS for row in expected_rows(organization, day)]


def _ddl(name: str) -> tuple[tuple, dict[str, Any]]:
    """(columns, properties by kind) of a DDL file, as Athena would parse it."""
    sql = render_sql(
        f"ddl/{name}", database=DB, table=TABLE, budget_table=BUDGET_TABLE, bucket="my-archive"
    )
    tree = sqlglot.parse_one(sql, read="athena")
    assert isinstance(tree, exp.Create) and tree.kind == "TABLE"
    columns = tuple((c.name, c.args["kind"].sql("hive").lower()) for c in tree.this.expressions)
    props: dict[str, Any] = {}
    for prop in tree.args["properties"].expressions:
        if isinstance(prop, exp.Property) and type(prop) is exp.Property:
            props.setdefault("TBLPROPERTIES", {})[prop.name] = prop.text("value")
        else:
            props[type(prop).__name__] = prop
    keys = tuple(
        (c.name, c.args["kind"].sql("hive").lower())
        for c in props["PartitionedByProperty"].this.expressions
    )
    assert keys == PARTITION_KEYS
    assert props["FileFormatProperty"].this.name.upper() == "PARQUET"
    return columns, props


def test_ddl_declares_the_table_the_dag_creates():
    columns, props = _ddl("ou_breakdown")
    assert columns == COST_TABLE_COLUMNS
    location = props["LocationProperty"].this.name
    assert location == layout.s3_uri("my-archive", layout.PARQUET_PREFIX + "/")


def test_budget_ddl_declares_the_projected_table_the_dag_creates(archived, aws):
    columns, props = _ddl("ou_budget")
    assert columns == BUDGET_COLUMNS
    location = props["LocationProperty"].this.name
    assert location == layout.s3_uri("my-archive", layout.BUDGET_PREFIX + "/")
    assert {k: v for k, v in props["TBLPROPERTIES"].items() if k != "classification"} == PROJECTION

    created = aws("glue").get_table(DatabaseName=DB, Name=BUDGET_TABLE)["Table"]
    assert created["Parameters"].items() >= PROJECTION.items()
    partitions = aws("glue").get_partitions(DatabaseName=DB, TableName=BUDGET_TABLE)
    assert partitions["Partitions"] == [], "projected: Athena finds the days without registration"
    sd = created["StorageDescriptor"]
    assert tuple((c["Name"], c["Type"]) for c in sd["Columns"]) == BUDGET_COLUMNS


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


def _forecast_rows(aws, day: date) -> dict[str, dict[str, Any]]:
    """The forecast_month_end document the DAG archived for ``day``, per OU."""
    body = aws("s3").get_object(
        Bucket=SANDBOX_DEFAULTS["archive_bucket"], Key=layout.archive_key(day, layout.FORECAST_NAME)
    )["Body"]
    return {row["ou"]: row for row in json.loads(body.read())["ous"]}


def test_month_to_date_vs_budget(archived, aws):
    daily: dict[tuple, Decimal] = defaultdict(Decimal)
    for day, ou, _service, _account, cost in _expected(archived.organization):
        daily[(day, ou)] += cost
    rows = _query(aws, _view_body("month_to_date_vs_budget"))
    got = {(r["billingdate"], r["ou"]): r for r in rows}
    expected_keys = set()
    for n, day in enumerate(DAYS):
        forecasts = _forecast_rows(aws, day)
        expected_keys |= {(day.isoformat(), ou) for ou in forecasts}
        for ou, forecast in forecasts.items():
            row = got[(day.isoformat(), ou)]
            mtd = sum((daily.get((d, ou), Decimal(0)) for d in DAYS[: n + 1]), Decimal(0))
            assert abs(Decimal(row["month_to_date_cost"]) - mtd) < Decimal("0.01"), (day, ou)
            assert abs(Decimal(forecast["month_to_date"]) - mtd) < Decimal("0.01"), "digest agrees"
            assert abs(Decimal(row["forecast"]) - Decimal(forecast["forecast"])) < Decimal("0.01")
            assert row["light"] == forecast["light"]
            if ou in BUDGETS:
                assert Decimal(row["budget"]) == BUDGETS[ou]
                used = mtd / BUDGETS[ou]
                assert abs(Decimal(row["budget_used"]) - used) < Decimal("0.0001"), (day, ou)
            else:
                assert row["budget"] is None and row["light"] is None and row["budget_used"] is None
    assert got.keys() == expected_keys
    lights = {got[(d.isoformat(), ou)]["light"] for d in DAYS for ou in BUDGETS}
    assert "green" in lights and "red" in lights, "the budgets make one OU green, one red"


def _timestamp(value: str) -> datetime:
    """A timestamp cell as Athena prints it (``2025-09-01 00:00:00.000``)."""
    return datetime.fromisoformat(value)


def test_focus_daily_costs_names_each_cost_row_as_focus_does(archived, aws):
    names = {  # as Organizations names them (the pipeline's source of accountname)
        account["Id"]: account["Name"]
        for page in aws("organizations").get_paginator("list_accounts").paginate()
        for account in page["Accounts"]
    }
    expected = {
        (day, ou, service, account): cost
        for day, ou, service, account, cost in _expected(archived.organization)
    }
    # Athena keeps a view's column names in lowercase (the Glue catalog is case-insensitive).
    rows = [
        {k.lower(): v for k, v in r.items()} for r in _query(aws, _view_body("focus_daily_costs"))
    ]
    assert DEFAULTS.cost_metric == "NetAmortizedCost" and "effectivecost" in rows[0]
    assert "billedcost" not in rows[0], "one cost column, the one the metric is"
    got = {}
    for r in rows:
        start = _timestamp(r["chargeperiodstart"])
        assert _timestamp(r["chargeperiodend"]) - start == timedelta(days=1), "end is exclusive"
        assert _timestamp(r["billingperiodstart"]) == start.replace(day=1)
        assert r["billingperiodend"].startswith("2025-10-01 00:00:00"), "DAYS are in September"
        assert r["billingcurrency"] == "USD"
        assert r["subaccountname"] == names[r["subaccountid"]]
        key = (start.date(), r["x_ou"], r["servicename"], r["subaccountid"])
        assert key not in got, f"{key} twice"
        got[key] = Decimal(r["effectivecost"])
    assert got.keys() == expected.keys()
    for key, value in expected.items():
        assert abs(got[key] - value) < Decimal("0.01"), key


def test_the_dag_created_every_shipped_view_and_each_reads_as_its_query(archived, aws):
    views = sorted(p.stem for p in (include_dir() / "sql" / "views").glob("*.sql"))
    glue = aws("glue")
    for name in views:
        table = glue.get_table(DatabaseName=DB, Name=name)["Table"]
        assert table["TableType"] == "VIRTUAL_VIEW", name
    by_name = _query(aws, f"SELECT ou, SUM(total_cost) AS t FROM {DB}.daily_cost_by_ou GROUP BY ou")
    by_body = _query(
        aws, f"SELECT ou, SUM(total_cost) AS t FROM ({_view_body('daily_cost_by_ou')}) GROUP BY ou"
    )
    assert sorted(map(str, by_name)) == sorted(map(str, by_body))


def test_cost_rollup_counts_each_ou_with_its_children_and_the_organisation_once(archived, aws):
    paths = {}
    for _day, ou, _service, _account, cost in _expected(archived.organization):
        paths[ou] = paths.get(ou, Decimal(0)) + cost
    tree = _query(aws, f"SELECT DISTINCT ou, ou_id FROM {DB}.ou_tree")
    id_of = {r["ou"]: r["ou_id"] for r in tree}
    rolled = {
        r["ancestor_id"]: Decimal(r["cost"])
        for r in _query(
            aws,
            f"SELECT ancestor_id, SUM(dailycost) AS cost FROM {DB}.cost_rollup GROUP BY ancestor_id",
        )
    }
    for label, ou_id in id_of.items():
        # An OU's roll-up is its own rows and those of every path nested under it.
        want = sum(
            (c for p, c in paths.items() if p == label or p.startswith(label + "/")), Decimal(0)
        )
        assert abs(rolled.get(ou_id, Decimal(0)) - want) < Decimal("0.01"), label
    [org] = _query(
        aws, f"SELECT SUM(dailycost) AS cost FROM {DB}.cost_rollup WHERE ancestor_id = ou_id"
    )
    assert abs(Decimal(org["cost"]) - sum(paths.values())) < Decimal("0.01")
