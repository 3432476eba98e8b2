"""Labelled synthetic daily-cost series for the anomaly benchmark, and their CSV form.

Each series is a realistic shape (level from $1 to $50k/day, log-uniform; weekly rhythm; slow growth
or decline; multiplicative noise of varied size with some day-to-day correlation; old permanent
level shifts; intermittent batch-like and weekly-batch services; tiny services; new services) with
at most two injected events: one-day or two-day spikes, step-ups, accelerating ramps and new
services. Some events are deliberately below the alerting minimums and labelled 0.

Labels (``is_anomaly``), with ``min_impact``/``min_pct`` the detector's minimums:

* spike: each of its days; step: its first day only; new service: its first day only;
* ramp: each day from the one on which its cumulative excess reaches ``min_impact`` until it ends;
* an event is labelled only if it is clearly an anomaly: its dollar impact is at least
  ``1.5 * min_impact``, its relative impact at least ``1.5 * min_pct`` and at least six noise
  standard deviations on the log scale (``exp(6 * cv) - 1``; for an intermittent service, at least
  2.5 times its typical batch on top). Events below ``0.5 * min_impact`` or ``0.5 * min_pct`` are
  generated on purpose and labelled 0 (they must not fire); no event falls in between, so every
  label is unambiguous. Noise alone is never labelled, however unlikely a day.
"""

from __future__ import annotations

import csv
import math
import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

N_DAYS = 120
START = date(2025, 3, 3)
FIRST_EVENT_DAY = 40  # events land where the detector has its full history behind them
CSV_HEADER = ("series_id", "date", "cost", "is_anomaly")


@dataclass
class Event:
    """One injected change; ``label_days`` is empty when it is below the minimums."""

    kind: str  # "spike" | "step" | "ramp" | "new"
    start: int
    label_days: list[int] = field(default_factory=list)


@dataclass
class LabelledSeries:
    """One series' daily costs (index 0 is ``START``) with its labels and injected events."""

    series_id: str
    costs: list[float]
    labels: list[int]
    events: list[Event]


def generate(
    n_series: int = 500, seed: int = 0, min_impact: float = 100.0, min_pct: float = 0.2
) -> list[LabelledSeries]:
    """``n_series`` labelled series of ``N_DAYS`` days, reproducible from ``seed``."""
    rng = random.Random(seed)
    return [_one_series(rng, f"s{i:04d}", min_impact, min_pct) for i in range(n_series)]


@dataclass
class _Shape:
    level: float
    cv: float  # relative noise standard deviation
    weekly: list[float]
    trend: list[float]  # multiplicative level per day (growth, old shifts)
    start: int = 0  # first day with cost (new services)
    burst_p: float = 0.0  # intermittent: probability a day carries a batch


def _one_series(rng: random.Random, sid: str, min_impact: float, min_pct: float) -> LabelledSeries:
    shape = _draw_shape(rng)
    clean = [_clean_value(shape, t) for t in range(N_DAYS)]
    noise = _noise(rng, shape)
    costs = [c * n for c, n in zip(clean, noise, strict=True)]
    if shape.burst_p:
        costs = _intermittent(rng, shape, costs)
    events: list[Event] = []
    if shape.start:
        events.append(_label_new(shape, costs, min_impact))
    else:
        busy: set[int] = set()
        for _ in range(rng.choices([0, 1, 2], [0.35, 0.45, 0.2])[0]):
            event = _inject(rng, shape, clean, costs, busy, min_impact, min_pct)
            if event is not None:
                events.append(event)
    labels = [0] * N_DAYS
    for event in events:
        for t in event.label_days:
            labels[t] = 1
    return LabelledSeries(sid, [round(max(c, 0.0), 2) for c in costs], labels, events)


def _draw_shape(rng: random.Random) -> _Shape:
    level = math.exp(rng.uniform(math.log(1.0), math.log(50_000.0)))
    if rng.random() < 0.1:  # tiny services
        level = math.exp(rng.uniform(math.log(0.05), math.log(5.0)))
    cv = math.exp(rng.uniform(math.log(0.02), math.log(0.3)))
    weekly = [1.0] * 7
    rhythm = rng.random()
    if rhythm < 0.45:  # quieter weekends
        weekend = rng.uniform(0.3, 0.9)
        weekly = [1.0] * 5 + [weekend, weekend]
    elif rhythm < 0.6:  # irregular weekly profile
        weekly = [math.exp(rng.gauss(0, 0.25)) for _ in range(7)]
    elif rhythm < 0.65:  # weekly batch: most cost on one weekday
        weekly = [0.05] * 7
        weekly[rng.randrange(7)] = 3.0
    offset = rng.randrange(7)
    weekly = weekly[offset:] + weekly[:offset]
    mean = sum(weekly) / 7
    weekly = [w / mean for w in weekly]

    growth = rng.uniform(-0.002, 0.006) if rng.random() < 0.7 else 0.0
    trend = [(1 + growth) ** t for t in range(N_DAYS)]
    if rng.random() < 0.3:  # an old permanent level shift (up before the judged days, or down)
        if rng.random() < 0.5:
            at, factor = rng.randrange(5, 30), rng.uniform(1.3, 2.5)
        else:
            at, factor = rng.randrange(5, N_DAYS - 5), rng.uniform(0.3, 0.8)
        trend = [v * (factor if t >= at else 1.0) for t, v in enumerate(trend)]
    shape = _Shape(level, cv, weekly, trend)
    if rng.random() < 0.08:
        shape.burst_p = rng.uniform(0.15, 0.5)
        shape.weekly = [1.0] * 7  # batches at no fixed weekday
    elif rng.random() < 0.08:
        shape.start = rng.randrange(FIRST_EVENT_DAY, N_DAYS - 5)
    return shape


def _clean_value(shape: _Shape, t: int) -> float:
    if t < shape.start:
        return 0.0
    return shape.level * shape.weekly[t % 7] * shape.trend[t]


def _noise(rng: random.Random, shape: _Shape) -> list[float]:
    """Lognormal multiplicative noise with mild AR(1) correlation, unit marginal sd ``cv``."""
    phi = rng.uniform(0.0, 0.4)
    z, out = rng.gauss(0, 1), []
    for _ in range(N_DAYS):
        z = phi * z + math.sqrt(1 - phi * phi) * rng.gauss(0, 1)
        out.append(math.exp(shape.cv * z - shape.cv * shape.cv / 2))
    return out


def _intermittent(rng: random.Random, shape: _Shape, costs: list[float]) -> list[float]:
    """Batch-like service: a small base, and on random days a batch of the series' level."""
    base = rng.uniform(0.0, 0.1)
    return [c if rng.random() < shape.burst_p else c * base for c in costs]


def _label_new(shape: _Shape, costs: list[float], min_impact: float) -> Event:
    event = Event("new", shape.start)
    first = costs[shape.start]
    if 0.5 * min_impact < first < 1.5 * min_impact:  # keep the label unambiguous
        costs[:] = [3 * c for c in costs]
        first *= 3
    if first >= 1.5 * min_impact:
        event.label_days = [shape.start]
    return event


def _inject(
    rng: random.Random,
    shape: _Shape,
    clean: list[float],
    costs: list[float],
    busy: set[int],
    min_impact: float,
    min_pct: float,
) -> Event | None:
    kind = rng.choices(["spike", "step", "ramp"], [0.5, 0.3, 0.2])[0]
    if shape.burst_p:
        kind = "spike"
    start = rng.randrange(FIRST_EVENT_DAY, N_DAYS - (20 if kind == "ramp" else 3))
    if busy & set(range(start - 10, start + 25)):
        return None
    busy.update(range(start, start + 25))
    # The typical cost an increase must stand out from: the batch size for intermittent services.
    typical = shape.level * shape.trend[start] * (1.0 if shape.burst_p else shape.weekly[start % 7])
    spread = 0.3 if shape.burst_p else shape.cv
    floor = max(1.5 * min_pct, math.exp(6 * spread) - 1, 2.5 if shape.burst_p else 0.0)
    small = rng.random() < 0.15
    for _ in range(20):  # redraw until the event is clearly above or clearly below the minimums
        if small:
            rel = math.exp(rng.uniform(math.log(0.02), math.log(0.5 * min_pct)))
        else:
            rel = math.exp(rng.uniform(math.log(floor), math.log(max(floor * 1.5, 6.0))))
        impact = rel * typical
        if impact >= 1.5 * min_impact or impact <= 0.5 * min_impact or small:
            break
    else:
        return None
    labelled = not small and impact >= 1.5 * min_impact
    event = Event(kind, start)
    if kind == "spike":
        days = [start] if rng.random() < 0.8 else [start, start + 1]
        for t in days:
            costs[t] += rel * typical * (clean[t] / clean[start] if not shape.burst_p else 1.0)
        event.label_days = days if labelled else []
    elif kind == "step":
        end = N_DAYS if rng.random() < 0.7 else min(N_DAYS, rng.randrange(start + 7, N_DAYS + 8))
        for t in range(start, end):
            costs[t] += rel * clean[t] * _unit_noise(rng, shape.cv)
        event.label_days = [start] if labelled else []
    else:
        length = rng.randrange(8, 21)
        power = rng.uniform(1.5, 3.0)
        cumulative = 0.0
        for i, t in enumerate(range(start, min(start + length, N_DAYS))):
            excess = rel * clean[t] * ((i + 1) / length) ** power
            costs[t] += excess
            cumulative += excess
            if labelled and cumulative >= min_impact:
                event.label_days.append(t)
    return event


def _unit_noise(rng: random.Random, cv: float) -> float:
    return math.exp(rng.gauss(0, cv) - cv * cv / 2)


def days(n: int = N_DAYS) -> list[date]:
    """The calendar of a generated data set."""
    return [START + timedelta(days=t) for t in range(n)]


def write_csv(path: Path, data: Iterable[LabelledSeries]) -> None:
    """Write ``series_id,date,cost,is_anomaly``, one row per series per day."""
    calendar = days()
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(CSV_HEADER)
        for series in data:
            for d, cost, label in zip(calendar, series.costs, series.labels, strict=True):
                writer.writerow((series.series_id, d.isoformat(), f"{cost:.2f}", label))


def read_csv(path: Path) -> tuple[list[date], list[LabelledSeries]]:
    """Read a labelled data set; days a series lacks are cost 0, label 0 (Cost Explorer's way).

    Events are not in the file: the benchmark derives them from runs of labelled days.
    """
    rows: dict[str, dict[date, tuple[float, int]]] = {}
    with path.open(newline="") as handle:
        reader = csv.DictReader(handle)
        missing = set(CSV_HEADER) - set(reader.fieldnames or ())
        if missing:
            raise ValueError(
                f"{path}: missing column(s) {sorted(missing)}; expected header {','.join(CSV_HEADER)}"
            )
        for line, row in enumerate(reader, start=2):
            try:
                day = date.fromisoformat(row["date"])
                value = (float(row["cost"]), int(row["is_anomaly"]))
            except ValueError as exc:
                raise ValueError(
                    f"{path}:{line}: {exc}; expected YYYY-MM-DD, a number, 0/1"
                ) from exc
            rows.setdefault(row["series_id"], {})[day] = value
    if not rows:
        raise ValueError(f"{path}: no data rows")
    first = min(min(r) for r in rows.values())
    last = max(max(r) for r in rows.values())
    calendar = [first + timedelta(days=t) for t in range((last - first).days + 1)]
    data = []
    for sid, by_day in rows.items():
        values = [by_day.get(d, (0.0, 0)) for d in calendar]
        data.append(LabelledSeries(sid, [v[0] for v in values], [v[1] for v in values], []))
    return calendar, data
