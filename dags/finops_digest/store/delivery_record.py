"""Each email kind goes to each recipient once per billing day, however often the day is re-run."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from finops_digest.store.archive import get_if_exists
from finops_digest.store.layout import sent_key


def already_sent(s3_client: Any, bucket: str, day: date, kind: str) -> set[str]:
    """Recipients that already received this kind of email for the day."""
    data = get_if_exists(s3_client, bucket, sent_key(day, kind))
    if data is None:
        return set()
    return {r for delivery in json.loads(data)["deliveries"] for r in delivery["recipients"]}


def record_sent(
    s3_client: Any, bucket: str, day: date, kind: str, recipients: list[str], message_id: str
) -> None:
    """Add a delivery to the day's record (a new object version each time; nothing is lost)."""
    key = sent_key(day, kind)
    data = get_if_exists(s3_client, bucket, key)
    record = (
        json.loads(data) if data is not None else {"billing_date": day.isoformat(), "kind": kind}
    )
    record.setdefault("deliveries", []).append({"message_id": message_id, "recipients": recipients})
    s3_client.put_object(
        Bucket=bucket,
        Key=key,
        Body=json.dumps(record, indent=1).encode(),
        ContentType="application/json",
    )
