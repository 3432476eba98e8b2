from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from finops_digest.aws.cost_explorer import (
    TODAY_ENV,
    build_request,
    daily_horizon,
    fetch_cost_rows,
    parse_response,
)
from finops_digest.ingest.cost_rows import CostDataError
from sandbox import cost_explorer as sandbox_cost_explorer
from sandbox.config import TODAY_ENV as SANDBOX_TODAY_ENV


def page(groups, token=None, day="2025-09-14"):
    response = {
        "ResultsByTime": [
            {
                "TimePeriod": {"Start": day, "End": "2025-09-15"},
                "Groups": [
                    {
                        "Keys": [s, a],
                        "Metrics": {"NetAmortizedCost": {"Amount": amt, "Unit": "USD"}},
                    }
                    for s, a, amt in groups
                ],
            }
        ]
    }
    if token:
        response["NextPageToken"] = token
    return response


def test_request_is_one_day_end_exclusive_grouped_and_filtered():
    request = build_request(
        ["2", "1"], date(2025, 9, 14), date(2025, 9, 15), "NetAmortizedCost", ["Tax", "Credit"]
    )
    assert request["TimePeriod"] == {"Start": "2025-09-14", "End": "2025-09-15"}
    assert request["Granularity"] == "DAILY"
    assert [g["Key"] for g in request["GroupBy"]] == ["SERVICE", "LINKED_ACCOUNT"]
    assert request["Filter"] == {
        "And": [
            {"Dimensions": {"Key": "LINKED_ACCOUNT", "Values": ["1", "2"]}},
            {"Not": {"Dimensions": {"Key": "RECORD_TYPE", "Values": ["Credit", "Tax"]}}},
        ]
    }


def test_no_exclusions_means_a_plain_account_filter():
    request = build_request(["1"], date(2025, 9, 14), date(2025, 9, 15), "UnblendedCost", [])
    assert request["Filter"] == {"Dimensions": {"Key": "LINKED_ACCOUNT", "Values": ["1"]}}
    assert request["Metrics"] == ["UnblendedCost"]


class PagedCostExplorer:
    def __init__(self, pages):
        self.pages, self.requests = pages, []

    def get_cost_and_usage(self, **request):
        self.requests.append(dict(request))
        return self.pages[request.get("NextPageToken", "first")]


def test_follows_next_page_token_to_the_end():
    ce = PagedCostExplorer(
        {
            "first": page([("Amazon S3", "111111111111", "1.5")], token="p2"),
            "p2": page([("AWS Lambda", "111111111111", "0.25")], token="p3"),
            "p3": page([]),
        }
    )
    rows, requests = fetch_cost_rows(
        ce,
        ou="Data",
        account_ids=["111111111111"],
        start=date(2025, 9, 14),
        end=date(2025, 9, 15),
        metric="NetAmortizedCost",
        excluded_record_types=[],
    )
    assert requests == 3
    assert [r.daily_cost for r in rows] == [Decimal("1.5"), Decimal("0.25")]
    assert [r.get("NextPageToken") for r in ce.requests] == [None, "p2", "p3"]


def test_missing_field_is_named():
    broken = page([("Amazon S3", "111111111111", "1.5")])
    del broken["ResultsByTime"][0]["Groups"][0]["Metrics"]["NetAmortizedCost"]["Amount"]
    with pytest.raises(
        CostDataError, match="lacks field 'Amount' in Groups\\[\\].Metrics.NetAmortizedCost"
    ):
        parse_response(broken, ou="Data", metric="NetAmortizedCost")


def test_other_currency_is_refused_unless_configured():
    eur = page([("Amazon S3", "111111111111", "1.5")])
    eur["ResultsByTime"][0]["Groups"][0]["Metrics"]["NetAmortizedCost"]["Unit"] = "EUR"
    with pytest.raises(CostDataError, match="returned EUR .* expected USD"):
        parse_response(eur, ou="Data", metric="NetAmortizedCost")
    assert parse_response(eur, ou="Data", metric="NetAmortizedCost", currency="EUR")


@pytest.mark.parametrize(
    ("today", "first"),
    [
        (date(2026, 12, 2), date(2025, 11, 1)),
        (date(2026, 1, 1), date(2024, 12, 1)),
        (date(2026, 2, 28), date(2025, 1, 1)),
        (date(2026, 3, 15), date(2025, 2, 1)),
    ],
)
def test_cost_explorer_keeps_the_current_month_and_the_13_before_it(today, first):
    assert daily_horizon(today) == first


@given(st.dates(min_value=date(2001, 1, 1), max_value=date(2099, 12, 31)))
def test_the_horizon_is_a_first_of_month_13_to_14_months_back_as_the_sandbox_has_it(today):
    first = daily_horizon(today)
    months = (today.year - first.year) * 12 + today.month - first.month
    assert first.day == 1 and months == 13
    assert first == sandbox_cost_explorer.daily_horizon(today)
    assert TODAY_ENV == SANDBOX_TODAY_ENV, "the sandbox sets the variable the pipeline reads"


def test_without_the_sandbox_today_the_horizon_counts_from_the_utc_date(monkeypatch):
    monkeypatch.delenv(TODAY_ENV, raising=False)
    assert daily_horizon() == daily_horizon(datetime.now(UTC).date())
    monkeypatch.setenv(TODAY_ENV, "2026-03-15")
    assert daily_horizon() == date(2025, 2, 1)
