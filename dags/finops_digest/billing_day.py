"""Which UTC day a run processes, and that day's Hive partition keys."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from finops_digest.errors import FinopsError


class BillingDayError(FinopsError, ValueError):
    """The run names no usable billing day."""


def resolve_billing_day(
    param: str | None,
    logical_date: datetime | None,
    data_interval_start: datetime | None,
) -> date:
    """The billing day D a run processes, from the run itself (never from the clock).

    A ``billing_date`` Param wins (manual runs); otherwise the logical date, which for scheduled and
    backfill runs of the daily data-interval timetable is the start of D's interval, and for
    ``airflow dags test <dag> 2025-09-14`` is that day. Manual runs without a logical date fall back
    to the start of the last complete data interval.
    """
    if param:
        try:
            return date.fromisoformat(str(param))
        except ValueError as exc:
            raise BillingDayError(
                f"billing_date Param {param!r} is not a date: expected YYYY-MM-DD"
            ) from exc
    for moment in (logical_date, data_interval_start):
        if moment is not None:
            return _utc_date(moment)
    raise BillingDayError(
        "the run has neither a billing_date Param, a logical date nor a data interval"
    )


def _utc_date(moment: datetime) -> date:
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.date()


def partition_path(day: date) -> str:
    """Hive-style partition folders for a day: ``year=2025/month=09/day=14``."""
    return f"year={day:%Y}/month={day:%m}/day={day:%d}"


def days_before(day: date, count: int) -> list[date]:
    """The ``count`` days before ``day``, oldest first."""
    return [day - timedelta(days=n) for n in range(count, 0, -1)]
