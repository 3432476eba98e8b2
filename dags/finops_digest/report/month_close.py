"""The month-close report's figures, from the rows of its Athena queries (``report/period_sql.py``)
and the archive's versions: each OU's month against its budget and the month before, the
month's new spikes, the days restated since their digest, the days not archived, and the
chargeback file (one line per OU x service x linked account, adding up to the month's total)."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from datetime import date
from decimal import Decimal
from typing import Any

from finops_digest.budgets.lights import LIGHT_COLOURS, LIGHT_WORDS, traffic_light
from finops_digest.ingest.csv_safety import neutralize
from finops_digest.money import cents, round_to_total
from finops_digest.report.period_figures import (
    Row,
    amount,
    change,
    missing_days,
    optional_amount,
    spans,
    sum_by,
)
from finops_digest.report.periods import previous_month

CHARGEBACK_HEADER = ("Month", "OU", "Service", "LinkedAccount", "AccountName", "MonthlyCost")


def chargeback_lines(rows: list[Row]) -> list[dict[str, Any]]:
    """The ``month_chargeback`` rows in cents that add up exactly to the month's total (rounded),
    each OU's lines to that OU's share of it (``money.round_to_total``, at both levels); sorted
    by OU, cost (largest first), service, account."""
    by_ou: dict[str, list[Row]] = defaultdict(list)
    for row in rows:
        by_ou[str(row["ou"])].append(row)
    ous = sorted(by_ou)
    ou_sums = [sum((amount(r["cost"]) for r in by_ou[ou]), Decimal(0)) for ou in ous]
    ou_cents = round_to_total(ou_sums, cents(sum(ou_sums, Decimal(0))))
    lines = []
    for ou, target in zip(ous, ou_cents, strict=True):
        found = by_ou[ou]
        parts = round_to_total([amount(r["cost"]) for r in found], target)
        lines += [
            {
                "ou": ou,
                "service": str(r["service"]),
                "linked_account": str(r["linkedaccount"]),
                "account_name": r["accountname"] or "",
                "cost": part,
            }
            for r, part in zip(found, parts, strict=True)
        ]
    lines.sort(key=lambda x: (x["ou"], -x["cost"], x["service"], x["linked_account"]))
    return lines


def chargeback_csv(month: date, lines: list[dict[str, Any]]) -> bytes:
    """The chargeback file: :data:`CHARGEBACK_HEADER`, one row per line, ``Month`` as
    ``YYYY-MM``, amounts in cents; text a spreadsheet would run as a formula neutralised
    (``csv_safety``), as in the daily CSV."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CHARGEBACK_HEADER)
    for line in lines:
        writer.writerow(
            (
                f"{month:%Y-%m}",
                neutralize(line["ou"]),
                neutralize(line["service"]),
                neutralize(line["linked_account"]),
                neutralize(line["account_name"]),
                f"{line['cost']:.2f}",
            )
        )
    return buffer.getvalue().encode("utf-8")


def month_budgets(rows: list[Row], fallback: dict[str, Decimal]) -> dict[str, tuple[Decimal, str]]:
    """OU -> (monthly budget, where it came from): the budget table's on the month's latest day
    (``month_budgets`` rows), else ``fallback`` (``finops_config``'s budgets, by OU label)."""
    found = {ou: (amount, "configuration") for ou, amount in fallback.items()}
    for row in rows:
        budget = optional_amount(row["budget"])
        if budget is not None:
            found[str(row["ou"])] = (budget, f"budget table ({row['budget_source'] or 'daily'})")
    return found


def month_close_figures(
    start: date,
    end: date,
    totals: list[Row],
    lines: list[dict[str, Any]],
    archived: set[date],
    anomalies: list[Row],
    budgets: dict[str, tuple[Decimal, str]],
    restated: list[dict[str, Any]],
) -> dict[str, Any]:
    """The month ``start``..``end``: each OU's total (its chargeback lines, so the email and the
    file agree to the cent) against its budget with a light (the total as the month's outcome:
    over budget is red) and against the month before (``period_totals`` rows); the spikes first
    reported in the month (``anomalies`` rows with status new), the restated days, the days not
    archived of both months."""
    previous_start, previous_end = previous_month(start)
    previous = sum_by(totals, lambda r: r["ou"], lambda r: r["period"] == "previous")
    month = defaultdict(Decimal)
    for line in lines:
        month[line["ou"]] += line["cost"]
    names = sorted(
        set(month) | set(previous) | set(budgets),
        key=lambda ou: (-month.get(ou, Decimal(0)), ou),
    )
    ous = []
    for ou in names:
        cost, before = month.get(ou, Decimal(0)), cents(previous.get(ou, Decimal(0)))
        budget, source = budgets.get(ou, (None, ""))
        ous.append(
            {
                "ou": ou,
                "cost": cost,
                "previous": before,
                "change": change(cost, before),
                "budget": budget,
                "budget_source": source,
                "used": float(cost / budget) if budget else None,
                "light": traffic_light(budget, cost, None),
            }
        )
    total = sum(month.values(), Decimal(0))
    previous_total = cents(sum(previous.values(), Decimal(0)))
    budgeted = [r for r in ous if r["budget"] is not None]
    new = [
        {
            "day": date.fromisoformat(str(r["billingdate"])[:10]),
            "ou": r["ou"],
            "service": r["service"],
            "actual": amount(r["actual"]),
            "expected": amount(r["expected"]),
            "impact": amount(r["impact"]),
            "reason": r.get("reason") or "",
            "account": r.get("account_label") or "",
        }
        for r in anomalies
        if r["status"] == "new"
    ]
    new.sort(key=lambda a: (-a["impact"], a["day"], a["ou"], a["service"]))
    return {
        "start": start,
        "end": end,
        "previous_start": previous_start,
        "previous_end": previous_end,
        "total": total,
        "previous_total": previous_total,
        "change": change(total, previous_total),
        "ous": ous,
        "budget_total": sum((r["budget"] for r in budgeted), Decimal(0)) if budgeted else None,
        "budgeted_cost": sum((r["cost"] for r in budgeted), Decimal(0)),
        "lights": {light: sum(1 for r in ous if r["light"] == light) for light in LIGHT_COLOURS},
        "anomalies": new,
        "restated": restated,
        "missing": missing_days(start, end, archived),
        "missing_previous": missing_days(previous_start, previous_end, archived),
        "missing_spans": spans(missing_days(start, end, archived)),
        "missing_previous_spans": spans(missing_days(previous_start, previous_end, archived)),
        "previous_days": (previous_end - previous_start).days + 1,
        # Whether anything of the month before is archived: without it there is no comparison.
        "compared": len(missing_days(previous_start, previous_end, archived))
        < (previous_end - previous_start).days + 1,
        "chargeback_lines": len(lines),
        "light_words": LIGHT_WORDS,
        "light_colours": LIGHT_COLOURS,
    }


def restatements(
    firsts: dict[date, Decimal], currents: dict[date, Decimal]
) -> list[dict[str, Any]]:
    """The days whose total changed between their first archived CSV (what their digest said)
    and the current one: ``{"billing_date", "first_total", "total", "delta"}``, by day."""
    return [
        {
            "billing_date": day,
            "first_total": firsts[day],
            "total": currents[day],
            "delta": currents[day] - firsts[day],
        }
        for day in sorted(firsts)
        if day in currents and currents[day] != firsts[day]
    ]
