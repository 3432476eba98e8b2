"""What a series' recent daily costs say about the next day: expected cost, noise, shape.

The shape, weekly profile, level and noise come from the last ``BASE_DAYS`` of the history; older
days only serve the bill's calendar (``bill_calendar``), through ``baseline``. Index ``i`` of a
history of ``n`` days lies ``n - i`` days before the judged day, so ``lag % 7 == 0`` is the judged
day's weekday. Noise is on the log scale: costs vary by a proportion of themselves.
"""

from __future__ import annotations

import bisect
import calendar
import math
from collections.abc import Sequence
from datetime import date, timedelta
from statistics import median

WEEK = 7
BASE_DAYS = 35  # five weeks: five same-weekday values for the weekly profile
LONG_DAYS = 14  # days behind the long level
SHORT_DAYS = 3  # days behind the fast level, which follows a permanent move within two days
RECENT_DAYS = 28  # days behind the level noise estimate
YOUNG_DAYS = 14  # a service active for fewer days has no reliable weekly profile yet
RAMP_MAX_JUMP = 0.4  # share of a ramp's rise its largest day-to-day jump stays under
RAMP_MARGIN = 0.5  # noise deviations by which each 3-day median of a ramp rises, at least
RAMP_STILL = 0.1  # share of a ramp's whole rise by which each 3-day median rises, at least
RAMP_RECENT = 0.4  # share of a ramp's whole rise made since the 3-day median of six days ago
QUIET = 0.05  # profile weight under which a weekday is too quiet to deseasonalise
BATCH_GAP = 4.0  # batch days cost at least this many times more than the days between (medians)
BATCH_SPLIT = 2.5  # ... and the cheapest batch this many times more than the dearest quiet day
MIN_BATCHES = 3  # batch days an intermittent service shows, at least (two could be monthly fees)
MIN_QUIET_SHARE = 0.25  # share of days without a batch, at least (a few $0 days are data gaps)
DIP_DAYS = (
    3,
    14,
)  # shortest and longest quieter stretch (a holiday, an outage) a level returns from
DIP_SHARE = 0.8  # a dip's median is at most this share of the level before it
PRE_DIP_DAYS = 10  # days before a dip whose level it returns to
GAP_SHARE = 0.1  # a day at most this share of its expected cost is a data gap
MIN_SIGMA = 0.02  # log noise floor: a perfectly flat history is not infinitely precise
SPARSE_SIGMA = 0.25  # log noise assumed, at least, for a young or batch service (few samples)
MAD_TO_SD = 1.4826


class History:
    """The statistics of the days before the judged one (non-negative costs, oldest first).

    ``shape`` is "empty" (no cost at all in the last ``BASE_DAYS``), "young" (active for fewer than
    ``YOUNG_DAYS``), "batch" (intermittent: days with and without a batch, at no fixed weekday) or
    "regular". The judged day must exceed ``ceiling`` to alert: the largest recent day of a young or
    batch service, whose weekly rhythm is not known well enough to be sure of anything less.
    """

    def __init__(self, values: Sequence[float], day: date | None = None) -> None:
        self.history = list(values)
        self.day = day  # the judged day, when known: the date of index i is ``n - i`` days before
        self.values = self.history[-BASE_DAYS:]
        n = len(self.values)
        self.start = next((i for i, v in enumerate(self.values) if v > 0), n)
        self.profile = [1.0] * WEEK
        self.ceiling = 0.0
        self.expected = 0.0
        self.long_level = 0.0
        self.short_level = 0.0
        self.sigma = SPARSE_SIGMA
        self._baselines: dict[int, float] = {}
        if self.start == n:
            self.shape = "empty"
        elif n - self.start < YOUNG_DAYS:
            self.shape = "young"
            self._fit_typical(self.values[self.start :], recent=WEEK)
        elif (batches := self._batches()) is not None:
            self.shape = "batch"
            self._fit_typical(batches, recent=len(batches))
            self.ceiling = max(self.values)
        else:
            self.shape = "regular"
            self._fit_regular()

    def baseline(self, i: int) -> float:
        """What day ``i`` of the whole history would have cost with nothing special on it: its
        weekday's share of the median level of the week either side of it (regular series only).
        """
        if i not in self._baselines:
            n = len(self.history)
            around = []
            for j in range(max(0, i - WEEK), min(n, i + WEEK + 1)):
                weight = self.profile[(n - j) % WEEK]
                if j != i and weight >= QUIET:
                    around.append(self.history[j] / weight)
            level = median(around) if around else 0.0
            self._baselines[i] = self.profile[(n - i) % WEEK] * level
        return self._baselines[i]

    def return_level(self) -> float:
        """The judged day's expected cost if the series is back at the level it held before a
        quieter stretch (a holiday week, an outage) that ended at most two days ago; 0.0 if none.

        The stretch lasted ``DIP_DAYS`` and its median was at most ``DIP_SHARE`` of the level of
        the ``PRE_DIP_DAYS`` before it; the days since are back at that level; and that level was
        the series' usual one, not a rise of the two weeks before it (a step that went away).
        """
        if self.shape != "regular" or self.profile[0] < QUIET:
            return 0.0
        n, best = len(self.values), 0.0
        shortest, longest = DIP_DAYS
        for end in (n, n - 1, n - 2):
            since = [d for d in self.deseasonalised[end:] if d is not None]
            for begin in range(end - shortest, end - longest - 1, -1):
                if begin - PRE_DIP_DAYS < self.start:
                    break
                before = self._level(begin - PRE_DIP_DAYS, begin, at_least=5)
                dip = self._level(begin, end, at_least=2)
                if not before or dip is None or dip > DIP_SHARE * before or before <= best:
                    continue
                if any(d < DIP_SHARE * before for d in since):
                    continue
                older = self._level(begin - PRE_DIP_DAYS - LONG_DAYS, begin - PRE_DIP_DAYS, 5)
                if older is None or before <= older / DIP_SHARE:
                    best = before
        return self.profile[0] * best

    def catch_up(self) -> float:
        """Yesterday's expected cost when yesterday was a data gap (at most ``GAP_SHARE`` of it):
        Cost Explorer may book the missing day's cost on the next. 0.0 otherwise."""
        if self.shape != "regular":
            return 0.0
        yesterday = self.profile[1] * self.long_level
        return yesterday if yesterday > 0 and self.values[-1] <= GAP_SHARE * yesterday else 0.0

    def ramp_base(self, actual: float) -> float | None:
        """The judged day's expected cost before a runaway ramp, or None when none is under way.

        A ramp is a rise over the last two weeks that never paused (the 3-day medians of the last
        nine days and the judged day each rise by ``RAMP_MARGIN`` noise deviations and by
        ``RAMP_STILL`` of the whole rise), that is still going on (``RAMP_RECENT`` of it in the
        last six days: a level that ramped up and stays is no ramp any more) and that no single
        day explains: its largest day-to-day jump is under ``RAMP_MAX_JUMP`` of the
        whole rise, which a step cannot manage. The fast level follows a ramp, so only this
        catches it.
        """
        n = len(self.values)
        if self.shape != "regular" or self.start > n - 2 * LONG_DAYS or self.profile[0] < QUIET:
            return None
        before = self._level(n - LONG_DAYS, n - WEEK)
        points = [self._level(n - end, n - end + 3, at_least=2) for end in (9, 6, 3)]
        points.append(actual / self.profile[0])
        if before is None or before <= 0 or any(p is None or p <= 0 for p in points):
            return None
        rise = math.log(points[-1] / before)
        margin = max(RAMP_MARGIN * self.sigma, RAMP_STILL * rise)
        if any(math.log(b / a) < margin for a, b in zip(points, points[1:], strict=False)):
            return None
        if math.log(points[-1] / points[1]) < RAMP_RECENT * rise:
            return None  # it has levelled off: what is left is the fast level catching up
        days = [d for d in self.deseasonalised[n - LONG_DAYS :] if d] + [points[-1]]
        jump = max(math.log(b / a) for a, b in zip(days, days[1:], strict=False))
        return self.profile[0] * before if rise > 0 and jump < RAMP_MAX_JUMP * rise else None

    def week_before(self) -> float:
        """The judged day's expected cost at the level of one to two weeks before (what a ramp
        is judged against); 0.0 when that level is unknown (regular series only)."""
        n = len(self.values)
        level = self._level(n - LONG_DAYS, n - WEEK) if self.shape == "regular" else None
        return self.profile[0] * level if level else 0.0

    def yesterday(self) -> tuple[float, float] | None:
        """The day before the judged one and its expected cost from the long level, to tell a
        step (already high yesterday) from a spike; None when the series has no level."""
        if self.shape != "regular":
            return None
        return self.values[-1], self.profile[1] * self.long_level

    def _fit_typical(self, values: list[float], recent: int) -> None:
        """Young and batch services: the median of recent active days, and the largest day."""
        active = [v for v in values if v > 0]
        self.expected = median(active[-recent:])
        deviations = [abs(math.log(v / self.expected)) for v in active]
        self.sigma = max(SPARSE_SIGMA, MAD_TO_SD * median(deviations))
        self.ceiling = max(active)

    def _batches(self) -> list[float] | None:
        """The batch days' costs when the recent days split into batch days and quiet days by a
        wide gap (``BATCH_SPLIT`` between the groups, ``BATCH_GAP`` between their medians), and
        the split follows no weekday (a weekly batch is a weekly profile). Each side
        needs enough days: at least ``MIN_BATCHES`` batches (one or two big days are monthly
        fees) and ``MIN_QUIET_SHARE`` of quiet days (a few days at $0 are data gaps)."""
        n = len(self.values)
        first = self.start
        recent = self.values[first:]
        ordered = sorted(recent)
        gap, cut, high = 0.0, 0.0, 0.0
        fewest_quiet = max(3, math.ceil(MIN_QUIET_SHARE * len(ordered)))
        for j in range(fewest_quiet - 1, len(ordered) - MIN_BATCHES):
            if ordered[j + 1] <= 0:
                continue
            ratio = ordered[j + 1] / ordered[j] if ordered[j] > 0 else math.inf
            if ratio < BATCH_SPLIT or ratio <= gap:
                continue
            quiet = _sorted_median(ordered, 0, j + 1)
            batch = _sorted_median(ordered, j + 1, len(ordered))
            if batch >= BATCH_GAP * quiet:
                gap, cut, high = ratio, ordered[j + 1], math.sqrt(ordered[j] * ordered[j + 1])
        if not gap:
            return None
        by_weekday: list[list[bool]] = [[] for _ in range(WEEK)]
        for i, v in enumerate(recent, start=first):
            by_weekday[(n - i) % WEEK].append(v >= cut)
        off_pattern = sum(min(sum(flags), len(flags) - sum(flags)) for flags in by_weekday)
        if off_pattern < 2 or self._monthly(cut, high):
            return None
        return [v for v in recent if v >= cut]

    def _monthly(self, cut: float, high: float) -> bool:
        """Whether the recent days from ``cut`` up are monthly charges rather than batches: each
        has a day above ``high`` (the middle of the gap under ``cut``) on the same day of the month
        a month before and a month after it, as far as the whole history covers them (for a
        month's last day, on any day from its date to that month's end)."""
        if self.day is None:
            return False
        n, offset = len(self.history), len(self.history) - len(self.values)
        for i, v in enumerate(self.values):
            if v < cut:
                continue
            then = self.day - timedelta(days=len(self.values) - i)
            # A month's last day also holds the charges of the days the month lacks.
            last = calendar.monthrange(then.year, then.month)[1] == then.day
            wanted = range(then.day, 32) if last else (then.day,)
            seen = 0
            for step in (-1, 1):
                year, month = divmod(then.year * 12 + then.month - 1 + step, 12)
                length = calendar.monthrange(year, month + 1)[1]
                others = [
                    offset + i + (date(year, month + 1, min(d, length)) - then).days for d in wanted
                ]
                others = [j for j in others if 0 <= j < n]
                if others and not any(self.history[j] > high for j in others):
                    return False  # a month without it: no monthly charge
                seen += bool(others)
            if not seen:
                return False
        return True

    def _fit_regular(self) -> None:
        n = len(self.values)
        profile_errors = self._fit_profile()
        self.deseasonalised = [
            v / self.profile[(n - i) % WEEK] if self.profile[(n - i) % WEEK] >= QUIET else None
            for i, v in enumerate(self.values)
        ]
        self.long_level = self._level(n - LONG_DAYS, n) or 0.0
        self.short_level = self._level(n - SHORT_DAYS, n, at_least=2) or 0.0
        self.expected = self.profile[0] * max(self.long_level, self.short_level)
        # Quiet weekdays (a weekly batch's other days) have their own noise; judge like by like.
        quiet = self.profile[0] < 0.5
        sigmas = []
        for errors in (profile_errors, self._level_errors()):
            alike = [e for lag, e in errors if (self.profile[lag % WEEK] < 0.5) == quiet]
            chosen = alike if len(alike) >= 5 else [e for _, e in errors]
            sigmas.append(MAD_TO_SD * median(chosen) if chosen else SPARSE_SIGMA)
        self.sigma = max(MIN_SIGMA, *sigmas)

    def _fit_profile(self) -> list[tuple[int, float]]:
        """Weekly profile from the full weeks of the whole history, each day scaled by its week's
        median; returns the ``(lag, log error)`` of each day against the median of its weekday in
        the other weeks."""
        n, values = len(self.history), self.history
        start = next((i for i, v in enumerate(values) if v > 0), n)
        ratios: list[list[float]] = [[] for _ in range(WEEK)]
        for week_end in range(n, start + WEEK - 1, -WEEK):
            week = values[week_end - WEEK : week_end]
            # The median, not the mean: one spike or one weekly batch day must not scale the week.
            middle = median(week)
            if middle > 0:
                for i, v in enumerate(week, start=week_end - WEEK):
                    ratios[(n - i) % WEEK].append(v / middle)
        profile = [median(r) if r else 1.0 for r in ratios]
        errors = []
        for weekday, found in enumerate(ratios):
            ordered = sorted(found)
            for ratio in found if len(found) >= 3 else ():
                others = _median_without(ordered, ratio)
                if ratio > 0 and others > 0:
                    errors.append((weekday, abs(math.log(ratio / others))))
        # Shrink the profile towards flat by how much of it noise alone would draw (James-Stein):
        # a series without weekly rhythm must not get one from five noisy weeks.
        logs = [math.log(p) for p in profile if p > 0]
        if errors and len(logs) == WEEK:
            centre = sum(logs) / WEEK
            spread = sum((x - centre) ** 2 for x in logs) / WEEK
            noise = (1.25 * MAD_TO_SD * median(e for _, e in errors)) ** 2 / max(map(len, ratios))
            keep = max(0.0, 1.0 - noise / spread) if spread > 0 else 0.0
            profile = [math.exp(centre + keep * (x - centre)) for x in logs]
        scale = sum(profile) / WEEK
        if scale > 0:
            self.profile = [p / scale for p in profile]
        return errors

    def _level_errors(self) -> list[tuple[int, float]]:
        """``(lag, log error)`` of each deseasonalised day of the whole history against the median
        of the days within a week of it: how far a day strays from its level."""
        n = len(self.history)
        d = [
            v / self.profile[(n - i) % WEEK] if self.profile[(n - i) % WEEK] >= QUIET else None
            for i, v in enumerate(self.history)
        ]
        start = next((i for i, v in enumerate(self.history) if v > 0), n)
        errors = []
        # The days within a week of day i, kept sorted as i moves on (a sliding window).
        window = sorted(v for v in d[start : start + WEEK] if v)
        for i in range(start, n):
            if i + WEEK < n and d[i + WEEK]:
                bisect.insort(window, d[i + WEEK])
            if i - WEEK - 1 >= start and d[i - WEEK - 1]:
                del window[bisect.bisect_left(window, d[i - WEEK - 1])]
            value = d[i]
            if value and len(window) > 4:
                errors.append((n - i, abs(math.log(value / _median_without(window, value)))))
        return errors

    def _level(self, begin: int, end: int, at_least: int = 1) -> float | None:
        """Median deseasonalised cost of days ``begin`` to ``end``, if enough are usable."""
        window = [d for d in self.deseasonalised[max(begin, self.start) : end] if d is not None]
        return median(window) if window and len(window) >= at_least else None


def _median_without(ordered: list[float], value: float) -> float:
    """The median of sorted ``ordered`` without one copy of ``value`` (which it holds)."""
    k = bisect.bisect_left(ordered, value)
    half = (len(ordered) - 1) // 2
    upper = ordered[half] if half < k else ordered[half + 1]
    if len(ordered) % 2 == 0:  # an odd number of others: the middle one
        return upper
    lower = ordered[half - 1] if half - 1 < k else ordered[half]
    return (lower + upper) / 2


def _sorted_median(ordered: list[float], begin: int, end: int) -> float:
    """The median of ``ordered[begin:end]``, already sorted."""
    middle = (begin + end) // 2
    return ordered[middle] if (end - begin) % 2 else (ordered[middle - 1] + ordered[middle]) / 2
