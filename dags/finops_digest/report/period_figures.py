"""What the weekly digest and the month-close report share: Athena's text read as exact amounts,
changes between two periods, the days not archived, and spikes grouped into episodes."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import date
from decimal import Decimal
from typing import Any

from finops_digest.report.periods import days_of

# Athena returns numbers as text: the one place they become amounts (never through a float).
Row = dict[str, str | None]
STATUS_WORDS = {"new": "new", "still_elevated": "still elevated", "expected": "expected"}


def amount(text: str | None) -> Decimal:
    """An Athena amount (``"1234.5600000000002"``, ``"1.2345678E7"``) as a Decimal; NULL is 0."""
    return Decimal(0) if text is None else Decimal(text)


def optional_amount(text: str | None) -> Decimal | None:
    """An Athena amount that may be NULL (a budget), as a Decimal or None."""
    return None if text is None else Decimal(text)


def change(current: Decimal, previous: Decimal) -> dict[str, Any]:
    """``{"amount", "pct"}`` from ``previous`` to ``current``; pct None when there was nothing."""
    delta = current - previous
    return {"amount": delta, "pct": float(delta / previous) if previous else None}


def sum_by(
    rows: Iterable[Row], key: Callable[[Row], Any], keep: Callable[[Row], bool] = lambda r: True
) -> dict[Any, Decimal]:
    """The rows' ``cost`` summed per ``key``, over the rows ``keep`` accepts."""
    sums: dict[Any, Decimal] = defaultdict(Decimal)
    for row in rows:
        if keep(row):
            sums[key(row)] += amount(row["cost"])
    return dict(sums)


def compared(
    current: dict[Any, Decimal], previous: dict[Any, Decimal]
) -> list[tuple[Any, Decimal, Decimal, dict[str, Any]]]:
    """``(key, cost, previous, change)`` for every key of either period, largest cost first."""
    keys = sorted(
        set(current) | set(previous),
        key=lambda k: (-current.get(k, Decimal(0)), -previous.get(k, Decimal(0)), str(k)),
    )
    out = []
    for k in keys:
        now, before = current.get(k, Decimal(0)), previous.get(k, Decimal(0))
        out.append((k, now, before, change(now, before)))
    return out


def archived_days(rows: Iterable[Row]) -> set[date]:
    """The days the ``archived_days`` query found in the cost table."""
    return {date.fromisoformat(str(r["billingdate"])[:10]) for r in rows}


def missing_days(start: date, end: date, archived: set[date]) -> list[date]:
    """The days of ``start``..``end`` not archived (their costs are missing from the totals)."""
    return [d for d in days_of(start, end) if d not in archived]


def spans(days: list[date]) -> list[tuple[date, date]]:
    """Consecutive ``days`` (sorted) as (first, last) spans: 26 missing days read as one."""
    out: list[tuple[date, date]] = []
    for day in days:
        if out and (day - out[-1][1]).days == 1:
            out[-1] = (out[-1][0], day)
        else:
            out.append((day, day))
    return out


def spike_episodes(rows: Iterable[Row]) -> list[dict[str, Any]]:
    """The findings of a period grouped per (OU, service): the first day flagged, the days
    flagged, the latest status, and the day of the largest impact with its amounts; the largest
    impact first."""
    grouped: dict[tuple[str, str], list[Row]] = defaultdict(list)
    for row in rows:
        grouped[(str(row["ou"]), str(row["service"]))].append(row)
    episodes = []
    for (ou, service), found in grouped.items():
        found.sort(key=lambda r: str(r["billingdate"]))
        peak = max(found, key=lambda r: (amount(r["impact"]), str(r["billingdate"])))
        latest = found[-1]
        episodes.append(
            {
                "ou": ou,
                "service": service,
                "first_day": date.fromisoformat(str(found[0]["billingdate"])[:10]),
                "last_day": date.fromisoformat(str(latest["billingdate"])[:10]),
                "days": len({r["billingdate"] for r in found}),
                "status": STATUS_WORDS.get(str(latest["status"]), str(latest["status"])),
                "peak_day": date.fromisoformat(str(peak["billingdate"])[:10]),
                "actual": amount(peak["actual"]),
                "expected": amount(peak["expected"]),
                "impact": amount(peak["impact"]),
                "reason": peak.get("reason") or "",
                "account": peak.get("account_label") or "",
            }
        )
    episodes.sort(key=lambda e: (-e["impact"], e["ou"], e["service"]))
    return episodes
