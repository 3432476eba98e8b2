"""finops_prefetch_costs, then a backfill run with use_prefetched_costs: the same archived day,
one Cost Explorer request per OU for the whole range instead of one per OU and day."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest

from benchmarks.bench_requests import groups_per_ou, minimum_range, span
from finops_digest.ingest import prefetch_manifest as prefetch
from finops_digest.ingest.cost_history import HISTORY_WINDOW_DAYS
from finops_digest.ingest.cost_rows import from_csv
from tests.integration.conftest import returned, run_dag, task_states
from tests.integration.test_dag_run import expected_rows

FROM, TO = date(2025, 9, 10), date(2025, 9, 12)
PREFETCH = {"from_date": FROM.isoformat(), "to_date": TO.isoformat()}


@pytest.fixture(scope="module")
def prefetched(sandbox, airflow_db, finops_config):
    before = sandbox.calls("GetCostAndUsage")
    dag_run = run_dag(FROM, PREFETCH, dag_id="finops_prefetch_costs")
    return dag_run, task_states(dag_run), sandbox.calls("GetCostAndUsage") - before


def test_the_prefetch_asks_once_per_ou_for_the_range_and_its_history(prefetched, sandbox):
    dag_run, states, requests = prefetched
    assert dag_run.state == "success", states
    summary = returned(dag_run, "record_prefetch")
    first = FROM - timedelta(days=HISTORY_WINDOW_DAYS)
    assert summary["first_day"] == first.isoformat() and summary["last_day"] == TO.isoformat()
    assert summary["days"] == HISTORY_WINDOW_DAYS + 3
    ous = len(returned(dag_run, "discover_ous")["ous"])
    assert summary["ous"] == ous
    # Per OU one paged request over every day (pages run across days), plus the org-wide question
    # for accounts no longer in the organisation over the range and the restated days before it:
    # the minimum, from the sandbox's data.
    groups = {o: g for o, g in groups_per_ou(sandbox.organization).items() if g}
    days = span(first, summary["days"])
    assert summary["cost_explorer_requests"] == minimum_range(groups, days, sandbox.page_size)
    accounts = sum(
        1 for a in sandbox.organization.accounts if sandbox.organization.services_of(a.id)
    )
    org_wide = minimum_range(
        {"org": accounts}, span(first - timedelta(days=3), summary["days"] + 3), sandbox.page_size
    )
    assert requests == summary["cost_explorer_requests"] + org_wide
    per_day_runs = sum(
        minimum_range(groups, span(d - timedelta(days=3), 4), sandbox.page_size) for d in days
    )
    assert requests < per_day_runs / 3
    assert summary["backfill_command"] == (
        "airflow backfill create --dag-id finops_daily_digest --from-date 2025-09-10 "
        """--to-date 2025-09-13 --dag-run-conf '{"use_prefetched_costs": true}'"""
    )


def test_a_backfill_run_on_prefetched_costs_archives_the_same_day_without_extracting(
    prefetched, sandbox, aws, finops_config
):
    day = date(2025, 9, 11)
    assert run_dag(day - timedelta(days=1), {"use_prefetched_costs": True}).state == "success"
    dag_run = run_dag(day, {"use_prefetched_costs": True})
    assert dag_run.state == "success", task_states(dag_run)
    assert returned(dag_run, "consolidate")["cost_explorer_requests"] == 0
    s3, bucket = aws("s3"), finops_config["archive_bucket"]
    # The day before, archived by its own run, is not "restated" from prefetched parts.
    assert returned(dag_run, "restate_recent_days") == {"restated": []}
    before = "ou-breakdowns/year=2025/month=09/day=10/ou_breakdown.csv"
    assert len(s3.list_object_versions(Bucket=bucket, Prefix=before)["Versions"]) == 1
    folder = "ou-breakdowns/year=2025/month=09/day=11"
    report = json.loads(s3.get_object(Bucket=bucket, Key=f"{folder}/anomalies.json")["Body"].read())
    assert report["history"]["cost_explorer_requests"] == 0, "history came from the prefetch"
    assert report["history"]["archived_days"] == 1  # the day before
    assert report["history"]["prefetched_days"] == HISTORY_WINDOW_DAYS - 1
    body = s3.get_object(Bucket=bucket, Key=f"{folder}/ou_breakdown.csv")["Body"].read()
    archived = [
        (r.billing_date, r.ou, r.service, r.linked_account, r.daily_cost)
        for r in from_csv(body, "ou_breakdown.csv")
    ]
    assert archived == expected_rows(sandbox.organization, day)


def test_days_not_prefetched_are_fetched_as_usual(prefetched, sandbox, finops_config, aws):
    day = date(2025, 9, 20)
    assert prefetch.read_manifest(aws("s3"), finops_config["archive_bucket"], day) is None
    dag_run = run_dag(day, {"use_prefetched_costs": True})
    assert dag_run.state == "success", task_states(dag_run)
    assert returned(dag_run, "consolidate")["cost_explorer_requests"] > 0


def test_a_range_backwards_is_refused_naming_both_days(sandbox, airflow_db, finops_config):
    dag_run = run_dag(
        FROM,
        {"from_date": "2025-09-12", "to_date": "2025-09-10"},
        dag_id="finops_prefetch_costs",
    )
    assert dag_run.state == "failed"
    assert task_states(dag_run)["plan_prefetch"] == "failed"


def test_an_account_moved_since_the_prefetch_is_fetched_afresh_under_its_new_ou(
    prefetched, sandbox, aws, finops_config
):
    day = date(2025, 9, 12)
    organization = sandbox.organization
    account = next(a for a in organization.accounts if organization.ou_path_of(a.id) == "Sales")
    org = aws("organizations")
    root = org.list_roots()["Roots"][0]["Id"]
    top = org.list_organizational_units_for_parent(ParentId=root)["OrganizationalUnits"]
    marketing = next(ou["Id"] for ou in top if ou["Name"] == "Marketing")
    source = org.list_parents(ChildId=account.id)["Parents"][0]["Id"]
    org.move_account(AccountId=account.id, SourceParentId=source, DestinationParentId=marketing)

    dag_run = run_dag(day, {"use_prefetched_costs": True})
    assert dag_run.state == "success", task_states(dag_run)
    # Only Sales and Marketing are asked afresh (the day and its restated days); the rest is
    # prefetched.
    groups = groups_per_ou(organization)
    moved_groups = len(organization.services_of(account.id))
    afresh = {
        "Sales": groups["Sales"] - moved_groups,
        "Marketing": groups["Marketing"] + moved_groups,
    }
    expected_requests = minimum_range(afresh, span(day - timedelta(days=3), 4), sandbox.page_size)
    assert returned(dag_run, "consolidate")["cost_explorer_requests"] == expected_requests
    key = "ou-breakdowns/year=2025/month=09/day=12/ou_breakdown.csv"
    body = aws("s3").get_object(Bucket=finops_config["archive_bucket"], Key=key)["Body"].read()
    archived = sorted(
        (r.billing_date, r.ou, r.service, r.linked_account, r.daily_cost)
        for r in from_csv(body, key)
    )
    moved = sorted(
        (d, "Marketing" if a == account.id else ou, s, a, cost)
        for d, ou, s, a, cost in expected_rows(organization, day)
    )
    assert archived == moved, "the moved account's costs once, under its new OU; nothing else"


def test_a_range_reaching_today_is_refused(sandbox, airflow_db, finops_config):
    today = datetime.now(UTC).date()
    dag_run = run_dag(
        FROM,
        {"from_date": str(today - timedelta(days=2)), "to_date": str(today)},
        dag_id="finops_prefetch_costs",
    )
    assert dag_run.state == "failed"
    assert task_states(dag_run)["plan_prefetch"] == "failed"
