"""Benchmark the cost anomaly detector against two baselines on labelled daily-cost series.

    python benchmarks/anomaly_benchmark.py [--seed N] [--series N] [--write-data PATH]
    python benchmarks/anomaly_benchmark.py --data labelled.csv

Without ``--data`` it generates the labelled data set of ``benchmarks/anomaly_data.py`` (fixed
seed); with it, it reads ``series_id,date,cost,is_anomaly`` rows (missing days are cost 0).

Every detector walks forward over each series: day ``t`` is judged from the days before it only
(at most ``HISTORY_DAYS``, as many as the series has), for every ``t >= MIN_HISTORY_DAYS`` (earlier
days are history, never judged). Compared:

* ours: ``finops_digest.detection.detector.detect`` with default ``Thresholds``;
* day-over-day: cost rose > 50 % and >= ``min_impact`` dollars on the day before;
* mean + 3 sigma: cost above the mean plus 3 standard deviations of the 14 days before, and
  >= ``min_impact`` dollars above that mean.

Matching (event level):

* an event is a maximal run of consecutive labelled days of one series (a spike's day(s), a step's
  or new service's first day, a ramp's days once its cumulative excess passed ``min_impact``);
* TP: an event with at least one alert on one of its days; FN: an event with none;
* grace: the 2 days right after an event are not judged (a step or new service that is still
  alerting on its 2nd or 3rd day is neither a hit nor a false alert);
* FP: every alert on a day that is neither an event day nor a grace day;
* precision = TP / (TP + FP), recall = TP / (TP + FN), F1 their harmonic mean;
* false alerts per 100 series-months: FP * 100 / (judged series-days / 30);
* delay: for steps, days from the step's first day to its first alert within its first 3 days; for
  ramps, days from its first labelled day to its first alert on a labelled day (events never caught
  are left out of the median). With ``--data`` the kind is not in the file: one-day events count as
  steps and events of 3 days or more as ramps.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for path in (ROOT, ROOT / "dags"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from benchmarks.anomaly_data import LabelledSeries, days, generate, read_csv, write_csv  # noqa: E402
from finops_digest.detection.detector import (  # noqa: E402
    HISTORY_DAYS,
    MIN_HISTORY_DAYS,
    Thresholds,
    detect,
)

DEFAULT_SEED = 20250914
GRACE_DAYS = 2
BASELINE_WINDOW = 14

Alerts = set[tuple[int, int]]  # (series index, day index)


@dataclass
class Score:
    """One detector's figures on one data set."""

    name: str
    tp: int
    fp: int
    fn: int
    false_per_100_months: float
    step_delay: float | None
    ramp_delay: float | None
    seconds: float

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass
class _Event:
    series: int
    days: list[int]
    kind: str


def run_ours(
    data: Sequence[LabelledSeries], calendar: Sequence[date], thresholds: Thresholds
) -> Alerts:
    """Our detector, one call per day over every series, as the DAG calls it."""
    alerts: Alerts = set()
    for t in range(MIN_HISTORY_DAYS, len(calendar)):
        first = max(0, t - HISTORY_DAYS)
        window = {(str(i),): s.costs[first : t + 1] for i, s in enumerate(data)}
        for finding in detect(window, calendar[t], thresholds):
            alerts.add((int(finding.series[0]), t))
    return alerts


def day_over_day(costs: Sequence[float], t: int, min_impact: float) -> bool:
    """Baseline (a): more than 50 % and ``min_impact`` dollars above the day before."""
    before = costs[t - 1]
    return costs[t] > 1.5 * before and costs[t] - before >= min_impact


def three_sigma(costs: Sequence[float], t: int, min_impact: float) -> bool:
    """Baseline (b): above mean + 3 standard deviations of the 14 days before, by ``min_impact``."""
    window = costs[t - BASELINE_WINDOW : t]
    mean = statistics.fmean(window)
    return costs[t] > mean + 3 * statistics.pstdev(window) and costs[t] - mean >= min_impact


def run_rule(
    data: Sequence[LabelledSeries],
    n_days: int,
    rule: Callable[[Sequence[float], int, float], bool],
    min_impact: float,
) -> Alerts:
    """A per-series rule over the same judged days as ours."""
    return {
        (i, t)
        for i, s in enumerate(data)
        for t in range(MIN_HISTORY_DAYS, n_days)
        if rule(s.costs, t, min_impact)
    }


def events_of(data: Sequence[LabelledSeries]) -> list[_Event]:
    """Runs of labelled days on judged days, with their kind when the generator recorded it."""
    events = []
    for i, s in enumerate(data):
        kinds = {day: e.kind for e in s.events for day in e.label_days}
        t = MIN_HISTORY_DAYS
        while t < len(s.labels):
            if not s.labels[t]:
                t += 1
                continue
            run = [t]
            while run[-1] + 1 < len(s.labels) and s.labels[run[-1] + 1]:
                run.append(run[-1] + 1)
            kind = kinds.get(t) or ("step" if len(run) == 1 else "ramp" if len(run) >= 3 else "")
            events.append(_Event(i, run, kind))
            t = run[-1] + 1
    return events


def score(
    name: str, alerts: Alerts, events: Sequence[_Event], series_days: int, seconds: float
) -> Score:
    """Event-level TP/FP/FN, false-alert rate and delays (see the module docstring)."""
    excused: set[tuple[int, int]] = set()
    tp = fn = 0
    step_delays: list[int] = []
    ramp_delays: list[int] = []
    for event in events:
        last = event.days[-1]
        excused.update((event.series, t) for t in event.days)
        excused.update((event.series, t) for t in range(last + 1, last + 1 + GRACE_DAYS))
        hits = [t for t in event.days if (event.series, t) in alerts]
        if hits:
            tp += 1
        else:
            fn += 1
        if event.kind in ("step", "new"):
            first = event.days[0]
            late = [t for t in range(first, first + 1 + GRACE_DAYS) if (event.series, t) in alerts]
            if late and event.kind == "step":
                step_delays.append(late[0] - first)
        elif event.kind == "ramp" and hits:
            ramp_delays.append(hits[0] - event.days[0])
    fp = len(alerts - excused)
    return Score(
        name,
        tp,
        fp,
        fn,
        fp * 100 / (series_days / 30) if series_days else 0.0,
        statistics.median(step_delays) if step_delays else None,
        statistics.median(ramp_delays) if ramp_delays else None,
        seconds,
    )


def evaluate(
    data: Sequence[LabelledSeries], calendar: Sequence[date], thresholds: Thresholds
) -> list[Score]:
    """Run ours and both baselines on ``data``; the scores, ours first."""
    events = events_of(data)
    n_days = len(calendar)
    series_days = len(data) * max(0, n_days - MIN_HISTORY_DAYS)
    min_impact = float(thresholds.min_impact)
    runs: list[tuple[str, Callable[[], Alerts]]] = [
        ("ours", lambda: run_ours(data, calendar, thresholds)),
        ("day-over-day >50%", lambda: run_rule(data, n_days, day_over_day, min_impact)),
        ("mean+3sd (14 d)", lambda: run_rule(data, n_days, three_sigma, min_impact)),
    ]
    scores = []
    for name, run in runs:
        began = time.perf_counter()
        alerts = run()
        scores.append(score(name, alerts, events, series_days, time.perf_counter() - began))
    return scores


def table(scores: Sequence[Score]) -> str:
    """A Markdown table of the scores."""

    def days_or_dash(value: float | None) -> str:
        return "-" if value is None else f"{value:g}"

    lines = [
        "| detector | precision | recall | F1 | TP | FP | FN | false alerts / 100 series-months "
        "| step delay (d) | ramp delay (d) | runtime (s) |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for s in scores:
        lines.append(
            f"| {s.name} | {s.precision:.3f} | {s.recall:.3f} | {s.f1:.3f} | {s.tp} | {s.fp} "
            f"| {s.fn} | {s.false_per_100_months:.2f} | {days_or_dash(s.step_delay)} "
            f"| {days_or_dash(s.ramp_delay)} | {s.seconds:.1f} |"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, help="labelled CSV: series_id,date,cost,is_anomaly")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="generator seed")
    parser.add_argument("--series", type=int, default=500, help="number of generated series")
    parser.add_argument("--write-data", type=Path, help="also save the generated data set here")
    args = parser.parse_args(argv)

    thresholds = Thresholds()
    if args.data:
        calendar, data = read_csv(args.data)
        source = str(args.data)
    else:
        data = generate(args.series, args.seed, float(thresholds.min_impact), thresholds.min_pct)
        calendar = days()
        source = f"generated, seed {args.seed}"
        if args.write_data:
            write_csv(args.write_data, data)
            print(f"wrote {args.write_data}")
    began = time.perf_counter()
    scores = evaluate(data, calendar, thresholds)
    events = scores[0].tp + scores[0].fn
    print(
        f"{len(data)} series x {len(calendar)} days ({source}); {events} labelled events; "
        f"min_impact ${thresholds.min_impact}, min_pct {thresholds.min_pct:g}\n"
    )
    print(table(scores))
    print(f"\ntotal {time.perf_counter() - began:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
