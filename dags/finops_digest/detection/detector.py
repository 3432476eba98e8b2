"""Cost anomalies of one day per series, judged against the series' own recent history.

The expected cost of the judged day is the series' recent level times its weekly profile
(``series.History``, from the last five weeks), plus what the bill's calendar puts on that day:

* the weekly profile is, per weekday, the median over the last five weeks of that weekday's cost
  divided by its week's median (so growth and old level shifts do not bend it), shrunk towards flat
  as far as noise alone could have drawn it;
* the level is the larger of the median deseasonalised cost of the last 14 days and of the last
  3 days, so a permanent move up stops alerting on its third day and a move down never hides one;
* the noise is a robust (MAD) spread on the log scale, the larger of each day against its weekday
  in the other weeks and of each day against the days around it;
* a recurring charge on the day (``bill_calendar``): the same day of the month, or a batch every N
  days, with the usual size of its earlier occurrences in the ``HISTORY_DAYS`` before;
* the level before a quieter stretch that just ended (a holiday week), and yesterday's expected
  cost when yesterday was a data gap whose cost may arrive today.

A day alerts when its cost exceeds the expected cost by every minimum at once: ``min_impact``
dollars, ``min_pct`` of the expected cost and ``min_sigmas`` noise deviations (of the daily level
and of the recurring charge together). Only increases alert, and nothing alerts before a series has
``MIN_HISTORY_DAYS`` of history.
A runaway ramp, which the fast level follows, alerts against the level of one to two weeks earlier
when the rise never paused and no single day's jump explains it. Young services (under two weeks)
and intermittent batch services also have to beat their largest day so far by the dollar and
percentage minimums; a service without any history alerts as new from ``min_impact``.
Each finding says why in one sentence (``reasons``). The detector is pure Python: no clock,
no Airflow, no numpy.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields, replace
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from finops_digest.detection import reasons
from finops_digest.detection.bill_calendar import Recurring, recurring_charge
from finops_digest.detection.series import BASE_DAYS, WEEK, History
from finops_digest.errors import FinopsError
from finops_digest.money import cents

# Three monthly cycles: the same day three months back is at most 92 days before. The DAG reads
# this much history (archive, else Cost Explorer); everything else derives from it.
HISTORY_DAYS = 95
MIN_HISTORY_DAYS = BASE_DAYS  # five weeks before a day, at least, before it can alert
CONTINUE_DAYS = 28  # days back an episode that is still elevated looks for its alert


class DetectionError(FinopsError, ValueError):
    """The detector was given series or thresholds it cannot judge."""


@dataclass(frozen=True)
class Thresholds:
    """When an increase is worth an alert, and how severe it is; every field has a default."""

    min_impact: Decimal = Decimal("100")  # dollars (actual - expected) below which nothing alerts
    min_pct: float = 0.2  # relative impact (actual - expected) / expected below which no alert
    min_sigmas: float = 4.5  # deviations of the series' own daily noise below which nothing alerts
    medium_impact: Decimal = Decimal("500")  # dollars of impact from which severity is medium
    high_impact: Decimal = Decimal("2500")  # dollars of impact from which severity is high
    high_pct: float = 1.0  # relative impact (1.0 = cost doubled) that raises severity one step

    def __post_init__(self) -> None:
        for spec in fields(self):
            value = getattr(self, spec.name)
            try:
                coerced = Decimal(str(value)) if spec.type == "Decimal" else float(value)
            except (InvalidOperation, TypeError, ValueError) as exc:
                raise DetectionError(
                    f"threshold {spec.name}={value!r} is not a number: expected e.g. {spec.default}"
                ) from exc
            if isinstance(value, bool) or not math.isfinite(coerced) or coerced < 0:
                raise DetectionError(
                    f"threshold {spec.name}={value!r}: expected a non-negative number"
                )
            object.__setattr__(self, spec.name, coerced)

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> Thresholds:
        """Thresholds from a plain JSON-like mapping of names to numbers; missing keys default."""
        known = {spec.name for spec in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise DetectionError(
                f"unknown threshold(s) {unknown}: expected some of {sorted(known)}"
            )
        return cls(**values)


@dataclass(frozen=True)
class Finding:
    """One series whose cost on ``day`` rose beyond every threshold."""

    series: tuple[str, ...]
    day: date
    kind: str  # "spike" | "step" | "new" | "ramp"
    expected: Decimal
    actual: Decimal
    impact: Decimal
    impact_pct: float | None  # None when nothing was expected (a new service)
    severity: str  # "low" | "medium" | "high"
    reason: str  # why it is unusual, in one sentence of the costs it was judged against


def detect(
    series: Mapping[tuple[str, ...], Sequence[Decimal | float]],
    day: date,
    thresholds: Thresholds = Thresholds(),  # noqa: B008 - frozen, so a shared default is safe
    currency: str = "USD",
) -> list[Finding]:
    """Findings for ``day``, largest dollar impact first.

    Each series holds up to ``HISTORY_DAYS + 1`` daily costs, oldest first, ending with ``day``;
    missing days are 0, and a series that is all zeros before ``day`` is a new service. A series
    with fewer than ``MIN_HISTORY_DAYS`` days before ``day`` is not judged yet. ``currency``
    writes the money in each finding's reason.
    """
    findings = []
    for key, values in series.items():
        if not 0 < len(values) <= HISTORY_DAYS + 1:
            raise DetectionError(
                f"series {key!r} has {len(values)} daily costs: expected 1 to {HISTORY_DAYS + 1} "
                f"(up to HISTORY_DAYS={HISTORY_DAYS} days before {day} and {day} itself)"
            )
        if len(values) <= MIN_HISTORY_DAYS:
            continue
        verdict = _judge([float(v) for v in values], day, thresholds, currency)
        if verdict is not None:
            findings.append(
                _finding(
                    tuple(key),
                    day,
                    verdict.kind,
                    verdict.expected,
                    values[-1],
                    thresholds,
                    verdict.reason,
                )
            )
    findings.sort(key=lambda f: (-f.impact, f.series))
    return findings


def root_cause(
    actual: Mapping[str, Decimal],
    history: Mapping[str, Sequence[Decimal]],
    day: date | None = None,
) -> list[tuple[str, Decimal, float]]:
    """The contributors (accounts) that explain an anomaly: ``(contributor, impact, share)``.

    Each contributor's impact is its cost on the day minus its own expected cost (with the bill's
    calendar of ``day`` when given: an account's usual monthly fee explains nothing); those that
    rose are returned largest first, with their share of the total rise, until the shares reach
    99% (so the shares sum to about 1.0). Empty when no contributor rose.
    """
    rises = []
    for name in set(actual) | set(history):
        past = History([max(float(v), 0.0) for v in history.get(name, ())], day)
        today = Decimal(str(actual.get(name, 0)))
        expected = past.expected
        if day is not None and past.shape == "regular":
            expected = _level(past) + _charge_of(past, day, len(past.history), Thresholds())[0]
        impact = today - cents(expected)
        if impact > 0:
            rises.append((name, impact))
    total = sum((impact for _, impact in rises), Decimal(0))
    rises.sort(key=lambda item: (-item[1], item[0]))
    drivers: list[tuple[str, Decimal, float]] = []
    covered = 0.0
    for name, impact in rises:
        if covered >= 0.99:
            break
        share = float(impact / total)
        drivers.append((name, impact, share))
        covered += share
    return drivers


def _finding(
    key: tuple[str, ...],
    day: date,
    kind: str,
    expected: float,
    actual_value: Decimal | float,
    thresholds: Thresholds,
    reason: str,
) -> Finding:
    expected_money = cents(expected)
    actual = cents(actual_value)
    impact = actual - expected_money
    pct = float(impact / expected_money) if expected_money > 0 else None
    severity = _severity(impact, pct, thresholds)
    return Finding(key, day, kind, expected_money, actual, impact, pct, severity, reason)


def _severity(impact: Decimal, pct: float | None, thresholds: Thresholds) -> str:
    """Dollar impact sets the step (low, medium, high); doubling or more raises it by one."""
    step = (impact >= thresholds.medium_impact) + (impact >= thresholds.high_impact)
    if pct is None or pct >= thresholds.high_pct:
        step += 1
    return ("low", "medium", "high")[min(step, 2)]


@dataclass(frozen=True)
class _Verdict:
    """Why a day alerts: its kind, expected cost and reason, the daily level (per unit of weekly
    profile) it was judged against (None: a new, young or batch service) and its episode's
    first day."""

    kind: str
    expected: float
    reason: str
    level: float | None
    began: date


def _beats(
    value: float, expected: float, sigma: float, thresholds: Thresholds, sigmas: float | None = None
) -> bool:
    """Whether ``value`` exceeds ``expected`` by every minimum (log noise ``sigma``)."""
    rise = value - expected
    return (
        rise >= float(thresholds.min_impact)
        and rise >= thresholds.min_pct * expected
        and (
            expected <= 0
            or math.log(value / expected)
            >= (thresholds.min_sigmas if sigmas is None else sigmas) * sigma
        )
    )


def _judge(
    values: list[float],
    day: date,
    thresholds: Thresholds,
    currency: str,
    depth: int = CONTINUE_DAYS,
) -> _Verdict | None:
    """The verdict on the last value against the ones before it, or None.

    A day that no longer alerts by itself (the fast level has followed the rise) still does while
    its rise goes on: yesterday alerted (looked up to ``depth`` days back), the day is not below
    the last three days, and it beats both the level yesterday was judged against and its level
    of one to two weeks before. So a ramp pages once and stays "still elevated" while it climbs,
    however unevenly; a step, flat after its first days, soon stops.
    """
    actual = values[-1]
    past = History([max(v, 0.0) for v in values[:-1]], day)
    verdict = _standard(past, actual, day, thresholds, currency)
    if not depth or past.shape != "regular" or len(values) - 2 < MIN_HISTORY_DAYS:
        return verdict
    if verdict is not None:
        # Part of an episode that began earlier? It keeps that first day (for the reason).
        if verdict.level is not None:
            before = _judge(values[:-1], day - timedelta(days=1), thresholds, currency, depth - 1)
            if before is not None and before.level is not None:
                verdict = replace(verdict, began=before.began)
        return verdict
    # Still rising (not below the last three days) and well above where it was a week or two ago.
    if actual < past.profile[0] * past.short_level:
        return None
    if not _beats(actual, past.week_before(), past.sigma, thresholds):
        return None
    before = _judge(values[:-1], day - timedelta(days=1), thresholds, currency, depth - 1)
    if before is None or before.level is None:
        return None
    extra, charge_sigma, _ = _charge_of(past, day, len(past.history), thresholds)
    expected, sigma = _with_charge(past, past.profile[0] * before.level, extra, charge_sigma)
    if not _beats(actual, expected, sigma, thresholds):
        return None
    reason = reasons.still_elevated(actual, expected, before.began, currency)
    return _Verdict(before.kind, expected, reason, before.level, before.began)


def _standard(
    past: History, actual: float, day: date, thresholds: Thresholds, currency: str
) -> _Verdict | None:
    """The verdict on ``actual`` by the day's own expected cost, or None."""

    def exceeds(
        value: float, expected: float, sigma: float = past.sigma, sigmas: float | None = None
    ) -> bool:
        return _beats(value, expected, sigma, thresholds, sigmas)

    if past.shape == "empty":
        if actual < float(thresholds.min_impact):
            return None
        quiet = len(past.values) if any(past.history) else len(past.history)
        reason = reasons.new_service(actual, quiet, currency)
        return _Verdict("new", 0.0, reason, None, day)
    if past.ceiling and not exceeds(actual, past.ceiling, sigmas=0.0):
        return None
    ramp_from = past.ramp_base(actual)
    ramp = ramp_from is not None and exceeds(actual, ramp_from)
    if not ramp and not exceeds(actual, past.expected):
        return None
    if past.shape != "regular":
        active = len(past.values) - past.start
        what = (
            f"its largest day in its {active} day{'s' if active != 1 else ''} so far"
            if past.shape == "young"
            else f"its largest batch in the last {len(past.values)} days"
        )
        reason = reasons.above_largest(actual, past.ceiling, what, currency)
        return _Verdict("spike", past.expected, reason, None, day)
    # Above its daily level: only now ask whether the bill's calendar puts this cost on the day.
    extra, charge_sigma, charge = _charge_of(past, day, len(past.history), thresholds)
    if ramp_from is not None and ramp:
        base = max(ramp_from, past.return_level())
        expected, sigma = _with_charge(past, base, extra, charge_sigma)
        if exceeds(actual, expected, sigma):
            reason = reasons.ramp(actual, ramp_from, currency)
            return _Verdict("ramp", expected, reason, base / past.profile[0], day)
    base = _level(past)
    expected, sigma = _with_charge(past, base, extra, charge_sigma)
    if not exceeds(actual, expected, sigma):
        return None
    notes = []
    kind = "spike"
    yesterday = past.yesterday()
    if yesterday is not None:
        value, usual = yesterday
        before, before_sigma, _ = _charge_of(
            past, day - timedelta(days=1), len(past.history) - 1, thresholds
        )
        total, total_sigma = _with_charge(past, usual, before, before_sigma)
        if exceeds(value, total, total_sigma):
            kind = "step"
            notes.append(reasons.yesterday(value, currency))
    if past.catch_up():
        notes.append("the day after a day without cost data")
    reason = _against_past(past, day, actual, charge, currency, notes)
    return _Verdict(kind, expected, reason, base / past.profile[0], day)


def _with_charge(
    past: History, level: float, extra: float, charge_sigma: float
) -> tuple[float, float]:
    """A day's expected cost (its level plus a recurring charge) and its log noise."""
    total = level + extra
    spread = math.hypot(level * past.sigma, extra * charge_sigma)
    return total, (spread / total if total > 0 else past.sigma)


def _level(past: History) -> float:
    """The judged day's expected daily cost: its level, or the level it is back at after a
    quieter stretch, plus yesterday's when yesterday was a data gap (regular series)."""
    return max(past.expected, past.return_level()) + past.catch_up()


def _charge_of(
    past: History, day: date, index: int, thresholds: Thresholds
) -> tuple[float, float, Recurring | None]:
    """``(usual charge, its log noise, the charge)`` of ``day``'s calendar; zeros when none."""
    charge = recurring_charge(
        past,
        day,
        index,
        float(thresholds.min_impact),
        thresholds.min_pct,
        thresholds.min_sigmas,
    )
    return (charge.extra, charge.sigma, charge) if charge else (0.0, 0.0, None)


def _against_past(
    past: History,
    day: date,
    actual: float,
    charge: Recurring | None,
    currency: str,
    notes: list[str],
) -> str:
    """The reason of a spike or step: the day against the same days before it (the earlier
    occurrences of its recurring charge, else the same weekday in the last three weeks)."""
    if charge is not None:
        return reasons.against_past(
            actual, charge.when, charge.plural, charge.past, currency, notes
        )
    n = len(past.history)
    same_weekday = [past.history[n - lag] for lag in (WEEK, 2 * WEEK, 3 * WEEK) if lag <= n]
    weekday = day.strftime("%A")
    return reasons.against_past(actual, weekday, f"{weekday}s", same_weekday, currency, notes)
