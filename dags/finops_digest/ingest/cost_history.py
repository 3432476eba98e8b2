"""The recent cost history anomaly detection and the digest compare against."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from typing import Any

from finops_digest.aws import cost_explorer
from finops_digest.detection.detector import HISTORY_DAYS
from finops_digest.ingest import prefetch_manifest as prefetch
from finops_digest.ingest.cost_rows import CostRow, from_csv
from finops_digest.ingest.ou_identity import ArchivedLabels, relabel
from finops_digest.store import archive
from finops_digest.store.layout import archive_key, s3_uri

log = logging.getLogger(__name__)

# The digest compares against the previous day and the month to date, so history covers a month.
DIGEST_HISTORY_DAYS = 31
# The days before D read as history: what the detector and the digest compare the day with.
HISTORY_WINDOW_DAYS = max(HISTORY_DAYS, DIGEST_HISTORY_DAYS)


def load_history(
    s3_client: Any,
    ce_client: Any,
    *,
    bucket: str,
    days: Sequence[date],
    labels: ArchivedLabels,
    metric: str,
    excluded_record_types: Sequence[str],
    currency: str,
    versions: Mapping[date, str] | None = None,
) -> tuple[list[CostRow], dict[str, int]]:
    """Cost rows for ``days``: from the archive where a day is archived (free), else from its
    prefetched parts (``prefetch``: free), else from Cost Explorer with today's account-to-OU
    mapping (``labels.now``: so the very first run has history too). ``versions`` pins the
    archived version read for a day (the version a restatement of this run just wrote). Rows
    are read under today's OU labels: an OU renamed since keeps its history (``ou_identity``).

    Days before Cost Explorer's daily horizon that are neither archived nor prefetched are left
    out (``beyond_horizon_days``), never asked for.

    Returns the rows and ``{"archived_days", "prefetched_days", "cost_explorer_days",
    "cost_explorer_requests", "beyond_horizon_days"}``.
    """
    rows: list[CostRow] = []
    unarchived: list[date] = []
    for day in days:
        if versions and day in versions:
            data = archive.get_bytes(s3_client, bucket, archive_key(day), versions[day])
        else:
            data = archive.get_if_exists(s3_client, bucket, archive_key(day))
        if data is None:
            unarchived.append(day)
        else:
            rows.extend(
                relabel(from_csv(data, s3_uri(bucket, archive_key(day))), labels.of_day(day))
            )
    prefetched = prefetch.prefetched_days(s3_client, bucket, unarchived)
    for manifest in prefetched.values():
        renamed = labels.of_key(manifest["mapping_key"])
        for key in manifest["parts"].values():
            part = from_csv(archive.get_bytes(s3_client, bucket, key), s3_uri(bucket, key))
            rows.extend(relabel((r for r in part if r.daily_cost != 0), renamed))
    # Cost Explorer no longer has the days before its horizon: they are left out, said in stats.
    horizon = cost_explorer.daily_horizon()
    beyond = [day for day in unarchived if day not in prefetched and day < horizon]
    missing = [day for day in unarchived if day not in prefetched and day >= horizon]
    requests = 0
    if missing:
        wanted = set(missing)
        start, end = min(missing), max(missing) + timedelta(days=1)
        for ou in labels.now["ous"]:
            if not ou["accounts"]:
                continue
            fetched, pages = cost_explorer.fetch_cost_rows(
                ce_client,
                ou=ou["name"],
                account_ids=ou["accounts"],
                start=start,
                end=end,
                metric=metric,
                excluded_record_types=excluded_record_types,
                currency=currency,
            )
            requests += pages
            rows.extend(r for r in fetched if r.billing_date in wanted and r.daily_cost != 0)
    stats = {
        "archived_days": len(days) - len(unarchived),
        "prefetched_days": len(prefetched),
        "cost_explorer_days": len(missing),
        "cost_explorer_requests": requests,
        "beyond_horizon_days": len(beyond),
    }
    if beyond:
        log.warning(
            "%d history days before %s are neither archived nor prefetched and beyond Cost "
            "Explorer's daily horizon: compared without them",
            len(beyond),
            horizon,
        )
    log.info("History over %d days: %s", len(days), stats)
    return rows, stats
