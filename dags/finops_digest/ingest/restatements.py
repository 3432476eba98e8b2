"""Cost Explorer restates recent days (late usage, Savings Plans amortisation): re-archive a day
whose numbers changed, attributed with that day's own account-to-OU mapping."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import date
from typing import Any

from finops_digest.aws.organizations import account_names
from finops_digest.billing_day import days_before
from finops_digest.ingest.cost_rows import CostRow, consolidate, from_csv, to_csv, to_parquet, total
from finops_digest.store import archive, day_lock, layout

log = logging.getLogger(__name__)


def restate_days(
    s3_client: Any,
    bucket: str,
    day: date,
    days: int,
    rows_of: Callable[[date], list[CostRow]],
    metadata: dict[str, str],
    holder: str,
) -> list[dict[str, Any]]:
    """Compare the re-pulled rows of the ``days`` days before ``day`` (``rows_of(day)``: asked
    one day at a time, so only one day's rows are held) with their archived CSV.

    A changed day gets new versions of its CSV and Parquet (the old ones stay); an unchanged day,
    or one never archived (its own run will), is left alone. Returns one entry per restated day:
    ``{"billing_date", "previous_total", "total", "delta", "csv_version_id", "parquet_version_id"}``.
    """
    restated = []
    for earlier in days_before(day, days):
        # Under the earlier day's own lock: a run of that day in progress (a backfill runs days
        # side by side) archives fresh numbers itself, and the two never interleave.
        try:
            day_lock.acquire(s3_client, bucket, earlier, holder)
        except day_lock.DayLockedError as busy:
            log.info("Restatement of %s left to its own run: %s", earlier, busy)
            continue
        try:
            entry = _restate(s3_client, bucket, day, earlier, rows_of, metadata)
        finally:
            day_lock.release(s3_client, bucket, earlier, holder)
        if entry:
            restated.append(entry)
    return restated


def _restate(
    s3_client: Any,
    bucket: str,
    day: date,
    earlier: date,
    rows_of: Callable[[date], list[CostRow]],
    metadata: dict[str, str],
) -> dict[str, Any] | None:
    """Re-archive ``earlier`` from its re-pulled rows if they differ from its archived CSV (the
    rows are read only for a day that is archived)."""
    archived = archive.get_if_exists(s3_client, bucket, layout.archive_key(earlier))
    if archived is None:
        return None
    mapping = archive.get_json_if_exists(
        s3_client, bucket, layout.archive_key(earlier, layout.MAPPING_NAME)
    )
    fresh = consolidate(_attribute(mapping, rows_of(earlier)))
    fresh_csv = to_csv(fresh)
    if fresh_csv == archived:
        return None
    before = total(from_csv(archived, layout.archive_key(earlier)))
    meta = {
        **metadata,
        "billing-date": earlier.isoformat(),
        "restated-by-run-of": day.isoformat(),
    }
    csv = archive.put_archived(
        s3_client,
        bucket,
        layout.archive_key(earlier),
        fresh_csv,
        content_type="text/csv; charset=utf-8",
        metadata=meta,
    )
    parquet = archive.put_archived(
        s3_client,
        bucket,
        layout.parquet_key(earlier),
        # The accounts named as on that day (none, for a day archived without its mapping).
        to_parquet(fresh, meta, account_names(mapping) if mapping else {}),
        content_type=archive.PARQUET_TYPE,
        metadata=meta,
    )
    after = total(fresh)
    log.info("Restated %s: %s -> %s", earlier, before, after)
    return {
        "billing_date": earlier.isoformat(),
        "previous_total": str(before),
        "total": str(after),
        "delta": str(after - before),
        "csv_version_id": csv["version_id"],
        "parquet_version_id": parquet["version_id"],
    }


def _attribute(mapping: dict[str, Any] | None, rows: list[CostRow]) -> list[CostRow]:
    """Each account's OU in the day's archived ``mapping``, so moving an account never rewrites
    the past."""
    if mapping is None:
        return rows
    ou_of = {account: info["ou"] for account, info in mapping["accounts"].items()}
    return [replace(r, ou=ou_of.get(r.linked_account, r.ou)) for r in rows]
