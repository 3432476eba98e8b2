"""The subject lines of the messages: the digest and the alert (one wording for every recipient
and scope), the weekly digest and the month-close report."""

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


def weekly_subject(start: date, end: date, figures: Mapping[str, Any], currency: str) -> str:
    """``[FinOps] Weekly cost digest 08 Sep-14 Sep 2025: $X (+$Y vs the week before)``, and the
    days not archived when there are."""
    missing = figures["missing"]
    return (
        f"[FinOps] Weekly cost digest {start:%d %b}-{end:%d %b %Y}: "
        f"{money(figures['total'], currency)} "
        + (
            f"({signed_money(figures['change']['amount'], currency)} vs the week before)"
            if figures["compared"]
            else "(the week before is not archived)"
        )
        + (f", {len(missing)} day(s) not archived" if missing else "")
    )


def month_close_subject(
    start: date, before: date, figures: Mapping[str, Any], currency: str
) -> str:
    """``[FinOps] Month close September 2025: $X (+$Y vs August), N OUs over budget``."""
    over = figures["lights"]["red"]
    return (
        f"[FinOps] Month close {start:%B %Y}: {money(figures['total'], currency)} "
        + (
            f"({signed_money(figures['change']['amount'], currency)} vs {before:%B})"
            if figures["compared"]
            else f"({before:%B} is not archived)"
        )
        + (f", {over} OU{'s' if over != 1 else ''} over budget" if over else "")
    )
