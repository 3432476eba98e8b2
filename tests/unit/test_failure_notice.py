"""One failure notice per failed run (50 mapped extracts failing at once mail one notice), and no
ARNs, access keys or tracebacks in it."""

from __future__ import annotations

import email
import email.policy
import json
from datetime import UTC, datetime
from types import SimpleNamespace

import boto3
import pytest
from moto import mock_aws
from moto.ses.models import ses_backends

from finops_digest.report.failure_notice import notify_failure, redact

SENDER = "finops@example.com"
# An access key id's shape, built so the repository holds no credential-like literal.
KEY = "ASIA" + "ABCDEFGHIJKLMNOP"


@pytest.fixture
def aws(monkeypatch, airflow_db):
    monkeypatch.setenv("AIRFLOW_CONN_AWS_DEFAULT", json.dumps({"conn_type": "aws"}))
    monkeypatch.setenv(
        "AIRFLOW_VAR_FINOPS_CONFIG",
        json.dumps(
            {
                "archive_bucket": "archive",
                "ses_sender": SENDER,
                "failure_recipients": ["oncall@x.io"],
            }
        ),
    )
    with mock_aws():
        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="archive")
        boto3.client("ses", region_name="us-east-1").verify_email_identity(EmailAddress=SENDER)
        yield ses_backends["123456789012"]["us-east-1"]


def _context(map_index: int, error: Exception) -> dict:
    ti = SimpleNamespace(
        dag_id="finops_daily_digest",
        task_id="extract_costs",
        map_index=map_index,
        run_id="scheduled__2025-09-14T06:00:00+00:00",
        try_number=1,
        log_url="http://localhost:8080/log",
    )
    return {
        "ti": ti,
        "params": {"billing_date": "2025-09-14"},
        "logical_date": datetime(2025, 9, 14, 6, tzinfo=UTC),
        "dag_run": SimpleNamespace(
            run_after=datetime(2025, 9, 15, 6, tzinfo=UTC), run_type="scheduled"
        ),
        "exception": error,
    }


def test_fifty_failed_mapped_tasks_mail_one_notice(aws):
    for index in range(50):
        notify_failure(_context(index, RuntimeError(f"extract {index} failed")))
    assert len(aws.sent_messages) == 1


def test_the_notice_names_no_arn_key_or_traceback(aws):
    error = RuntimeError(
        "User: arn:aws:sts::123456789012:assumed-role/finops-mwaa/i-0 is not authorized to "
        "perform ce:GetCostAndUsage (key " + KEY + ")\nTraceback (most recent call last):"
        "\n  File x"
    )
    notify_failure(_context(0, error))
    [message] = aws.sent_messages
    mime = email.message_from_string(message.raw_data, policy=email.policy.default)
    body = mime["Subject"] + mime.get_body(("html",)).get_content()
    for secret in ("arn:aws:sts", "123456789012", KEY, "File x"):
        assert secret not in body
    assert "not authorized to perform ce:GetCostAndUsage" in body


def test_redact_keeps_what_helps():
    assert redact("throttled: LimitExceededException on GetCostAndUsage") == (
        "throttled: LimitExceededException on GetCostAndUsage"
    )
