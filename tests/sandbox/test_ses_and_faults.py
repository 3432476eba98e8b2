"""SES keeps what was sent; injected faults reach boto3 as real AWS errors; calls are counted."""

from __future__ import annotations

import email
from email.mime.application import MIMEApplication
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText

import pytest
from botocore.exceptions import ClientError

from sandbox import SANDBOX_DEFAULTS

SENDER = SANDBOX_DEFAULTS["ses_sender"]


def test_ses_hook_and_raw_email_land_in_the_outbox(sandbox, aws, tmp_path):
    from airflow.providers.amazon.aws.hooks.ses import SesHook

    before = len(sandbox.sent_emails())
    attachment = tmp_path / "ou_costs.csv"
    attachment.write_text("BillingDate,OU,Service,LinkedAccount,DailyCost\n")
    SesHook(aws_conn_id=None, region_name="us-east-1").send_email(
        mail_from=SENDER,
        to=["cfo@example.com"],
        subject="Daily digest",
        html_content="<h1>Digest</h1>",
        files=[str(attachment)],
    )
    msg = MIMEMultipart()
    msg["Subject"], msg["From"], msg["To"] = "Spike!", SENDER, "finops@example.com"
    msg.attach(MIMEText("CloudFront jumped", "plain"))
    msg.attach(MIMEApplication(b"a,b\n1,2\n", Name="x.csv"))
    aws("ses").send_raw_email(RawMessage={"Data": msg.as_bytes()})
    aws("ses").send_email(
        Source=SENDER,
        Destination={"ToAddresses": ["a@example.com"]},
        Message={"Subject": {"Data": "plain"}, "Body": {"Text": {"Data": "hello"}}},
    )
    sent = [email.message_from_bytes(m) for m in sandbox.sent_emails()[before:]]
    assert [m["Subject"] for m in sent] == ["Daily digest", "Spike!", "plain"]
    filenames = [p.get_filename() for p in sent[0].walk() if p.get_filename()]
    assert filenames == ["ou_costs.csv"]


def test_unverified_sender_is_rejected(aws):
    with pytest.raises(ClientError) as err:
        aws("ses").send_email(
            Source="nobody@example.org",
            Destination={"ToAddresses": ["a@example.com"]},
            Message={"Subject": {"Data": "x"}, "Body": {"Text": {"Data": "y"}}},
        )
    assert err.value.response["Error"]["Code"] == "MessageRejected"


def test_injected_fault_is_seen_by_boto3_then_clears(sandbox, aws):
    ce = aws("ce")  # retries disabled: each call is one request
    request = {
        "TimePeriod": {"Start": "2025-09-14", "End": "2025-09-15"},
        "Granularity": "DAILY",
        "Metrics": ["UnblendedCost"],
    }
    start = sandbox.calls("GetCostAndUsage")
    sandbox.inject_fault(
        operation="GetCostAndUsage", error_code="LimitExceededException", count=2, status=400
    )
    for _ in range(2):
        with pytest.raises(ClientError) as err:
            ce.get_cost_and_usage(**request)
        assert err.value.response["Error"]["Code"] == "LimitExceededException"
        assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert ce.get_cost_and_usage(**request)["ResultsByTime"]
    assert sandbox.calls("GetCostAndUsage") == start + 3


def test_retrying_client_rides_out_throttling(sandbox, aws):
    ce = aws("ce", attempts=5)
    start = sandbox.calls("GetCostAndUsage")
    sandbox.inject_fault("GetCostAndUsage", "LimitExceededException", count=2)
    ce.get_cost_and_usage(
        TimePeriod={"Start": "2025-09-14", "End": "2025-09-15"},
        Granularity="DAILY",
        Metrics=["UnblendedCost"],
    )
    assert sandbox.calls("GetCostAndUsage") == start + 3


def test_query_protocol_fault_and_reset(sandbox, aws):
    ses = aws("ses")
    start = sandbox.calls("SendRawEmail")
    sandbox.inject_fault("SendRawEmail", "Throttling", count=5)
    with pytest.raises(ClientError) as err:
        ses.send_raw_email(RawMessage={"Data": b"From: finops@example.com\r\n\r\nhi"})
    assert err.value.response["Error"]["Code"] == "Throttling"
    sandbox.reset_faults()
    ses.send_raw_email(
        RawMessage={"Data": b"From: finops@example.com\r\nTo: a@example.com\r\n\r\nhi"}
    )
    assert sandbox.calls("SendRawEmail") == start + 2


def test_s3_fault_is_an_s3_error(sandbox, aws):
    s3 = aws("s3")
    sandbox.inject_fault("PutObject", "SlowDown", count=1, status=503)
    with pytest.raises(ClientError) as err:
        s3.put_object(Bucket=SANDBOX_DEFAULTS["archive_bucket"], Key="k", Body=b"x")
    assert err.value.response["Error"]["Code"] == "SlowDown"
    s3.put_object(Bucket=SANDBOX_DEFAULTS["archive_bucket"], Key="k", Body=b"x")
    assert sandbox.calls("PutObject") >= 2


def test_a_second_sandbox_in_the_process_is_refused():
    from moto.ce.responses import CostExplorerResponse

    from sandbox import Sandbox

    # The module's sandbox is running, so the patch is in place; a second start is refused.
    assert hasattr(CostExplorerResponse, "get_cost_forecast")
    with pytest.raises(RuntimeError):
        Sandbox.start()
