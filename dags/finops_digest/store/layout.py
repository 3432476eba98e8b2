"""Where every object lives in the archive bucket: every key is built here, so all readers agree."""

from __future__ import annotations

import hashlib
import re
from datetime import date

from finops_digest.billing_day import partition_path

CSV_PREFIX = "ou-breakdowns"
# The Glue crawler targets this prefix; its last folder names the table (ou_breakdown).
PARQUET_PREFIX = "parquet/ou_breakdown"
# The budget table's own prefix, beside (not under) the crawled one.
BUDGET_PREFIX = "parquet/ou_budget"
# The day's OU tree and spike findings as tables (partitions projected), for the dashboard.
OU_TREE_PREFIX = "parquet/ou_tree"
ANOMALY_PREFIX = "parquet/ou_anomaly"
# Their Glue tables, beside glue_table and glue_budget_table in the same database.
OU_TREE_TABLE = "ou_tree"
ANOMALY_TABLE = "ou_anomaly"
STAGING_PREFIX = "staging"
# What the periodic reports archive (the month-close chargeback file), one folder per report.
REPORTS_PREFIX = "reports"
CHARGEBACK_NAME = "chargeback.csv"
# Small read-modify-write records of the pipeline itself (never part of the archive's tables).
LOCK_PREFIX = "state/locks"
SENT_PREFIX = "state/sent"
BUDGET_ALERTS_PREFIX = "state/budget-alerts"
FAILURE_NOTICES_PREFIX = "state/failure-notices"
# check-aws proves it may write by starting and aborting a multipart upload here (no object).
CHECK_AWS_PROBE_KEY = "state/check-aws/probe"

# Objects archived beside each day's CSV under ou-breakdowns/year=/month=/day=/.
CSV_NAME = "ou_breakdown.csv"
PARQUET_NAME = "ou_breakdown.parquet"
MAPPING_NAME = "account_ou_mapping.json"
ANOMALIES_NAME = "anomalies.json"
FORECAST_NAME = "forecast.json"
SNAPSHOT_NAME = "executive_snapshot.pdf"


def archive_key(day: date, name: str = CSV_NAME) -> str:
    """``ou-breakdowns/year=YYYY/month=MM/day=DD/<name>``: the CSV and its companions."""
    return f"{CSV_PREFIX}/{partition_path(day)}/{name}"


def parquet_key(day: date) -> str:
    """The day's Parquet object, under the table's own prefix (one format per table location)."""
    return f"{PARQUET_PREFIX}/{partition_path(day)}/{PARQUET_NAME}"


def budget_key(day: date) -> str:
    """The day's row of the budget table (``parquet/ou_budget/year=.../ou_budget.parquet``)."""
    return f"{BUDGET_PREFIX}/{partition_path(day)}/ou_budget.parquet"


def ou_tree_key(day: date) -> str:
    """The day's OU tree (``parquet/ou_tree/year=.../ou_tree.parquet``)."""
    return f"{OU_TREE_PREFIX}/{partition_path(day)}/ou_tree.parquet"


def anomaly_key(day: date) -> str:
    """The day's spike findings as table rows (``parquet/ou_anomaly/year=.../ou_anomaly.parquet``)."""
    return f"{ANOMALY_PREFIX}/{partition_path(day)}/ou_anomaly.parquet"


def staging_key(day: date, name: str) -> str:
    """Intermediate objects of one day's run (per-OU parts, history); not part of the archive."""
    return f"{STAGING_PREFIX}/billing_date={day.isoformat()}/{name}"


def ou_slug(name: str) -> str:
    """A key-safe, collision-free file name for an OU."""
    readable = re.sub(r"[^A-Za-z0-9]+", "-", name).strip("-")[:60] or "ou"
    return f"{readable}-{hashlib.sha256(name.encode()).hexdigest()[:8]}"


def part_key(day: date, ou: str) -> str:
    """One OU's costs of the day, as ``extract_costs`` staged them."""
    return staging_key(day, f"parts/{ou_slug(ou)}.csv")


def restatement_part_key(day: date, ou: str) -> str:
    """One OU's re-pulled costs of the days before ``day`` (the restatement window)."""
    return staging_key(day, f"restatements/{ou_slug(ou)}.csv")


def history_key(day: date) -> str:
    """The cost rows of the days before ``day`` that detection, forecast and digest compare with
    (per OU and service, the day before account by account: ``ingest.cost_history``)."""
    return staging_key(day, "history.csv")


def history_detail_key(day: date) -> str:
    """The account-level rows of the history days neither archived nor in Athena (prefetched or
    from Cost Explorer): what a spike's root cause reads for those days."""
    return staging_key(day, "history_detail.csv")


def report_key(day: date) -> str:
    """The day's report: what the digest and the executive snapshot show."""
    return staging_key(day, "report.json")


def prefetched_part_key(day: date, ou: str) -> str:
    """``staging/billing_date=D/prefetched/<ou>.csv``: one OU's prefetched costs of the day."""
    return staging_key(day, f"prefetched/{ou_slug(ou)}.csv")


def prefetch_mapping_key(day: date) -> str:
    """The account-to-OU mapping a prefetch starting on ``day`` fetched with (its own copy: the
    day's run re-stages the day's mapping)."""
    return staging_key(day, f"prefetched/{MAPPING_NAME}")


def prefetch_manifest_key(day: date) -> str:
    """``staging/billing_date=D/prefetched.json``: the day's complete set of prefetched parts."""
    return staging_key(day, "prefetched.json")


def lock_key(day: date) -> str:
    """``state/locks/billing_date=YYYY-MM-DD.json``: the day's lock."""
    return f"{LOCK_PREFIX}/billing_date={day.isoformat()}.json"


def sent_key(day: date, kind: str) -> str:
    """``state/sent/billing_date=YYYY-MM-DD/<kind>.json``: who already got that message."""
    return f"{SENT_PREFIX}/billing_date={day.isoformat()}/{kind}.json"


def budget_alerts_key(day: date) -> str:
    """The month's budget-alert memory: ``state/budget-alerts/2025-09.json``."""
    return f"{BUDGET_ALERTS_PREFIX}/{day:%Y-%m}.json"


def failure_notice_key(dag_id: str, run_id: str) -> str:
    """Claimed by the first failed task of a run: the run's one failure notice."""
    return f"{FAILURE_NOTICES_PREFIX}/{dag_id}/{ou_slug(run_id)}.json"


def s3_uri(bucket: str, key: str) -> str:
    """``s3://bucket/key``."""
    return f"s3://{bucket}/{key}"


def parse_s3_uri(uri: str) -> tuple[str, str]:
    """Split ``s3://bucket/key`` into (bucket, key)."""
    if not uri.startswith("s3://") or "/" not in uri[5:]:
        raise ValueError(f"not an s3://bucket/key URI: {uri!r}")
    bucket, key = uri[5:].split("/", 1)
    return bucket, key


def chargeback_key(month: date) -> str:
    """``reports/month-close/year=YYYY/month=MM/chargeback.csv``: the month-close report's
    chargeback file of ``month``'s calendar month (a new version on each run)."""
    return f"{REPORTS_PREFIX}/month-close/year={month:%Y}/month={month:%m}/{CHARGEBACK_NAME}"


def month_prefix(month: date) -> str:
    """``ou-breakdowns/year=YYYY/month=MM/``: every day of ``month`` archived beside its CSV."""
    return f"{CSV_PREFIX}/year={month:%Y}/month={month:%m}/"
