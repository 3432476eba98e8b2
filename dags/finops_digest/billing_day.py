"""Which UTC day a run processes, and that day's Hive partition keys."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from finops_digest.errors import FinopsError


class BillingDayError(FinopsError, ValueError):
    """The run names no usable billing day."""


def resolve_billing_day(
    param: str | None,
    logical_date: datetime | None,
    run_after: datetime | None,
    run_type: str | None = None,
) -> date:
    """The billing day D a run processes, from the run itself (never from the clock): a day that
    has ended in UTC before the run may start (``run_after``).

    - a ``billing_date`` Param wins;
    - scheduled and backfill runs: their logical date, the start of D's data interval (D 06:00);
    - a manual run whose logical date is a midnight (``airflow dags test DAG 2025-09-14``, or a
      logical date picked in the trigger form) processes that day;
    - any other manual run (Trigger in the UI, the REST API or ``airflow dags trigger`` without a
      logical date: Airflow sets the logical date to the moment of the click, or none) processes
      the latest complete day, the day before ``run_after``.

    A day that has not ended when the run may start is refused, naming when it can run: partial
    costs would be archived and mailed, and the day's real run would then send nothing.
    """
    if param:
        try:
            day = date.fromisoformat(str(param))
        except ValueError as exc:
            raise BillingDayError(
                f"billing_date Param {param!r} is not a date: expected YYYY-MM-DD"
            ) from exc
    elif logical_date is not None and (
        run_type in ("scheduled", "backfill") or _is_midnight(logical_date)
    ):
        day = _utc_date(logical_date)
    elif run_after is not None:
        day = _utc_date(run_after) - timedelta(days=1)
    elif logical_date is not None:
        day = _utc_date(logical_date)
    else:
        raise BillingDayError(
            "the run has neither a billing_date Param, a logical date nor a start"
        )
    if run_after is not None and day >= _utc_date(run_after):
        raise BillingDayError(
            f"billing day {day} has not ended in UTC (this run may start at "
            f"{_utc(run_after):%Y-%m-%d %H:%M} UTC): expected a day before {_utc_date(run_after)}; "
            f"{day} can run from {day + timedelta(days=1)} 00:00 UTC (Cost Explorer settles over "
            "the following day, which the scheduled run at 06:00 UTC waits for)"
        )
    return day


def _is_midnight(moment: datetime) -> bool:
    utc = _utc(moment)
    return (utc.hour, utc.minute, utc.second, utc.microsecond) == (0, 0, 0, 0)


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC) if moment.tzinfo is not None else moment


def _utc_date(moment: datetime) -> date:
    return _utc(moment).date()


def partition_path(day: date) -> str:
    """Hive-style partition folders for a day: ``year=2025/month=09/day=14``."""
    return f"year={day:%Y}/month={day:%m}/day={day:%d}"


def days_before(day: date, count: int) -> list[date]:
    """The ``count`` days before ``day``, oldest first."""
    return [day - timedelta(days=n) for n in range(count, 0, -1)]
