"""The recent cost history anomaly detection and the digest compare against."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

from finops_digest import archive, cost_explorer
from finops_digest.cost_rows import CostRow, from_csv
from finops_digest.layout import archive_key, s3_uri

log = logging.getLogger(__name__)


def load_history(
    s3_client: Any,
    ce_client: Any,
    *,
    bucket: str,
    days: Sequence[date],
    ous: Sequence[dict[str, Any]],
    metric: str,
    excluded_record_types: Sequence[str],
    currency: str,
) -> tuple[list[CostRow], dict[str, int]]:
    """Cost rows for ``days``: from the archive where a day is archived (free), otherwise from
    Cost Explorer with today's account-to-OU mapping (so the very first run has history too).

    Returns the rows and ``{"archived_days", "cost_explorer_days", "cost_explorer_requests"}``.
    """
    rows: list[CostRow] = []
    missing: list[date] = []
    for day in days:
        data = archive.get_if_exists(s3_client, bucket, archive_key(day))
        if data is None:
            missing.append(day)
        else:
            rows.extend(from_csv(data, s3_uri(bucket, archive_key(day))))
    requests = 0
    if missing:
        wanted = set(missing)
        start, end = min(missing), max(missing) + timedelta(days=1)
        for ou in ous:
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
        "archived_days": len(days) - len(missing),
        "cost_explorer_days": len(missing),
        "cost_explorer_requests": requests,
    }
    log.info("History over %d days: %s", len(days), stats)
    return rows, stats
