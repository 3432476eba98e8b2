"""A run's frame: which billing day it processes with which settings, and the day's lock."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from finops_digest.aws import cost_explorer
from finops_digest.aws.clients import aws_client
from finops_digest.billing_day import resolve_billing_day
from finops_digest.config import load_config
from finops_digest.errors import FinopsError
from finops_digest.store import day_lock
from finops_digest.tasks.contracts import RunPlan, billing_day, settings
from finops_digest.tasks.fail_fast import fail_fast


class PlanError(FinopsError, ValueError):
    """A run's Params name no usable day or range of days."""


@fail_fast
def plan_run(
    params: dict[str, Any],
    logical_date: datetime | None,
    run_after: datetime | None,
    run_type: str | None,
) -> RunPlan:
    """Resolve the billing day from the run (``billing_day.resolve_billing_day``) and validate
    ``finops_config`` once, before any AWS call; every later task of the run works with exactly
    these settings."""
    config = load_config()
    day = resolve_billing_day(params.get("billing_date"), logical_date, run_after, run_type)
    horizon = cost_explorer.daily_horizon()
    if day < horizon:
        raise PlanError(
            f"billing day {day} is beyond Cost Explorer's {cost_explorer.DAILY_HORIZON_MONTHS} "
            f"months of daily costs: expected a day from {horizon} on (its archive, if any, is "
            "kept as it is)"
        )
    return {
        "billing_date": day.isoformat(),
        "use_prefetched_costs": bool(params.get("use_prefetched_costs")),
        "config": config.to_dict(),
    }


@fail_fast
def lock_billing_day(plan: RunPlan, holder: str, is_running: Callable[[str], bool]) -> str:
    """Take the day's lock for this run (``day_lock``), taking it over from a run that is no
    longer running; returns the holder."""
    day_lock.acquire(
        aws_client("s3"), settings(plan).archive_bucket, billing_day(plan), holder, is_running
    )
    return holder


@fail_fast
def release_billing_day(plan: RunPlan, holder: str) -> bool:
    """Hand the day's lock back if this run holds it."""
    return day_lock.release(
        aws_client("s3"), settings(plan).archive_bucket, billing_day(plan), holder
    )
