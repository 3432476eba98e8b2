"""Remember which OUs were alerted for a budget breach, so each is alerted once per month.

The memory is one small JSON object per month in the archive bucket, rewritten as a new version
each time (the bucket is versioned, nothing is deleted): ``state/budget-alerts/YYYY-MM.json``.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from finops_digest.store import archive
from finops_digest.store.layout import budget_alerts_key


def read_state(s3_client: Any, bucket: str, day: date) -> dict[str, Any]:
    """``{"month": "YYYY-MM", "alerted": {OU: {"billing_date", "forecast", "budget"}}}``."""
    body = archive.get_if_exists(s3_client, bucket, budget_alerts_key(day))
    state = json.loads(body) if body else {}
    return {"month": f"{day:%Y-%m}", "alerted": dict(state.get("alerted", {}))}


def new_breaches(breaching: list[str], state: dict[str, Any], day: date) -> list[str]:
    """The breaching OUs not alerted yet this month. A re-run of the day that alerted them does
    not alert again either: the memory says they were alerted (on that very day)."""
    if state.get("month") != f"{day:%Y-%m}":
        raise ValueError(f"alert state of {state.get('month')} used for {day}")
    return [ou for ou in breaching if ou not in state["alerted"]]


def record_alerts(
    s3_client: Any, bucket: str, day: date, alerted: list[dict[str, Any]]
) -> dict[str, str] | None:
    """Add the OUs just alerted to the month's memory (a new version); None when nothing to add."""
    if not alerted:
        return None
    month = f"{day:%Y-%m}"

    def add(current: dict[str, Any] | None) -> dict[str, Any]:
        state = {"month": month, "alerted": dict((current or {}).get("alerted", {}))}
        for alert in alerted:
            state["alerted"].setdefault(
                alert["ou"],
                {
                    "billing_date": day.isoformat(),
                    "forecast": str(alert["forecast"]),
                    "budget": str(alert["budget"]),
                },
            )
        return state

    return archive.update_json(
        s3_client, bucket, budget_alerts_key(day), add, metadata={"month": month}
    )
