"""The executive snapshot from QuickSight: with a dashboard configured, the PDF mailed and archived
is QuickSight's export of it; when QuickSight's job fails, the built-in PDF goes out instead and
the email says so."""

from __future__ import annotations

import email
import email.policy
import io
from datetime import date

import pytest

from sandbox import SANDBOX_DEFAULTS
from scripts.local_env import pipeline_config, variable_env
from tests.integration.conftest import run_dag, task_states

BUCKET = SANDBOX_DEFAULTS["archive_bucket"]
DASHBOARD = SANDBOX_DEFAULTS["quicksight_dashboard_id"]  # the sandbox's demo dashboard
EXECUTIVE = "cfo@example.com"


@pytest.fixture(scope="module")
def finops_config():
    config = {
        **pipeline_config(SANDBOX_DEFAULTS),
        "executive_recipients": [EXECUTIVE],
        "quicksight_dashboard_id": DASHBOARD,
    }
    with pytest.MonkeyPatch.context() as patch:
        for key, value in variable_env(config).items():
            patch.setenv(key, value)
        yield config


def _snapshot(sandbox, aws, day: date) -> tuple[email.message.EmailMessage, bytes, bytes]:
    """The day's executive email, its attached PDF, and the archived PDF."""
    parsed = [
        email.message_from_bytes(m, policy=email.policy.default) for m in sandbox.sent_emails()
    ]
    [mail] = [
        m
        for m in parsed
        if m["X-FinOps-Kind"] == "executive-snapshot"
        and m["X-FinOps-Billing-Date"] == day.isoformat()
    ]
    [attachment] = list(mail.iter_attachments())
    key = f"ou-breakdowns/year={day:%Y}/month={day:%m}/day={day:%d}/executive_snapshot.pdf"
    archived = aws("s3").get_object(Bucket=BUCKET, Key=key)["Body"].read()
    return mail, attachment.get_content(), archived


def _text(pdf: bytes) -> str:
    from pypdf import PdfReader

    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def test_with_a_dashboard_the_mailed_and_archived_pdf_is_quicksights(
    sandbox, airflow_db, finops_config, aws
):
    day = date(2025, 9, 10)
    dag_run = run_dag(day)
    assert dag_run.state == "success", task_states(dag_run)
    mail, attached, archived = _snapshot(sandbox, aws, day)
    assert attached == archived
    text = _text(archived)
    assert "Amazon QuickSight dashboard snapshot" in text
    assert "FinOps executive overview" in text and "Sheet: Budget vs forecast" in text
    body = mail.get_body(("plain",)).get_content()
    assert (
        "The attached PDF is QuickSight's snapshot of dashboard 'FinOps executive overview' "
        "(sheet 'Budget vs forecast')." in body
    )
    assert "built-in" not in body


def test_when_quicksights_job_fails_the_built_in_pdf_goes_out_and_the_email_says_so(
    sandbox, airflow_db, finops_config, aws
):
    sandbox.fail_snapshot_jobs(error_type="INTERNAL_ERROR", message="The visual timed out")
    day = date(2025, 9, 11)
    dag_run = run_dag(day)
    assert dag_run.state == "success", task_states(dag_run)
    mail, attached, archived = _snapshot(sandbox, aws, day)
    assert attached == archived
    text = _text(archived)
    assert "QuickSight" not in text and "Top 5 movers" in text  # the built-in PDF
    body = mail.get_body(("plain",)).get_content()
    [notice] = [line for line in body.splitlines() if line.startswith("QuickSight's snapshot")]
    assert notice.startswith(
        f"QuickSight's snapshot of dashboard {DASHBOARD} failed (snapshot job "
    )
    assert notice.endswith(
        "ended FAILED: INTERNAL_ERROR: The visual timed out); this is the built-in snapshot."
    )
    html = mail.get_body(("html",)).get_content()
    assert "this is the built-in snapshot." in html
