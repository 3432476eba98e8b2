"""Each email kind goes to each recipient once per billing day, however often the day is re-run."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from finops_digest.store.archive import get_if_exists, update_json
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
    """Add a delivery to the day's record (a conditional write: concurrent writers never lose one;
    a new object version each time, so nothing is lost)."""

    def add(record: dict[str, Any] | None) -> dict[str, Any]:
        record = record or {"billing_date": day.isoformat(), "kind": kind, "deliveries": []}
        if all(d["message_id"] != message_id for d in record["deliveries"]):
            record["deliveries"].append({"message_id": message_id, "recipients": recipients})
        return record

    update_json(s3_client, bucket, sent_key(day, kind), add)
