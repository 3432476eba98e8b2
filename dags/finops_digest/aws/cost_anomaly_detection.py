"""Optional cross-check with AWS Cost Anomaly Detection: "also seen by AWS"."""

from __future__ import annotations

import logging
from datetime import date, timedelta
from typing import Any

log = logging.getLogger(__name__)


def mark_seen_by_aws(ce_client: Any, day: date, anomalies: list[dict[str, Any]]) -> None:
    """Add ``aws_anomaly_ids`` to each spike that AWS's ``GetAnomalies`` also reports for the day.

    A spike matches an AWS anomaly when one of its root causes names the same service and, if it
    names an account, one of the spike's driving accounts. Reaching AWS is best effort: any failure
    is logged and the run goes on.
    """
    try:
        found = []
        request: dict[str, Any] = {
            "DateInterval": {
                "StartDate": day.isoformat(),
                "EndDate": (day + timedelta(days=1)).isoformat(),
            }
        }
        while True:
            response = ce_client.get_anomalies(**request)
            found.extend(response.get("Anomalies", []))
            if not response.get("NextPageToken"):
                break
            request["NextPageToken"] = response["NextPageToken"]
    except Exception as exc:  # noqa: BLE001 - enrichment must never fail the run
        log.warning("AWS Cost Anomaly Detection not consulted for %s: %s", day, exc)
        return
    for anomaly in anomalies:
        accounts = {d["account"] for d in anomaly.get("drivers", [])}
        ids = [
            aws["AnomalyId"]
            for aws in found
            if any(
                cause.get("Service") == anomaly["service"]
                and (not cause.get("LinkedAccount") or cause["LinkedAccount"] in accounts)
                for cause in aws.get("RootCauses", [])
            )
        ]
        if ids:
            anomaly["aws_anomaly_ids"] = ids
