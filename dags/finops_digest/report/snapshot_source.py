"""Which PDF is the executive snapshot: QuickSight's export of the configured dashboard, or the
built-in one (no dashboard configured, or QuickSight's export failed: then the email says why)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from finops_digest.aws.clients import aws_client
from finops_digest.aws.quicksight_snapshot import (
    QuickSightSnapshotError,
    caller_account,
    export_dashboard_pdf,
)
from finops_digest.config import FinopsConfig

log = logging.getLogger(__name__)

QUICKSIGHT = "quicksight"
BUILT_IN = "built-in"


@dataclass(frozen=True)
class SnapshotPdf:
    """The PDF to archive and mail, where it came from, and what the email says about it."""

    pdf: bytes
    source: str  # QUICKSIGHT or BUILT_IN
    # QuickSight's: "dashboard 'Name' (sheet 'Overview')"; built-in after a failure: why.
    described: str = ""
    fallback_notice: str = ""

    def summary(self) -> dict[str, str]:
        """For the email's context and the task's XCom."""
        return {
            "source": self.source,
            "described": self.described,
            "fallback_notice": self.fallback_notice,
        }


def executive_pdf(config: FinopsConfig, render_built_in: Callable[[], bytes]) -> SnapshotPdf:
    """QuickSight's PDF of ``config.quicksight_dashboard_id`` when one is set and its export
    works; otherwise ``render_built_in()``'s."""
    dashboard_id = config.quicksight_dashboard_id
    if not dashboard_id:
        return SnapshotPdf(render_built_in(), BUILT_IN)
    try:
        snapshot = export_dashboard_pdf(
            aws_client("quicksight"), caller_account(aws_client("sts")), dashboard_id
        )
    except QuickSightSnapshotError as exc:
        log.warning(
            "QuickSight's snapshot of dashboard %s failed (%s): sending the built-in PDF",
            dashboard_id,
            exc,
        )
        return SnapshotPdf(
            render_built_in(),
            BUILT_IN,
            fallback_notice=fallback_sentence(dashboard_id, str(exc)),
        )
    log.info(
        "Executive snapshot: QuickSight's PDF of dashboard %s, sheet %r (job %s)",
        dashboard_id,
        snapshot.sheet_name,
        snapshot.job_id,
    )
    return SnapshotPdf(
        snapshot.pdf,
        QUICKSIGHT,
        described=f"dashboard {snapshot.dashboard_name!r} (sheet {snapshot.sheet_name!r})",
    )


def fallback_sentence(dashboard_id: str, reason: str) -> str:
    """The one sentence the email gives when QuickSight's snapshot could not be used."""
    return (
        f"QuickSight's snapshot of dashboard {dashboard_id} failed ({reason}); "
        "this is the built-in snapshot."
    )
