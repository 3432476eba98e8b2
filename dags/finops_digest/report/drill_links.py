"""Drill-through links: each row a message shows, turned into the dashboard state that explains
it (``dashboard/urls.py``), so a reader clicks from a number to its breakdown.

Every link is built here; the templates only show a row's ``drill_url`` when it has one. With no
``dashboard_url`` no row gets one, and the messages read as they did before links existed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, timedelta
from typing import Any

from finops_digest.budgets.against_budget import NOT_IN_ORGANIZATION
from finops_digest.dashboard.urls import DrillState, drill_url
from finops_digest.detection.findings import ALL_SERVICES, ORGANIZATION

# A spike opens on the two weeks ending its day: the trend it broke, with the spike on it.
SPIKE_LOOKBACK_DAYS = 13


def ou_month_url(base: str, ou: str, day: date) -> str:
    """The OU's month to date: the 1st of ``day``'s month to ``day``."""
    return drill_url(base, DrillState(start=day.replace(day=1), end=day, ou=ou))


def line_url(base: str, line: Mapping[str, Any], day: date) -> str:
    """A top cost line (OU x service x account) on ``day``."""
    return drill_url(
        base,
        DrillState(
            start=day,
            end=day,
            ou=line["ou"],
            service=line["service"],
            account=line["linked_account"],
        ),
    )


def mover_url(base: str, mover: Mapping[str, Any], day: date) -> str:
    """A mover's OU and service on ``day`` (movers are compared per service, not per account)."""
    return drill_url(base, DrillState(start=day, end=day, ou=mover["ou"], service=mover["service"]))


def spike_url(base: str, anomaly: Mapping[str, Any], day: date) -> str:
    """A spike's series over the ``SPIKE_LOOKBACK_DAYS`` before ``day`` and ``day`` itself, down
    to the account that drove most of it when the finding names one. An OU total drills to the
    OU (all its services), the organisation's total to every OU."""
    drivers = anomaly.get("drivers") or []
    return drill_url(
        base,
        DrillState(
            start=day - timedelta(days=SPIKE_LOOKBACK_DAYS),
            end=day,
            ou=None if anomaly["ou"] == ORGANIZATION else anomaly["ou"],
            service=None if anomaly["service"] == ALL_SERVICES else anomaly["service"],
            account=drivers[0]["account"] if drivers else None,
        ),
    )


def _linked(
    rows: list[dict[str, Any]], url: Callable[[dict[str, Any]], str | None]
) -> list[dict[str, Any]]:
    return [{**r, "drill_url": url(r)} for r in rows]


def _ou_row_url(base: str, row: Mapping[str, Any], day: date) -> str | None:
    # A budget naming no OU of the organisation has nothing on the dashboard to explain it.
    if row.get("note") == NOT_IN_ORGANIZATION:
        return None
    return ou_month_url(base, row["ou"], day)


def digest_links(context: dict[str, Any], base: str) -> dict[str, Any]:
    """The digest's context with a ``drill_url`` on every OU row (month to date), top line (its day),
    mover (its OU and service) and anomaly (its two weeks), and its own ``drill_url``: the
    organisation's month to date (the chat digest's one link); unchanged when ``base`` is empty."""
    if not base:
        return context
    day = context["billing_date"]
    return {
        **context,
        "drill_url": drill_url(base, DrillState(start=day.replace(day=1), end=day)),
        "ou_table": _linked(context["ou_table"], lambda r: _ou_row_url(base, r, day)),
        "top_lines": _linked(context["top_lines"], lambda r: line_url(base, r, day)),
        "movers_up": _linked(context["movers_up"], lambda r: mover_url(base, r, day)),
        "movers_down": _linked(context["movers_down"], lambda r: mover_url(base, r, day)),
        "anomalies": _linked(context["anomalies"], lambda r: spike_url(base, r, day)),
    }


def alert_links(context: dict[str, Any], base: str) -> dict[str, Any]:
    """The alert's context with a ``drill_url`` on every spike (its two weeks) and budget alert (the
    OU's month to date), and its own ``drill_url``: every OU over the spikes' two weeks (the chat
    alert's one link); unchanged when ``base`` is empty."""
    if not base:
        return context
    day = context["billing_date"]
    return {
        **context,
        "drill_url": drill_url(
            base, DrillState(start=day - timedelta(days=SPIKE_LOOKBACK_DAYS), end=day)
        ),
        "anomalies": _linked(context["anomalies"], lambda r: spike_url(base, r, day)),
        "budget_alerts": _linked(
            context.get("budget_alerts", []), lambda r: ou_month_url(base, r["ou"], day)
        ),
    }
