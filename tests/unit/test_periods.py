"""Which days the weekly digest and the month-close report cover, from the billing day alone."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from finops_digest.report.periods import (
    WEEKDAYS,
    days_of,
    month_close_period,
    previous_month,
    previous_week,
    weekly_period,
)

days = st.dates(min_value=date(2020, 1, 1), max_value=date(2099, 12, 31))


def test_a_monday_covers_the_seven_days_before_it():
    monday = date(2025, 12, 1)
    assert weekly_period(monday, "Monday") == (date(2025, 11, 24), date(2025, 11, 30))
    assert previous_week(*weekly_period(monday, "Monday")) == (
        date(2025, 11, 17),
        date(2025, 11, 23),
    )


@pytest.mark.parametrize("weekday", WEEKDAYS)
def test_every_weekday_sends_once_a_week_for_the_last_full_monday_to_sunday_week(weekday):
    # Two weeks of billing days: exactly one per week is the weekday, and it covers the
    # Monday-Sunday week that ended before it.
    sent = {}
    for n in range(14):
        day = date(2025, 12, 1) + timedelta(days=n)
        period = weekly_period(day, weekday)
        if period:
            sent[day] = period
    assert len(sent) == 2
    for day, (start, end) in sent.items():
        assert day.strftime("%A") == weekday
        assert start.weekday() == 0 and end.weekday() == 6
        assert end - start == timedelta(days=6)
        assert end < day <= end + timedelta(days=7)


@given(days, st.sampled_from(WEEKDAYS))
def test_the_week_is_strictly_before_the_day_and_the_latest_complete_one(day, weekday):
    period = weekly_period(day, weekday)
    assert (period is not None) == (day.strftime("%A") == weekday)
    if period:
        start, end = period
        assert start.weekday() == 0 and (end - start).days == 6
        assert end < day and (day - end).days <= 7


def test_an_empty_weekday_turns_the_weekly_digest_off_and_a_bad_one_is_refused():
    assert all(weekly_period(date(2025, 12, 1) + timedelta(n), "") is None for n in range(7))
    with pytest.raises(ValueError, match="monday"):
        weekly_period(date(2025, 12, 1), "monday")


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2025, 12, 3), (date(2025, 11, 1), date(2025, 11, 30))),
        (date(2026, 1, 3), (date(2025, 12, 1), date(2025, 12, 31))),  # January -> December
        (date(2024, 3, 3), (date(2024, 2, 1), date(2024, 2, 29))),  # a leap February
        (date(2025, 3, 3), (date(2025, 2, 1), date(2025, 2, 28))),
        (date(2025, 8, 3), (date(2025, 7, 1), date(2025, 7, 31))),
    ],
)
def test_the_close_day_covers_the_previous_calendar_month(day, expected):
    assert month_close_period(day, 3) == expected


def test_only_the_close_day_sends_and_zero_turns_it_off():
    november = [date(2025, 11, 1) + timedelta(n) for n in range(30)]
    assert [d for d in november if month_close_period(d, 3)] == [date(2025, 11, 3)]
    assert [d for d in november if month_close_period(d, 28)] == [date(2025, 11, 28)]
    assert [d for d in november if month_close_period(d, 0)] == []
    with pytest.raises(ValueError, match="1-28"):
        month_close_period(date(2025, 11, 29), 29)


@given(days, st.integers(min_value=1, max_value=28))
def test_the_month_closed_is_the_whole_month_before(day, close_day):
    period = month_close_period(day, close_day)
    assert (period is not None) == (day.day == close_day)
    if period:
        start, end = period
        assert start.day == 1 and (end + timedelta(days=1)) == day.replace(day=1)
        assert len(days_of(start, end)) == end.day


def test_previous_month_crosses_the_year():
    assert previous_month(date(2026, 1, 1)) == (date(2025, 12, 1), date(2025, 12, 31))
    assert previous_month(date(2025, 3, 1)) == (date(2025, 2, 1), date(2025, 2, 28))


def test_the_tasks_skip_other_days_and_disabled_reports_without_asking_aws(monkeypatch):
    from finops_digest.config import parse_config
    from finops_digest.tasks import periodic

    def no_aws(*args, **kwargs):
        raise AssertionError("no AWS call on a day without the report")

    monkeypatch.setattr(periodic, "athena_hook", no_aws)
    monkeypatch.setattr(periodic, "aws_client", no_aws)

    def plan(day, **settings):
        config = parse_config({"archive_bucket": "finops-archive", **settings})
        return {"billing_date": day, "use_prefetched_costs": False, "config": config.to_dict()}

    tuesday = periodic.send_weekly_digest(plan("2025-12-02"))
    assert tuesday == {
        "sent": False,
        "skipped": "2025-12-02 is a Tuesday; the weekly digest goes on Mondays",
    }
    off = periodic.send_weekly_digest(plan("2025-12-01", weekly_digest_weekday=""))
    assert off["sent"] is False and "off" in off["skipped"]
    assert periodic.send_month_close_report(plan("2025-12-04"))["sent"] is False
    off = periodic.send_month_close_report(plan("2025-12-03", month_close_day=0))
    assert off["sent"] is False and "off" in off["skipped"]
