"""Month-end forecasts: the remaining period, the request, the answer, and the run-rate fallback."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import boto3
import pytest

from finops_digest.budgets.forecast import (
    ACTUALS,
    COST_EXPLORER,
    RUN_RATE,
    forecast_request,
    month_end_forecasts,
    parse_forecast,
    remaining_period,
    rows_from_json,
    rows_to_json,
    run_rate,
)
from finops_digest.ingest.cost_rows import CostDataError, CostRow
from sandbox import Sandbox

D = Decimal
EXCLUDED = ("Credit", "Refund", "Tax")


@pytest.mark.parametrize(
    ("day", "period"),
    [
        (date(2025, 9, 14), (date(2025, 9, 15), date(2025, 10, 1))),
        (date(2025, 9, 29), (date(2025, 9, 30), date(2025, 10, 1))),
        (date(2025, 9, 30), None),  # the last day: nothing left to forecast
        (date(2024, 2, 28), (date(2024, 2, 29), date(2024, 3, 1))),
        (date(2025, 12, 1), (date(2025, 12, 2), date(2026, 1, 1))),
    ],
)
def test_remaining_period_starts_after_the_billing_day(day, period):
    assert remaining_period(day) == period


def test_request_uses_the_actuals_filter_metric_and_an_80_percent_interval():
    request = forecast_request(
        ["222", "111"], date(2025, 9, 15), date(2025, 10, 1), "NetAmortizedCost", EXCLUDED
    )
    assert request == {
        "TimePeriod": {"Start": "2025-09-15", "End": "2025-10-01"},
        "Metric": "NET_AMORTIZED_COST",
        "Granularity": "MONTHLY",
        "PredictionIntervalLevel": 80,
        "Filter": {
            "And": [
                {"Dimensions": {"Key": "LINKED_ACCOUNT", "Values": ["111", "222"]}},
                {"Not": {"Dimensions": {"Key": "RECORD_TYPE", "Values": list(EXCLUDED)}}},
            ]
        },
    }


def test_answer_is_summed_and_checked():
    answer = {
        "Total": {"Amount": "30", "Unit": "USD"},
        "ForecastResultsByTime": [
            {"MeanValue": "10", "PredictionIntervalLowerBound": "9", "PredictionIntervalUpperBound": "12"},
            {"MeanValue": "20", "PredictionIntervalLowerBound": "18", "PredictionIntervalUpperBound": "21"},
        ],
    }  # fmt: skip
    assert parse_forecast(answer, "USD", "test") == (D("30"), D("27"), D("33"))
    with pytest.raises(CostDataError, match="test: forecast in USD, expected EUR"):
        parse_forecast(answer, "EUR", "test")
    with pytest.raises(CostDataError, match="no ForecastResultsByTime"):
        parse_forecast({"Total": {"Unit": "USD"}}, "USD", "test")


def test_run_rate_is_the_last_seven_days_average_times_the_days_left():
    day = date(2025, 9, 14)
    daily = {day - timedelta(days=n): D(10 + n) for n in range(10)}
    assert run_rate(day, daily, 16) == D(sum(range(10, 17))) / 7 * 16
    assert run_rate(day, {day: D("70")}, 2) == D("20")  # days without costs count as zero


def test_rows_survive_json_exactly():
    rows = [{"ou": "A", "forecast": D("1.005"), "upper": None, "light": "red", "budget": D("1")}]
    assert rows_from_json(rows_to_json(rows)) == rows


@pytest.fixture(scope="module")
def sandbox():
    with Sandbox.start() as sb:
        yield sb


def org_rows(sb, ou_path, days):
    """The OU's actuals for the days, straight from the sandbox's synthetic data."""
    org = sb.organization
    rows = []
    for day in days:
        for line in org.cost_lines(day):
            if line.record_type not in EXCLUDED and org.ou_path_of(line.account_id) == ou_path:
                rows.append(
                    CostRow(day, ou_path, line.service, line.account_id, line.amounts["NetAmortizedCost"])
                )  # fmt: skip
    return rows


def test_forecast_over_http_adds_cost_explorer_to_month_to_date(sandbox):
    ce = boto3.client("ce", endpoint_url=sandbox.endpoint_url, region_name="us-east-1")
    org = sandbox.organization
    ou = org.ou_by_path("Marketing")
    accounts = [a.id for a in org.accounts_in(ou.id)]
    day = date(2025, 9, 14)
    rows = org_rows(sandbox, "Marketing", [date(2025, 9, d) for d in range(1, 15)])
    before = sandbox.calls("GetCostForecast")
    [entry, empty] = month_end_forecasts(
        day,
        [{"name": "Marketing", "accounts": accounts}, {"name": "Sandbox", "accounts": []}],
        rows,
        ce,
        metric="NetAmortizedCost",
        excluded_record_types=EXCLUDED,
        currency="USD",
    )
    assert sandbox.calls("GetCostForecast") == before + 1  # none for the OU without accounts
    mtd = sum(r.daily_cost for r in rows)
    answer = ce.get_cost_forecast(
        **forecast_request(accounts, date(2025, 9, 15), date(2025, 10, 1), "NetAmortizedCost", EXCLUDED)
    )  # fmt: skip
    rest = D(answer["ForecastResultsByTime"][0]["MeanValue"])
    assert entry["method"] == COST_EXPLORER
    assert entry["month_to_date"] == mtd
    assert entry["forecast"] == mtd + rest
    assert entry["lower"] < entry["forecast"] < entry["upper"]
    assert empty["method"] == ACTUALS and empty["forecast"] == 0


def test_too_little_history_falls_back_to_a_labelled_run_rate(sandbox):
    ce = boto3.client("ce", endpoint_url=sandbox.endpoint_url, region_name="us-east-1")
    org = sandbox.organization
    ou = org.ou_by_path("Data")
    accounts = [a.id for a in org.accounts_in(ou.id)]
    day = date(2025, 1, 10)  # the sandbox's history starts on 2025-01-01
    days = [date(2025, 1, d) for d in range(1, 11)]
    rows = org_rows(sandbox, "Data", days)
    [entry] = month_end_forecasts(
        day,
        [{"name": "Data", "accounts": accounts}],
        rows,
        ce,
        metric="NetAmortizedCost",
        excluded_record_types=EXCLUDED,
        currency="USD",
    )
    last_week = sum(r.daily_cost for r in rows if r.billing_date > day - timedelta(days=7))
    assert entry["method"] == RUN_RATE
    assert entry["note"] == "Cost Explorer: DataUnavailableException"
    assert entry["forecast"] == sum(r.daily_cost for r in rows) + last_week / 7 * 21
    assert entry["upper"] is None


def test_on_the_last_day_the_forecast_is_the_actuals_and_cost_explorer_is_not_asked(sandbox):
    before = sandbox.calls("GetCostForecast")
    row = CostRow(date(2025, 9, 30), "Data", "S3", "111", D("5"))
    [entry] = month_end_forecasts(
        date(2025, 9, 30),
        [{"name": "Data", "accounts": ["111"]}],
        [row],
        None,
        metric="NetAmortizedCost",
        excluded_record_types=EXCLUDED,
        currency="USD",
    )
    assert sandbox.calls("GetCostForecast") == before
    assert entry["method"] == ACTUALS
    assert entry["forecast"] == entry["lower"] == entry["upper"] == D("5")
