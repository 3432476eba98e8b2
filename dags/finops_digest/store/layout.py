"""Where every artifact lives in the archive bucket (one place, so all readers agree)."""

from __future__ import annotations

from datetime import date

from finops_digest.billing_day import partition_path

CSV_PREFIX = "ou-breakdowns"
# The Glue crawler targets this prefix; its last folder names the table (ou_breakdown).
PARQUET_PREFIX = "parquet/ou_breakdown"
# The budget table's own prefix, beside (not under) the crawled one.
BUDGET_PREFIX = "parquet/ou_budget"
STAGING_PREFIX = "staging"

CSV_NAME = "ou_breakdown.csv"
PARQUET_NAME = "ou_breakdown.parquet"
MAPPING_NAME = "account_ou_mapping.json"
ANOMALIES_NAME = "anomalies.json"


def archive_key(day: date, name: str = CSV_NAME) -> str:
    """``ou-breakdowns/year=YYYY/month=MM/day=DD/<name>``: the CSV and its companions."""
    return f"{CSV_PREFIX}/{partition_path(day)}/{name}"


def parquet_key(day: date) -> str:
    """The day's Parquet object, under the table's own prefix (one format per table location)."""
    return f"{PARQUET_PREFIX}/{partition_path(day)}/{PARQUET_NAME}"


def budget_key(day: date) -> str:
    """The day's row of the budget table (``parquet/ou_budget/year=.../ou_budget.parquet``)."""
    return f"{BUDGET_PREFIX}/{partition_path(day)}/ou_budget.parquet"


def staging_key(day: date, name: str) -> str:
    """Intermediate objects of one day's run (per-OU parts, history); not part of the archive."""
    return f"{STAGING_PREFIX}/billing_date={day.isoformat()}/{name}"


def s3_uri(bucket: str, key: str) -> str:
    """``s3://bucket/key``."""
    return f"s3://{bucket}/{key}"


def parse_s3_uri(uri: str) -> tuple[str, str]:
    """Split ``s3://bucket/key`` into (bucket, key)."""
    if not uri.startswith("s3://") or "/" not in uri[5:]:
        raise ValueError(f"not an s3://bucket/key URI: {uri!r}")
    bucket, key = uri[5:].split("/", 1)
    return bucket, key
