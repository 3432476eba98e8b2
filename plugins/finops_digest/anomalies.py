"""Cost spikes per (OU, Service) for a day, with the accounts that drove them."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import Any

from finops_digest.billing_day import days_before
from finops_digest.cost_rows import CostRow
from finops_digest.detection import HISTORY_DAYS, Thresholds, detect, root_cause

CENT = Decimal("0.01")


def find_anomalies(
    day: date,
    today: Iterable[CostRow],
    history: Iterable[CostRow],
    thresholds: Thresholds,
) -> list[dict[str, Any]]:
    """Spikes on ``day`` against the ``HISTORY_DAYS`` before it, largest dollar impact first.

    Each anomaly is a JSON-ready dict: OU, service, kind, severity, expected, actual, impact ($, %)
    and the accounts that explain the impact with their share.
    """
    calendar = [*days_before(day, HISTORY_DAYS), day]
    position = {d: i for i, d in enumerate(calendar)}
    series: dict[tuple[str, str], list[Decimal]] = defaultdict(lambda: [Decimal(0)] * len(calendar))
    by_account: dict[tuple[str, str], dict[str, list[Decimal]]] = defaultdict(
        lambda: defaultdict(lambda: [Decimal(0)] * len(calendar))
    )
    for row in [*history, *today]:
        index = position.get(row.billing_date)
        if index is None:
            continue
        key = (row.ou, row.service)
        series[key][index] += row.daily_cost
        by_account[key][row.linked_account][index] += row.daily_cost

    anomalies = []
    for finding in detect(dict(series), day, thresholds):
        accounts = by_account[finding.series]
        drivers = root_cause(
            {account: costs[-1] for account, costs in accounts.items()},
            {account: costs[:-1] for account, costs in accounts.items()},
        )
        ou, service = finding.series
        anomalies.append(
            {
                "ou": ou,
                "service": service,
                "kind": finding.kind,
                "severity": finding.severity,
                "expected": _money(finding.expected),
                "actual": _money(finding.actual),
                "impact": _money(finding.impact),
                "impact_pct": None if finding.impact_pct is None else round(finding.impact_pct, 4),
                "drivers": [
                    {"account": account, "impact": _money(impact), "share": round(share, 4)}
                    for account, impact, share in drivers
                ],
            }
        )
    return anomalies


def _money(value: Decimal) -> str:
    return str(Decimal(value).quantize(CENT))
