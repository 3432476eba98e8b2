"""QuickSight's own PDF export of a dashboard: a snapshot job started for the dashboard's first
sheet, polled to its end within a bounded wait, its file downloaded from the result's URL.

Every way this can fail (an API error, a FAILED job, a job still running at the deadline, a
download that fails or is not a PDF) raises ``QuickSightSnapshotError`` with a short reason, so
the caller can fall back to another PDF and say why.
"""

from __future__ import annotations

import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

FINISHED_STATES = ("COMPLETED", "FAILED")
POLL_SECONDS = 5.0
# QuickSight usually renders a dashboard's PDF within a minute or two; past this the job is left
# to finish on its own (there is no API to stop it) and the caller falls back.
WAIT_SECONDS = 600.0
DOWNLOAD_TIMEOUT_SECONDS = 60.0
PDF_MAGIC = b"%PDF"


class QuickSightSnapshotError(Exception):
    """QuickSight's snapshot of a dashboard could not be had; the message is the reason, short
    enough to quote in an email ("the snapshot job ended FAILED: INTERNAL_ERROR ...")."""


@dataclass(frozen=True)
class DashboardSnapshot:
    """A dashboard's PDF as QuickSight exported it, and what it shows."""

    dashboard_id: str
    dashboard_name: str
    sheet_name: str
    job_id: str
    pdf: bytes


def caller_account(sts: Any) -> str:
    """The AWS account id of the caller (STS GetCallerIdentity): QuickSight's AwsAccountId."""
    try:
        return str(sts.get_caller_identity()["Account"])
    except (ClientError, BotoCoreError) as exc:
        raise QuickSightSnapshotError(_api_reason(exc)) from exc


def snapshot_job_request(
    account_id: str, dashboard_id: str, job_id: str, sheet_id: str
) -> dict[str, Any]:
    """StartDashboardSnapshotJob's arguments for one PDF of one sheet (a PDF file takes exactly
    one sheet selection, with all its visuals). One anonymous user, as the API requires of a job
    not started for a registered QuickSight user; no S3 destination, so the result is a
    pre-signed URL to QuickSight's own storage."""
    return {
        "AwsAccountId": account_id,
        "DashboardId": dashboard_id,
        "SnapshotJobId": job_id,
        "UserConfiguration": {"AnonymousUsers": [{}]},
        "SnapshotConfiguration": {
            "FileGroups": [
                {
                    "Files": [
                        {
                            "FormatType": "PDF",
                            "SheetSelections": [
                                {"SheetId": sheet_id, "SelectionScope": "ALL_VISUALS"}
                            ],
                        }
                    ]
                }
            ]
        },
    }


def fetch_url(url: str, timeout: float = DOWNLOAD_TIMEOUT_SECONDS) -> bytes:
    """GET a pre-signed URL. Errors never quote the URL: its query string is a credential."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return bytes(response.read())
    except urllib.error.HTTPError as exc:
        raise QuickSightSnapshotError(f"downloading the PDF failed: HTTP {exc.code}") from exc
    except (urllib.error.URLError, OSError) as exc:
        raise QuickSightSnapshotError(f"downloading the PDF failed: {exc}") from exc


def export_dashboard_pdf(
    quicksight: Any,
    account_id: str,
    dashboard_id: str,
    *,
    job_id: str | None = None,
    poll_seconds: float = POLL_SECONDS,
    wait_seconds: float = WAIT_SECONDS,
    download: Callable[[str], bytes] = fetch_url,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> DashboardSnapshot:
    """Export ``dashboard_id``'s first sheet (the one it opens on) as QuickSight renders it.

    ``job_id`` defaults to a new unique id (a snapshot job id cannot be reused); ``download``
    fetches the result's URL.
    """
    job_id = job_id or f"finops-snapshot-{uuid.uuid4().hex}"
    ids = {"AwsAccountId": account_id, "DashboardId": dashboard_id}
    try:
        dashboard = quicksight.describe_dashboard(**ids)["Dashboard"]
        sheets = (dashboard.get("Version") or {}).get("Sheets") or []
        if not sheets:
            raise QuickSightSnapshotError("the dashboard has no sheet to export")
        sheet = sheets[0]
        quicksight.start_dashboard_snapshot_job(
            **snapshot_job_request(account_id, dashboard_id, job_id, sheet["SheetId"])
        )
        _wait(
            quicksight, {**ids, "SnapshotJobId": job_id}, poll_seconds, wait_seconds, sleep, clock
        )
        result = quicksight.describe_dashboard_snapshot_job_result(**ids, SnapshotJobId=job_id)
    except (ClientError, BotoCoreError) as exc:
        raise QuickSightSnapshotError(_api_reason(exc)) from exc
    pdf = download(_pdf_url(result, job_id))
    if not pdf.startswith(PDF_MAGIC):
        raise QuickSightSnapshotError(
            f"the file of snapshot job {job_id} is not a PDF (it starts with {pdf[:8]!r})"
        )
    return DashboardSnapshot(
        dashboard_id=dashboard_id,
        dashboard_name=str(dashboard.get("Name") or dashboard_id),
        sheet_name=str(sheet.get("Name") or sheet["SheetId"]),
        job_id=job_id,
        pdf=pdf,
    )


def _wait(
    quicksight: Any,
    job: dict[str, str],
    poll_seconds: float,
    wait_seconds: float,
    sleep: Callable[[float], None],
    clock: Callable[[], float],
) -> str:
    """Poll DescribeDashboardSnapshotJob until the job is COMPLETED or FAILED, at most
    ``wait_seconds``."""
    deadline = clock() + wait_seconds
    while True:
        status = quicksight.describe_dashboard_snapshot_job(**job)["JobStatus"]
        if status in FINISHED_STATES:
            return str(status)
        if clock() >= deadline:
            raise QuickSightSnapshotError(
                f"snapshot job {job['SnapshotJobId']} was still {status} after {wait_seconds:g} s"
            )
        sleep(poll_seconds)


def _pdf_url(result: dict[str, Any], job_id: str) -> str:
    """The URL of the one PDF of a finished job's result, or why there is none."""
    if result.get("JobStatus") != "COMPLETED":
        error = result.get("ErrorInfo") or {}
        reason = ": ".join(v for v in (error.get("ErrorType"), error.get("ErrorMessage")) if v)
        raise QuickSightSnapshotError(
            f"snapshot job {job_id} ended {result.get('JobStatus')}"
            + (f": {reason}" if reason else "")
        )
    try:
        [s3_result] = result["Result"]["AnonymousUsers"][0]["FileGroups"][0]["S3Results"]
    except (KeyError, IndexError, TypeError, ValueError):
        raise QuickSightSnapshotError(
            f"snapshot job {job_id} completed without exactly one file in its result"
        ) from None
    errors = s3_result.get("ErrorInfo") or []
    if errors:
        reasons = "; ".join(
            ": ".join(v for v in (e.get("ErrorType"), e.get("ErrorMessage")) if v) for e in errors
        )
        raise QuickSightSnapshotError(f"snapshot job {job_id}'s file failed: {reasons}")
    url = str(s3_result.get("S3Uri") or "")
    if not url.startswith(("https://", "http://")):
        raise QuickSightSnapshotError(
            f"snapshot job {job_id} gave {url[:5]!r}..., expected a pre-signed https URL "
            "(the job names no S3 destination)"
        )
    return url


def _api_reason(exc: ClientError | BotoCoreError) -> str:
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code, message = error.get("Code", ""), error.get("Message", "")
        return f"{exc.operation_name} failed: {code}" + (f" ({message})" if message else "")
    return str(exc)
