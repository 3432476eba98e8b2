"""Cost Explorer restates a past day: the next run archives it again, and only if it changed."""

from __future__ import annotations

import email
import email.policy
import io
import json
from datetime import date
from decimal import Decimal

import pyarrow.parquet as pq
import pytest

from finops_digest.ingest.cost_rows import from_csv, total
from finops_digest.store import layout
from sandbox import Spike
from sandbox import cost_explorer as sandbox_cost_explorer
from tests.integration.conftest import run_dag, task_states

BUCKET = "finops-digest-archive"
RESTATED = date(2025, 9, 10)


def versions(aws, day, name="ou_breakdown.csv", prefix="ou-breakdowns"):
    key = f"{prefix}/year={day:%Y}/month={day:%m}/day={day:%d}/{name}"
    listing = aws("s3").list_object_versions(Bucket=BUCKET, Prefix=key)
    return [v for v in listing.get("Versions", []) if v["Key"] == key]


@pytest.fixture(scope="module")
def restated_run(sandbox, airflow_db, finops_config):
    assert task_states(run_dag(RESTATED))["archive_to_s3"] == "success"
    # Late usage arrives for the 10th after it was archived: Cost Explorer now answers more.
    account = sandbox.organization.accounts[5]
    service = sandbox.organization.services_of(account.id)[0].name
    ou = sandbox.organization.ou_path_of(account.id) or "Root"
    sandbox.organization.spikes.append(Spike(RESTATED, ou, service, account.id, Decimal("123.45")))
    sandbox.organization._lines_cached.cache_clear()
    sandbox_cost_explorer.clear_cache()
    return task_states(run_dag(date(2025, 9, 11)))


def test_a_changed_day_gets_a_new_version_and_the_digest_says_so(restated_run, aws, sandbox):
    assert restated_run["restate_recent_days"] == "success", restated_run
    assert len(versions(aws, RESTATED)) == 2
    assert len(versions(aws, RESTATED, "ou_breakdown.parquet", "parquet/ou_breakdown")) == 2
    digest = [
        m
        for m in (
            email.message_from_bytes(r, policy=email.policy.default) for r in sandbox.sent_emails()
        )
        if m["X-FinOps-Kind"] == "daily-digest" and m["X-FinOps-Billing-Date"] == "2025-09-11"
    ][-1]
    text = digest.get_body(("plain",)).get_content()
    old, new = (
        total(
            from_csv(
                aws("s3")
                .get_object(Bucket=BUCKET, Key=v["Key"], VersionId=v["VersionId"])["Body"]
                .read(),
                "csv",
            )
        )
        for v in sorted(versions(aws, RESTATED), key=lambda v: v["LastModified"])
    )
    assert new > old, "the late usage raised the day"
    assert f"2025-09-10 restated: +${new - old:,.2f}" in text


def test_the_restated_parquet_names_the_accounts_as_that_days_mapping(restated_run, aws):
    s3 = aws("s3")
    mapping_key = layout.archive_key(RESTATED, layout.MAPPING_NAME)
    mapping = json.loads(s3.get_object(Bucket=BUCKET, Key=mapping_key)["Body"].read())
    body = s3.get_object(Bucket=BUCKET, Key=layout.parquet_key(RESTATED))
    assert body["Metadata"]["restated-by-run-of"] == "2025-09-11"
    table = pq.read_table(io.BytesIO(body["Body"].read()))
    accounts, names = table["linkedaccount"].to_pylist(), table["accountname"].to_pylist()
    named = dict(zip(accounts, names, strict=True))
    assert all(named.values())
    assert named == {account: mapping["accounts"][account]["name"] for account in named}


def test_unchanged_days_are_left_alone(restated_run, aws, sandbox, airflow_db, finops_config):
    assert versions(aws, date(2025, 9, 9)) == [], "a day never archived is its own run's to create"
    states = task_states(run_dag(date(2025, 9, 12)))
    assert states["restate_recent_days"] == "success"
    assert len(versions(aws, RESTATED)) == 2, "no new version when nothing changed"
    assert len(versions(aws, date(2025, 9, 11))) == 1
