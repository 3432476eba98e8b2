"""The day's spike findings as table rows, so Athena (and the dashboard) can mark them on a trend."""

from __future__ import annotations

from datetime import date
from typing import Any

from finops_digest.schema import ANOMALY_COLUMNS, parquet_bytes


def anomaly_rows(day: date, anomalies: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per finding of ``anomalies.json`` (:data:`ANOMALY_COLUMNS`): its top driver
    account and usage type where detection named them."""
    rows = []
    for a in anomalies:
        driver = (a.get("drivers") or [{}])[0]
        usage = (a.get("usage_types") or [{}])[0]
        rows.append(
            {
                "billingdate": day,
                "ou": a["ou"],
                "service": a["service"],
                "status": a.get("status"),
                "kind": a.get("kind"),
                "severity": a.get("severity"),
                "actual": float(a["actual"]),
                "expected": float(a["expected"]),
                "impact": float(a["impact"]),
                "reason": a.get("reason"),
                "account": driver.get("account"),
                "account_label": driver.get("name"),
                "usage_type": usage.get("usage_type"),
            }
        )
    return rows


def anomaly_parquet(day: date, anomalies: list[dict[str, Any]], metadata: dict[str, str]) -> bytes:
    """The day's rows of the anomaly table as Parquet."""
    return parquet_bytes(ANOMALY_COLUMNS, anomaly_rows(day, anomalies), metadata)
