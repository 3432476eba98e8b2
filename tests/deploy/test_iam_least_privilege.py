"""The MWAA execution-role policy is sufficient and no more: the whole DAG runs against the sandbox
with IAM enforced, as a user holding only that policy (rendered from Terraform's own template)."""

from __future__ import annotations

import json
import os
from datetime import date

import boto3
import pytest
from botocore.exceptions import ClientError
from moto.core.authorization import disable_iam_authentication

from sandbox import SANDBOX_DEFAULTS, Sandbox
from scripts.local_env import aws_env, pipeline_config, variable_env
from tests.deploy.iam_resources import resource_level_iam
from tests.deploy.policy import render_policy, sandbox_policy_values, statements
from tests.integration.conftest import run_dag, task_states

CRAWLER_DAY = date(2025, 9, 14)  # a spike day: the alert branch runs too
PARTITION_API_DAY = date(2025, 9, 10)
BUCKET = SANDBOX_DEFAULTS["archive_bucket"]
ARCHIVED_KEY = "ou-breakdowns/year=2025/month=09/day=14/ou_breakdown.csv"
USER = "finops-mwaa-execution"
# In the policy for what AWS itself does with the caller's permissions, which the sandbox does not
# check: Athena reads the catalog and writes results as the caller; S3 encrypts with the KMS key.
AWS_SIDE_ONLY = {
    "glue:GetDatabase",
    "glue:GetPartition",
    "glue:GetPartitions",
    "s3:GetBucketLocation",
    "s3:AbortMultipartUpload",
    "s3:ListMultipartUploadParts",
    "kms:GenerateDataKey",
    "kms:Decrypt",
    # Without it S3 answers a missing key with 403 instead of 404, and the first run's history
    # lookups (archive.get_if_exists) would fail; the sandbox answers 404 either way.
    "s3:ListBucket",
}
# In the policy for features off in this run's finops_config (or data the sandbox lacks).
OPTIONAL_FEATURES = {
    "ce:GetAnomalies",  # aws_anomaly_detection
    "budgets:ViewBudget",  # budgets from AWS Budgets
    "ce:GetCostForecast",  # the budget forecast, when budgets are configured
    "glue:UpdateTable",  # a table created by an earlier version, without a newer column
    "s3:ListBucketVersions",  # the month-close report's restatements (on its day only)
    "sns:Publish",  # chat channels of type sns
}


def _admin(sandbox: Sandbox, service: str):
    return boto3.client(service, endpoint_url=sandbox.endpoint_url, region_name="us-east-1")


@pytest.fixture(scope="module")
def enforced(airflow_db):
    """A sandbox enforcing IAM, a user holding only the rendered policy, and the DAG run twice
    as that user (once per catalog strategy). Yields (sandbox, access key, granted, runs)."""
    policy = render_policy(sandbox_policy_values())
    saved = dict(os.environ)
    with Sandbox.start(iam_enforcement=True) as sb:
        os.environ.update(aws_env(sb.endpoint_url))
        with disable_iam_authentication():
            iam = _admin(sb, "iam")
            iam.create_user(UserName=USER)
            iam.put_user_policy(
                UserName=USER, PolicyName="finops-digest-dag", PolicyDocument=json.dumps(policy)
            )
            key = iam.create_access_key(UserName=USER)["AccessKey"]
        os.environ["AWS_ACCESS_KEY_ID"] = key["AccessKeyId"]
        os.environ["AWS_SECRET_ACCESS_KEY"] = key["SecretAccessKey"]
        base = pipeline_config(SANDBOX_DEFAULTS)
        runs = {}
        try:
            with resource_level_iam(sb.organization.org_id) as granted:
                for day, strategy in (
                    (CRAWLER_DAY, "crawler"),
                    (PARTITION_API_DAY, "partition_api"),
                ):
                    config = {**base, "catalog_strategy": strategy}
                    if strategy == "crawler":
                        # The executive snapshot from QuickSight's export of the demo dashboard.
                        config["quicksight_dashboard_id"] = SANDBOX_DEFAULTS[
                            "quicksight_dashboard_id"
                        ]
                    os.environ.update(variable_env(config))
                    dag_run = run_dag(day)
                    runs[strategy] = (dag_run.state, task_states(dag_run))
                yield sb, key, granted, runs
        finally:
            os.environ.clear()
            os.environ.update(saved)


def _user_client(sandbox: Sandbox, key: dict, service: str):
    return boto3.client(
        service,
        endpoint_url=sandbox.endpoint_url,
        region_name="us-east-1",
        aws_access_key_id=key["AccessKeyId"],
        aws_secret_access_key=key["SecretAccessKey"],
    )


def test_the_whole_dag_succeeds_with_only_the_policy_for_both_catalog_strategies(enforced):
    _, _, _, runs = enforced
    for strategy, (state, states) in runs.items():
        assert state == "success", (strategy, states)
        assert states["crawl_catalog"] == "success", strategy
        assert states["validate_in_athena"] == "success", strategy
        assert states["send_daily_digest"] == "success", strategy


def test_iam_was_really_enforced_on_every_call(enforced):
    sandbox, key, granted, _ = enforced
    actions = {action for action, _ in granted}
    assert {"s3:PutObject", "glue:StartCrawler", "athena:StartQueryExecution"} <= actions
    assert "glue:BatchCreatePartition" in actions
    dashboard = f"arn:aws:quicksight:us-east-1:{SANDBOX_DEFAULTS['account_id']}:dashboard/"
    assert (
        "quicksight:StartDashboardSnapshotJob",
        dashboard + SANDBOX_DEFAULTS["quicksight_dashboard_id"],
    ) in granted
    # ... and QuickSight's PDF, not the fallback, is the day's archived snapshot.
    with disable_iam_authentication():
        head = _admin(sandbox, "s3").head_object(
            Bucket=BUCKET, Key=ARCHIVED_KEY.replace("ou_breakdown.csv", "executive_snapshot.pdf")
        )
    assert head["Metadata"]["snapshot-source"] == "quicksight"
    with pytest.raises(ClientError) as denied:
        _user_client(sandbox, key, "s3").list_buckets()
    assert denied.value.response["Error"]["Code"] == "AccessDenied"


def test_deleting_an_archived_version_is_denied_and_the_version_survives(enforced):
    sandbox, key, _, _ = enforced
    with disable_iam_authentication():
        versions = _admin(sandbox, "s3").list_object_versions(Bucket=BUCKET, Prefix=ARCHIVED_KEY)
    version_id = versions["Versions"][0]["VersionId"]
    s3 = _user_client(sandbox, key, "s3")
    for kwargs in ({"VersionId": version_id}, {}):
        with pytest.raises(ClientError) as denied:
            s3.delete_object(Bucket=BUCKET, Key=ARCHIVED_KEY, **kwargs)
        assert denied.value.response["Error"]["Code"] == "AccessDenied"
    with disable_iam_authentication():
        after = _admin(sandbox, "s3").list_object_versions(Bucket=BUCKET, Prefix=ARCHIVED_KEY)
    assert version_id in {v["VersionId"] for v in after["Versions"]}
    assert not after.get("DeleteMarkers")


def test_every_granted_action_is_one_the_code_calls(enforced):
    """No unused permission: each action in the policy was exercised by the two runs, or is
    documented as used by AWS on the caller's behalf or by an optional feature."""
    _, _, granted, _ = enforced
    exercised = {action for action, _ in granted}
    in_policy = {
        a for st in statements(render_policy(sandbox_policy_values())) for a in st["Action"]
    }
    unused = in_policy - exercised - AWS_SIDE_ONLY - OPTIONAL_FEATURES
    assert not unused, f"granted but never called: {sorted(unused)}"
