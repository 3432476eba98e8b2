"""In-process read/write of moto's S3 state (latest object versions), for the crawler and Athena.

The crawler and the query engine run inside the moto server process, so they read the backend
directly instead of making HTTP calls back into the server they are serving a request for.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

from moto.s3.models import FakeDeleteMarker, s3_backends

from sandbox.config import ACCOUNT_ID


def split_s3_uri(uri: str) -> tuple[str, str]:
    """("bucket", "key/prefix") of an s3:// URI."""
    parsed = urlparse(uri)
    if parsed.scheme not in ("s3", "s3a", "s3n") or not parsed.netloc:
        raise ValueError(f"not an s3:// URI: {uri}")
    return parsed.netloc, parsed.path.lstrip("/")


def _backend(account_id: str = ACCOUNT_ID) -> Any:
    return s3_backends[account_id]["aws"]


def list_latest(uri: str, account_id: str = ACCOUNT_ID) -> list[str]:
    """Keys under an s3:// prefix whose latest version is an object (not a delete marker)."""
    bucket_name, prefix = split_s3_uri(uri)
    bucket = _backend(account_id).get_bucket(bucket_name)
    # Runs of other days write the bucket while a query lists it (a backfill runs days side by
    # side): moto's key store then changes under the iteration, so the listing is taken again.
    for _ in range(20):
        try:
            items = list(bucket.keys.items())
            break
        except RuntimeError:  # "OrderedDict mutated during iteration"
            continue
    else:
        items = list(bucket.keys.items())
    keys = [
        name
        for name, key in items
        if name.startswith(prefix) and not isinstance(key, FakeDeleteMarker)
    ]
    return sorted(keys)


def read_latest(bucket_name: str, key: str, account_id: str = ACCOUNT_ID) -> bytes:
    """Bytes of the latest version of an object."""
    bucket = _backend(account_id).get_bucket(bucket_name)
    return bucket.keys[key].value


def latest_etag(bucket_name: str, key: str, account_id: str = ACCOUNT_ID) -> str:
    """The ETag of an object's latest version (KeyError when there is none)."""
    bucket = _backend(account_id).get_bucket(bucket_name)
    return bucket.keys[key].etag


def put_object(uri: str, body: bytes, account_id: str = ACCOUNT_ID) -> None:
    """Write an object (a new version when the bucket is versioned)."""
    bucket_name, key = split_s3_uri(uri)
    _backend(account_id).put_object(bucket_name=bucket_name, key_name=key, value=body)
