"""The weekly digest's figures, from the rows of its Athena queries (``report/period_sql.py``):
the week against the week before, per OU, per service and per OU x service (the top movers),
the week's spikes, month to date against budget, and the days not archived."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from finops_digest.budgets.lights import LIGHT_COLOURS, LIGHT_WORDS
from finops_digest.report.period_figures import (
    Row,
    amount,
    compared,
    missing_days,
    optional_amount,
    spans,
    spike_episodes,
    sum_by,
)
from finops_digest.report.periods import previous_week

TOP_MOVERS = 10
# Services listed one by one; the rest are summed on one line.
TOP_SERVICES = 15


def weekly_figures(
    start: date,
    end: date,
    totals: list[Row],
    archived: set[date],
    anomalies: list[Row],
    budgets: list[Row],
) -> dict[str, Any]:
    """The week ``start``..``end`` against the week before, from ``period_totals`` rows
    (``period``, ``ou``, ``service``, ``cost``), the archived days of both weeks, the week's
    ``anomalies`` rows and the budget table's rows (``budget_on_day``) of its last archived day.
    Amounts stay exact Decimals; the templates round them."""
    previous_start, previous_end = previous_week(start, end)
    now = lambda r: r["period"] == "current"  # noqa: E731
    before = lambda r: r["period"] == "previous"  # noqa: E731
    total, previous_total = sum_by(totals, lambda r: 0, now), sum_by(totals, lambda r: 0, before)
    week_total, last_week_total = total.get(0, Decimal(0)), previous_total.get(0, Decimal(0))
    ous = [
        {"ou": ou, "cost": cost, "previous": prev, "change": delta}
        for ou, cost, prev, delta in compared(
            sum_by(totals, lambda r: r["ou"], now), sum_by(totals, lambda r: r["ou"], before)
        )
    ]
    services = [
        {"service": service, "cost": cost, "previous": prev, "change": delta}
        for service, cost, prev, delta in compared(
            sum_by(totals, lambda r: r["service"], now),
            sum_by(totals, lambda r: r["service"], before),
        )
    ]
    rest = services[TOP_SERVICES:]
    movers = [
        {"ou": key[0], "service": key[1], "cost": cost, "previous": prev, "change": delta}
        for key, cost, prev, delta in compared(
            sum_by(totals, lambda r: (r["ou"], r["service"]), now),
            sum_by(totals, lambda r: (r["ou"], r["service"]), before),
        )
        if delta["amount"] != 0
    ]
    movers.sort(key=lambda m: (-abs(m["change"]["amount"]), m["ou"], m["service"]))
    in_week = sorted(d for d in archived if start <= d <= end)
    return {
        "start": start,
        "end": end,
        "previous_start": previous_start,
        "previous_end": previous_end,
        "total": week_total,
        "previous_total": last_week_total,
        "change": {
            "amount": week_total - last_week_total,
            "pct": float((week_total - last_week_total) / last_week_total)
            if last_week_total
            else None,
        },
        "ous": ous,
        "services": services[:TOP_SERVICES],
        "other_services": (
            {
                "count": len(rest),
                "cost": sum((s["cost"] for s in rest), Decimal(0)),
                "previous": sum((s["previous"] for s in rest), Decimal(0)),
            }
            if rest
            else None
        ),
        "movers": movers[:TOP_MOVERS],
        "spikes": spike_episodes(anomalies),
        "budgets": budget_rows(budgets),
        "budgets_as_of": in_week[-1] if in_week else None,
        # OUs are grouped under their label on this day (the OU tree maps earlier labels to it).
        "labels_as_of": max((d for d in archived if previous_start <= d <= end), default=None),
        "missing": missing_days(start, end, archived),
        "missing_previous": missing_days(previous_start, previous_end, archived),
        "missing_spans": spans(missing_days(start, end, archived)),
        "missing_previous_spans": spans(missing_days(previous_start, previous_end, archived)),
        "previous_days": (previous_end - previous_start).days + 1,
        # Whether anything of the week before is archived: without it there is no comparison.
        "compared": any(previous_start <= d <= previous_end for d in archived),
        "light_words": LIGHT_WORDS,
        "light_colours": LIGHT_COLOURS,
    }


def budget_rows(rows: list[Row]) -> list[dict[str, Any]]:
    """Month to date vs budget per OU (``budget_on_day`` rows), the OUs with a budget first, most
    used first; the light is the one the day's digest showed."""
    out = []
    for row in rows:
        budget = optional_amount(row["budget"])
        mtd = amount(row["month_to_date"])
        out.append(
            {
                "ou": row["ou"],
                "month_to_date": mtd,
                "budget": budget,
                "used": float(mtd / budget) if budget else None,
                "forecast": optional_amount(row["forecast"]),
                "light": row["light"] or None,
            }
        )
    out.sort(key=lambda r: (r["used"] is None, -(r["used"] or 0), -r["month_to_date"], r["ou"]))
    return out
