"""A pre-signed link to an archived object that says, truthfully, how long it works.

A URL signed with a role's temporary credentials (MWAA's execution role) stops working when that
session ends, whatever ``ExpiresIn`` says; long-term keys allow SigV4's maximum of 7 days.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

# SigV4's maximum for a pre-signed URL.
LINK_EXPIRY_SECONDS = 7 * 24 * 3600
# A session of unknown end (temporary credentials without an expiry): AssumeRole's default hour.
UNKNOWN_SESSION_SECONDS = 3600


def presigned_link(s3_client: Any, bucket: str, key: str, version_id: str) -> dict[str, str]:
    """``{"url", "valid_until"}`` for the object's version, valid as long as the signing
    credentials are (at most 7 days), timed by S3's own clock."""
    head = s3_client.head_object(Bucket=bucket, Key=key, VersionId=version_id)
    # S3's clock: its answer's Date, else the object's own write time (this run wrote it
    # minutes ago, so the promise errs on the early side).
    date_header = head["ResponseMetadata"].get("HTTPHeaders", {}).get("date")
    now = parsedate_to_datetime(date_header) if date_header else head["LastModified"]
    lifetime = min(LINK_EXPIRY_SECONDS, _session_seconds(s3_client, now))
    url = s3_client.generate_presigned_url(
        "get_object",
        Params={"Bucket": bucket, "Key": key, "VersionId": version_id},
        ExpiresIn=lifetime,
    )
    until = now + timedelta(seconds=lifetime)
    return {"url": url, "valid_until": f"{until:%Y-%m-%d %H:%M} UTC"}


def _session_seconds(s3_client: Any, now: datetime) -> int:
    """How long the client's signing credentials last from ``now`` (long-term keys: 7 days)."""
    # botocore keeps the signing credentials on the request signer; a role's are refreshable
    # credentials with an expiry time.
    credentials = getattr(getattr(s3_client, "_request_signer", None), "_credentials", None)
    expiry = getattr(credentials, "_expiry_time", None)
    if expiry is not None:
        return max(60, int((expiry - now).total_seconds()))
    if credentials is not None and getattr(credentials, "token", None):
        return UNKNOWN_SESSION_SECONDS
    return LINK_EXPIRY_SECONDS
