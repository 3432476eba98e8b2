"""Reads and writes of the bucket: refuse unversioned buckets, verify integrity, keep every version."""

from __future__ import annotations

import base64
import hashlib
import json
import random
import time
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from finops_digest.errors import FinopsError
from finops_digest.store.layout import parse_s3_uri, s3_uri


class ArchiveError(FinopsError):
    """The archive cannot be written without risking data."""


def require_versioning(s3_client: Any, bucket: str) -> None:
    """Refuse to archive into a bucket whose versioning is not Enabled (a re-run would overwrite)."""
    status = s3_client.get_bucket_versioning(Bucket=bucket).get("Status")
    if status != "Enabled":
        raise ArchiveError(
            f"S3 bucket '{bucket}' has versioning {status or 'never enabled'}; expected Enabled. "
            "The archive never overwrites data: enable versioning on the bucket, then re-run."
        )


# The Content-Type of every Parquet object the DAG writes.
PARQUET_TYPE = "application/vnd.apache.parquet"


def put_archived(
    s3_client: Any,
    bucket: str,
    key: str,
    body: bytes,
    *,
    content_type: str,
    metadata: dict[str, str],
) -> dict[str, str]:
    """Upload one object as a new version, with a SHA-256 checksum S3 verifies on receipt.

    Returns ``{"uri", "version_id", "sha256"}``; raises if S3 gave no version id, since then the
    bucket did not keep the previous version.
    """
    digest = base64.b64encode(hashlib.sha256(body).digest()).decode()
    response = s3_client.put_object(
        Bucket=bucket,
        Key=key,
        Body=body,
        ContentType=content_type,
        Metadata=metadata,
        ChecksumAlgorithm="SHA256",
        ChecksumSHA256=digest,
    )
    version_id = response.get("VersionId")
    if not version_id or version_id == "null":
        raise ArchiveError(
            f"s3://{bucket}/{key} was stored without a version id; expected versioning"
        )
    return {"uri": s3_uri(bucket, key), "version_id": version_id, "sha256": digest}


def get_bytes(s3_client: Any, bucket: str, key: str, version_id: str | None = None) -> bytes:
    """The bytes of one object (a given version, or the latest)."""
    extra = {"VersionId": version_id} if version_id else {}
    return s3_client.get_object(Bucket=bucket, Key=key, **extra)["Body"].read()


def get_if_exists(s3_client: Any, bucket: str, key: str) -> bytes | None:
    """The latest version's bytes, or None when there is no such object."""
    try:
        return get_bytes(s3_client, bucket, key)
    except s3_client.exceptions.NoSuchKey:
        return None


def get_json_if_exists(s3_client: Any, bucket: str, key: str) -> Any | None:
    """The latest version's JSON document, or None when there is no such object."""
    data = get_if_exists(s3_client, bucket, key)
    return None if data is None else json.loads(data)


def read_uri(s3_client: Any, uri: str, version_id: str | None = None) -> bytes:
    """The bytes behind an ``s3://`` pointer a task was handed (a given version, or the latest)."""
    bucket, key = parse_s3_uri(uri)
    return get_bytes(s3_client, bucket, key, version_id)


def read_json(s3_client: Any, uri: str, version_id: str | None = None) -> Any:
    """The JSON document behind an ``s3://`` pointer."""
    return json.loads(read_uri(s3_client, uri, version_id))


def put_staging(s3_client: Any, bucket: str, key: str, body: bytes) -> str:
    """Stage a run's intermediate object (overwritten by a re-run; not archived); its URI."""
    s3_client.put_object(Bucket=bucket, Key=key, Body=body)
    return s3_uri(bucket, key)


class StateConflictError(RuntimeError):
    """A state object kept changing under concurrent writers (retried by the task)."""


def update_json(
    s3_client: Any,
    bucket: str,
    key: str,
    change: Callable[[Any], Any],
    *,
    metadata: dict[str, str] | None = None,
    attempts: int = 8,
) -> dict[str, str]:
    """Read-modify-write of a small JSON state object with S3 conditional writes, so concurrent
    runs (a backfill runs several days at once) never lose or duplicate an entry.

    ``change(current or None)`` returns the new document; it may run more than once, so it must
    be idempotent (adding what is already there changes nothing). Each write is a new version.
    """
    for attempt in range(attempts):
        try:
            current = s3_client.get_object(Bucket=bucket, Key=key)
        except s3_client.exceptions.NoSuchKey:
            document, condition = change(None), {"IfNoneMatch": "*"}
        else:
            document = change(json.loads(current["Body"].read()))
            condition = {"IfMatch": current["ETag"]}
        try:
            response = s3_client.put_object(
                Bucket=bucket,
                Key=key,
                Body=json.dumps(document, indent=1, sort_keys=True).encode(),
                ContentType="application/json",
                Metadata=metadata or {},
                **condition,
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] not in _CONFLICTS:
                raise
            time.sleep(random.uniform(0.05, 0.2) * (attempt + 1))  # noqa: S311 (jitter)
            continue
        return {"uri": s3_uri(bucket, key), "version_id": response.get("VersionId", "")}
    raise StateConflictError(
        f"{s3_uri(bucket, key)} changed under {attempts} attempts to update it"
    )


_CONFLICTS = ("PreconditionFailed", "ConditionalRequestConflict")
