"""A spike pages once, is then reported as still elevated, and a planned spike never pages."""

from __future__ import annotations

import email
import email.policy
import json
from datetime import date
from decimal import Decimal

import pytest

from sandbox import Spike
from tests.integration.conftest import run_dag, task_states

BUCKET = "finops-digest-archive"


def anomalies_of(aws, day):
    key = f"ou-breakdowns/year={day:%Y}/month={day:%m}/day={day:%d}/anomalies.json"
    return json.loads(aws("s3").get_object(Bucket=BUCKET, Key=key)["Body"].read())


def alert_days(sandbox):
    messages = [
        email.message_from_bytes(m, policy=email.policy.default) for m in sandbox.sent_emails()
    ]
    return [m["X-FinOps-Billing-Date"] for m in messages if m["X-FinOps-Kind"] == "anomaly-alert"]


@pytest.fixture(scope="module")
def spike(sandbox):
    """The demo spike continues on 2025-09-15; a planned one happens on 2025-09-20."""
    first = next(s for s in sandbox.organization.spikes if s.day == date(2025, 9, 14))
    for day in (date(2025, 9, 15), date(2025, 9, 20)):
        sandbox.organization.spikes.append(
            Spike(day, first.ou_path, first.service, first.account_id, Decimal("2500"))
        )
    return first


@pytest.fixture(scope="module")
def two_days(sandbox, airflow_db, finops_config, spike):
    return {day: task_states(run_dag(day)) for day in (date(2025, 9, 14), date(2025, 9, 15))}


def test_the_first_day_pages_with_accounts_and_usage_types(two_days, spike, aws, sandbox):
    assert two_days[date(2025, 9, 14)]["send_anomaly_alert"] == "success"
    [finding] = [
        a
        for a in anomalies_of(aws, date(2025, 9, 14))["anomalies"]
        if a["service"] == spike.service
    ]
    assert finding["status"] == "new"
    assert finding["drivers"][0]["account"] == spike.account_id
    assert finding["usage_types"], "the alert names the usage types behind the spike"
    assert abs(sum(u["share"] for u in finding["usage_types"]) - 1) < 0.02


def test_the_next_day_is_still_elevated_and_does_not_page_again(two_days, spike, aws, sandbox):
    states = two_days[date(2025, 9, 15)]
    assert states["send_anomaly_alert"] == "skipped", states
    assert states["send_daily_digest"] == "success"
    report = anomalies_of(aws, date(2025, 9, 15))
    [finding] = [a for a in report["anomalies"] if a["service"] == spike.service]
    assert finding["status"] == "still_elevated" and finding["elevated_days"] == 2
    assert report["counts"]["new"] == 0
    assert alert_days(sandbox) == ["2025-09-14"]


def test_a_spike_marked_as_planned_in_the_feedback_file_does_not_page(
    two_days, spike, aws, sandbox, finops_config
):
    feedback = [{"ou": spike.ou_path, "service": "*", "until": "2025-09-30", "reason": "launch"}]
    aws("s3").put_object(
        Bucket=BUCKET, Key="feedback/expected_anomalies.json", Body=json.dumps(feedback).encode()
    )
    states = task_states(run_dag(date(2025, 9, 20)))
    assert states["no_anomaly"] == "success", states
    # The spike shows as the service or, after two spiky days in its history, as the OU's total.
    report = anomalies_of(aws, date(2025, 9, 20))
    findings = [a for a in report["anomalies"] if a["ou"] == spike.ou_path]
    assert findings
    assert {(a["status"], a["expected_reason"]) for a in findings} == {("expected", "launch")}
    assert "2025-09-20" not in alert_days(sandbox)
