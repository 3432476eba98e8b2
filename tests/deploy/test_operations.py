"""Operating the DAG: failure notices by SES, the archive Asset, and the partition_api catalog
strategy (idempotent re-runs, no crawler), each through a whole DAG run against the sandbox."""

from __future__ import annotations

import email
import email.policy
from datetime import date

import pytest

from sandbox import SANDBOX_DEFAULTS
from scripts.local_env import pipeline_config, variable_env
from tests.integration.conftest import run_dag, task_states

BUCKET = SANDBOX_DEFAULTS["archive_bucket"]
ONCALL = "finops-oncall@example.com"


def _configure(monkeypatch, **overrides) -> None:
    config = {**pipeline_config(SANDBOX_DEFAULTS), "failure_recipients": [ONCALL], **overrides}
    for key, value in variable_env(config).items():
        monkeypatch.setenv(key, value)


def _messages(sandbox_):
    return [
        email.message_from_bytes(m, policy=email.policy.default) for m in sandbox_.sent_emails()
    ]


def test_a_failed_run_mails_the_failure_recipients_with_task_day_error_and_log_link(
    sandbox, aws, airflow_db, monkeypatch
):
    _configure(monkeypatch)
    day = date(2025, 9, 12)
    s3 = aws("s3")
    # An unversioned bucket is a configuration error: archive_to_s3 fails at once, no retries.
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Suspended"})
    before = len(sandbox.sent_emails())
    try:
        dag_run = run_dag(day)
        states = task_states(dag_run)
    finally:
        s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    assert dag_run.state == "failed"
    assert states["archive_to_s3"] == "failed"
    notices = [m for m in _messages(sandbox)[before:] if m["X-FinOps-Kind"] == "failure"]
    assert len(notices) == 1, "one notice per failed run; upstream_failed tasks send none"
    [notice] = notices
    assert notice["To"] == ONCALL and notice["From"] == SANDBOX_DEFAULTS["ses_sender"]
    assert notice["Subject"] == (
        "[FinOps] FAILED finops_daily_digest.ingest.archive_to_s3 for billing day 2025-09-12"
    )
    html = notice.get_body(("html",)).get_content()
    for expected in ("finops_daily_digest", "archive_to_s3", "2025-09-12", "versioning"):
        assert expected in html, expected
    assert "/dags/finops_daily_digest/runs/" in html and "/tasks/ingest.archive_to_s3" in html


def test_no_failure_recipients_means_no_notice(sandbox, aws, airflow_db, monkeypatch):
    _configure(monkeypatch, failure_recipients=[])
    s3 = aws("s3")
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Suspended"})
    before = len(sandbox.sent_emails())
    try:
        assert run_dag(date(2025, 9, 13)).state == "failed"
    finally:
        s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    assert not [m for m in _messages(sandbox)[before:] if m["X-FinOps-Kind"] == "failure"]


@pytest.fixture(scope="module")
def partition_api_runs(sandbox, airflow_db):
    """2025-09-11 run twice with catalog_strategy = partition_api (a re-run, as an operator would)."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        _configure(monkeypatch, catalog_strategy="partition_api")
        crawls_before = sandbox.calls("StartCrawler")
        runs = []
        for _ in range(2):
            dag_run = run_dag(date(2025, 9, 11))
            runs.append((dag_run, task_states(dag_run)))
        return runs, sandbox.calls("StartCrawler") - crawls_before


def test_partition_api_registers_the_day_once_without_a_crawler(partition_api_runs, aws):
    runs, crawls = partition_api_runs
    for dag_run, states in runs:
        assert dag_run.state == "success", states
        assert states["validate_in_athena"] == "success"
    assert crawls == 0
    partitions = aws("glue").get_partitions(DatabaseName="finops_db", TableName="ou_breakdown")
    values = [p["Values"] for p in partitions["Partitions"]]
    assert values.count(["2025", "09", "11"]) == 1
    [partition] = [p for p in partitions["Partitions"] if p["Values"] == ["2025", "09", "11"]]
    assert partition["StorageDescriptor"]["Location"] == (
        f"s3://{BUCKET}/parquet/ou_breakdown/year=2025/month=09/day=11/"
    )


def test_archive_to_s3_updates_the_asset_with_the_real_locations(partition_api_runs):
    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.utils.session import create_session

    dag_run = partition_api_runs[0][-1][0]
    with create_session() as session:
        events = (
            session.query(AssetEvent)
            .join(AssetModel, AssetEvent.asset_id == AssetModel.id)
            .filter(AssetModel.name == "finops_ou_breakdowns")
            .filter(AssetEvent.source_run_id == dag_run.run_id)
            .all()
        )
        extras = [e.extra for e in events]
    assert extras, "archive_to_s3 emitted no asset event"
    extra = extras[-1]
    assert extra["billing_date"] == "2025-09-11"
    assert extra["csv"]["uri"] == (
        f"s3://{BUCKET}/ou-breakdowns/year=2025/month=09/day=11/ou_breakdown.csv"
    )
    assert extra["csv"]["version_id"]
