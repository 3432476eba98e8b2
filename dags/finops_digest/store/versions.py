"""Every version the versioned archive keeps of its objects (ListObjectVersions): what a day's
CSV said when it was first archived, before any restatement."""

from __future__ import annotations

from typing import Any


def versions_by_key(s3_client: Any, bucket: str, prefix: str) -> dict[str, list[str]]:
    """Key -> its version ids, oldest first, for every object under ``prefix`` (all pages).

    S3 lists a key's versions newest first; delete markers are left out (the archive never
    deletes, but a marker someone added by hand is no version of the data)."""
    found: dict[str, list[str]] = {}
    paginator = s3_client.get_paginator("list_object_versions")
    for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
        for version in page.get("Versions", []):
            found.setdefault(version["Key"], []).append(version["VersionId"])
    return {key: list(reversed(ids)) for key, ids in found.items()}
