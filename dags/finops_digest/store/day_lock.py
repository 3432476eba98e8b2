"""One run at a time per billing day: a lock object in the archive bucket, taken and handed back
with S3 conditional writes (never deleted, so its history shows who processed the day when)."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import date
from typing import Any

from botocore.exceptions import ClientError

from finops_digest.store.layout import lock_key, s3_uri

log = logging.getLogger(__name__)


class DayLockedError(RuntimeError):
    """Another run is processing the same billing day (retried: that run may finish soon)."""


def acquire(
    s3_client: Any,
    bucket: str,
    day: date,
    holder: str,
    is_running: Callable[[str], bool] | None = None,
) -> str | None:
    """Take the day's lock for ``holder`` (an Airflow run id); a retry of the same run may re-take it.

    A lock held by a run that is no longer running (``is_running``: its teardown never ran, the
    run was marked failed or deleted) is taken over, said in the log and recorded in the lock.
    Returns the run taken over from, if any. Raises DayLockedError naming a run that holds it.
    """
    key = lock_key(day)
    body = json.dumps({"held": True, "holder": holder}).encode()
    try:
        current = s3_client.get_object(Bucket=bucket, Key=key)
    except s3_client.exceptions.NoSuchKey:
        _conditional_put(s3_client, bucket, key, body, day, IfNoneMatch="*")
        return None
    record = json.loads(current["Body"].read())
    other = record.get("holder")
    taken_over = None
    if record.get("held") and other != holder:
        if is_running is None or is_running(other):
            raise DayLockedError(
                f"billing day {day} is being processed by run {other!r} "
                f"(lock {s3_uri(bucket, key)}); this run waits for it through its retries."
            )
        log.warning(
            "Took over the lock of billing day %s from run %r, which is no longer running "
            "(its release_billing_day never ran)",
            day,
            other,
        )
        taken_over = other
        body = json.dumps({"held": True, "holder": holder, "took_over_from": other}).encode()
    _conditional_put(s3_client, bucket, key, body, day, IfMatch=current["ETag"])
    return taken_over


def release(s3_client: Any, bucket: str, day: date, holder: str) -> bool:
    """Hand the lock back if ``holder`` has it; returns whether it did."""
    key = lock_key(day)
    try:
        current = s3_client.get_object(Bucket=bucket, Key=key)
    except s3_client.exceptions.NoSuchKey:
        return False
    record = json.loads(current["Body"].read())
    if not record.get("held") or record.get("holder") != holder:
        return False
    body = json.dumps({"held": False, "holder": holder}).encode()
    _conditional_put(s3_client, bucket, key, body, day, IfMatch=current["ETag"])
    return True


def _conditional_put(
    s3_client: Any, bucket: str, key: str, body: bytes, day: date, **condition
) -> None:
    """Write the lock only if it is still what we read. A conflict whose winner is this very write
    (a retried request whose first attempt landed but whose answer was lost) is a success."""
    try:
        s3_client.put_object(Bucket=bucket, Key=key, Body=body, **condition)
    except ClientError as exc:
        if exc.response["Error"]["Code"] in ("PreconditionFailed", "ConditionalRequestConflict"):
            now = s3_client.get_object(Bucket=bucket, Key=key)["Body"].read()
            if json.loads(now) == json.loads(body):
                return
            raise DayLockedError(
                f"another run took the lock of billing day {day} at the same moment"
            ) from exc
        raise
