"""Cost Explorer answers from the synthetic organisation, as AWS shapes and paginates it."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal

import pytest
from botocore.exceptions import ClientError

DAY = date(2025, 9, 14)


def _all_pages(ce, **request):
    pages, token = [], None
    while True:
        page = ce.get_cost_and_usage(**request, **({"NextPageToken": token} if token else {}))
        pages.append(page)
        token = page.get("NextPageToken")
        if not token:
            return pages


def _grouped(pages, metric="UnblendedCost"):
    sums = defaultdict(Decimal)
    for page in pages:
        for result in page["ResultsByTime"]:
            for group in result["Groups"]:
                key = (result["TimePeriod"]["Start"], *group["Keys"])
                sums[key] += Decimal(group["Metrics"][metric]["Amount"])
    return sums


def test_grouped_pages_sum_to_the_organisation_lines(sandbox, aws):
    ce = aws("ce")
    pages = _all_pages(
        ce,
        TimePeriod={"Start": "2025-09-13", "End": "2025-09-15"},
        Granularity="DAILY",
        Metrics=["UnblendedCost", "AmortizedCost"],
        GroupBy=[
            {"Type": "DIMENSION", "Key": "LINKED_ACCOUNT"},
            {"Type": "DIMENSION", "Key": "SERVICE"},
        ],
    )
    assert len(pages) > 2  # sandbox.page_size groups a page
    assert all(
        len(g) <= sandbox.page_size
        for p in pages
        for g in [sum((r["Groups"] for r in p["ResultsByTime"]), [])]
    )
    assert "NextPageToken" not in pages[-1]
    got = _grouped(pages)
    want = defaultdict(Decimal)
    for day in (date(2025, 9, 13), DAY):
        for line in sandbox.organization.cost_lines(day):
            want[(day.isoformat(), line.account_id, line.service)] += line.amounts["UnblendedCost"]
    assert got == want
    first = pages[0]
    assert first["GroupDefinitions"][0] == {"Type": "DIMENSION", "Key": "LINKED_ACCOUNT"}
    assert first["ResultsByTime"][0]["Total"] == {}
    assert isinstance(first["ResultsByTime"][0]["Estimated"], bool)
    names = {
        a["Value"]: a["Attributes"]["description"]
        for p in pages
        for a in p["DimensionValueAttributes"]
    }
    assert names[sandbox.organization.accounts[1].id] == sandbox.organization.accounts[1].name


def test_filter_by_ou_accounts_and_usage_only_with_end_exclusive(sandbox, aws):
    org = sandbox.organization
    marketing = org.ou_by_path("Marketing")
    accounts = [a.id for a in org.accounts_in(marketing.id)]
    pages = _all_pages(
        aws("ce"),
        TimePeriod={"Start": DAY.isoformat(), "End": "2025-09-15"},
        Granularity="DAILY",
        Metrics=["UnblendedCost"],
        GroupBy=[{"Type": "DIMENSION", "Key": "SERVICE"}],
        Filter={
            "And": [
                {"Dimensions": {"Key": "LINKED_ACCOUNT", "Values": accounts}},
                {
                    "Not": {
                        "Dimensions": {"Key": "RECORD_TYPE", "Values": ["Credit", "Refund", "Tax"]}
                    }
                },
            ]
        },
    )
    assert {r["TimePeriod"]["Start"] for p in pages for r in p["ResultsByTime"]} == {"2025-09-14"}
    got = _grouped(pages)
    want = defaultdict(Decimal)
    for line in org.cost_lines(DAY):
        if line.account_id in accounts and line.record_type == "Usage":
            want[(DAY.isoformat(), line.service)] += line.amounts["UnblendedCost"]
    assert got == want
    # The injected spike shows: CloudFront in Marketing carries the extra $2,500.
    assert got[(DAY.isoformat(), "Amazon CloudFront")] > Decimal(2500)
    # Record-type exclusion matters: Credit/Tax lines exist in the unfiltered data.
    assert {ln.record_type for ln in org.cost_lines(DAY)} >= {"Usage", "Credit", "Tax"}


def test_total_without_groupby_and_zero_lines_kept(sandbox, aws):
    org = sandbox.organization
    resp = aws("ce").get_cost_and_usage(
        TimePeriod={"Start": "2025-09-10", "End": "2025-09-11"},
        Granularity="DAILY",
        Metrics=["UnblendedCost"],
    )
    (result,) = resp["ResultsByTime"]
    assert result["Groups"] == []
    assert Decimal(result["Total"]["UnblendedCost"]["Amount"]) == org.daily_total(date(2025, 9, 10))
    assert Decimal(8000) < Decimal(result["Total"]["UnblendedCost"]["Amount"]) < Decimal(30000)
    zero_days = [
        d
        for d in range(1, 29)
        if any(ln.amounts["UnblendedCost"] == 0 for ln in org.cost_lines(date(2025, 8, d)))
    ]
    assert zero_days  # the generator emits "0" lines that the pipeline must drop


def test_day_before_history_has_no_groups(aws):
    resp = aws("ce").get_cost_and_usage(
        TimePeriod={"Start": "2024-12-31", "End": "2025-01-01"},
        Granularity="DAILY",
        Metrics=["UnblendedCost"],
        GroupBy=[{"Type": "DIMENSION", "Key": "SERVICE"}],
    )
    assert [r["Groups"] for r in resp["ResultsByTime"]] == [[]]


@pytest.mark.parametrize(
    "request_",
    [
        {"TimePeriod": {"Start": "2025-09-15", "End": "2025-09-14"}},
        {"TimePeriod": {"Start": "2025-13-01", "End": "2025-09-14"}},
        {
            "GroupBy": [
                {"Type": "DIMENSION", "Key": k} for k in ("SERVICE", "LINKED_ACCOUNT", "USAGE_TYPE")
            ]
        },
    ],
)
def test_bad_requests_are_validation_errors(aws, request_):
    base = {
        "TimePeriod": {"Start": "2025-09-14", "End": "2025-09-15"},
        "Granularity": "DAILY",
        "Metrics": ["UnblendedCost"],
    }
    with pytest.raises(ClientError) as err:
        aws("ce").get_cost_and_usage(**{**base, **request_})
    assert err.value.response["Error"]["Code"] == "ValidationException"


def test_forecast_and_data_unavailable(sandbox, aws):
    ce = aws("ce")
    org = sandbox.organization
    accounts = [a.id for a in org.accounts_in(org.ou_by_path("Data").id)]
    flt = {"Dimensions": {"Key": "LINKED_ACCOUNT", "Values": accounts}}
    resp = ce.get_cost_forecast(
        TimePeriod={"Start": "2025-09-15", "End": "2025-10-01"},
        Metric="UNBLENDED_COST",
        Granularity="MONTHLY",
        Filter=flt,
    )
    total = Decimal(resp["Total"]["Amount"])
    assert total > 0 and resp["Total"]["Unit"] == "USD"
    (row,) = resp["ForecastResultsByTime"]
    assert (
        Decimal(row["PredictionIntervalLowerBound"])
        < Decimal(row["MeanValue"])
        < Decimal(row["PredictionIntervalUpperBound"])
    )
    with pytest.raises(ClientError) as err:
        ce.get_cost_forecast(
            TimePeriod={"Start": "2025-01-10", "End": "2025-02-01"},
            Metric="UNBLENDED_COST",
            Granularity="MONTHLY",
        )
    assert err.value.response["Error"]["Code"] == "DataUnavailableException"
    empty_ou = [a.id for a in org.accounts_in(org.ou_by_path("Sandbox").id)] or ["000000000000"]
    with pytest.raises(ClientError) as err:
        ce.get_cost_forecast(
            TimePeriod={"Start": "2025-09-15", "End": "2025-10-01"},
            Metric="UNBLENDED_COST",
            Granularity="MONTHLY",
            Filter={"Dimensions": {"Key": "LINKED_ACCOUNT", "Values": empty_ou}},
        )
    assert err.value.response["Error"]["Code"] == "DataUnavailableException"


def test_daily_costs_before_the_14_month_horizon_are_refused_as_aws_refuses_them(sandbox, aws):

    ce = aws("ce")
    # The sandbox's today is 2026-01-01: it keeps the days from 2024-12-01.
    kept = ce.get_cost_and_usage(
        TimePeriod={"Start": "2024-12-01", "End": "2024-12-02"},
        Granularity="DAILY",
        Metrics=["UnblendedCost"],
    )
    assert kept["ResultsByTime"]
    with pytest.raises(ClientError) as refused:
        ce.get_cost_and_usage(
            TimePeriod={"Start": "2024-11-30", "End": "2024-12-02"},
            Granularity="DAILY",
            Metrics=["UnblendedCost"],
        )
    assert refused.value.response["Error"]["Code"] == "ValidationException"
    assert "2024-12-01" in refused.value.response["Error"]["Message"]
