"""Names the sandbox provisions and the knobs the patched services read at request time."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sandbox.faults import FaultInjector
    from sandbox.organization import Organization

ACCOUNT_ID = "123456789012"  # moto's default account: what credentials "testing" map to
REGION = "us-east-1"

# The sandbox's costs run through 2025: its Cost Explorer lives on the day after, so every day of
# them is within Cost Explorer's 14 months of daily costs. The pipeline reads the horizon's today
# from TODAY_ENV (sandbox.env(), scripts.local_env.aws_env, docker-compose.yaml).
SANDBOX_TODAY = date(2026, 1, 1)
TODAY_ENV = "FINOPS_COST_EXPLORER_TODAY"

SANDBOX_DEFAULTS: dict[str, str] = {
    "account_id": ACCOUNT_ID,
    "region": REGION,
    "archive_bucket": "finops-digest-archive",
    "glue_database": "finops_db",
    "glue_crawler": "finops-ou-breakdown-crawler",
    "glue_crawler_target": "s3://finops-digest-archive/parquet/ou_breakdown/",
    "glue_crawler_role": "arn:aws:iam::123456789012:role/finops-glue-crawler",
    "athena_workgroup": "finops",
    "athena_output_location": "s3://finops-digest-archive/athena-results/",
    "ses_sender": "finops@example.com",
    # A demo QuickSight dashboard (two sheets) whose snapshot jobs render a PDF.
    "quicksight_dashboard_id": "finops-executive",
    # The SNS topic Amazon Q Developer in chat applications would relay to the team's channels.
    "chat_topic_arn": f"arn:aws:sns:{REGION}:{ACCOUNT_ID}:finops-chat",
}


@dataclass
class RuntimeSettings:
    """What the patched moto handlers read on every request.

    moto keeps one set of backends per process, so the patches read one process-wide settings
    object; starting a Sandbox fills it in.
    """

    organization: Organization | None = None
    page_size: int = 25
    # Seconds a started crawl reports RUNNING before it reports READY (0 = READY at once).
    crawler_run_seconds: float = 0.0
    # Cost Explorer's today: requests for daily costs before its 14-month horizon are refused.
    today: date = SANDBOX_TODAY
    # Seconds a QuickSight snapshot job reports RUNNING before it is COMPLETED (or FAILED).
    snapshot_job_seconds: float = 0.0
    # The running sandbox's faults, for failures that are no API call's answer (a job failing).
    faults: FaultInjector | None = None
    lock: threading.RLock = field(default_factory=threading.RLock)
    extra: dict[str, Any] = field(default_factory=dict)


SETTINGS = RuntimeSettings()
