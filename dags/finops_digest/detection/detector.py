"""Cost anomalies of one day per series, judged against the series' own recent history.

The expected cost of the judged day is the series' recent level times its weekly profile
(``history.History``):

* the weekly profile is, per weekday, the median over the last five weeks of that weekday's cost
  divided by its week's median (so growth and old level shifts do not bend it), shrunk towards flat
  as far as noise alone could have drawn it;
* the level is the larger of the median deseasonalised cost of the last 14 days and of the last
  3 days, so a permanent move up stops alerting on its third day and a move down never hides one;
* the noise is a robust (MAD) spread on the log scale, the larger of each day against its weekday
  in the other weeks and of each day against the days around it.

A day alerts when its cost exceeds the expected cost by every minimum at once: ``min_impact``
dollars, ``min_pct`` of the expected cost and ``min_sigmas`` noise deviations. Only increases alert.
A runaway ramp, which the fast level follows, alerts against the level of one to two weeks earlier
when the rise never paused and no single day's jump explains it. Young services (under two weeks)
and intermittent batch services also have to beat their largest day so far by the dollar and
percentage minimums; a service without any history alerts as new from ``min_impact``.
The detector is pure Python: no clock, no Airflow, no numpy.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from finops_digest.detection.series import History
from finops_digest.errors import FinopsError

HISTORY_DAYS = 35  # five weeks: five same-weekday values for the weekly profile
CENT = Decimal("0.01")


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


def detect(
    series: Mapping[tuple[str, ...], Sequence[Decimal | float]],
    day: date,
    thresholds: Thresholds = Thresholds(),  # noqa: B008 - frozen, so a shared default is safe
) -> list[Finding]:
    """Findings for ``day``, largest dollar impact first.

    Each series holds ``HISTORY_DAYS + 1`` daily costs, oldest first, ending with ``day``; missing
    days are 0, and a series that is all zeros before ``day`` is a new service.
    """
    findings = []
    for key, values in series.items():
        if len(values) != HISTORY_DAYS + 1:
            raise DetectionError(
                f"series {key!r} has {len(values)} daily costs: expected {HISTORY_DAYS + 1} "
                f"(HISTORY_DAYS={HISTORY_DAYS} days before {day} and {day} itself)"
            )
        verdict = _judge([float(v) for v in values], thresholds)
        if verdict is not None:
            kind, expected = verdict
            findings.append(_finding(tuple(key), day, kind, expected, values[-1], thresholds))
    findings.sort(key=lambda f: (-f.impact, f.series))
    return findings


def root_cause(
    actual: Mapping[str, Decimal], history: Mapping[str, Sequence[Decimal]]
) -> list[tuple[str, Decimal, float]]:
    """The contributors (accounts) that explain an anomaly: ``(contributor, impact, share)``.

    Each contributor's impact is its cost on the day minus its own expected cost; those that rose
    are returned largest first, with their share of the total rise, until the shares reach 99%
    (so the shares sum to about 1.0). Empty when no contributor rose.
    """
    rises = []
    for name in set(actual) | set(history):
        past = [max(float(v), 0.0) for v in history.get(name, ())]
        today = Decimal(str(actual.get(name, 0)))
        expected = History(past).expected
        impact = today - Decimal(expected).quantize(CENT)
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
) -> Finding:
    expected_money = Decimal(expected).quantize(CENT)
    actual = Decimal(str(actual_value)).quantize(CENT)
    impact = actual - expected_money
    pct = float(impact / expected_money) if expected_money > 0 else None
    return Finding(
        key, day, kind, expected_money, actual, impact, pct, _severity(impact, pct, thresholds)
    )


def _severity(impact: Decimal, pct: float | None, thresholds: Thresholds) -> str:
    """Dollar impact sets the step (low, medium, high); doubling or more raises it by one."""
    step = (impact >= thresholds.medium_impact) + (impact >= thresholds.high_impact)
    if pct is None or pct >= thresholds.high_pct:
        step += 1
    return ("low", "medium", "high")[min(step, 2)]


def _judge(values: list[float], thresholds: Thresholds) -> tuple[str, float] | None:
    """``(kind, expected)`` when the last value is an anomaly against the ones before it."""
    actual = values[-1]
    past = History([max(v, 0.0) for v in values[:-1]])
    min_impact = float(thresholds.min_impact)

    def exceeds(value: float, expected: float, sigmas: float = thresholds.min_sigmas) -> bool:
        rise = value - expected
        return (
            rise >= min_impact
            and rise >= thresholds.min_pct * expected
            and (expected <= 0 or math.log(value / expected) >= sigmas * past.sigma)
        )

    if past.shape == "empty":
        return ("new", 0.0) if actual >= min_impact else None
    if past.ceiling and not exceeds(actual, past.ceiling, sigmas=0.0):
        return None
    ramp_from = past.ramp_base(actual)
    if ramp_from is not None and exceeds(actual, ramp_from):
        return "ramp", ramp_from
    if not exceeds(actual, past.expected):
        return None
    yesterday = past.yesterday()
    return ("step" if yesterday and exceeds(*yesterday) else "spike"), past.expected
