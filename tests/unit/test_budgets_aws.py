"""AWS Budgets by naming convention, and the alert memory in the versioned bucket, over HTTP."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import boto3
import pytest

from finops_digest.budgets.against_budget import read_aws_budgets
from finops_digest.budgets.alert_memory import read_state, record_alerts
from finops_digest.store.layout import budget_alerts_key
from sandbox import SANDBOX_DEFAULTS, Sandbox

ACCOUNT = SANDBOX_DEFAULTS["account_id"]
BUCKET = SANDBOX_DEFAULTS["archive_bucket"]


@pytest.fixture(scope="module")
def aws():
    with Sandbox.start() as sb:
        yield lambda service: boto3.client(
            service, endpoint_url=sb.endpoint_url, region_name="us-east-1"
        )


def budget(name, amount, unit="USD", time_unit="MONTHLY", kind="COST"):
    return {
        "BudgetName": name,
        "BudgetLimit": {"Amount": amount, "Unit": unit},
        "TimeUnit": time_unit,
        "BudgetType": kind,
    }


def test_only_monthly_cost_budgets_named_by_the_convention_are_read(aws):
    client = aws("budgets")
    for item in (
        budget("finops-ou-Data", "25000"),
        budget("finops-ou-Engineering/Platform", "12000.50"),
        budget("finops-ou-Sales", "900", time_unit="QUARTERLY"),
        budget("finops-ou-Finance", "900", unit="EUR"),
        budget("team-budget", "1"),
    ):
        client.create_budget(AccountId=ACCOUNT, Budget=item)
    assert read_aws_budgets(client, ACCOUNT, "USD") == {
        "Data": Decimal("25000"),
        "Engineering/Platform": Decimal("12000.50"),
    }


def test_alert_memory_is_a_new_version_each_time_and_keeps_the_first_alert(aws):
    s3 = aws("s3")
    day = date(2025, 9, 14)
    assert read_state(s3, BUCKET, day) == {"month": "2025-09", "alerted": {}}
    assert record_alerts(s3, BUCKET, day, []) is None
    first = {"ou": "A", "forecast": Decimal("120"), "budget": Decimal("100")}
    record_alerts(s3, BUCKET, day, [first])
    record_alerts(s3, BUCKET, date(2025, 9, 20), [first, {**first, "ou": "B"}])
    state = read_state(s3, BUCKET, day)
    assert state["alerted"]["A"]["billing_date"] == "2025-09-14"
    assert state["alerted"]["B"]["billing_date"] == "2025-09-20"
    versions = s3.list_object_versions(Bucket=BUCKET, Prefix=budget_alerts_key(day))["Versions"]
    assert len(versions) == 2
