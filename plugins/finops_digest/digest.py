"""The figures of the daily digest, computed from the day's rows and the recent history."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from finops_digest.cost_rows import CostRow, total

TOP_LINES = 10


def digest_figures(
    day: date,
    today: list[CostRow],
    history: Iterable[CostRow],
    anomalies: list[dict[str, Any]],
) -> dict[str, Any]:
    """KPIs (day total, change vs the previous day, month to date), per-OU totals, the top cost
    lines and the anomalies; amounts stay Decimal (the templates format them)."""
    daily: dict[date, Decimal] = defaultdict(Decimal)
    ou_previous: dict[str, Decimal] = defaultdict(Decimal)
    line_previous: dict[tuple[str, str, str], Decimal] = defaultdict(Decimal)
    previous_day = day - timedelta(days=1)
    for row in history:
        daily[row.billing_date] += row.daily_cost
        if row.billing_date == previous_day:
            ou_previous[row.ou] += row.daily_cost
            line_previous[(row.ou, row.service, row.linked_account)] += row.daily_cost

    day_total = total(today)
    previous_total = daily.get(previous_day)
    month_to_date = day_total + sum(
        (
            cost
            for d, cost in daily.items()
            if d.year == day.year and d.month == day.month and d < day
        ),
        Decimal(0),
    )
    per_ou: dict[str, Decimal] = defaultdict(Decimal)
    for row in today:
        per_ou[row.ou] += row.daily_cost
    ous = [
        {
            "ou": ou,
            "cost": cost,
            "previous": ou_previous.get(ou, Decimal(0)),
            "change": _change(cost, ou_previous.get(ou)),
            "share": float(cost / day_total) if day_total else 0.0,
        }
        for ou, cost in sorted(per_ou.items(), key=lambda item: (-item[1], item[0]))
    ]
    top = sorted(today, key=lambda r: (-r.daily_cost, r.ou, r.service, r.linked_account))[
        :TOP_LINES
    ]
    top_lines = [
        {
            "ou": r.ou,
            "service": r.service,
            "linked_account": r.linked_account,
            "cost": r.daily_cost,
            "change": _change(r.daily_cost, line_previous.get((r.ou, r.service, r.linked_account))),
        }
        for r in top
    ]
    return {
        "billing_date": day,
        "total": day_total,
        "previous_total": previous_total,
        "change": _change(day_total, previous_total),
        "month_to_date": month_to_date,
        "rows": len(today),
        "ous": ous,
        "top_lines": top_lines,
        "anomalies": anomalies,
    }


def _change(current: Decimal, previous: Decimal | None) -> dict[str, Any] | None:
    """Absolute and relative change; None when there is nothing to compare with."""
    if previous is None:
        return None
    delta = current - previous
    return {"amount": delta, "pct": float(delta / previous) if previous else None}
