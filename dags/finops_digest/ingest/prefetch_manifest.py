"""Costs fetched ahead of a backfill: one paged Cost Explorer request per OU over a whole date
range instead of one per OU and day (and per restated day), staged per day for the backfill's runs.

Per billing day D the ``finops_prefetch_costs`` DAG stages one CSV part per OU under
``staging/billing_date=D/prefetched/`` and, once every OU is in, a manifest
``staging/billing_date=D/prefetched.json`` naming them. A day without a manifest was not (fully)
prefetched: readers then ask Cost Explorer as usual, so a half-finished prefetch costs money but
never wrong numbers.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date
from typing import Any

from finops_digest.store import archive, layout


def write_manifest(
    s3_client: Any, bucket: str, day: date, parts: dict[str, str], mapping_key: str
) -> None:
    """Declare the day prefetched: ``parts`` maps every OU to its part's key; ``mapping_key`` is
    the account-to-OU mapping the parts were fetched with."""
    body = {"billing_date": day.isoformat(), "mapping_key": mapping_key, "parts": parts}
    s3_client.put_object(
        Bucket=bucket,
        Key=layout.prefetch_manifest_key(day),
        Body=json.dumps(body, indent=1, sort_keys=True).encode(),
        ContentType="application/json",
    )


def read_manifest(s3_client: Any, bucket: str, day: date) -> dict[str, Any] | None:
    """``{"parts": {OU: part key}, "mapping_key": ...}`` of a prefetched day; None when the day
    was not prefetched."""
    return archive.get_json_if_exists(s3_client, bucket, layout.prefetch_manifest_key(day))


def prefetched_days(s3_client: Any, bucket: str, days: Sequence[date]) -> dict[date, dict]:
    """The days among ``days`` that were prefetched, with their manifests."""
    found = {}
    for day in days:
        manifest = read_manifest(s3_client, bucket, day)
        if manifest is not None:
            found[day] = manifest
    return found
