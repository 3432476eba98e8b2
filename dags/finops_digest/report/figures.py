"""The figures of the daily digest, computed from the day's rows and the recent history."""

from __future__ import annotations

import heapq
from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from finops_digest.ingest.cost_rows import CostRow, total
from finops_digest.report.accounts import account_label

TOP_LINES = 10
TOP_MOVERS = 5
TREND_DAYS = 30
# The trend chart stacks at most this many OUs; the rest are summed as "Other OUs".
TREND_SERIES = 8
OTHER_OUS = "Other OUs"


def digest_figures(
    day: date,
    today: list[CostRow],
    history: Iterable[CostRow],
    anomalies: list[dict[str, Any]],
    accounts: Mapping[str, Mapping[str, Any]] | None = None,
) -> dict[str, Any]:
    """KPIs (day total, change vs the previous day and vs the same weekday last week, 7-day
    average, month to date), per-OU totals, the top cost lines, the top movers, the 30-day trend
    per OU and the anomalies; amounts stay Decimal (the templates format them). Accounts are
    shown as people know them, ``name (id)``, with the names of ``accounts`` (the day's
    mapping)."""
    accounts = accounts or {}
    history = [row for row in history if row.billing_date < day]
    rows = [*history, *today]
    daily: dict[date, Decimal] = defaultdict(Decimal)
    for row in rows:
        daily[row.billing_date] += row.daily_cost
    previous_day, last_week = day - timedelta(days=1), day - timedelta(days=7)
    day_total = total(today)
    previous_total = daily.get(previous_day)
    last_week_total = daily.get(last_week)
    week = [day - timedelta(days=n) for n in range(7)]
    first = day.replace(day=1)
    month_to_date = sum((c for d, c in daily.items() if first <= d <= day), Decimal(0))

    ou_today = _sum_by(today, lambda r: r.ou)
    ou_previous = _sum_by((r for r in history if r.billing_date == previous_day), lambda r: r.ou)
    ous = [
        {
            "ou": ou,
            "cost": cost,
            "previous": ou_previous.get(ou, Decimal(0)),
            "change": _change(cost, ou_previous.get(ou)),
            "share": float(cost / day_total) if day_total else 0.0,
        }
        for ou, cost in sorted(ou_today.items(), key=lambda item: (-item[1], item[0]))
    ]
    line_previous = _sum_by(
        (r for r in history if r.billing_date == previous_day),
        lambda r: (r.ou, r.service, r.linked_account),
    )
    # The first TOP_LINES of the sorted rows, without sorting a day of up to a million rows.
    top = heapq.nsmallest(
        TOP_LINES, today, key=lambda r: (-r.daily_cost, r.ou, r.service, r.linked_account)
    )
    top_lines = [
        {
            "ou": r.ou,
            "service": r.service,
            "linked_account": r.linked_account,
            "account": account_label(r.linked_account, accounts),
            "cost": r.daily_cost,
            "change": _change(r.daily_cost, line_previous.get((r.ou, r.service, r.linked_account))),
        }
        for r in top
    ]
    movers = top_movers(day, rows)
    for mover in movers:
        mover["account"] = account_label(mover["account"], accounts)
    return {
        "billing_date": day,
        "total": day_total,
        "previous_total": previous_total,
        "change": _change(day_total, previous_total),
        "last_week_total": last_week_total,
        "change_vs_last_week": _change(day_total, last_week_total),
        # Only when all 7 days are known: an average over fewer days would read as a weekly one.
        "seven_day_average": (
            sum((daily[d] for d in week), Decimal(0)) / 7 if all(d in daily for d in week) else None
        ),
        "month_to_date": month_to_date,
        "rows": len(today),
        "ous": ous,
        "top_lines": top_lines,
        "movers_up": [m for m in movers if m["change"] > 0][:TOP_MOVERS],
        "movers_down": [m for m in reversed(movers) if m["change"] < 0][:TOP_MOVERS],
        "top_movers": sorted(movers, key=lambda m: (-abs(m["change"]), m["ou"], m["service"]))[
            :TOP_MOVERS
        ],
        "trend": cost_trend(day, rows),
        "anomalies": anomalies,
    }


def top_movers(day: date, rows: Iterable[CostRow]) -> list[dict[str, Any]]:
    """Every (OU, Service) whose cost changed from the previous day, largest increase first.

    Compared per service within an OU, not per account line: that is the level a reader can act
    on, and it stays stable when usage moves between accounts. Each names the ``account`` that
    moved most the same way (the one to ask about it).
    """
    previous_day = day - timedelta(days=1)
    now: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    before: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    by_account: dict[tuple[str, str], dict[str, Decimal]] = defaultdict(
        lambda: defaultdict(Decimal)
    )
    for row in rows:
        if row.billing_date == day:
            now[(row.ou, row.service)] += row.daily_cost
            by_account[(row.ou, row.service)][row.linked_account] += row.daily_cost
        elif row.billing_date == previous_day:
            before[(row.ou, row.service)] += row.daily_cost
            by_account[(row.ou, row.service)][row.linked_account] -= row.daily_cost
    movers = []
    for key in set(now) | set(before):
        cost, previous = now.get(key, Decimal(0)), before.get(key, Decimal(0))
        if cost != previous:
            sign = 1 if cost > previous else -1
            changes = by_account[key]
            movers.append(
                {
                    "ou": key[0],
                    "service": key[1],
                    "cost": cost,
                    "previous": previous,
                    "change": cost - previous,
                    "pct": float((cost - previous) / previous) if previous else None,
                    "account": min(changes, key=lambda a: (-sign * changes[a], a)),
                }
            )
    movers.sort(key=lambda m: (-m["change"], m["ou"], m["service"]))
    return movers


def cost_trend(day: date, rows: Iterable[CostRow]) -> dict[str, Any]:
    """The ``TREND_DAYS`` days ending D: ``{"days": [...], "series": [{"ou", "costs"}]}``, the
    largest OUs first; past ``TREND_SERIES`` OUs the smallest are summed as "Other OUs"."""
    days = [day - timedelta(days=n) for n in range(TREND_DAYS - 1, -1, -1)]
    index = {d: i for i, d in enumerate(days)}
    per_ou: dict[str, list[Decimal]] = defaultdict(lambda: [Decimal(0)] * len(days))
    for row in rows:
        if row.billing_date in index:
            per_ou[row.ou][index[row.billing_date]] += row.daily_cost
    ranked = sorted(per_ou.items(), key=lambda item: (-sum(item[1]), item[0]))
    if len(ranked) > TREND_SERIES:
        rest = ranked[TREND_SERIES - 1 :]
        other = [sum((costs[i] for _, costs in rest), Decimal(0)) for i in range(len(days))]
        ranked = [*ranked[: TREND_SERIES - 1], (OTHER_OUS, other)]
    return {"days": days, "series": [{"ou": ou, "costs": costs} for ou, costs in ranked]}


def ou_table(ous: list[dict[str, Any]], budget_rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per OU for the digest: the day's cost and change beside the month to date, the
    month-end forecast, the budget and the light; every OU of either list, largest forecast
    first (largest day cost when there is no forecast)."""
    day = {o["ou"]: o for o in ous}
    forecast = {r["ou"]: r for r in budget_rows}
    rows = []
    for name in set(day) | set(forecast):
        today = day.get(name, {})
        rows.append(
            {
                "ou": name,
                "cost": today.get("cost", Decimal(0)),
                "change": today.get("change"),
                "month_to_date": None,
                "forecast": None,
                "lower": None,
                "upper": None,
                "method": None,
                "budget": None,
                "budget_used": None,
                "light": None,
                **{k: v for k, v in forecast.get(name, {}).items() if k != "ou"},
            }
        )
    rows.sort(key=lambda r: (-(r["forecast"] or 0), -r["cost"], r["ou"]))
    return rows


def budget_summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Organisation totals of the forecast rows: month to date, month-end forecast (and its
    interval where every OU has one), total budget, and the forecast of the budgeted OUs."""
    zero = Decimal(0)
    budgeted = [r for r in rows if r["budget"] is not None]
    with_interval = all(r["upper"] is not None for r in rows)
    budget_total = sum((r["budget"] for r in budgeted), zero) if budgeted else None
    budgeted_forecast = sum((r["forecast"] for r in budgeted), zero)
    methods = sorted({r["method"] for r in rows if r["method"] != "actuals"})
    return {
        "month_to_date": sum((r["month_to_date"] for r in rows), zero),
        "forecast": sum((r["forecast"] for r in rows), zero),
        # Summing the OUs' bounds gives a conservative (wider) organisation interval.
        "lower": sum((r["lower"] for r in rows), zero) if with_interval else None,
        "upper": sum((r["upper"] for r in rows), zero) if with_interval else None,
        "budget": budget_total,
        "budgeted_forecast": budgeted_forecast if budgeted else None,
        "budget_used": float(budgeted_forecast / budget_total) if budget_total else None,
        "budgeted_ous": len(budgeted),
        "lights": {
            light: sum(1 for r in rows if r["light"] == light)
            for light in ("green", "amber", "red")
        },
        "methods": methods,
    }


def _sum_by(rows: Iterable[CostRow], key: Any) -> dict[Any, Decimal]:
    sums: dict[Any, Decimal] = defaultdict(Decimal)
    for row in rows:
        sums[key(row)] += row.daily_cost
    return dict(sums)


def _change(current: Decimal, previous: Decimal | None) -> dict[str, Any] | None:
    """Absolute and relative change; None when there is nothing to compare with."""
    if previous is None:
        return None
    delta = current - previous
    return {"amount": delta, "pct": float(delta / previous) if previous else None}
