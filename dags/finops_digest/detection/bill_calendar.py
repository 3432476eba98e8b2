"""Charges a bill's calendar puts on top of a series' daily level, from their earlier occurrences.

AWS bills carry costs that recur on a date rather than with usage: support plans, Marketplace
subscriptions and monthly Savings Plan or RI fees land on the same day of every month (the 1st, the
last day, or any other; a day a month lacks falls on its last day), and batch jobs run every few
days. Each occurrence is measured as its excess over its ``History.baseline`` (the day's weekday
share of the level of the days around it):

* monthly: the same day of the month in each of the last ``MONTHS`` months the history covers
  (and, on a month's last day, each month's last day and the days this month lacks: a charge on
  the 30th falls on 28 February); the usual charge is the lower median excess (of two, the
  smaller), so a charge that stopped or only started last month is not usual yet, and it counts only when it
  clearly exceeds the baseline (half the relative and noise minimums: noise is no charge);
* every N days (2 to ``LONGEST_PERIOD``): the days N, 2N and 3N back (two of them while the history
  is shorter) all clearly exceeded their baseline (half of every alerting minimum) while the day
  midway between each and the next stayed under half of that excess, so neither chance spikes nor a stretch that is
  elevated throughout (a ramp, a step) line up into a period.

Pure Python, no clock: the judged day's date comes from the caller.
"""

from __future__ import annotations

import calendar
import math
from dataclasses import dataclass
from datetime import date
from statistics import median, median_low

from finops_digest.detection.series import History

MONTHS = 3  # monthly occurrences looked at: three months back is at most 92 days before the day
LONGEST_PERIOD = 31
PERIOD_OCCURRENCES = 3  # earlier batches looked at, at most
FEWEST_OCCURRENCES = 2  # earlier batches a period needs, at least (three once the history has them)
CHARGE_SIGMA = 0.05  # log noise of a recurring charge, at least (fixed fees hardly vary)
ONE_CHARGE_SIGMA = 0.12  # log noise assumed of a charge seen once before
CALM_SHARE = 0.5  # a day between two batches exceeds its baseline by less than this share of one
MATERIAL = 0.5  # share of each alerting minimum a usual charge exceeds its baseline by, at least
MAD_TO_SD = 1.4826


@dataclass(frozen=True)
class Recurring:
    """The usual charge a day carries on top of its daily level, and its earlier occurrences."""

    extra: float  # the usual charge on top of the daily level
    sigma: float  # its log noise
    when: str  # "the 1st", "the last day of the month", "an every-3-days batch day"
    plural: str  # "1sts", "month-ends", "batch days"
    past: tuple[float, ...]  # the costs on its earlier occurrences, most recent first


def recurring_charge(
    history: History,
    day: date,
    index: int,
    min_impact: float,
    min_pct: float,
    min_sigmas: float,
) -> Recurring | None:
    """The largest recurring charge on ``day``, index ``index`` of ``history.history`` (its length
    for the judged day itself), or None when its calendar shows none (regular series only)."""
    if history.shape != "regular":
        return None
    found = _monthly(history, day, index, min_impact, min_pct, min_sigmas)
    # Every multiple of a batch's period lines up too: the shortest one is the batch's own.
    found += _periodic(history, index, min_impact, min_pct, min_sigmas)[:1]
    return max(found, key=lambda r: r.extra, default=None)


def ordinal(n: int) -> str:
    """1st, 2nd, 3rd, 4th, ..., 11th, 12th, 13th, ..., 21st, 22nd, 23rd, ..., 31st."""
    suffix = "th" if 11 <= n % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _monthly(
    history: History, day: date, index: int, min_impact: float, min_pct: float, min_sigmas: float
) -> list[Recurring]:
    last = calendar.monthrange(day.year, day.month)[1]
    # On a month's last day: charges on each month's last day, and on the days this month lacks.
    keys: list[int | None] = [day.day]
    if day.day == last:
        keys += [None, *range(last + 1, 32)]
    found = []
    for key in keys:
        occurrences = []
        for back in range(1, MONTHS + 1):
            year, month = divmod(day.year * 12 + day.month - 1 - back, 12)
            length = calendar.monthrange(year, month + 1)[1]
            then = date(year, month + 1, length if key is None else min(key, length))
            i = index - (day - then).days
            if i >= 0:
                occurrences.append(i)
        if not occurrences:
            continue
        baselines = [history.baseline(i) for i in occurrences]
        excess = [
            max(0.0, history.history[i] - b) for i, b in zip(occurrences, baselines, strict=True)
        ]
        # The lower median: of two occurrences, both must have had it.
        extra = median_low(excess)
        # However small in dollars: a charge that always comes is no anomaly, nor part of one.
        material = _material(extra, median(baselines), history.sigma, 0.0, min_pct, min_sigmas)
        if extra <= 0 or not material:
            continue
        sigma = _spread(excess, extra) if len(excess) > 1 else ONE_CHARGE_SIGMA
        if key == day.day:
            when, plural = f"the {ordinal(day.day)}", f"{ordinal(day.day)}s"
        else:
            when = "the last day of the month"
            plural = "month-ends" if key is None else f"{ordinal(key)}s"
        past = tuple(history.history[i] for i in occurrences)
        found.append(Recurring(extra, sigma, when, plural, past))
    return found


def _periodic(
    history: History, index: int, min_impact: float, min_pct: float, min_sigmas: float
) -> list[Recurring]:
    found = []
    for period in range(2, LONGEST_PERIOD + 1):
        back = range(1, PERIOD_OCCURRENCES + 1)
        occurrences = [index - k * period for k in back if index - k * period >= 0]
        if len(occurrences) < FEWEST_OCCURRENCES:
            break
        excess = []
        for i in occurrences:
            baseline = history.baseline(i)
            rise = history.history[i] - baseline
            if not _material(rise, baseline, history.sigma, min_impact, min_pct, min_sigmas):
                break
            # Between two batches the cost is back at its level: an elevated stretch is no batch.
            between = i + period // 2
            if history.history[between] - history.baseline(between) >= CALM_SHARE * rise:
                break
            excess.append(rise)
        else:
            extra = median(excess)
            spread = _spread(excess, extra)
            past = tuple(history.history[i] for i in occurrences)
            when = f"an every-{period}-days batch day"
            found.append(Recurring(extra, max(history.sigma, spread), when, "batch days", past))
    return found


def _material(
    rise: float, baseline: float, sigma: float, min_impact: float, min_pct: float, min_sigmas: float
) -> bool:
    """Whether ``rise`` over ``baseline`` beats ``MATERIAL`` of every alerting minimum."""
    return (
        rise >= MATERIAL * min_impact
        and rise >= MATERIAL * min_pct * baseline
        and (baseline <= 0 or math.log1p(rise / baseline) >= MATERIAL * min_sigmas * sigma)
    )


def _spread(excess: list[float], extra: float) -> float:
    """Robust log noise of a charge's occurrences around their median (MAD), with its floor."""
    deviations = [abs(math.log(e / extra)) if e > 0 else math.inf for e in excess]
    return min(1.0, max(CHARGE_SIGMA, MAD_TO_SD * median(deviations)))
