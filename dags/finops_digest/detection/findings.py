"""Cost spikes of a day: per (OU, Service), per OU and for the organisation, with their drivers."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from finops_digest.billing_day import days_before
from finops_digest.detection.detector import HISTORY_DAYS, Finding, Thresholds, detect, root_cause
from finops_digest.ingest.cost_rows import CostRow
from finops_digest.money import apportion, cents

ALL_SERVICES = "All services"
ORGANIZATION = "All OUs"
# An OU or organisation total whose rise is mostly its services' own alerts would repeat them.
EXPLAINED_SHARE = Decimal("0.5")

# A series: (OU, service), (OU, ALL_SERVICES) or (ORGANIZATION, ALL_SERVICES).
SeriesKey = tuple[str, str]
# One series' accounts: account -> billing day -> cost.
AccountCosts = Mapping[str, Mapping[date, Decimal]]


def find_anomalies(
    day: date,
    today: Iterable[CostRow],
    history: Iterable[CostRow],
    thresholds: Thresholds,
    currency: str = "USD",
    account_history: Callable[[Sequence[SeriesKey]], Mapping[SeriesKey, AccountCosts]]
    | None = None,
) -> list[dict[str, Any]]:
    """Spikes on ``day`` against the ``HISTORY_DAYS`` before it, largest dollar impact first.

    Series: every (OU, Service), every OU's total and the organisation's total. A total is only
    reported when its services' own findings do not already explain most of its rise. Each anomaly
    is a JSON-ready dict: OU, service, kind, severity, expected, actual, impact ($, %), the reason
    it is unusual (one sentence, money in ``currency``) and the accounts that explain the impact
    with their share.

    ``history`` rows may sum their OU and service over every account (``linked_account`` empty,
    as ``cost_history`` stages them): the series need no more. The accounts behind the few series
    that spiked come from the rows that name one, plus ``account_history(keys)`` (account -> day
    -> cost of the days the rows only sum), read for those series only.
    """
    calendar = [*days_before(day, HISTORY_DAYS), day]
    position = {d: i for i, d in enumerate(calendar)}

    def zeros() -> list[Decimal]:
        return [Decimal(0)] * len(calendar)

    series: dict[SeriesKey, list[Decimal]] = defaultdict(zeros)
    rows = [*history, *today]
    for row in rows:
        index = position.get(row.billing_date)
        if index is None:
            continue
        for key in _keys(row.ou, row.service):
            series[key][index] += row.daily_cost

    reported: list[Finding] = []
    # Services first, then OU totals, then the organisation: a total is judged against what is
    # already reported inside it, so no rise is alerted twice.
    for finding in sorted(detect(dict(series), day, thresholds, currency), key=_scope_order):
        if not _explained(finding, reported):
            reported.append(finding)
    keys = [f.series for f in reported]
    by_account = _by_account(keys, rows, position, zeros)
    if account_history is not None and keys:
        for key, accounts in account_history(keys).items():
            for account, costs in accounts.items():
                for billing_date, cost in costs.items():
                    index = position.get(billing_date)
                    if index is not None:
                        by_account[key][account][index] += cost
    anomalies = []
    for finding in sorted(reported, key=lambda f: (-f.impact, f.series)):
        accounts = by_account[finding.series]
        drivers = root_cause(
            {account: costs[-1] for account, costs in accounts.items()},
            {account: costs[:-1] for account, costs in accounts.items()},
            day,
        )
        anomalies.append(_as_dict(finding, drivers))
    return anomalies


def _keys(ou: str, service: str) -> tuple[SeriesKey, ...]:
    """The series a row counts in."""
    return ((ou, service), (ou, ALL_SERVICES), (ORGANIZATION, ALL_SERVICES))


def _by_account(
    keys: Sequence[SeriesKey],
    rows: Iterable[CostRow],
    position: Mapping[date, int],
    zeros: Callable[[], list[Decimal]],
) -> dict[SeriesKey, dict[str, list[Decimal]]]:
    """The daily costs per account of the series ``keys``, from the rows naming an account."""
    wanted = set(keys)
    by_account: dict[SeriesKey, dict[str, list[Decimal]]] = {
        key: defaultdict(zeros) for key in keys
    }
    for row in rows:
        index = position.get(row.billing_date)
        if index is None or not row.linked_account:
            continue
        for key in _keys(row.ou, row.service):
            if key in wanted:
                by_account[key][row.linked_account][index] += row.daily_cost
    return by_account


def _scope_order(finding: Finding) -> int:
    ou, service = finding.series
    return 2 if ou == ORGANIZATION else 1 if service == ALL_SERVICES else 0


def _explained(finding: Finding, reported: list[Finding]) -> bool:
    ou, service = finding.series
    if service != ALL_SERVICES:
        return False
    within = [f.impact for f in reported if ou == ORGANIZATION or f.series[0] == ou]
    return sum(within, Decimal(0)) >= EXPLAINED_SHARE * finding.impact


def _as_dict(finding: Finding, drivers: list[tuple[str, Decimal, float]]) -> dict[str, Any]:
    ou, service = finding.series
    return {
        "ou": ou,
        "service": service,
        "kind": finding.kind,
        "severity": finding.severity,
        "expected": money(finding.expected),
        "actual": money(finding.actual),
        "impact": money(finding.impact),
        "impact_pct": None if finding.impact_pct is None else round(finding.impact_pct, 4),
        "reason": finding.reason,
        # Each account's part of the impact, in cents that add up to it: the alert shows them
        # side by side ("100.0% of impact" is the impact to the cent).
        "drivers": [
            {"account": account, "impact": money(part), "share": round(share, 4)}
            for (account, _, share), part in zip(
                drivers, apportion(finding.impact, [s for _, _, s in drivers]), strict=True
            )
        ],
    }


def money(value: Decimal | float | str) -> str:
    """Dollars as a 2-decimal string (JSON keeps it exact), by the one rounding rule."""
    return str(cents(value))
