"""Benchmark the cost anomaly detector against two baselines on labelled daily-cost series.

    python benchmarks/anomaly_benchmark.py [--seed N] [--series N] [--start DATE] [--write-data PATH]
    python benchmarks/anomaly_benchmark.py --data labelled.csv

Without ``--data`` it generates the labelled data set of ``benchmarks/anomaly_data.py`` (fixed
seed, first day ``--start``); with it, it reads ``series_id,date,cost,is_anomaly`` rows (missing
days are cost 0).

Every detector walks forward over each series: day ``t`` is judged from the days before it only
(at most ``HISTORY_DAYS``, as many as the series has), from the series' ``MIN_HISTORY_DAYS``-th day
on (its first days are history, never judged; a series read from CSV starts at its first row and
ends at its last). Compared:

* ours: ``finops_digest.detection.detector.detect`` with default ``Thresholds``;
* day-over-day: cost rose > 50 % and >= ``min_impact`` dollars on the day before;
* mean + 3 sigma: cost above the mean plus 3 standard deviations of the 14 days before, and
  >= ``min_impact`` dollars above that mean.

Each detector is scored twice:

* pages: what the DAG mails. Each day's alerts go through the lifecycle the DAG applies
  (``finops_digest.detection.status.classify`` with the previous day's alerts): an alert pages when
  its series did not alert the day before ("new"); a continuing one is "still elevated" and does not
  page again; the same series alerting again after a day without counts as a new page;
* raw: every day's alert counts, as if each one paged.

Matching (event level):

* an event is a maximal run of consecutive labelled days of one series (a spike's day(s), a step's
  or new service's first day, a ramp's days once its cumulative excess passed ``min_impact``, a
  monthly charge grown 2-4x);
* TP: an event with at least one alert on one of its days; FN: an event with none;
* grace: the 2 days right after an event are not judged (a step or new service that is still
  alerting on its 2nd or 3rd day is neither a hit nor a false alert);
* FP, raw: every alert on a day that is neither an event day nor a grace day; FP, pages: every page
  whose run of alerts (the page and the days it stays elevated) touches no event or grace day;
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
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for path in (ROOT, ROOT / "dags"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from benchmarks.anomaly_data import (  # noqa: E402
    START,
    LabelledSeries,
    days,
    generate,
    read_csv,
    write_csv,
)
from finops_digest.detection.detector import (  # noqa: E402
    HISTORY_DAYS,
    MIN_HISTORY_DAYS,
    Thresholds,
    detect,
)
from finops_digest.detection.status import NEW, classify  # noqa: E402

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
    sent: int  # alerts (raw) or pages counted
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
        window = {
            (str(i),): s.costs[max(s.first, t - HISTORY_DAYS) : t + 1]
            for i, s in enumerate(data)
            if t in judged_days(s, len(calendar))
        }
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
        for t in judged_days(s, n_days)
        if rule(s.costs, t, min_impact)
    }


def judged_days(series: LabelledSeries, n_days: int) -> range:
    """The days of ``series`` that are judged: from its ``MIN_HISTORY_DAYS``-th day to its end."""
    return range(series.first + MIN_HISTORY_DAYS, series.end or n_days)


def pages_of(alerts: Alerts, calendar: Sequence[date]) -> Alerts:
    """The alerts that page: those ``classify`` (the DAG's lifecycle) calls new, day by day."""
    by_day: dict[int, list[int]] = defaultdict(list)
    for i, t in alerts:
        by_day[t].append(i)
    pages: Alerts = set()
    previous: list[dict] | None = None
    for t, day in enumerate(calendar):
        today = [{"ou": str(i), "service": ""} for i in sorted(by_day.get(t, ()))]
        previous = classify(today, day, previous, feedback=[])
        pages.update((int(a["ou"]), t) for a in previous if a["status"] == NEW)
    return pages


def events_of(data: Sequence[LabelledSeries]) -> list[_Event]:
    """Runs of labelled days on judged days, with their kind when the generator recorded it."""
    events = []
    for i, s in enumerate(data):
        kinds = {day: e.kind for e in s.events for day in e.label_days}
        judged = judged_days(s, len(s.labels))
        t = judged.start
        while t < judged.stop:
            if not s.labels[t]:
                t += 1
                continue
            run = [t]
            while run[-1] + 1 < judged.stop and s.labels[run[-1] + 1]:
                run.append(run[-1] + 1)
            kind = kinds.get(t) or ("step" if len(run) == 1 else "ramp" if len(run) >= 3 else "")
            events.append(_Event(i, run, kind))
            t = run[-1] + 1
    return events


def excused_days(events: Sequence[_Event]) -> set[tuple[int, int]]:
    """Event days and the grace days after each event: no alert there is false."""
    excused: set[tuple[int, int]] = set()
    for event in events:
        last = event.days[-1]
        excused.update((event.series, t) for t in event.days)
        excused.update((event.series, t) for t in range(last + 1, last + 1 + GRACE_DAYS))
    return excused


def false_alerts(alerts: Alerts, events: Sequence[_Event], pages: Alerts | None = None) -> Alerts:
    """Raw: the alerts off every event and grace day. Pages: the pages whose run of alerts (the
    page and the days it stays elevated) touches no event or grace day."""
    excused = excused_days(events)
    if pages is None:
        return alerts - excused
    false = set()
    for i, t in pages:
        run = t
        while (i, run) in alerts and (i, run) not in excused:
            run += 1
        if (i, run) not in excused:
            false.add((i, t))
    return false


def score(
    name: str,
    alerts: Alerts,
    events: Sequence[_Event],
    series_days: int,
    seconds: float,
    pages: Alerts | None = None,
) -> Score:
    """Event-level TP/FP/FN, false-alert rate and delays (see the module docstring); with
    ``pages``, false alerts are false pages."""
    tp = fn = 0
    step_delays: list[int] = []
    ramp_delays: list[int] = []
    for event in events:
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
    fp = len(false_alerts(alerts, events, pages))
    return Score(
        name,
        tp,
        fp,
        fn,
        len(alerts if pages is None else pages),
        fp * 100 / (series_days / 30) if series_days else 0.0,
        statistics.median(step_delays) if step_delays else None,
        statistics.median(ramp_delays) if ramp_delays else None,
        seconds,
    )


def evaluate(
    data: Sequence[LabelledSeries], calendar: Sequence[date], thresholds: Thresholds
) -> list[Score]:
    """Run ours and both baselines on ``data``; each scored on pages, then on raw alerts."""
    return [s for _, pair in evaluate_alerts(data, calendar, thresholds) for s in pair]


def evaluate_alerts(
    data: Sequence[LabelledSeries], calendar: Sequence[date], thresholds: Thresholds
) -> list[tuple[Alerts, tuple[Score, Score]]]:
    """Per detector (ours first): its raw alerts and its ``(pages, raw)`` scores."""
    events = events_of(data)
    n_days = len(calendar)
    series_days = sum(len(judged_days(s, n_days)) for s in data)
    min_impact = float(thresholds.min_impact)
    runs: list[tuple[str, Callable[[], Alerts]]] = [
        ("ours", lambda: run_ours(data, calendar, thresholds)),
        ("day-over-day >50%", lambda: run_rule(data, n_days, day_over_day, min_impact)),
        ("mean+3sd (14 d)", lambda: run_rule(data, n_days, three_sigma, min_impact)),
    ]
    results = []
    for name, run in runs:
        began = time.perf_counter()
        alerts = run()
        seconds = time.perf_counter() - began
        paged = score(
            f"{name}, pages", alerts, events, series_days, seconds, pages_of(alerts, calendar)
        )
        raw = score(f"{name}, raw daily alerts", alerts, events, series_days, seconds)
        results.append((alerts, (paged, raw)))
    return results


def by_feature(
    data: Sequence[LabelledSeries], calendar: Sequence[date], alerts: Alerts
) -> list[tuple[str, int, int, float]]:
    """``(calendar shape, series, false pages, per 100 series-months)`` per generated shape."""
    events = events_of(data)
    false = false_alerts(alerts, events, pages_of(alerts, calendar))
    rows = []
    names = sorted({f for s in data for f in s.features})
    for name in ["none", *names]:
        members = {
            i
            for i, s in enumerate(data)
            if (name in s.features or (name == "none" and not s.features))
        }
        count = sum(1 for i, _ in false if i in members)
        months = sum(len(judged_days(data[i], len(calendar))) for i in members) / 30
        rows.append((name, len(members), count, count * 100 / months if months else 0.0))
    return rows


def table(scores: Sequence[Score]) -> str:
    """A Markdown table of the scores."""

    def days_or_dash(value: float | None) -> str:
        return "-" if value is None else f"{value:g}"

    lines = [
        "| detector | precision | recall | F1 | TP | FP | FN | sent | false alerts / 100 "
        "series-months | step delay (d) | ramp delay (d) | runtime (s) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for s in scores:
        lines.append(
            f"| {s.name} | {s.precision:.3f} | {s.recall:.3f} | {s.f1:.3f} | {s.tp} | {s.fp} "
            f"| {s.fn} | {s.sent} | {s.false_per_100_months:.2f} "
            f"| {days_or_dash(s.step_delay)} | {days_or_dash(s.ramp_delay)} | {s.seconds:.1f} |"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, help="labelled CSV: series_id,date,cost,is_anomaly")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="generator seed")
    parser.add_argument("--series", type=int, default=500, help="number of generated series")
    parser.add_argument(
        "--start",
        type=date.fromisoformat,
        default=START,
        help=f"first day of the generated data set (default {START})",
    )
    parser.add_argument("--write-data", type=Path, help="also save the generated data set here")
    args = parser.parse_args(argv)

    thresholds = Thresholds()
    if args.data:
        calendar, data = read_csv(args.data)
        source = str(args.data)
    else:
        data = generate(
            args.series, args.seed, float(thresholds.min_impact), thresholds.min_pct, args.start
        )
        calendar = days(start=args.start)
        source = f"generated, seed {args.seed}, from {args.start}"
        if args.write_data:
            write_csv(args.write_data, data, args.start)
            print(f"wrote {args.write_data}")
    began = time.perf_counter()
    results = evaluate_alerts(data, calendar, thresholds)
    scores = [s for _, pair in results for s in pair]
    events = scores[0].tp + scores[0].fn
    judged = sum(len(judged_days(s, len(calendar))) for s in data)
    print(
        f"{len(data)} series x up to {len(calendar)} days ({source}); each judged once it has "
        f"{MIN_HISTORY_DAYS} days ({judged:,} series-days, {judged / 30:,.0f} series-months); "
        f"{events} labelled events; "
        f"min_impact ${thresholds.min_impact}, min_pct {thresholds.min_pct:g}\n"
    )
    print(table(scores))
    features = by_feature(data, calendar, results[0][0])
    if len(features) > 1:
        print("\nours, false pages by calendar shape (a series may have two):")
        for name, members, count, rate in features:
            print(
                f"  {name:<13} {members:>4} series  {count:>3} false  {rate:5.2f} / 100 series-months"
            )
    print(f"\ntotal {time.perf_counter() - began:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
