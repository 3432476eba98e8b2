"""Which days the periodic reports cover, from the run's billing day D (never the clock): the
weekly digest on its weekday covers the Monday-Sunday week before D; the month-close report on
its day of the month covers the calendar month before D."""

from __future__ import annotations

import calendar
from datetime import date, timedelta

# Monday first, as date.weekday() counts.
WEEKDAYS = tuple(calendar.day_name)


def weekly_period(day: date, weekday: str) -> tuple[date, date] | None:
    """The Monday-Sunday week strictly before ``day`` when ``day`` falls on ``weekday`` (a
    weekday name, ``"Monday"``); None on any other day, or when ``weekday`` is ``""``
    (the weekly digest is off)."""
    if not weekday:
        return None
    if weekday not in WEEKDAYS:
        raise ValueError(
            f"weekly_digest_weekday {weekday!r}: expected one of {', '.join(WEEKDAYS)}"
        )
    if day.weekday() != WEEKDAYS.index(weekday):
        return None
    end = day - timedelta(days=day.weekday() + 1)  # the last Sunday before D
    return end - timedelta(days=6), end


def previous_week(start: date, end: date) -> tuple[date, date]:
    """The week before ``start``..``end``: what the weekly digest compares with."""
    return start - timedelta(days=7), end - timedelta(days=7)


def month_close_period(day: date, close_day: int) -> tuple[date, date] | None:
    """The calendar month before ``day`` (first and last day) when ``day`` is the
    ``close_day``-th of its month; None on any other day, or when ``close_day`` is 0 (the
    month-close report is off)."""
    if close_day == 0:
        return None
    if not 1 <= close_day <= 28:
        raise ValueError(f"month_close_day {close_day!r}: expected 1-28, or 0 for off")
    if day.day != close_day:
        return None
    end = day.replace(day=1) - timedelta(days=1)
    return end.replace(day=1), end


def previous_month(start: date) -> tuple[date, date]:
    """The calendar month before the one starting ``start``."""
    end = start.replace(day=1) - timedelta(days=1)
    return end.replace(day=1), end


def days_of(start: date, end: date) -> list[date]:
    """Every day from ``start`` to ``end``, both included."""
    return [start + timedelta(days=n) for n in range((end - start).days + 1)]
