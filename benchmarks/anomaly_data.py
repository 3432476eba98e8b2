"""Labelled synthetic daily-cost series for the anomaly benchmark, and their CSV form.

Each series is a realistic shape (level from $1 to $50k/day, log-uniform; weekly rhythm; slow growth
or decline; multiplicative noise of varied size with some day-to-day correlation; old permanent
level shifts; intermittent batch-like and weekly-batch services; tiny services; new services) with
at most two injected events: one-day or two-day spikes, step-ups, accelerating or linear ramps and
new services. Some events are deliberately below the alerting minimums and labelled 0.

About half the series also carry the calendar of a real AWS bill, none of it labelled:

* monthly charges on a fixed day of the month (the 1st, the last day, any other day; a day a month
  lacks falls on its last day), fixed or varying a little, often on top of a small daily level
  (support plans, Marketplace subscriptions, Savings Plan / RI fees);
* batch jobs every N days (2 to 16, not 7: a weekly batch is a weekly rhythm);
* holiday weeks (5 to 14 days at 35% to 70% of usage) and single public holidays, with the return
  to normal usage after them;
* one-day data gaps: a day at $0, the day after either normal or carrying the missing day as well;
* monthly free-tier allowances: the first days of each month cost nothing until it is used up.

Labels (``is_anomaly``), with ``min_impact``/``min_pct`` the detector's minimums:

* spike: each of its days; step: its first day only; new service: its first day of real cost
  (at least ``0.5 * min_impact``, within its first week) only;
* ramp (accelerating or linear, then fixed or there to stay): each day from the one on which its
  cumulative excess reaches ``min_impact`` until the rise ends;
* charge: a monthly charge two to four times its usual size, on that day;
* an event is labelled only if it is clearly an anomaly: its dollar impact is at least
  ``1.5 * min_impact``, its relative impact at least ``1.5 * min_pct`` and at least six noise
  standard deviations on the log scale (``exp(6 * cv) - 1``; for an intermittent or every-N-days
  batch service, at least 2.5 times its typical batch on top). Events below ``0.5 * min_impact`` or
  ``0.5 * min_pct`` are generated on purpose and labelled 0 (they must not fire); no event falls in
  between, so every label is unambiguous. Noise and the calendar alone are never labelled.
"""

from __future__ import annotations

import calendar as month_calendar
import csv
import math
import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

N_DAYS = 150
START = date(2025, 3, 3)
FIRST_EVENT_DAY = 40  # events land where the detector has at least five weeks behind them
CSV_HEADER = ("series_id", "date", "cost", "is_anomaly")
LAST_DAY = 0  # a monthly charge on the last day of each month


@dataclass
class Event:
    """One injected change; ``label_days`` is empty when it is below the minimums."""

    kind: str  # "spike" | "step" | "ramp" | "new" | "charge"
    start: int
    label_days: list[int] = field(default_factory=list)


@dataclass
class LabelledSeries:
    """One series' daily costs (index 0 is the first day) with its labels and injected events.

    ``features`` names the calendar shapes it carries ("monthly", "every_n_days", "holiday",
    "gap", "allowance"); empty for a series without (and for data read from CSV). The series
    covers days ``first`` to ``end`` (exclusive; None: to the data set's end): read from CSV, the
    days before its first row and after its last are not part of it.
    """

    series_id: str
    costs: list[float]
    labels: list[int]
    events: list[Event]
    features: tuple[str, ...] = ()
    first: int = 0
    end: int | None = None


def generate(
    n_series: int = 500,
    seed: int = 0,
    min_impact: float = 100.0,
    min_pct: float = 0.2,
    start: date = START,
) -> list[LabelledSeries]:
    """``n_series`` labelled series of ``N_DAYS`` days from ``start``, reproducible from
    ``seed`` (the start decides where the months, and their charges, fall)."""
    rng = random.Random(seed)
    calendar = days(start=start)
    return [_one_series(rng, f"s{i:04d}", min_impact, min_pct, calendar) for i in range(n_series)]


@dataclass
class _Shape:
    level: float
    cv: float  # relative noise standard deviation
    weekly: list[float]
    trend: list[float]  # multiplicative level per day (growth, old shifts)
    start: int = 0  # first day with cost (new services)
    burst_p: float = 0.0  # intermittent: probability a day carries a batch


@dataclass
class _Charge:
    day_of_month: int  # 1..31, or LAST_DAY
    size: float
    cv: float


@dataclass
class _Calendar:
    """The calendar shapes of one series; ``blocked`` holds the days no event may touch."""

    dates: list[date] = field(default_factory=list)
    charges: list[_Charge] = field(default_factory=list)
    period: int = 0  # a batch every ``period`` days, from day ``phase``
    phase: int = 0
    batch: float = 0.0  # the batch's size on top of the daily level
    factor: list[float] = field(default_factory=lambda: [1.0] * N_DAYS)  # holidays, allowance
    gaps: list[tuple[int, bool]] = field(default_factory=list)  # (day at $0, next day catches up)
    blocked: set[int] = field(default_factory=set)
    features: list[str] = field(default_factory=list)


def _one_series(
    rng: random.Random, sid: str, min_impact: float, min_pct: float, calendar: list[date]
) -> LabelledSeries:
    shape = _draw_shape(rng)
    bill = _draw_calendar(rng, shape, calendar)
    clean = [_clean_value(shape, t) * bill.factor[t] for t in range(N_DAYS)]
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
            event = _inject(rng, shape, bill, clean, costs, busy, min_impact, min_pct)
            if event is not None:
                events.append(event)
        charge = _add_calendar(rng, shape, bill, clean, costs, busy, min_impact, min_pct)
        if charge is not None:
            events.append(charge)
    labels = [0] * N_DAYS
    for event in events:
        for t in event.label_days:
            labels[t] = 1
    costs = [round(max(c, 0.0), 2) for c in costs]
    return LabelledSeries(sid, costs, labels, events, tuple(bill.features))


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


def _draw_calendar(rng: random.Random, shape: _Shape, calendar: list[date]) -> _Calendar:
    """The bill's calendar for a series that has one (about half of the established ones)."""
    bill = _Calendar(dates=calendar)
    if shape.start or shape.burst_p or rng.random() < 0.5:
        return bill
    kinds = rng.choices(
        ["monthly", "every_n_days", "holiday", "gap", "allowance"], [0.4, 0.12, 0.3, 0.13, 0.05]
    )
    if rng.random() < 0.25:  # a second shape on the same series
        kinds += rng.choices(["monthly", "holiday", "gap"], [0.4, 0.35, 0.25])
    for kind in dict.fromkeys(kinds):
        if kind == "monthly":
            if rng.random() < 0.5:  # a small daily level under the charge
                shape.level /= math.exp(rng.uniform(math.log(3), math.log(100)))
            for _ in range(1 if rng.random() < 0.8 else 2):
                where = rng.random()
                dom = (
                    1
                    if where < 0.55
                    else LAST_DAY
                    if where < 0.7
                    else rng.randrange(2, 29)
                    if where < 0.9
                    else rng.randrange(29, 32)
                )
                size = shape.level * math.exp(rng.uniform(math.log(1.0), math.log(300.0)))
                cv = 0.0 if rng.random() < 0.5 else rng.uniform(0.01, 0.08)
                bill.charges.append(_Charge(dom, size, cv))
            for t, day in enumerate(calendar):
                if any(_charged(charge, day) for charge in bill.charges):
                    bill.blocked.update((t, t + 1))
        elif kind == "every_n_days":
            bill.period = rng.choice([n for n in range(2, 17) if n != 7])
            bill.phase = rng.randrange(bill.period)
            bill.batch = shape.level * math.exp(rng.uniform(math.log(1.0), math.log(10.0)))
        elif kind == "holiday":
            length = rng.randrange(5, 11) if rng.random() < 0.85 else rng.randrange(11, 15)
            first = rng.randrange(FIRST_EVENT_DAY - 10, N_DAYS - length - 2)
            usage = rng.uniform(0.35, 0.7)
            for t in range(first, first + length):
                bill.factor[t] *= usage
            bill.blocked.update(range(first - 25, first + length + 4))
            for _ in range(rng.choice([0, 0, 1, 2])):  # public holidays
                t = rng.randrange(FIRST_EVENT_DAY - 10, N_DAYS - 1)
                bill.factor[t] *= rng.uniform(0.3, 0.7)
                bill.blocked.update(range(t - 1, t + 4))
        elif kind == "gap":
            for _ in range(rng.choice([1, 2, 3])):
                t = rng.randrange(20, N_DAYS - 1)
                bill.gaps.append((t, rng.random() < 0.5))
                bill.blocked.update(range(t - 1, t + 3))
        elif kind == "allowance":
            used_up = rng.randrange(2, 7)  # days of each month the free allowance lasts
            for t, day in enumerate(calendar):
                if day.day <= used_up:
                    bill.factor[t] *= rng.uniform(0.0, 0.05)
                    bill.blocked.update(range(t - 1, t + 4))
        bill.features.append(kind)
    return bill


def _charged(charge: _Charge, day: date) -> bool:
    last = month_calendar.monthrange(day.year, day.month)[1]
    wanted = last if charge.day_of_month == LAST_DAY else min(charge.day_of_month, last)
    return day.day == wanted


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
    """A new service's label: its first day of real cost (a weekly batch service may start on
    a quiet day), within its first week; the costs are tripled if that day would be ambiguous."""
    event = Event("new", shape.start)
    week = range(shape.start, min(shape.start + 7, N_DAYS))
    for _ in range(3):
        first = next((t for t in week if costs[t] >= 0.5 * min_impact), None)
        if first is None or costs[first] >= 1.5 * min_impact:
            break
        costs[:] = [3 * c for c in costs]
    else:
        first = None
    if first is not None and costs[first] >= 1.5 * min_impact:
        event.label_days = [first]
    return event


def _inject(
    rng: random.Random,
    shape: _Shape,
    bill: _Calendar,
    clean: list[float],
    costs: list[float],
    busy: set[int],
    min_impact: float,
    min_pct: float,
) -> Event | None:
    batches = bool(shape.burst_p or bill.period)
    kind = "spike" if batches else rng.choices(["spike", "step", "ramp"], [0.5, 0.3, 0.2])[0]
    length = rng.randrange(8, 21) if kind == "ramp" else 3
    for _ in range(10):  # a start clear of other events and of the calendar's special days
        start = rng.randrange(FIRST_EVENT_DAY, N_DAYS - (20 if kind == "ramp" else 3))
        if not busy & set(range(start - 10, start + 25)) and not bill.blocked & set(
            range(start - 1, start + length + 3)
        ):
            break
    else:
        return None
    busy.update(range(start, start + 25))
    # The typical cost an increase must stand out from: the batch size for batch services.
    if shape.burst_p:
        typical = shape.level * shape.trend[start]
    elif bill.period:
        typical = bill.batch * shape.trend[start] + clean[start]
    else:
        typical = shape.level * shape.trend[start] * shape.weekly[start % 7]
    spread = 0.3 if batches else shape.cv
    floor = max(1.5 * min_pct, math.exp(6 * spread) - 1, 2.5 if batches else 0.0)
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
            costs[t] += rel * typical * (clean[t] / clean[start] if not batches else 1.0)
        event.label_days = days if labelled else []
    elif kind == "step":
        end = N_DAYS if rng.random() < 0.7 else min(N_DAYS, rng.randrange(start + 7, N_DAYS + 8))
        for t in range(start, end):
            costs[t] += rel * clean[t] * _unit_noise(rng, shape.cv)
        event.label_days = [start] if labelled else []
    else:
        # Accelerating growth, or a straight line; then fixed (back to normal) or there to stay.
        power = rng.uniform(1.5, 3.0) if rng.random() < 0.6 else 1.0
        end = N_DAYS if rng.random() < 0.5 else start + length
        cumulative = 0.0
        for t in range(start, min(end, N_DAYS)):
            excess = rel * clean[t] * min(1.0, (t - start + 1) / length) ** power
            costs[t] += excess * (_unit_noise(rng, shape.cv) if t >= start + length else 1.0)
            cumulative += excess
            if labelled and cumulative >= min_impact and t < start + length:
                event.label_days.append(t)
    return event


def _add_calendar(
    rng: random.Random,
    shape: _Shape,
    bill: _Calendar,
    clean: list[float],
    costs: list[float],
    busy: set[int],
    min_impact: float,
    min_pct: float,
) -> Event | None:
    """Add the batches, monthly charges and gaps; returns a monthly charge grown 2-4x, if any."""
    for t in range(bill.phase, N_DAYS, bill.period or N_DAYS):
        if bill.period:
            costs[t] += bill.batch * shape.trend[t] * _unit_noise(rng, shape.cv)
    charge_days: list[tuple[int, float]] = []
    for t, day in enumerate(bill.dates):
        for charge in bill.charges:
            if _charged(charge, day):
                size = charge.size * _unit_noise(rng, charge.cv)
                costs[t] += size
                charge_days.append((t, size))
    event = None
    candidates = [(t, size) for t, size in charge_days if t >= FIRST_EVENT_DAY and t not in busy]
    if candidates and rng.random() < 0.3:
        t, size = rng.choice(candidates)
        charge = next(c for c in bill.charges if _charged(c, bill.dates[t]))
        extra = size * rng.uniform(1.0, 3.0)  # the charge comes two to four times its size
        usual = clean[t] + size
        spread = math.hypot(clean[t] * shape.cv, size * max(charge.cv, 0.02)) / usual
        rel = extra / usual
        if extra >= 1.5 * min_impact and rel >= max(1.5 * min_pct, math.exp(6 * spread) - 1):
            costs[t] += extra
            event = Event("charge", t, [t])
    for t, catch_up in bill.gaps:
        if catch_up:
            costs[t + 1] += costs[t]
        costs[t] = 0.0
    return event


def _unit_noise(rng: random.Random, cv: float) -> float:
    return math.exp(rng.gauss(0, cv) - cv * cv / 2)


def days(n: int = N_DAYS, start: date = START) -> list[date]:
    """The calendar of a generated data set."""
    return [start + timedelta(days=t) for t in range(n)]


def write_csv(path: Path, data: Iterable[LabelledSeries], start: date = START) -> None:
    """Write ``series_id,date,cost,is_anomaly``, one row per series per day from ``start``."""
    calendar = days(start=start)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(CSV_HEADER)
        for series in data:
            for d, cost, label in zip(calendar, series.costs, series.labels, strict=True):
                writer.writerow((series.series_id, d.isoformat(), f"{cost:.2f}", label))


def read_csv(path: Path) -> tuple[list[date], list[LabelledSeries]]:
    """Read a labelled data set; days a series lacks between its first and last rows are cost 0,
    label 0 (Cost Explorer's way). Series may start and end on different days: each covers its
    own first to last row (``first``, ``end``) of the data set's calendar.

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
        span = ((min(by_day) - first).days, (max(by_day) - first).days + 1)
        costs, labels = [v[0] for v in values], [v[1] for v in values]
        data.append(LabelledSeries(sid, costs, labels, [], first=span[0], end=span[1]))
    return calendar, data
