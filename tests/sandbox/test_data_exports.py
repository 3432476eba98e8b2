"""The sandbox's AWS Data Exports export: written on request from Cost Explorer's line items, laid
out and catalogued as Data Exports and a crawler would, and summing to Cost Explorer's answers."""

from __future__ import annotations

import json
import urllib.request
from datetime import date
from decimal import Decimal

from sandbox import data_exports
from sandbox.cost_explorer import format_amount

DAY = date(2025, 9, 14)


def _post(sandbox, body: dict) -> tuple[int, dict]:
    request = urllib.request.Request(
        f"{sandbox.endpoint_url}/_sandbox/data-exports",
        data=json.dumps(body).encode(),
        method="POST",
    )
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


def _athena(aws, sql: str) -> tuple[list[list[str]], int]:
    athena = aws("athena")
    qid = athena.start_query_execution(
        QueryString=sql,
        QueryExecutionContext={"Database": data_exports.DATABASE},
        WorkGroup="finops",
    )["QueryExecutionId"]
    execution = athena.get_query_execution(QueryExecutionId=qid)["QueryExecution"]
    assert execution["Status"]["State"] == "SUCCEEDED", execution["Status"]
    rows = athena.get_query_results(QueryExecutionId=qid)["ResultSet"]["Rows"][1:]
    values = [[c.get("VarCharValue") for c in r["Data"]] for r in rows]
    return values, execution["Statistics"]["DataScannedInBytes"]


def test_days_are_written_on_request_under_their_billing_period(sandbox, aws):
    status, written = _post(sandbox, {"from": "2025-09-13", "to": "2025-09-14"})
    assert status == 200 and written["days"] == ["2025-09-13", "2025-09-14"]
    assert written["rows"] == sum(
        len(sandbox.organization.cost_lines(d)) for d in (date(2025, 9, 13), DAY)
    )
    keys = [o["Key"] for o in aws("s3").list_objects_v2(Bucket=data_exports.BUCKET)["Contents"]]
    assert "cur2/finops-cur2/data/BILLING_PERIOD=2025-09/cur2-2025-09-14.snappy.parquet" in keys
    assert "focus/finops-focus/data/BILLING_PERIOD=2025-09/focus-2025-09-14.snappy.parquet" in keys
    partitions = aws("glue").get_partitions(DatabaseName=data_exports.DATABASE, TableName="cur2")
    assert [p["Values"] for p in partitions["Partitions"]] == [["2025-09"]]
    assert _post(sandbox, {"from": "2025-09-14", "to": "2025-09-13"})[0] == 400
    assert _post(sandbox, {"from": "2025-09-14", "formats": ["cur1"]})[0] == 400


def test_the_export_sums_to_cost_explorers_answer_metric_by_metric(sandbox, aws):
    sandbox.write_data_exports(DAY)
    lines = [ln for ln in sandbox.organization.cost_lines(DAY) if ln.record_type != "Tax"]
    for metric, column in (
        ("UnblendedCost", "line_item_unblended_cost"),
        ("BlendedCost", "line_item_blended_cost"),
        ("NetUnblendedCost", "line_item_net_unblended_cost"),
    ):
        rows, scanned = _athena(
            aws,
            f"SELECT SUM(CAST({column} AS DECIMAL(38, 10))) FROM cur2 WHERE billing_period = "
            "'2025-09' AND CAST(line_item_usage_start_date AS DATE) = DATE '2025-09-14' "
            "AND line_item_line_item_type <> 'Tax'",
        )
        expected = sum((ln.amounts[metric] for ln in lines), Decimal(0))
        assert format_amount(Decimal(rows[0][0])) == format_amount(expected), metric
        assert scanned > 0
    covered, _ = _athena(
        aws,
        "SELECT SUM(CAST(savings_plan_savings_plan_effective_cost AS DECIMAL(38, 10))) FROM cur2 "
        "WHERE line_item_line_item_type = 'SavingsPlanCoveredUsage' "
        "AND CAST(line_item_usage_start_date AS DATE) = DATE '2025-09-14'",
    )
    amortized = [ln for ln in lines if ln.amounts["AmortizedCost"] != ln.amounts["UnblendedCost"]]
    assert amortized and Decimal(covered[0][0]) == sum(
        (ln.amounts["AmortizedCost"] for ln in amortized), Decimal(0)
    )
    focus, _ = _athena(
        aws,
        "SELECT SUM(CAST(effectivecost AS DECIMAL(38, 10))) FROM focus "
        "WHERE CAST(chargeperiodstart AS DATE) = DATE '2025-09-14' AND chargecategory <> 'Tax'",
    )
    assert Decimal(focus[0][0]) == sum((ln.amounts["NetAmortizedCost"] for ln in lines), Decimal(0))


def test_cost_explorer_requests_are_counted_by_the_day_they_cover(sandbox, aws):
    ce = aws("ce")
    before = sandbox.cost_explorer_requests(DAY)
    period = {"Start": "2025-09-11", "End": "2025-09-15"}
    ce.get_cost_and_usage(TimePeriod=period, Granularity="DAILY", Metrics=["UnblendedCost"])
    ce.get_cost_and_usage(
        TimePeriod={"Start": "2025-09-01", "End": "2025-09-14"},
        Granularity="DAILY",
        Metrics=["UnblendedCost"],
    )
    ce.get_cost_and_usage(
        TimePeriod=period,
        Granularity="DAILY",
        Metrics=["UnblendedCost"],
        GroupBy=[{"Type": "DIMENSION", "Key": "USAGE_TYPE"}],
    )
    assert sandbox.cost_explorer_requests(DAY) == before + 1, "the day's rows: the first only"
    url = f"{sandbox.endpoint_url}/_sandbox/cost-explorer-requests?covering=2025-09-14"
    with urllib.request.urlopen(url) as response:
        assert json.load(response)["requests"] == before + 1
