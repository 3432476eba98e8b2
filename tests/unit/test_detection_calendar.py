"""The bill's calendar on hand-built series: each day of a series judged as the DAG judges it
(the day and the HISTORY_DAYS before it), alerts exactly where the shape is unusual."""

import math
import random
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from finops_digest.detection.detector import HISTORY_DAYS, MIN_HISTORY_DAYS, detect, root_cause
from finops_digest.detection.status import NEW, classify

FIRST = date(2025, 1, 6)  # a Monday; 150 days run through February, 30- and 31-day months
DAYS = 150
KEY = ("Shared", "AWS Support (Business)")


def day(t: int) -> date:
    return FIRST + timedelta(days=t)


def daily(level: float, *, noise: float = 0.03, weekend: float = 1.0, seed: int = 7) -> list[float]:
    """``DAYS`` daily costs: level, weekend factor and lognormal noise."""
    rng = random.Random(seed)
    return [
        level * (weekend if day(t).weekday() >= 5 else 1.0) * math.exp(rng.gauss(0, noise))
        for t in range(DAYS)
    ]


def on(values: list[float], when, amount: float) -> list[float]:
    """``values`` with ``amount`` added on each day ``when(date)`` is true."""
    return [v + amount if when(day(t)) else v for t, v in enumerate(values)]


def last_of_month(d: date) -> bool:
    return (d + timedelta(days=1)).day == 1


def alerts(values: list[float]) -> dict[int, str]:
    """``{day index: reason}`` of every day that alerts, walking forward."""
    found = {}
    for t in range(len(values)):
        window = values[max(0, t - HISTORY_DAYS) : t + 1]
        for finding in detect({KEY: window}, day(t)):
            found[t] = finding.reason
    return found


def pages(values: list[float]) -> list[int]:
    """The days that page after the DAG's lifecycle (a continuing anomaly pages once)."""
    previous, paged = None, []
    for t in range(len(values)):
        window = values[max(0, t - HISTORY_DAYS) : t + 1]
        today = [{"ou": KEY[0], "service": KEY[1]} for _ in detect({KEY: window}, day(t))]
        previous = classify(today, day(t), previous, feedback=[])
        paged += [t for a in previous if a["status"] == NEW]
    return paged


def index_of(d: date) -> int:
    return (d - FIRST).days


FEE = 1500.0


@pytest.mark.parametrize(
    ("name", "when"),
    [
        ("the 1st", lambda d: d.day == 1),
        ("the 15th", lambda d: d.day == 15),
        ("the last day", last_of_month),
        # A day a month lacks falls on its last day: 28 February, 30 April.
        ("the 31st", lambda d: d.day == 31 or (d.day in (28, 30) and last_of_month(d))),
        ("the 30th", lambda d: d.day == 30 or (d.month == 2 and last_of_month(d))),
    ],
)
def test_a_monthly_charge_on_a_small_daily_level_never_alerts(name, when):
    assert alerts(on(daily(20.0), when, FEE)) == {}


def test_a_monthly_charge_on_a_level_with_a_weekly_rhythm_never_alerts():
    assert alerts(on(daily(3000.0, weekend=0.4), lambda d: d.day == 1, 4000.0)) == {}


def test_a_monthly_charge_that_doubles_alerts_on_that_day_and_says_why():
    values = on(daily(20.0), lambda d: d.day == 1, FEE)
    june = index_of(date(2025, 6, 1))
    values[june] += FEE
    found = alerts(values)
    assert list(found) == [june]
    # The last three 1sts the history holds, most recent first.
    may, april, march = (f"${values[index_of(date(2025, m, 1))]:,.2f}" for m in (5, 4, 3))
    assert found[june] == (
        f"${values[june]:,.2f} on the 1st; the last three 1sts were {may}, {april} and {march}"
    )


def test_the_reason_names_the_earlier_charges_as_the_issue_does():
    values = [20.0] * (index_of(date(2025, 4, 1)) + 1)  # 6 January to 1 April: two earlier 1sts
    for d, cost in ((date(2025, 2, 1), 1090.0), (date(2025, 3, 1), 1100.0)):
        values[index_of(d)] = cost
    values[-1] = 2400.0
    window = values[max(0, len(values) - 1 - HISTORY_DAYS) :]
    [finding] = detect({KEY: window}, date(2025, 4, 1))
    assert finding.reason == "$2,400.00 on the 1st; the last two 1sts were $1,100.00 and $1,090.00"


def test_a_spike_on_a_day_without_the_charge_still_alerts():
    values = on(daily(20.0), lambda d: d.day == 1, FEE)
    spike = index_of(date(2025, 5, 20))
    values[spike] += 400.0
    found = alerts(values)
    assert list(found) == [spike]
    assert found[spike].startswith("$")
    assert "Tuesday" in found[spike]  # 20 May 2025: judged against the last Tuesdays


@pytest.mark.parametrize("period", [2, 3, 5, 10, 14])
def test_a_batch_every_n_days_never_alerts(period):
    values = [v + (2000.0 if t % period == 1 else 0.0) for t, v in enumerate(daily(1000.0))]
    assert alerts(values) == {}


def test_a_spike_between_batches_and_a_batch_grown_threefold_alert():
    values = [v + (2000.0 if t % 4 == 1 else 0.0) for t, v in enumerate(daily(1000.0))]
    off_day, batch_day = 102, 121
    assert off_day % 4 != 1 and batch_day % 4 == 1
    values[off_day] += 2000.0
    values[batch_day] += 4000.0
    found = alerts(values)
    assert list(found) == [off_day, batch_day]
    assert "every-4-days batch day" in found[batch_day]


@pytest.mark.parametrize(("length", "usage"), [(5, 0.5), (7, 0.5), (9, 0.4), (14, 0.6)])
def test_a_holiday_and_the_return_from_it_never_alert(length, usage):
    values = daily(2000.0, weekend=0.5)
    start = 90
    for t in range(start, start + length):
        values[t] *= usage
    assert alerts(values) == {}


def test_a_spike_after_the_return_from_a_holiday_still_alerts():
    values = daily(2000.0, weekend=0.5)
    for t in range(90, 97):
        values[t] *= 0.5
    values[99] *= 2.0  # a weekday two days after the return
    assert list(alerts(values)) == [99]


@pytest.mark.parametrize("catch_up", [False, True])
def test_a_one_day_data_gap_and_the_day_after_never_alert(catch_up):
    values = daily(2000.0)
    for gap in (50, 80, 111):
        if catch_up:
            values[gap + 1] += values[gap]  # the missing day's cost is booked the day after
        values[gap] = 0.0
    assert alerts(values) == {}


def test_a_free_tier_allowance_at_the_start_of_each_month_never_alerts():
    values = [0.0 if day(t).day <= 5 else v for t, v in enumerate(daily(800.0))]
    assert alerts(values) == {}


def test_a_step_that_stays_pages_once_and_soon_stops():
    values = [v * (1.8 if t >= 100 else 1.0) for t, v in enumerate(daily(2000.0))]
    assert pages(values) == [100]
    found = alerts(values)
    assert min(found) == 100 and max(found) <= 104
    assert list(found) == list(range(100, max(found) + 1))  # one run: "still elevated" after
    assert "yesterday" in found[101]
    for t in range(102, max(found) + 1):
        assert "; still above the $" in found[t] and found[t].endswith("before it rose on 16 April")


@pytest.mark.parametrize(
    ("length", "power", "rise"),
    [(14, 2.0, 2.0), (14, 3.0, 3.0), (14, 1.0, 2.0), (10, 1.0, 1.0), (20, 1.0, 1.0)],
)
def test_a_ramp_that_stays_pages_once_and_stops_once_the_rise_is_over(length, power, rise):
    start = 90
    values = [
        v * (1 + rise * min(1.0, (t - start + 1) / length) ** power) if t >= start else v
        for t, v in enumerate(daily(2000.0))
    ]
    found = alerts(values)
    [page] = pages(values)
    assert start <= page < start + length
    assert list(found) == list(range(page, max(found) + 1))  # still elevated, never re-paged
    assert max(found) <= start + length + 3  # the level catches up within days of the top
    rose = f"before it rose on {day(page).day} {day(page):%B}"
    assert all(r.endswith(rose) for r in found.values() if "still above" in r)


def test_nothing_alerts_before_five_weeks_of_history():
    values = [0.0] * 5 + [5000.0] * 10 + [20000.0] * 30
    early = alerts(values[:MIN_HISTORY_DAYS])
    assert early == {}
    for length in range(1, MIN_HISTORY_DAYS + 1):
        assert detect({KEY: values[:length]}, day(length - 1)) == []


def test_an_accounts_usual_monthly_fee_does_not_drive_a_spike():
    june = index_of(date(2025, 6, 1))
    fee = on(daily(20.0, seed=1), lambda d: d.day == 1, FEE)
    busy = daily(1000.0, seed=2)
    busy[june] = 3000.0
    window = slice(june - HISTORY_DAYS, june)
    history = {
        "111111111111": [Decimal(str(round(v, 2))) for v in fee[window]],
        "222222222222": [Decimal(str(round(v, 2))) for v in busy[window]],
    }
    actual = {"111111111111": Decimal(str(round(fee[june], 2))), "222222222222": Decimal("3000")}
    drivers = root_cause(actual, history, date(2025, 6, 1))
    assert [name for name, _, _ in drivers] == ["222222222222"]
    without_calendar = root_cause(actual, history)
    assert "111111111111" in [name for name, _, _ in without_calendar]


@settings(max_examples=300, deadline=None)
@given(
    values=st.lists(
        st.one_of(
            st.just(0.0),
            st.sampled_from([0.0, 0.0, 20.0, 1500.0]),  # a subscription: mostly $0, some fees
            st.floats(min_value=-500.0, max_value=1e6, allow_nan=False, allow_infinity=False),
        ),
        min_size=1,
        max_size=HISTORY_DAYS + 1,
    ),
    offset=st.integers(min_value=0, max_value=800),
)
def test_any_history_is_judged_without_an_error(values, offset):
    """Gaps, credits (negative days), zeros, wild swings, any length and any calendar day."""
    for finding in detect({KEY: values}, date(2024, 1, 1) + timedelta(days=offset)):
        assert finding.reason and finding.impact > 0


def test_a_fee_seen_once_in_three_months_on_no_daily_cost_is_judged():
    values = [0.0] * index_of(date(2025, 4, 1)) + [2000.0]
    values[index_of(date(2025, 2, 1))] = 1500.0  # not on 1 January nor 1 March: not usual
    for t in range(index_of(date(2025, 3, 10)), index_of(date(2025, 4, 1))):
        values[t] = 20.0  # a daily cost since 10 March
    [finding] = detect({KEY: values[-HISTORY_DAYS - 1 :]}, date(2025, 4, 1))
    assert finding.kind == "spike" and finding.actual == Decimal("2000.00")
    assert finding.reason.startswith("$2,000.00 on Tuesday; the last three Tuesdays were $20.00")
