import math
import random
from datetime import date, timedelta
from decimal import Decimal

import pytest

from benchmarks.anomaly_benchmark import evaluate
from benchmarks.anomaly_data import days, generate, read_csv, write_csv
from finops_digest.detection.detector import (
    HISTORY_DAYS,
    MIN_HISTORY_DAYS,
    DetectionError,
    Finding,
    Thresholds,
    detect,
    root_cause,
)

DAY = date(2025, 9, 14)  # a Sunday
KEY = ("Marketing", "Amazon CloudFront")
LENGTH = HISTORY_DAYS + 1


def costs(
    level: float,
    *,
    noise: float = 0.03,
    weekend: float = 1.0,
    growth: float = 0.0,
    seed: int = 1,
    length: int = LENGTH,
    end: date = DAY,
) -> list[float]:
    """``length`` daily costs ending on ``end``: level, weekend factor, growth, lognormal noise."""
    rng = random.Random(seed)
    first = end - timedelta(days=length - 1)
    values = []
    for t in range(length):
        day = first + timedelta(days=t)
        factor = weekend if day.weekday() >= 5 else 1.0
        values.append(level * factor * (1 + growth) ** t * math.exp(rng.gauss(0, noise)))
    return values


def only(findings: list[Finding]) -> Finding:
    assert len(findings) == 1, findings
    return findings[0]


def shifted(values: list[float], at: int, factor: float) -> list[float]:
    return [v * factor if t >= at else v for t, v in enumerate(values)]


def batches(seed: int = 3) -> list[float]:
    """An intermittent service: a ~$2,000 batch on random days, ~$20 otherwise."""
    rng = random.Random(seed)
    values = [
        2000 * math.exp(rng.gauss(0, 0.15)) if rng.random() < 0.35 else 20.0 for _ in range(LENGTH)
    ]
    values[-1] = 2300.0
    return values


QUIET = {
    "weekly rhythm": costs(3000, weekend=0.3),  # DAY is a Sunday: a weekend day
    "weekly rhythm, Monday": costs(3000, weekend=0.3, end=DAY + timedelta(days=1)),
    "slow growth": costs(2000, growth=0.008),
    "noisy": costs(5000, noise=0.2, seed=4),
    "level doubled three weeks ago": shifted(costs(2000), 14, 2.0),
    "level doubled three days ago": shifted(costs(2000), LENGTH - 4, 2.0),
    "level halved two weeks ago": shifted(costs(2000), 20, 0.5),
    "tiny service up 400%": [*costs(0.5)[:-1], 2.5],
    "cost drop": [*costs(8000)[:-1], 1000.0],
    "intermittent batches": batches(),
    "all zeros": [0.0] * LENGTH,
    "new but below min_impact": [0.0] * HISTORY_DAYS + [60.0],
}


@pytest.mark.parametrize("name", QUIET)
def test_quiet_patterns_do_not_alert(name):
    assert detect({KEY: QUIET[name]}, DAY) == []


def test_one_day_spike_alerts_with_expected_actual_and_impact():
    values = costs(1000)
    values[-1] = 2000.0
    finding = only(detect({KEY: values}, DAY))
    assert finding.series == KEY
    assert finding.day == DAY
    assert finding.kind == "spike"
    assert Decimal("950") < finding.expected < Decimal("1050")
    assert finding.actual == Decimal("2000.00")
    assert finding.impact == finding.actual - finding.expected
    assert finding.impact_pct == pytest.approx(float(finding.impact / finding.expected))
    assert finding.expected == finding.expected.quantize(Decimal("0.01"))


def test_weekday_cost_on_a_weekend_is_a_spike():
    values = costs(3000, weekend=0.3)
    values[-1] = 3000.0  # DAY is a Sunday, normally ~$900
    assert only(detect({KEY: values}, DAY)).kind == "spike"


def test_step_alerts_on_its_first_day_and_stops_by_its_third():
    step_at = 60
    long = shifted(costs(4000, length=90, end=DAY + timedelta(days=30)), step_at, 1.6)
    first = DAY + timedelta(days=step_at - 89 + 30)

    def judged(offset: int) -> list[Finding]:
        end = step_at + offset
        window = long[max(0, end - HISTORY_DAYS) : end + 1]
        return detect({KEY: window}, first + timedelta(days=offset))

    assert only(judged(0)).kind == "spike"  # the first day cannot tell a step from a spike
    second = judged(1)
    assert [f.kind for f in second] in ([], ["step"])
    for offset in range(2, 30):
        assert judged(offset) == [], offset


def test_new_service_alerts_once_with_no_percentage():
    values = [0.0] * HISTORY_DAYS + [750.0]
    finding = only(detect({KEY: values}, DAY))
    assert (finding.kind, finding.expected, finding.impact_pct) == ("new", Decimal("0.00"), None)
    assert finding.impact == Decimal("750.00")


def test_young_service_alerts_only_above_its_largest_day():
    young = [0.0] * (HISTORY_DAYS - 5) + [400.0, 420.0, 900.0, 410.0, 430.0]
    assert detect({KEY: [*young, 950.0]}, DAY) == []
    assert only(detect({KEY: [*young, 2500.0]}, DAY)).impact > 0


def test_runaway_ramp_is_caught_within_a_few_days():
    base = costs(2000, noise=0.05, length=80, end=DAY + timedelta(days=44))
    start, length = 50, 20
    values = [
        v * (1 + 3.0 * ((t - start + 1) / length) ** 2) if start <= t < start + length else v
        for t, v in enumerate(base)
    ]
    first_day = DAY + timedelta(days=44 - 79)
    alerts = {}
    for end in range(MIN_HISTORY_DAYS, 80):
        window = values[max(0, end - HISTORY_DAYS) : end + 1]
        for finding in detect({KEY: window}, first_day):
            alerts[end] = finding.kind
    assert alerts, "the ramp was never caught"
    assert min(alerts) - start <= 12
    assert all(start <= t < start + length for t in alerts)
    assert "ramp" in alerts.values()


def test_only_increases_beyond_every_minimum_alert():
    small = [*costs(100)[:-1], 240.0]  # +$140, +140%
    assert only(detect({KEY: small}, DAY))
    assert detect({KEY: small}, DAY, Thresholds(min_impact=Decimal("200"))) == []

    large = [*costs(100_000, noise=0.01)[:-1], 115_000.0]  # +$15k but only +15%
    assert detect({KEY: large}, DAY) == []
    assert only(detect({KEY: large}, DAY, Thresholds(min_pct=0.1))).impact > 10_000

    noisy = [*costs(5000, noise=0.2, seed=4)[:-1], 8000.0]  # +60% on a series that swings 20%
    assert detect({KEY: noisy}, DAY) == []
    assert only(detect({KEY: noisy}, DAY, Thresholds(min_sigmas=1.5)))


@pytest.mark.parametrize(
    ("level", "actual", "severity"),
    [
        (1000, 1300, "low"),  # +$300, +30%
        (2000, 2800, "medium"),  # +$800, +40%
        (8000, 12_000, "high"),  # +$4,000, +50%
        (100, 260, "medium"),  # +$160 but +160%: doubling raises it one step
    ],
)
def test_severity_from_dollar_impact_and_percentage(level, actual, severity):
    values = [*costs(level, noise=0.01)[:-1], float(actual)]
    assert only(detect({KEY: values}, DAY)).severity == severity


def test_findings_come_largest_impact_first_and_accept_decimals():
    small = [Decimal(str(round(v, 2))) for v in costs(1000)[:-1]] + [Decimal("1600")]
    large = [*costs(5000)[:-1], 9000.0]
    findings = detect({("A", "S3"): small, ("B", "EC2"): large, ("C", "quiet"): costs(10)}, DAY)
    assert [f.series for f in findings] == [("B", "EC2"), ("A", "S3")]


def test_too_long_a_series_names_the_series_and_the_expected_length():
    with pytest.raises(
        DetectionError, match=rf"'Marketing'.*has {LENGTH + 1} daily costs: expected 1 to {LENGTH}"
    ):
        detect({KEY: [1.0] * (LENGTH + 1)}, DAY)


def test_a_short_history_is_judged_from_five_weeks_on():
    values = costs(1000, length=MIN_HISTORY_DAYS + 1)
    values[-1] = 2500.0
    assert only(detect({KEY: values}, DAY)).kind == "spike"
    assert detect({KEY: values[1:]}, DAY) == []  # too little history to judge: no alert
    assert detect({KEY: [0.0] * 9 + [5000.0]}, DAY) == []


def test_thresholds_come_from_a_plain_mapping():
    thresholds = Thresholds.from_mapping({"min_impact": 250, "min_pct": 0.3, "high_impact": 1e4})
    assert thresholds.min_impact == Decimal("250")
    assert thresholds.high_impact == Decimal("10000.0")
    assert thresholds.min_pct == 0.3
    assert thresholds.min_sigmas == Thresholds().min_sigmas
    with pytest.raises(DetectionError, match="unknown threshold.*min_impcat"):
        Thresholds.from_mapping({"min_impcat": 100})
    with pytest.raises(DetectionError, match="min_pct=-0.1: expected a non-negative number"):
        Thresholds(min_pct=-0.1)
    with pytest.raises(DetectionError, match="min_impact='lots' is not a number"):
        Thresholds.from_mapping({"min_impact": "lots"})


def test_root_cause_puts_the_driving_account_first_and_shares_sum_to_one():
    history = {
        "111111111111": [Decimal("500")] * HISTORY_DAYS,
        "222222222222": [Decimal(str(round(v, 2))) for v in costs(300, length=HISTORY_DAYS)],
        "333333333333": [Decimal("0")] * HISTORY_DAYS,
        "444444444444": [Decimal("900")] * HISTORY_DAYS,
    }
    actual = {
        "111111111111": Decimal("540"),
        "222222222222": Decimal("1100"),
        "333333333333": Decimal("150"),
        "444444444444": Decimal("100"),  # a drop explains none of the rise
    }
    drivers = root_cause(actual, history)
    assert [name for name, _, _ in drivers] == ["222222222222", "333333333333", "111111111111"]
    assert sum(share for _, _, share in drivers) == pytest.approx(1.0, abs=0.01)
    assert drivers[0][1] > Decimal("750")
    assert drivers[1][1] == Decimal("150.00")
    assert root_cause({"1": Decimal("5")}, {"1": [Decimal("10")] * HISTORY_DAYS}) == []


def test_benchmark_smoke_ours_beats_both_baselines(tmp_path):
    data = generate(n_series=60, seed=11)
    ours, ours_raw, day_over_day, _, three_sigma, _ = evaluate(data, days(), Thresholds())
    assert ours.name == "ours, pages" and ours_raw.name == "ours, raw daily alerts"
    assert ours.tp + ours.fn > 10
    assert ours.f1 > day_over_day.f1
    assert ours.f1 > three_sigma.f1
    assert ours.precision >= 0.8
    assert ours.fp <= ours_raw.fp and ours.sent <= ours_raw.sent

    path = tmp_path / "labelled.csv"
    write_csv(path, data[:5])
    calendar, loaded = read_csv(path)
    assert calendar == days()
    assert [s.labels for s in loaded] == [s.labels for s in data[:5]]
