"""QuickSight dashboard snapshots (PDF export jobs), which moto lacks, with AWS's shapes.

moto keeps dashboards but describes them without their sheets and has no snapshot jobs. Here
DescribeDashboard lists the sheets of the dashboard's Definition, and StartDashboardSnapshotJob /
DescribeDashboardSnapshotJob / DescribeDashboardSnapshotJobResult run a job as QuickSight does:
RUNNING for ``SETTINGS.snapshot_job_seconds``, then COMPLETED with one PDF per file group
(rendered with matplotlib: the dashboard's name, the sheet and the day) kept in the sandbox's
stand-in for QuickSight's own storage and given as a short-lived link served over HTTP by the
sandbox, as QuickSight gives a pre-signed URL when the job names no S3 destination. A pending ``SNAPSHOT_JOB_FAULT`` (see
``Sandbox.fail_snapshot_jobs``) makes the next job end FAILED with that error instead.
"""

from __future__ import annotations

import io
import json
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from moto.core.exceptions import JsonRESTError
from moto.quicksight import urls as quicksight_urls
from moto.quicksight.data_models import QuicksightDashboard
from moto.quicksight.responses import QuickSightResponse

from sandbox.config import SETTINGS
from sandbox.patching import patch

# The pseudo-operation a job failure is injected under (a job fails after it started: no API
# call returns an error for it).
SNAPSHOT_JOB_FAULT = "DashboardSnapshotJob"
# Finished jobs' files live in QuickSight's own storage, outside the caller's account (so the
# caller's IAM policy never applies to their links): /_sandbox/<FILES_PATH>/<path>?Expires=...
FILES_PATH = "quicksight-files"
URL_EXPIRES_SECONDS = 300
_FILES: dict[str, bytes] = {}

_DASHBOARD = r"{0}/accounts/(?P<account_id>[^/]+)/dashboards/(?P<dashboard_id>[^/]+)"
_JOB_PATHS = (
    _DASHBOARD + "/snapshot-jobs$",
    _DASHBOARD + "/snapshot-jobs/(?P<snapshot_job_id>[^/]+)$",
    _DASHBOARD + "/snapshot-jobs/(?P<snapshot_job_id>[^/]+)/result$",
)
_original_to_dict = QuicksightDashboard.to_dict
_lock = threading.Lock()


class _Error(JsonRESTError):
    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(code, message)
        self.code = status


@dataclass
class SnapshotJob:
    """One snapshot job as QuickSight keeps it."""

    account_id: str
    region: str
    dashboard: QuicksightDashboard
    job_id: str
    user_configuration: dict[str, Any]
    snapshot_configuration: dict[str, Any]
    created: datetime
    run_seconds: float
    error: dict[str, str] | None = None
    files: list[str] = field(default_factory=list)  # paths of the rendered PDFs

    @property
    def arn(self) -> str:
        return f"{self.dashboard.arn}/snapshot-job/{self.job_id}"

    def status(self, now: datetime) -> str:
        if (now - self.created).total_seconds() < self.run_seconds:
            return "RUNNING"
        return "FAILED" if self.error else "COMPLETED"

    def finished_at(self) -> datetime:
        return self.created + timedelta(seconds=self.run_seconds)


def _jobs(response: QuickSightResponse) -> dict[str, SnapshotJob]:
    backend = response.quicksight_backend
    if not hasattr(backend, "sandbox_snapshot_jobs"):
        backend.sandbox_snapshot_jobs = {}
    return backend.sandbox_snapshot_jobs  # type: ignore[no-any-return]


def sheets_of(dashboard: QuicksightDashboard) -> list[dict[str, str]]:
    """The dashboard's sheets (SheetId, Name), from its Definition."""
    sheets = (dashboard.definition or {}).get("Sheets") or []
    return [
        {"SheetId": s["SheetId"], **({"Name": s["Name"]} if s.get("Name") else {})} for s in sheets
    ]


def _dashboard_to_dict(self: QuicksightDashboard) -> dict[str, Any]:
    described = _original_to_dict(self)
    described["Version"]["Sheets"] = sheets_of(self)
    return described


def _dashboard(response: QuickSightResponse, dashboard_id: str) -> QuicksightDashboard:
    dashboard = response.quicksight_backend.dashboards.get(dashboard_id)
    if dashboard is None:
        raise _Error("ResourceNotFoundException", f"Dashboard {dashboard_id} not found", 404)
    return dashboard


def _validate(dashboard: QuicksightDashboard, users: Any, config: Any) -> None:
    """What QuickSight refuses before starting a job."""
    if not isinstance(users, dict) or len(users.get("AnonymousUsers") or []) != 1:
        raise _Error(
            "InvalidParameterValueException",
            "UserConfiguration must name exactly one anonymous user.",
        )
    sheet_ids = {s["SheetId"] for s in sheets_of(dashboard)}
    for group in (config or {}).get("FileGroups") or []:
        for file in group.get("Files") or []:
            selections = file.get("SheetSelections") or []
            if file.get("FormatType") == "PDF" and (
                len(selections) != 1 or selections[0].get("SelectionScope") != "ALL_VISUALS"
            ):
                raise _Error(
                    "InvalidParameterValueException",
                    "A PDF snapshot takes exactly one sheet selection, with ALL_VISUALS.",
                )
            unknown = [s["SheetId"] for s in selections if s["SheetId"] not in sheet_ids]
            if unknown:
                raise _Error(
                    "InvalidParameterValueException",
                    f"Sheet(s) {unknown} are not in dashboard {dashboard.dashboard_id}.",
                )


def start_dashboard_snapshot_job(self: QuickSightResponse) -> tuple[int, dict[str, str], str]:
    dashboard = _dashboard(self, self._get_param("DashboardId"))
    job_id = self._get_param("SnapshotJobId")
    users = self._get_param("UserConfiguration")
    config = self._get_param("SnapshotConfiguration")
    _validate(dashboard, users, config)
    faults = SETTINGS.faults
    fault = faults.take(SNAPSHOT_JOB_FAULT) if faults is not None else None
    with _lock:
        jobs = _jobs(self)
        if job_id in jobs:
            raise _Error("ResourceExistsException", f"Snapshot job {job_id} already exists.", 409)
        job = SnapshotJob(
            account_id=self.current_account,
            region=self.region,
            dashboard=dashboard,
            job_id=job_id,
            user_configuration=users,
            snapshot_configuration=config,
            created=datetime.now(UTC),
            run_seconds=SETTINGS.snapshot_job_seconds,
            error=(
                {
                    "ErrorType": fault.error_code,
                    "ErrorMessage": fault.message or "Injected by the sandbox: the job failed",
                }
                if fault
                else None
            ),
        )
        jobs[job_id] = job
    body = {"Arn": job.arn, "SnapshotJobId": job_id, "RequestId": _request_id(), "Status": 202}
    return 202, {"Content-Type": "application/json"}, json.dumps(body)


def _job(response: QuickSightResponse) -> SnapshotJob:
    _dashboard(response, response._get_param("DashboardId"))
    job_id = response._get_param("SnapshotJobId")
    job = _jobs(response).get(job_id)
    if job is None:
        raise _Error("ResourceNotFoundException", f"Snapshot job {job_id} not found.", 404)
    return job


def _redacted(users: dict[str, Any]) -> dict[str, Any]:
    return {
        "AnonymousUsers": [
            {"RowLevelPermissionTagKeys": [t["Key"] for t in u.get("RowLevelPermissionTags", [])]}
            for u in users.get("AnonymousUsers", [])
        ]
    }


def describe_dashboard_snapshot_job(self: QuickSightResponse) -> str:
    job = _job(self)
    now = datetime.now(UTC)
    status = job.status(now)
    return json.dumps(
        {
            "AwsAccountId": job.account_id,
            "DashboardId": job.dashboard.dashboard_id,
            "SnapshotJobId": job.job_id,
            "UserConfiguration": _redacted(job.user_configuration),
            "SnapshotConfiguration": job.snapshot_configuration,
            "Arn": job.arn,
            "JobStatus": status,
            "CreatedTime": job.created.timestamp(),
            "LastUpdatedTime": (now if status == "RUNNING" else job.finished_at()).timestamp(),
            "RequestId": _request_id(),
            "Status": 200,
        }
    )


def describe_dashboard_snapshot_job_result(self: QuickSightResponse) -> str:
    job = _job(self)
    status = job.status(datetime.now(UTC))
    if status == "RUNNING":
        raise _Error(
            "PreconditionNotMetException",
            f"Dashboard Snapshot Job with id {job.job_id} has not reached a terminal state.",
        )
    body: dict[str, Any] = {
        "Arn": job.arn,
        "JobStatus": status,
        "CreatedTime": job.created.timestamp(),
        "LastUpdatedTime": job.finished_at().timestamp(),
        "RequestId": _request_id(),
        "Status": 200,
    }
    if job.error:
        body["ErrorInfo"] = job.error
    else:
        host = self.headers.get("Host", "127.0.0.1")
        groups = job.snapshot_configuration["FileGroups"]
        if not job.files:
            job.files = [_store_pdf(job, group, n) for n, group in enumerate(groups)]
        body["Result"] = {
            "AnonymousUsers": [
                {
                    "FileGroups": [
                        {"Files": group["Files"], "S3Results": [{"S3Uri": _url(host, key)}]}
                        for group, key in zip(groups, job.files, strict=True)
                    ]
                }
            ]
        }
    return json.dumps(body)


def _store_pdf(job: SnapshotJob, group: dict[str, Any], index: int) -> str:
    """Render the group's file and keep it in QuickSight's storage; its path there."""
    [file] = group["Files"]
    if file["FormatType"] != "PDF":
        raise _Error("InvalidParameterValueException", "The sandbox exports PDF files only.")
    names = {s["SheetId"]: s.get("Name", s["SheetId"]) for s in sheets_of(job.dashboard)}
    sheets = [names[s["SheetId"]] for s in file["SheetSelections"]]
    path = f"{job.account_id}/{job.dashboard.dashboard_id}/{job.job_id}/{index}.pdf"
    pdf = render_pdf(job.dashboard.name, job.dashboard.dashboard_id, sheets, job.created)
    with _lock:
        _FILES[path] = pdf
    return path


def _url(host: str, path: str) -> str:
    """A short-lived link to a file in QuickSight's storage (served by ``serve_file``)."""
    expires = int(datetime.now(UTC).timestamp()) + URL_EXPIRES_SECONDS
    return (
        f"http://{host}/_sandbox/{FILES_PATH}/{path}?Expires={expires}&Signature={uuid.uuid4().hex}"
    )


def serve_file(path: str, query: dict[str, list[str]]) -> tuple[str, bytes]:
    """(HTTP status, body) of a GET of a snapshot file's link: 403 once it expired, as S3
    answers a pre-signed URL; 404 for a file that is not there."""
    try:
        expires = int(query["Expires"][0])
    except (KeyError, IndexError, ValueError):
        return "403 Forbidden", b"AccessDenied: not a pre-signed link"
    if datetime.now(UTC).timestamp() > expires:
        return "403 Forbidden", b"AccessDenied: Request has expired"
    with _lock:
        body = _FILES.get(path)
    return ("200 OK", body) if body is not None else ("404 Not Found", b"NoSuchKey")


def reset_files() -> None:
    """Forget every rendered file (a new sandbox starts with none)."""
    with _lock:
        _FILES.clear()


def render_pdf(name: str, dashboard_id: str, sheets: list[str], when: datetime) -> bytes:
    """A one-page A4 PDF naming the dashboard, its sheet(s) and the day (searchable text)."""
    from matplotlib import rc_context
    from matplotlib.figure import Figure

    with rc_context({"pdf.fonttype": 42}):
        figure = Figure(figsize=(8.27, 11.69))
        lines = (
            ("Amazon QuickSight dashboard snapshot", 18, "bold"),
            (name, 16, "normal"),
            (f"Dashboard {dashboard_id}", 11, "normal"),
            (f"Sheet: {', '.join(sheets)}", 11, "normal"),
            (f"Taken on {when:%Y-%m-%d} at {when:%H:%M} UTC", 11, "normal"),
        )
        for n, (text, size, weight) in enumerate(lines):
            figure.text(0.08, 0.92 - 0.04 * n, text, fontsize=size, fontweight=weight)
        buffer = io.BytesIO()
        figure.savefig(buffer, format="pdf", metadata={"Creator": "sandbox QuickSight"})
    return buffer.getvalue()


def _request_id() -> str:
    return str(uuid.uuid4())


def install() -> None:
    """Patch moto's QuickSight dashboards, responses and routes (idempotent)."""
    patch(QuicksightDashboard, "to_dict", _dashboard_to_dict)
    patch(QuickSightResponse, "start_dashboard_snapshot_job", start_dashboard_snapshot_job)
    patch(QuickSightResponse, "describe_dashboard_snapshot_job", describe_dashboard_snapshot_job)
    patch(
        QuickSightResponse,
        "describe_dashboard_snapshot_job_result",
        describe_dashboard_snapshot_job_result,
    )
    paths = dict(quicksight_urls.url_paths)
    paths.update(dict.fromkeys(_JOB_PATHS, QuickSightResponse.dispatch))
    patch(quicksight_urls, "url_paths", paths)
