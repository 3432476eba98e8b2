"""The prefetch DAG's tasks: one paged Cost Explorer request per OU for a whole backfill range."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta
from typing import Any

from finops_digest.aws import cost_explorer
from finops_digest.aws.clients import aws_client
from finops_digest.config import load_config
from finops_digest.ingest import prefetch_manifest
from finops_digest.ingest.cost_history import HISTORY_WINDOW_DAYS
from finops_digest.ingest.cost_rows import CostDataError, to_csv
from finops_digest.store import archive, layout
from finops_digest.tasks.contracts import Organization, RunPlan, billing_day, settings
from finops_digest.tasks.fail_fast import fail_fast
from finops_digest.tasks.ingest import fetch_ou_costs
from finops_digest.tasks.run import PlanError

log = logging.getLogger(__name__)


class PrefetchPlan(RunPlan):
    """``plan_prefetch``: the first day fetched (history included) as ``billing_date``, the
    first day to backfill and the last day."""

    from_date: str
    last_day: str
    # What was clipped from the range asked for (Cost Explorer's horizon), said in the summary.
    notes: list[str]


@fail_fast
def plan_prefetch(params: dict[str, Any], run_after: datetime | None = None) -> PrefetchPlan:
    """The days ``finops_prefetch_costs`` fetches: ``from_date``..``to_date``, and with
    ``with_history`` the history window before it. ``billing_date`` is the first day fetched
    (the day its mapping is staged for, as every task's day). A ``to_date`` that has not ended
    when the run starts (``run_after``) is refused, as the daily run refuses such a day."""
    config = load_config()
    days = {}
    for name in ("from_date", "to_date"):
        try:
            days[name] = date.fromisoformat(str(params.get(name)))
        except ValueError:
            raise PlanError(
                f"Param {name} is {params.get(name)!r}: expected a date, YYYY-MM-DD"
            ) from None
    if days["to_date"] < days["from_date"]:
        raise PlanError(
            f"to_date {days['to_date']} is before from_date {days['from_date']}: "
            "expected from_date <= to_date"
        )
    if run_after is not None and days["to_date"] >= run_after.astimezone(UTC).date():
        raise PlanError(
            f"to_date {days['to_date']} has not ended in UTC (this run started "
            f"{run_after.astimezone(UTC):%Y-%m-%d %H:%M} UTC): expected a day before "
            f"{run_after.astimezone(UTC).date()}"
        )
    # Cost Explorer keeps 14 months of daily costs: a range reaching further back is clipped.
    horizon = cost_explorer.daily_horizon()
    kept = f"beyond Cost Explorer's {cost_explorer.DAILY_HORIZON_MONTHS} months of daily costs"
    if days["to_date"] < horizon:
        raise PlanError(
            f"to_date {days['to_date']} is {kept}: expected a range ending on or after {horizon}"
        )
    notes = []
    if days["from_date"] < horizon:
        notes.append(f"from_date {days['from_date']} is {kept}: the range starts at {horizon}")
        days["from_date"] = horizon
    history = HISTORY_WINDOW_DAYS if params.get("with_history", True) else 0
    first = days["from_date"] - timedelta(days=history)
    if first < horizon:
        notes.append(f"history before {horizon} is {kept}: {(horizon - first).days} days fewer")
        first = horizon
    for note in notes:
        log.warning("Prefetch clipped: %s", note)
    return {
        "billing_date": first.isoformat(),
        "use_prefetched_costs": False,
        "config": config.to_dict(),
        "from_date": days["from_date"].isoformat(),
        "last_day": days["to_date"].isoformat(),
        "notes": notes,
    }


def _range(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


@fail_fast
def prefetch_costs(plan: PrefetchPlan, organization: Organization, ou: str) -> dict[str, Any]:
    """One OU's costs for every day of the range in ONE paged request.

    Stages each day's part under ``prefetched/`` (the bytes ``extract_costs`` would stage), with
    the OU's accounts as staged for the first day. Cheaper than a request per day when an OU's
    daily groups fill less than a page (Cost Explorer pages run across days), and a run per day
    also re-pulls the restated days: a 30-day backfill of the large organisation costs 75 % less.
    """
    first, config = billing_day(plan), settings(plan)
    last = date.fromisoformat(plan["last_day"])
    s3 = aws_client("s3")
    mapping = archive.read_json(s3, organization["mapping_uri"])
    rows, requests = fetch_ou_costs(config, mapping, ou, first, last)
    by_day: dict[date, list] = {day: [] for day in _range(first, last)}
    for row in rows:
        if row.billing_date not in by_day:
            raise CostDataError(
                f"Cost Explorer answered {row.billing_date} for OU {ou!r}; "
                f"asked for {first} .. {last}"
            )
        by_day[row.billing_date].append(row)
    for day, day_rows in by_day.items():
        archive.put_staging(
            s3, config.archive_bucket, layout.prefetched_part_key(day, ou), to_csv(day_rows)
        )
    return {"ou": ou, "rows": len(rows), "requests": requests}


@fail_fast
def record_prefetch(
    plan: PrefetchPlan, organization: Organization, fetched: list[dict[str, Any]]
) -> dict[str, Any]:
    """Declare each day of the range prefetched (its manifest), once every OU is staged; the
    summary names the backfill command that uses them."""
    first, config = billing_day(plan), settings(plan)
    last = date.fromisoformat(plan["last_day"])
    s3 = aws_client("s3")
    mapping_key = layout.prefetch_mapping_key(first)
    archive.put_staging(
        s3, config.archive_bucket, mapping_key, archive.read_uri(s3, organization["mapping_uri"])
    )
    days = _range(first, last)
    for day in days:
        parts = {f["ou"]: layout.prefetched_part_key(day, f["ou"]) for f in fetched}
        prefetch_manifest.write_manifest(s3, config.archive_bucket, day, parts, mapping_key)
    requests = sum(f["requests"] for f in fetched)
    summary = {
        "first_day": first.isoformat(),
        "last_day": last.isoformat(),
        "days": len(days),
        "ous": len(fetched),
        "rows": sum(f["rows"] for f in fetched),
        "cost_explorer_requests": requests,
        "cost_usd": f"{requests * cost_explorer.REQUEST_PRICE_USD:.2f}",
        "notes": plan.get("notes", []),
        # --to-date is the day after the last billing day: a run's logical date is 06:00 of it.
        "backfill_command": (
            f"airflow backfill create --dag-id finops_daily_digest --from-date {plan['from_date']} "
            f"--to-date {last + timedelta(days=1)} "
            """--dag-run-conf '{"use_prefetched_costs": true}'"""
        ),
    }
    log.info("Prefetched %s", summary)
    return summary
