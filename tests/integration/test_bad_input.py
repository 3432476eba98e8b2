"""Bad input gets a clear outcome and loses nothing: each case run through Airflow on the sandbox."""

from __future__ import annotations

import email
import email.policy
import json
from datetime import date

import pytest
from botocore.exceptions import ClientError

from finops_digest.aws.clients import aws_client
from finops_digest.aws.cost_explorer import fetch_cost_rows
from finops_digest.store import archive
from tests.integration.conftest import run_dag, task_states


@pytest.fixture
def config_env(monkeypatch, finops_config):
    """Set ``finops_config`` for one test (None: unset)."""

    def set_config(config):
        if config is None:
            monkeypatch.delenv("AIRFLOW_VAR_FINOPS_CONFIG", raising=False)
        else:
            monkeypatch.setenv("AIRFLOW_VAR_FINOPS_CONFIG", json.dumps(config))

    return set_config


def archived_keys(s3, bucket):
    listing = s3.list_object_versions(Bucket=bucket, Prefix="ou-breakdowns/")
    return [v["Key"] for v in listing.get("Versions", [])]


def test_missing_config_fails_planning_before_any_aws_call(sandbox, airflow_db, config_env, aws):
    config_env(None)
    calls = sandbox.calls("GetCostAndUsage")
    dag_run = run_dag(date(2025, 8, 1))
    states = task_states(dag_run)
    assert dag_run.state == "failed"
    assert states["plan_run"] == "failed"
    assert states["discover_ous"] == "upstream_failed"
    assert sandbox.calls("GetCostAndUsage") == calls


def test_invalid_config_fails_planning(sandbox, airflow_db, config_env, finops_config):
    config_env({**finops_config, "cost_metric": "Cheapest"})
    dag_run = run_dag(date(2025, 8, 1))
    assert task_states(dag_run)["plan_run"] == "failed"


def test_unversioned_bucket_is_refused_then_the_rerun_completes(
    sandbox, airflow_db, config_env, finops_config, aws
):
    s3, glue = aws("s3"), aws("glue")
    s3.create_bucket(Bucket="finops-unversioned")
    glue.create_database(DatabaseInput={"Name": "finops_unversioned"})
    glue.create_crawler(
        Name="finops-unversioned-crawler",
        Role="arn:aws:iam::123456789012:role/glue-crawler",
        DatabaseName="finops_unversioned",
        Targets={"S3Targets": [{"Path": "s3://finops-unversioned/parquet/ou_breakdown/"}]},
    )
    config_env(
        {
            **finops_config,
            "archive_bucket": "finops-unversioned",
            "glue_database": "finops_unversioned",
            "glue_crawler": "finops-unversioned-crawler",
        }
    )
    with pytest.raises(
        archive.ArchiveError,
        match="'finops-unversioned' has versioning never enabled; expected Enabled",
    ):
        archive.require_versioning(s3, "finops-unversioned")

    failed = run_dag(date(2025, 8, 2))
    states = task_states(failed)
    assert failed.state == "failed"
    assert states["archive_to_s3"] == "failed"
    assert states["send_daily_digest"] == "upstream_failed"
    assert archived_keys(s3, "finops-unversioned") == []

    s3.put_bucket_versioning(
        Bucket="finops-unversioned", VersioningConfiguration={"Status": "Enabled"}
    )
    rerun = run_dag(date(2025, 8, 2))
    assert rerun.state == "success", task_states(rerun)
    assert "ou-breakdowns/year=2025/month=08/day=02/ou_breakdown.csv" in archived_keys(
        s3, "finops-unversioned"
    )


def test_a_crawler_that_does_not_crawl_the_archive_is_refused_before_crawling(
    sandbox, airflow_db, config_env, finops_config
):
    config_env(
        {**finops_config, "archive_bucket": "finops-elsewhere", "catalog_strategy": "crawler"}
    )
    aws_client("s3").create_bucket(Bucket="finops-elsewhere")
    aws_client("s3").put_bucket_versioning(
        Bucket="finops-elsewhere", VersioningConfiguration={"Status": "Enabled"}
    )
    dag_run = run_dag(date(2025, 8, 3))
    states = task_states(dag_run)
    assert states["archive_to_s3"] == "success"
    assert states["register_table"] == "failed"
    assert states["crawl_catalog"] == "upstream_failed"


def test_a_day_without_costs_archives_an_empty_csv_and_says_so(
    sandbox, airflow_db, config_env, finops_config, aws
):
    config_env(finops_config)
    dag_run = run_dag(date(2024, 12, 15))
    assert dag_run.state == "success", task_states(dag_run)
    body = (
        aws("s3")
        .get_object(
            Bucket=finops_config["archive_bucket"],
            Key="ou-breakdowns/year=2024/month=12/day=15/ou_breakdown.csv",
        )["Body"]
        .read()
    )
    assert body.decode().splitlines() == ["BillingDate,OU,Service,LinkedAccount,DailyCost"]
    digest = email.message_from_bytes(sandbox.sent_emails()[-1], policy=email.policy.default)
    assert digest["Subject"] == "[FinOps] Daily cost digest 2024-12-15: $0.00"


def test_endless_throttling_fails_after_bounded_retries_naming_the_call(sandbox):
    sandbox.inject_fault(operation="GetCostAndUsage", error_code="LimitExceededException", count=50)
    try:
        with pytest.raises(
            ClientError, match=r"LimitExceededException.*GetCostAndUsage.*max retries"
        ):
            fetch_cost_rows(
                aws_client("ce"),
                ou="Marketing",
                account_ids=[sandbox.organization.accounts[0].id],
                start=date(2025, 9, 14),
                end=date(2025, 9, 15),
                metric="NetAmortizedCost",
                excluded_record_types=[],
            )
    finally:
        sandbox.reset_faults()


def test_numbers_that_fail_the_quality_gate_hold_the_digest_back_and_say_why(
    sandbox, airflow_db, config_env, finops_config, aws
):
    from decimal import Decimal

    from finops_digest.ingest.cost_rows import CostRow, to_parquet

    config_env(finops_config)
    # A stray file in the day's partition: Athena would count its rows too.
    stray = to_parquet(
        [CostRow(date(2025, 8, 5), "Data", "Stray", "000000000000", Decimal("1"))], {}, {}
    )
    aws("s3").put_object(
        Bucket=finops_config["archive_bucket"],
        Key="parquet/ou_breakdown/year=2025/month=08/day=05/stray.parquet",
        Body=stray,
    )
    dag_run = run_dag(date(2025, 8, 5))
    states = task_states(dag_run)
    assert states["validate_in_athena"] == "success"
    assert states["check_quality_gate"] == "failed"
    assert states["send_data_check_failed"] == "success"
    assert states["send_daily_digest"] == "upstream_failed"
    assert states["detect_anomalies"] == states["send_anomaly_alert"] == "upstream_failed"
    messages = [
        email.message_from_bytes(m, policy=email.policy.default) for m in sandbox.sent_emails()
    ]
    of_the_day = [m for m in messages if m["X-FinOps-Billing-Date"] == "2025-08-05"]
    assert [m["X-FinOps-Kind"] for m in of_the_day] == ["data-check-failed"]
    text = of_the_day[0].get_body(("plain",)).get_content()
    assert "row count: Athena" in text and "no digest today" in of_the_day[0]["Subject"]
