"""What a series' recent daily costs say about the next day: expected cost, noise, shape.

Index ``i`` of a history of ``n`` days lies ``n - i`` days before the judged day, so ``lag % 7 == 0``
is the judged day's weekday. Noise is on the log scale: costs vary by a proportion of themselves.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from statistics import median

WEEK = 7
LONG_DAYS = 14  # days behind the long level
SHORT_DAYS = 3  # days behind the fast level, which follows a permanent move within two days
RECENT_DAYS = 28  # days behind the level noise estimate
YOUNG_DAYS = 14  # a service active for fewer days has no reliable weekly profile yet
RAMP_MAX_JUMP = 0.4  # share of a ramp's rise its largest day-to-day jump stays under
RAMP_MARGIN = 0.5  # noise deviations by which each 3-day median of a ramp rises, at least
QUIET = 0.05  # profile weight under which a weekday is too quiet to deseasonalise
BATCH_GAP = 4.0  # batch days cost at least this many times more than the days between them
MIN_SIGMA = 0.02  # log noise floor: a perfectly flat history is not infinitely precise
SPARSE_SIGMA = 0.25  # log noise assumed, at least, for a young or batch service (few samples)
MAD_TO_SD = 1.4826


class History:
    """The statistics of the days before the judged one (non-negative costs, oldest first).

    ``shape`` is "empty" (no cost at all), "young" (active for fewer than ``YOUNG_DAYS``),
    "batch" (intermittent: days with and without a batch, at no fixed weekday) or "regular".
    The judged day must exceed ``ceiling`` to alert: the largest recent day of a young or batch
    service, whose weekly rhythm is not known well enough to be sure of anything less.
    """

    def __init__(self, values: Sequence[float]) -> None:
        self.values = list(values)
        n = len(self.values)
        self.start = next((i for i, v in enumerate(self.values) if v > 0), n)
        self.profile = [1.0] * WEEK
        self.ceiling = 0.0
        self.expected = 0.0
        self.sigma = SPARSE_SIGMA
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

    def ramp_base(self, actual: float) -> float | None:
        """The judged day's expected cost before a runaway ramp, or None when none is under way.

        A ramp is a rise over the last two weeks that never paused (the 3-day medians of the last
        nine days and the judged day each rise by ``RAMP_MARGIN`` noise deviations) and that no
        single day explains: its largest day-to-day jump is under ``RAMP_MAX_JUMP`` of the whole
        rise, which a step cannot manage. The fast level follows a ramp, so only this catches it.
        """
        n = len(self.values)
        if self.shape != "regular" or self.start > n - 2 * LONG_DAYS or self.profile[0] < QUIET:
            return None
        before = self._level(n - LONG_DAYS, n - WEEK)
        points = [self._level(n - end, n - end + 3, at_least=2) for end in (9, 6, 3)]
        points.append(actual / self.profile[0])
        if before is None or before <= 0 or any(p is None or p <= 0 for p in points):
            return None
        margin = RAMP_MARGIN * self.sigma
        if any(math.log(b / a) < margin for a, b in zip(points, points[1:], strict=False)):
            return None
        rise = math.log(points[-1] / before)
        days = [d for d in self.deseasonalised[n - LONG_DAYS :] if d] + [points[-1]]
        jump = max(math.log(b / a) for a, b in zip(days, days[1:], strict=False))
        return self.profile[0] * before if rise > 0 and jump < RAMP_MAX_JUMP * rise else None

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
        wide gap, and the split follows no weekday (a weekly batch is a weekly profile)."""
        n = len(self.values)
        first = self.start
        recent = self.values[first:]
        ordered = sorted(recent)
        gap, cut = 0.0, 0.0
        for j in range(2, len(ordered) - 2):
            ratio = ordered[j + 1] / ordered[j] if ordered[j] > 0 else math.inf
            if ratio > gap:
                gap, cut = ratio, ordered[j + 1]
        if gap < BATCH_GAP:
            return None
        by_weekday: list[list[bool]] = [[] for _ in range(WEEK)]
        for i, v in enumerate(recent, start=first):
            by_weekday[(n - i) % WEEK].append(v >= cut)
        off_pattern = sum(min(sum(flags), len(flags) - sum(flags)) for flags in by_weekday)
        return [v for v in recent if v >= cut] if off_pattern >= 2 else None

    def _fit_regular(self) -> None:
        n = len(self.values)
        profile_errors = self._fit_profile()
        self.deseasonalised = [
            v / self.profile[(n - i) % WEEK] if self.profile[(n - i) % WEEK] >= QUIET else None
            for i, v in enumerate(self.values)
        ]
        self.long_level = self._level(n - LONG_DAYS, n) or 0.0
        short = self._level(n - SHORT_DAYS, n, at_least=2) or 0.0
        self.expected = self.profile[0] * max(self.long_level, short)
        # Quiet weekdays (a weekly batch's other days) have their own noise; judge like by like.
        quiet = self.profile[0] < 0.5
        sigmas = []
        for errors in (profile_errors, self._level_errors()):
            alike = [e for lag, e in errors if (self.profile[lag % WEEK] < 0.5) == quiet]
            chosen = alike if len(alike) >= 5 else [e for _, e in errors]
            sigmas.append(MAD_TO_SD * median(chosen) if chosen else SPARSE_SIGMA)
        self.sigma = max(MIN_SIGMA, *sigmas)

    def _fit_profile(self) -> list[tuple[int, float]]:
        """Weekly profile from the full weeks, each day scaled by its week's median; returns the
        ``(lag, log error)`` of each day against the median of its weekday in the other weeks."""
        n, values = len(self.values), self.values
        ratios: list[list[float]] = [[] for _ in range(WEEK)]
        for week_end in range(n, self.start + WEEK - 1, -WEEK):
            week = values[week_end - WEEK : week_end]
            # The median, not the mean: one spike or one weekly batch day must not scale the week.
            middle = median(week)
            if middle > 0:
                for i, v in enumerate(week, start=week_end - WEEK):
                    ratios[(n - i) % WEEK].append(v / middle)
        profile = [median(r) if r else 1.0 for r in ratios]
        errors = []
        for weekday, found in enumerate(ratios):
            for j, ratio in enumerate(found if len(found) >= 3 else ()):
                others = median(found[:j] + found[j + 1 :])
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
        """``(lag, log error)`` of each recent deseasonalised day against the median of the days
        within a week of it: how far a day strays from its level."""
        n, d = len(self.values), self.deseasonalised
        errors = []
        for i in range(max(self.start, n - RECENT_DAYS), n):
            if not d[i]:
                continue
            around = [v for v in d[max(self.start, i - WEEK) : i + WEEK + 1] if v]
            around.remove(d[i])
            if len(around) >= 4:
                errors.append((n - i, abs(math.log(d[i] / median(around)))))
        return errors

    def _level(self, begin: int, end: int, at_least: int = 1) -> float | None:
        """Median deseasonalised cost of days ``begin`` to ``end``, if enough are usable."""
        window = [d for d in self.deseasonalised[max(begin, self.start) : end] if d is not None]
        return median(window) if window and len(window) >= at_least else None
