"""The whole DAG executed by Airflow against the local sandbox, checked from the AWS side."""

from __future__ import annotations

import email
import email.policy
import io
import json
from collections import defaultdict
from datetime import date
from decimal import Decimal

import pyarrow.parquet as pq
import pytest

from finops_digest.ingest.cost_rows import from_csv
from tests.integration.conftest import mapped_instances, run_dag, task_states

SPIKE_DAY = date(2025, 9, 14)
QUIET_DAY = date(2025, 9, 10)
BUCKET = "finops-digest-archive"
CSV_KEY = "ou-breakdowns/year=2025/month=09/day=14/ou_breakdown.csv"
PARQUET_KEY = "parquet/ou_breakdown/year=2025/month=09/day=14/ou_breakdown.parquet"
MAPPING_KEY = "ou-breakdowns/year=2025/month=09/day=14/account_ou_mapping.json"
ANOMALIES_KEY = "ou-breakdowns/year=2025/month=09/day=14/anomalies.json"


def expected_rows(
    organization, day, metric="NetAmortizedCost", excluded=("Credit", "Refund", "Tax")
):
    """The consolidated CSV computed straight from the sandbox's synthetic data."""
    totals = defaultdict(Decimal)
    for line in organization.cost_lines(day):
        if line.record_type in excluded:
            continue
        ou = organization.ou_path_of(line.account_id) or "Root"
        totals[(ou, line.service, line.account_id)] += line.amounts[metric]
    rows = [(day, ou, s, a, cost) for (ou, s, a), cost in totals.items() if cost != 0]
    return sorted(rows, key=lambda r: (r[1], -r[4], r[2], r[3]))


def emails_of(sandbox, kind):
    messages = [
        email.message_from_bytes(raw, policy=email.policy.default) for raw in sandbox.sent_emails()
    ]
    return [m for m in messages if m["X-FinOps-Kind"] == kind]


@pytest.fixture(scope="module")
def spike_runs(sandbox, airflow_db, finops_config):
    """The spike day run twice (a re-run), as an operator would: (DagRun, task states) each.

    States are read right after each run: Airflow replaces a test run of the same logical date."""
    runs = []
    for _ in range(2):
        dag_run = run_dag(SPIKE_DAY)
        runs.append((dag_run, task_states(dag_run)))
    return runs


def test_both_runs_succeed_and_take_the_alert_branch(spike_runs):
    for dag_run, states in spike_runs:
        assert dag_run.state == "success", states
        assert states["send_anomaly_alert"] == "success"
        assert states["no_anomaly"] == "skipped"
        assert states["send_daily_digest"] == "success"


def test_archive_holds_each_object_at_its_exact_key_with_one_version_per_run(spike_runs, aws):
    s3 = aws("s3")
    for key in (CSV_KEY, PARQUET_KEY, MAPPING_KEY, ANOMALIES_KEY):
        versions = s3.list_object_versions(Bucket=BUCKET, Prefix=key)
        assert len([v for v in versions.get("Versions", []) if v["Key"] == key]) == 2, key
        assert not versions.get("DeleteMarkers"), key


def test_csv_equals_the_sandbox_data_independently_consolidated(spike_runs, aws, sandbox):
    body = aws("s3").get_object(Bucket=BUCKET, Key=CSV_KEY)["Body"].read()
    text = body.decode()
    assert text.splitlines()[0] == "BillingDate,OU,Service,LinkedAccount,DailyCost"
    assert "E-" not in text and "e-" not in text
    archived = [
        (r.billing_date, r.ou, r.service, r.linked_account, r.daily_cost)
        for r in from_csv(body, CSV_KEY)
    ]
    expected = expected_rows(sandbox.organization, SPIKE_DAY)
    assert archived == expected
    assert len(archived) > 100
    assert {r[1] for r in archived} >= {"Root", "Engineering/Platform", "Marketing"}


def test_parquet_twin_has_the_same_rows_typed(spike_runs, aws):
    body = aws("s3").get_object(Bucket=BUCKET, Key=PARQUET_KEY)["Body"].read()
    table = pq.read_table(io.BytesIO(body))
    csv_rows = from_csv(aws("s3").get_object(Bucket=BUCKET, Key=CSV_KEY)["Body"].read(), CSV_KEY)
    assert table.column_names == [
        "billingdate",
        "ou",
        "service",
        "linkedaccount",
        "dailycost",
        "accountname",
    ]
    assert table.num_rows == len(csv_rows)
    assert table.schema.metadata[b"cost-metric"] == b"NetAmortizedCost"
    assert round(sum(table.column("dailycost").to_pylist()), 2) == round(
        float(sum(r.daily_cost for r in csv_rows)), 2
    )


def test_mapping_is_archived_and_empty_ous_are_listed_but_not_extracted(spike_runs, aws, sandbox):
    mapping = json.loads(aws("s3").get_object(Bucket=BUCKET, Key=MAPPING_KEY)["Body"].read())
    ous = {ou["name"]: ou["accounts"] for ou in mapping["ous"]}
    assert ous["Sandbox"] == []
    for account in sandbox.organization.accounts:
        assert mapping["accounts"][account.id]["ou"] == (
            sandbox.organization.ou_path_of(account.id) or "Root"
        )
    latest_run = spike_runs[-1][0]
    with_accounts = [name for name, accounts in ous.items() if accounts]
    assert mapped_instances(latest_run, "extract_costs") == len(with_accounts) == len(ous) - 1


def test_partition_is_in_the_glue_catalog_with_typed_keys(spike_runs, aws):
    glue = aws("glue")
    table = glue.get_table(DatabaseName="finops_db", Name="ou_breakdown")["Table"]
    assert [(k["Name"], k["Type"]) for k in table["PartitionKeys"]] == [
        ("year", "int"),
        ("month", "int"),
        ("day", "int"),
    ]
    partition = glue.get_partition(
        DatabaseName="finops_db", TableName="ou_breakdown", PartitionValues=["2025", "09", "14"]
    )["Partition"]
    assert (
        partition["StorageDescriptor"]["Location"].rstrip("/").endswith("year=2025/month=09/day=14")
    )


def test_the_seeds_athena_query_runs_unchanged(spike_runs, aws):
    athena = aws("athena")
    query = (
        "SELECT year, month, day, Service, SUM(DailyCost) AS Total\n"
        "FROM finops_db.ou_breakdown\n"
        "WHERE OU = 'Marketing' AND year = 2025 AND month BETWEEN 07 AND 09\n"
        "GROUP BY year, month, day, Service ORDER BY year, month, day;"
    )
    query_id = athena.start_query_execution(QueryString=query, WorkGroup="finops")[
        "QueryExecutionId"
    ]
    state = athena.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]["Status"]
    assert state["State"] == "SUCCEEDED", state
    rows = athena.get_query_results(QueryExecutionId=query_id)["ResultSet"]["Rows"]
    assert [c["VarCharValue"] for c in rows[0]["Data"]] == [
        "year",
        "month",
        "day",
        "Service",
        "Total",
    ]
    assert {tuple(c["VarCharValue"] for c in r["Data"][:3]) for r in rows[1:]} == {
        ("2025", "9", "14")
    }


def test_digest_and_alert_arrive_once_with_the_csv_and_the_spike(spike_runs, sandbox, aws):
    digests = emails_of(sandbox, "daily-digest")
    alerts = emails_of(sandbox, "anomaly-alert")
    assert len(digests) == 1 and len(alerts) == 1, "the re-run mails no one twice"
    digest = digests[-1]
    assert digest["To"] == "finops-team@example.com"
    assert "2025-09-14" in digest["Subject"] and "$" in digest["Subject"]
    [attachment] = list(digest.iter_attachments())
    archived = aws("s3").get_object(Bucket=BUCKET, Key=CSV_KEY)["Body"].read()
    content = attachment.get_content()
    assert (content.encode() if isinstance(content, str) else content) == archived
    html = digest.get_body(("html",)).get_content()
    text = digest.get_body(("plain",)).get_content()
    total = sum(r.daily_cost for r in from_csv(archived, CSV_KEY))
    money = f"${total.quantize(Decimal('0.01')):,.2f}"
    assert money in html and money in text and money in digest["Subject"]

    spike = next(s for s in sandbox.organization.spikes if s.day == SPIKE_DAY)
    alert = alerts[-1]
    assert alert["To"] == "finops-oncall@example.com"
    alert_text = alert.get_body(("plain",)).get_content()
    assert f"{spike.ou_path} / {spike.service}" in alert_text
    assert spike.account_id in alert_text


def test_quiet_day_takes_the_no_anomaly_branch_and_survives_throttling(
    spike_runs, sandbox, airflow_db, finops_config
):
    before = sandbox.calls("GetCostAndUsage")
    sandbox.inject_fault(operation="GetCostAndUsage", error_code="LimitExceededException", count=3)
    dag_run = run_dag(QUIET_DAY)
    states = task_states(dag_run)
    assert dag_run.state == "success", states
    assert states["no_anomaly"] == "success"
    assert states["send_anomaly_alert"] == "skipped"
    assert states["send_daily_digest"] == "success"
    assert sandbox.calls("GetCostAndUsage") >= before + 3
    digests = emails_of(sandbox, "daily-digest")
    assert "2025-09-10" in digests[-1]["Subject"]
