"""The subject lines of the digest and the alert, one wording for every recipient and scope."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from finops_digest.detection import status
from finops_digest.money import money, signed_money


def digest_subject(context: Mapping[str, Any], currency: str, scope: str | None = None) -> str:
    """``[FinOps] Daily cost digest D: $total, N new anomalies, M OUs forecast over budget``;
    an owner's names their OU."""
    day = context["billing_date"]
    new = [a for a in context["anomalies"] if a.get("status", status.NEW) == status.NEW]
    over = context["budget_totals"]["lights"]["red"]
    title = f"{scope} daily cost digest" if scope else "Daily cost digest"
    return (
        f"[FinOps] {title} {day}: {money(context['total'], currency)}"
        + (f", {len(new)} new anomal{'ies' if len(new) != 1 else 'y'}" if new else "")
        + (f", {over} OU{'s' if over != 1 else ''} forecast over budget" if over else "")
    )


def alert_subject(
    day: date,
    anomalies: Sequence[Mapping[str, Any]],
    budget_alerts: Sequence[Mapping[str, Any]],
    currency: str,
    scope: str | None = None,
) -> str:
    """``[FinOps] N cost spikes on D: +$X above expected; M OUs forecast over budget for <month>``;
    an owner's names their OU."""
    impact = sum(float(a["impact"]) for a in anomalies)
    parts = []
    if anomalies or not budget_alerts:
        parts.append(
            f"{len(anomalies)} cost spike{'s' if len(anomalies) != 1 else ''} on {day}: "
            f"{signed_money(impact, currency)} above expected"
        )
    if budget_alerts:
        ous = len(budget_alerts)
        parts.append(f"{ous} OU{'s' if ous != 1 else ''} forecast over budget for {day:%B %Y}")
    return f"[FinOps] {scope + ': ' if scope else ''}" + "; ".join(parts)
