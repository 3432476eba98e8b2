"""QuickSight's snapshot export of a dashboard, against the sandbox over HTTP: the PDF of the
dashboard's first sheet, a job polled to its end within a bounded wait, and every failure (API
error, FAILED job, timeout, not a PDF) one error with its reason, on which the executive snapshot
falls back to the built-in PDF."""

from __future__ import annotations

import io

import pytest
from botocore.exceptions import ClientError

from finops_digest.aws.quicksight_snapshot import (
    QuickSightSnapshotError,
    caller_account,
    export_dashboard_pdf,
    fetch_url,
    snapshot_job_request,
)
from finops_digest.config import FinopsConfig
from finops_digest.report.snapshot_source import BUILT_IN, QUICKSIGHT, executive_pdf
from sandbox import SANDBOX_DEFAULTS

# Every job reports RUNNING this long: the export polls (every POLL s) before it completes.
JOB_SECONDS = 0.4
POLL = 0.1
SANDBOX_OPTIONS = {"snapshot_job_seconds": JOB_SECONDS}
DASHBOARD = SANDBOX_DEFAULTS["quicksight_dashboard_id"]  # provisioned: two sheets
ACCOUNT = SANDBOX_DEFAULTS["account_id"]


def _text(pdf: bytes) -> str:
    from pypdf import PdfReader

    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


@pytest.fixture
def quicksight(aws, sandbox):
    sandbox.reset_faults()
    return aws("quicksight")


def test_the_account_comes_from_sts(aws):
    assert caller_account(aws("sts")) == ACCOUNT


def test_the_pdf_is_quicksights_export_of_the_first_sheet_polled_to_its_end(quicksight, sandbox):
    polls = sandbox.calls("DescribeDashboardSnapshotJob")
    snapshot = export_dashboard_pdf(quicksight, ACCOUNT, DASHBOARD, poll_seconds=POLL)
    assert snapshot.pdf.startswith(b"%PDF")
    assert (snapshot.dashboard_name, snapshot.sheet_name) == (
        "FinOps executive overview",
        "Budget vs forecast",
    )
    text = _text(snapshot.pdf)
    assert "Amazon QuickSight dashboard snapshot" in text
    assert "FinOps executive overview" in text and "Sheet: Budget vs forecast" in text
    assert sandbox.calls("DescribeDashboardSnapshotJob") - polls >= 2  # RUNNING, then COMPLETED
    job = quicksight.describe_dashboard_snapshot_job(
        AwsAccountId=ACCOUNT, DashboardId=DASHBOARD, SnapshotJobId=snapshot.job_id
    )
    assert job["JobStatus"] == "COMPLETED"
    [group] = job["SnapshotConfiguration"]["FileGroups"]
    assert group["Files"] == [
        {
            "FormatType": "PDF",
            "SheetSelections": [{"SheetId": "overview", "SelectionScope": "ALL_VISUALS"}],
        }
    ]
    assert job["UserConfiguration"] == {"AnonymousUsers": [{"RowLevelPermissionTagKeys": []}]}


def test_a_job_still_running_at_the_deadline_is_a_clear_error(quicksight):
    with pytest.raises(QuickSightSnapshotError, match=r"was still RUNNING after 0\.05 s"):
        export_dashboard_pdf(quicksight, ACCOUNT, DASHBOARD, poll_seconds=0.01, wait_seconds=0.05)


def test_a_failed_job_gives_quicksights_reason(quicksight, sandbox):
    sandbox.fail_snapshot_jobs(error_type="INTERNAL_ERROR", message="The visual timed out")
    with pytest.raises(QuickSightSnapshotError) as error:
        export_dashboard_pdf(quicksight, ACCOUNT, DASHBOARD, poll_seconds=POLL)
    assert "ended FAILED: INTERNAL_ERROR: The visual timed out" in str(error.value)


def test_an_api_error_names_the_call_and_the_code(quicksight, sandbox):
    sandbox.inject_fault("StartDashboardSnapshotJob", "UnsupportedPricingPlanException")
    with pytest.raises(QuickSightSnapshotError) as error:
        export_dashboard_pdf(quicksight, ACCOUNT, DASHBOARD, poll_seconds=POLL)
    assert str(error.value).startswith(
        "StartDashboardSnapshotJob failed: UnsupportedPricingPlanException"
    )
    with pytest.raises(QuickSightSnapshotError, match="DescribeDashboard failed: ResourceNotFound"):
        export_dashboard_pdf(quicksight, ACCOUNT, "no-such-dashboard", poll_seconds=POLL)


def test_a_file_that_is_not_a_pdf_is_refused(quicksight):
    with pytest.raises(QuickSightSnapshotError, match=r"is not a PDF \(it starts with b'<html>"):
        export_dashboard_pdf(
            quicksight,
            ACCOUNT,
            DASHBOARD,
            poll_seconds=POLL,
            download=lambda url: b"<html>AccessDenied</html>",
        )


def test_the_link_expires_and_errors_never_quote_it(quicksight):
    urls: list[str] = []
    export_dashboard_pdf(
        quicksight,
        ACCOUNT,
        DASHBOARD,
        poll_seconds=POLL,
        download=lambda u: urls.append(u) or b"%PDF",
    )
    [url] = urls
    assert fetch_url(url).startswith(b"%PDF")  # an HTTP GET from the sandbox
    expired = url.replace("Expires=", "Expires=1&Was=")
    with pytest.raises(QuickSightSnapshotError) as error:
        fetch_url(expired)
    assert str(error.value) == "downloading the PDF failed: HTTP 403"


def test_the_sandbox_refuses_what_quicksight_refuses(quicksight):
    request = snapshot_job_request(ACCOUNT, DASHBOARD, "two-sheets", "overview")
    pdf = request["SnapshotConfiguration"]["FileGroups"][0]["Files"][0]
    pdf["SheetSelections"].append({"SheetId": "services", "SelectionScope": "ALL_VISUALS"})
    with pytest.raises(ClientError, match="exactly one sheet selection"):
        quicksight.start_dashboard_snapshot_job(**request)
    request = snapshot_job_request(ACCOUNT, DASHBOARD, "no-user", "overview")
    request["UserConfiguration"] = {"AnonymousUsers": [{}, {}]}
    with pytest.raises(ClientError, match="exactly one anonymous user"):
        quicksight.start_dashboard_snapshot_job(**request)
    request = snapshot_job_request(ACCOUNT, DASHBOARD, "early", "overview")
    quicksight.start_dashboard_snapshot_job(**request)
    with pytest.raises(ClientError) as early:
        quicksight.describe_dashboard_snapshot_job_result(
            AwsAccountId=ACCOUNT, DashboardId=DASHBOARD, SnapshotJobId="early"
        )
    assert early.value.response["Error"]["Code"] == "PreconditionNotMetException"
    with pytest.raises(ClientError) as again:
        quicksight.start_dashboard_snapshot_job(**request)
    assert again.value.response["Error"]["Code"] == "ResourceExistsException"


def test_the_executive_snapshot_falls_back_to_the_built_in_pdf_and_says_why(sandbox, monkeypatch):
    from sandbox.config import SETTINGS

    sandbox.reset_faults()
    monkeypatch.setattr(SETTINGS, "snapshot_job_seconds", 0.0)  # no wait at the task's poll rate
    config = FinopsConfig(archive_bucket="b", quicksight_dashboard_id=DASHBOARD)
    chosen = executive_pdf(config, lambda: b"%PDF built-in")
    assert (chosen.source, chosen.fallback_notice) == (QUICKSIGHT, "")
    assert "FinOps executive overview" in _text(chosen.pdf)

    sandbox.fail_snapshot_jobs(message="The visual timed out")
    chosen = executive_pdf(config, lambda: b"%PDF built-in")
    assert (chosen.source, chosen.pdf) == (BUILT_IN, b"%PDF built-in")
    assert chosen.fallback_notice.startswith(
        f"QuickSight's snapshot of dashboard {DASHBOARD} failed (snapshot job "
    )
    assert chosen.fallback_notice.endswith(
        "ended FAILED: INTERNAL_ERROR: The visual timed out); this is the built-in snapshot."
    )

    chosen = executive_pdf(FinopsConfig(archive_bucket="b"), lambda: b"%PDF built-in")
    assert (chosen.source, chosen.fallback_notice) == (BUILT_IN, "")
