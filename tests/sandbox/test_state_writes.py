"""Read-modify-write state under concurrent runs (a backfill runs several days at once): S3
conditional writes on the sandbox's real HTTP endpoint; no entry is ever lost or duplicated."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from datetime import date

from finops_digest.store import delivery_record, layout
from sandbox import SANDBOX_DEFAULTS

BUCKET = SANDBOX_DEFAULTS["archive_bucket"]
WRITERS = 12


def test_concurrent_deliveries_are_all_recorded_once(aws):
    day = date(2025, 10, 20)

    def deliver(n: int) -> None:
        s3 = aws("s3", attempts=3)
        delivery_record.record_sent(s3, BUCKET, day, "daily-digest", [f"r{n}@x.io"], f"m-{n}")
        # A retried write (its answer lost) must not add the delivery twice.
        delivery_record.record_sent(s3, BUCKET, day, "daily-digest", [f"r{n}@x.io"], f"m-{n}")

    with ThreadPoolExecutor(WRITERS) as pool:
        list(pool.map(deliver, range(WRITERS)))
    body = aws("s3").get_object(Bucket=BUCKET, Key=layout.sent_key(day, "daily-digest"))
    record = json.loads(body["Body"].read())
    assert sorted(d["message_id"] for d in record["deliveries"]) == sorted(
        f"m-{n}" for n in range(WRITERS)
    )
