"""Probes of the archive bucket: reads, and a write probe that writes nothing.

The write probe starts a multipart upload at ``PROBE_KEY`` and aborts it: S3 authorises that with
``s3:PutObject`` (and, with SSE-KMS, ``kms:GenerateDataKey``) but no object or version is created.
Should the abort be denied, the bucket's lifecycle rule removes the incomplete upload.
"""

from __future__ import annotations

from finops_digest.cli.probe import Probe, Session, Skip
from finops_digest.config import FinopsConfig
from finops_digest.store import archive, layout

PROBE_KEY = layout.CHECK_AWS_PROBE_KEY
_KMS = (
    "not called directly: S3 and Athena use the archive key for you (SSE-KMS); "
    "a KMS denial shows up in their probes"
)


def probes(config: FinopsConfig) -> list[Probe]:
    """The bucket's and its objects' permissions, in the ArchiveBucket/ArchiveObjects order."""
    bucket = layout.s3_uri(config.archive_bucket, "")
    probe_uri = layout.s3_uri(config.archive_bucket, PROBE_KEY)
    nothing_yet = "allowed (nothing archived yet: S3 answered NoSuchKey)"
    return [
        Probe("s3:GetBucketVersioning", bucket, bucket_versioning),
        Probe("s3:GetBucketLocation", bucket, bucket_location),
        Probe("s3:ListBucket", f"{bucket}{layout.CSV_PREFIX}/", list_archive),
        Probe(
            "s3:GetObject",
            f"{bucket}{layout.CSV_PREFIX}/",
            read_object,
            absent_ok=nothing_yet,
            kms_action="kms:Decrypt",
        ),
        Probe(
            "s3:GetObjectVersion",
            f"{bucket}{layout.CSV_PREFIX}/",
            read_version,
            kms_action="kms:Decrypt",
        ),
        Probe("s3:ListBucketVersions", f"{bucket}{layout.REPORTS_PREFIX}/", list_versions),
        Probe("s3:PutObject", probe_uri, start_upload, kms_action="kms:GenerateDataKey"),
        Probe("s3:ListMultipartUploadParts", probe_uri, list_upload_parts),
        Probe("s3:AbortMultipartUpload", probe_uri, abort_upload),
        Probe("kms:GenerateDataKey", "the archive's KMS key", skip=_KMS),
        Probe("kms:Decrypt", "the archive's KMS key", skip=_KMS),
    ]


def bucket_versioning(s: Session) -> str:
    """The DAG's own check (``require_versioning``): a bucket without versioning is refused."""
    archive.require_versioning(s.client("s3"), s.config.archive_bucket)
    return "versioning Enabled"


def bucket_location(s: Session) -> str:
    """Where the bucket lives (us-east-1 answers None)."""
    answer = s.client("s3").get_bucket_location(Bucket=s.config.archive_bucket)
    return f"in {answer.get('LocationConstraint') or 'us-east-1'}"


def list_archive(s: Session) -> str:
    """The first object under ou-breakdowns/, which the read probes then read (if any)."""
    answer = s.client("s3").list_objects_v2(
        Bucket=s.config.archive_bucket, Prefix=f"{layout.CSV_PREFIX}/", MaxKeys=1
    )
    keys = [o["Key"] for o in answer.get("Contents", [])]
    s.found["listed"] = True
    s.found["object"] = keys[0] if keys else None
    return f"first archived object: {keys[0]}" if keys else "nothing archived yet"


def list_versions(s: Session) -> str:
    """The month-close report lists the versions of its month's CSVs (its restatements): one
    version under reports/ is all this needs."""
    answer = s.client("s3").list_object_versions(
        Bucket=s.config.archive_bucket, Prefix=f"{layout.REPORTS_PREFIX}/", MaxKeys=1
    )
    found = len(answer.get("Versions", []))
    return "listed versions" + ("" if found else " (no report archived yet)")


def read_object(s: Session) -> str:
    """One byte of the first archived object (of ``PROBE_KEY``, which never exists, when there is
    none). Only after the listing: without ``s3:ListBucket`` S3 answers a missing key with 403."""
    s.need("listed", "needs the listing (s3:ListBucket): without it a missing key answers 403")
    key = s.found["object"] or PROBE_KEY
    s.found["version"] = (key, _first_byte(s, key))
    return f"read {key}"


def read_version(s: Session) -> str:
    """One byte of that object's version, by id, as the DAG re-reads what it archived."""
    if s.found.get("listed") and s.found.get("object") is None:
        raise Skip("nothing archived yet: no version to read")
    key, version = s.need("version", "needs the object read above (s3:GetObject)")
    if not version:
        raise Skip(f"{key} has no version id (written while versioning was off)")
    _first_byte(s, key, VersionId=version)
    return f"read version {version} of {key}"


def _first_byte(s: Session, key: str, **version: str) -> str | None:
    """GET one byte (KMS decrypts as for a whole read; archived objects are never empty); the
    version id S3 answers with."""
    answer = s.client("s3").get_object(
        Bucket=s.config.archive_bucket, Key=key, Range="bytes=0-0", **version
    )
    answer["Body"].close()
    return answer.get("VersionId")


def start_upload(s: Session) -> str:
    """Start the write probe's multipart upload (no object exists until it completes)."""
    answer = s.client("s3").create_multipart_upload(Bucket=s.config.archive_bucket, Key=PROBE_KEY)
    s.found["upload"] = answer["UploadId"]
    return "may write: a multipart upload started (aborted below, nothing is written)"


def list_upload_parts(s: Session) -> str:
    """The write probe's upload has no parts: listing them is all this needs."""
    upload = s.need("upload", "no upload was started (s3:PutObject)")
    s.client("s3").list_parts(Bucket=s.config.archive_bucket, Key=PROBE_KEY, UploadId=upload)
    return "listed the upload's parts"


def abort_upload(s: Session) -> str:
    """End the write probe: the upload is gone and nothing was written."""
    upload = s.need("upload", "no upload was started (s3:PutObject)")
    s.client("s3").abort_multipart_upload(
        Bucket=s.config.archive_bucket, Key=PROBE_KEY, UploadId=upload
    )
    return "aborted the upload: nothing was written"
