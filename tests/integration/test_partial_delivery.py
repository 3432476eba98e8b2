"""Delivery that fails in part: a refused address never stops the other recipients or the other
messages, is named, and a re-run sends only to those still missing."""

from __future__ import annotations

import email
import email.policy
import json
from datetime import date

import pytest

from sandbox import SANDBOX_DEFAULTS
from scripts.local_env import pipeline_config, variable_env
from tests.integration.conftest import run_dag, task_states

ONCALL = "finops-oncall@example.com"
BUCKET = SANDBOX_DEFAULTS["archive_bucket"]
MEMORY = "state/budget-alerts/2025-09.json"
FEEDBACK = "feedback/expected_anomalies.json"  # anomaly_feedback_key's default


@pytest.fixture(scope="module")
def finops_config():
    # Marketing far over budget: a breach to alert on 2025-09-14 beside the spike.
    config = {**pipeline_config(SANDBOX_DEFAULTS), "budgets": {"Marketing": 1000}}
    with pytest.MonkeyPatch.context() as patch:
        for key, value in variable_env(config).items():
            patch.setenv(key, value)
        yield config


def _messages(sandbox, day: date) -> list:
    parsed = [
        email.message_from_bytes(m, policy=email.policy.default) for m in sandbox.sent_emails()
    ]
    return [m for m in parsed if m["X-FinOps-Billing-Date"] == day.isoformat()]


def test_a_failed_spike_alert_still_lets_the_digest_and_snapshot_go_out(
    sandbox, airflow_db, finops_config, aws
):
    # 2025-09-14 has a spike; SES refuses the on-call address (unverified in SES's sandbox).
    sandbox.refuse_recipients(ONCALL)
    # The team's feedback file is broken: said in the digest, never a failed day.
    s3 = aws("s3")
    s3.put_object(
        Bucket=BUCKET, Key=finops_config.get("anomaly_feedback_key", FEEDBACK), Body=b"[{"
    )
    day = date(2025, 9, 14)
    dag_run = run_dag(day)
    states = task_states(dag_run)
    assert dag_run.state == "failed"
    assert states["send_anomaly_alert"] == "failed"
    assert states["send_daily_digest"] == "success"
    assert states["send_executive_snapshot"] == "success"
    kinds = [m["X-FinOps-Kind"] for m in _messages(sandbox, day)]
    assert "anomaly-alert" not in kinds
    [digest] = [m for m in _messages(sandbox, day) if m["X-FinOps-Kind"] == "daily-digest"]
    assert "The feedback file was ignored" in digest.get_body(("plain",)).get_content()
    # Nobody was told of the budget breach: it is not remembered as alerted.
    memory = s3.list_objects_v2(Bucket=BUCKET, Prefix=MEMORY).get("KeyCount", 0)
    assert memory == 0


def test_a_rerun_once_the_address_is_accepted_sends_the_alert_and_remembers_the_breach(
    sandbox, airflow_db, finops_config, aws
):
    sandbox.refuse_recipients()
    day = date(2025, 9, 14)
    dag_run = run_dag(day)
    assert dag_run.state == "success", task_states(dag_run)
    [alert] = [m for m in _messages(sandbox, day) if m["X-FinOps-Kind"] == "anomaly-alert"]
    text = alert.get_body(("plain",)).get_content()
    assert "Marketing / Amazon CloudFront" in text and "Marketing: month-end forecast" in text
    memory = json.loads(aws("s3").get_object(Bucket=BUCKET, Key=MEMORY)["Body"].read())
    assert list(memory["alerted"]) == ["Marketing"]
    digests = [m for m in _messages(sandbox, day) if m["X-FinOps-Kind"] == "daily-digest"]
    assert len(digests) == 1, "the digest that went out is not sent again"


def test_long_and_partly_refused_lists_reach_everyone_else_once_and_name_the_refused(
    sandbox, airflow_db, finops_config, monkeypatch
):
    day = date(2025, 9, 10)
    team = [f"reader{n:03d}@example.com" for n in range(120)]
    refused = "reader007@example.com"
    sandbox.refuse_recipients(refused)
    monkeypatch.setenv(
        "AIRFLOW_VAR_FINOPS_CONFIG", json.dumps({**finops_config, "digest_recipients": team})
    )
    first = run_dag(day)
    assert task_states(first)["send_daily_digest"] == "failed"
    digests = [m for m in _messages(sandbox, day) if m["X-FinOps-Kind"] == "daily-digest"]
    received = [a.strip() for m in digests for a in m["To"].split(",")]
    assert sorted(received) == sorted(set(team) - {refused}), "each other recipient exactly once"
    assert all(len(m["To"].split(",")) <= 50 for m in digests), "SES takes 50 recipients a message"

    # Once the address is verified, a re-run sends to it alone.
    sandbox.refuse_recipients()
    again = run_dag(day)
    assert task_states(again)["send_daily_digest"] == "success"
    digests = [m for m in _messages(sandbox, day) if m["X-FinOps-Kind"] == "daily-digest"]
    received = [a.strip() for m in digests for a in m["To"].split(",")]
    assert sorted(received) == sorted(team)
