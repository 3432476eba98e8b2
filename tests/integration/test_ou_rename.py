"""An OU renamed between two runs ("Engineering" -> "Eng", so "Engineering/Platform" becomes
"Eng/Platform") with unchanged spend, after a history read under the old paths: its history, its spikes and its budget alert carry over by
OU id. No "new" spike and no second budget alert; the digest says "renamed from" once; a budget
still keyed by the old path is reported in the digest."""

from __future__ import annotations

import email
import email.policy
import json
from datetime import date

import pytest

from finops_digest.ingest.cost_rows import from_csv
from sandbox import SANDBOX_DEFAULTS
from scripts.local_env import pipeline_config, variable_env
from tests.integration.conftest import returned, run_dag, task_states

BEFORE, DAY, AFTER = date(2025, 9, 5), date(2025, 9, 6), date(2025, 9, 7)
BUCKET = SANDBOX_DEFAULTS["archive_bucket"]
RENAMED = {"Engineering": "Eng", "Engineering/Platform": "Eng/Platform"}


def _engineering_id(aws) -> str:
    org = aws("organizations")
    root = org.list_roots()["Roots"][0]["Id"]
    units = org.list_organizational_units_for_parent(ParentId=root)["OrganizationalUnits"]
    return next(ou["Id"] for ou in units if ou["Name"] == "Engineering")


@pytest.fixture(scope="module")
def finops_config(sandbox, aws):
    # Engineering's budget by id (far below its spend: red, alerted once a month); Platform's by
    # its path (far above: green), which the rename leaves matching no OU.
    config = {
        **pipeline_config(SANDBOX_DEFAULTS),
        "budgets": {_engineering_id(aws): 1000, "Engineering/Platform": 10_000_000},
    }
    with pytest.MonkeyPatch.context() as patch:
        for key, value in variable_env(config).items():
            patch.setenv(key, value)
        yield config


@pytest.fixture(scope="module")
def runs(sandbox, airflow_db, finops_config, aws):
    # The history as a long-running deployment has it: every day before under the old paths
    # (prefetched here, archived there), not fetched afresh under today's.
    day = BEFORE.isoformat()
    prefetch = {"from_date": day, "to_date": day}
    assert run_dag(BEFORE, prefetch, dag_id="finops_prefetch_costs").state == "success"
    runs = {BEFORE: run_dag(BEFORE)}
    aws("organizations").update_organizational_unit(
        OrganizationalUnitId=_engineering_id(aws), Name="Eng"
    )
    for day in (DAY, AFTER):
        runs[day] = run_dag(day)
    for day, dag_run in runs.items():
        assert dag_run.state == "success", (day, task_states(dag_run))
    return runs


def _archived(aws, day: date, name: str) -> bytes:
    key = f"ou-breakdowns/year={day:%Y}/month={day:%m}/day={day:%d}/{name}"
    return aws("s3").get_object(Bucket=BUCKET, Key=key)["Body"].read()


def _digest_text(sandbox, day: date) -> str:
    [digest] = [
        m
        for m in (
            email.message_from_bytes(raw, policy=email.policy.default)
            for raw in sandbox.sent_emails()
        )
        if m["X-FinOps-Kind"] == "daily-digest" and m["X-FinOps-Billing-Date"] == str(day)
    ]
    return digest.get_body(("plain",)).get_content()


def test_the_history_of_a_renamed_ou_continues_under_its_new_path(runs, aws):
    history_uri = returned(runs[DAY], "load_history")["history_uri"]
    bucket, key = history_uri.removeprefix("s3://").split("/", 1)
    history = from_csv(aws("s3").get_object(Bucket=bucket, Key=key)["Body"].read(), history_uri)
    archived_before = from_csv(_archived(aws, BEFORE, "ou_breakdown.csv"), "before")
    assert {r.ou for r in archived_before} >= set(RENAMED), "the archive keeps that day's paths"
    assert not {r.ou for r in history} & set(RENAMED), "read under today's paths"
    for old, new in RENAMED.items():
        then = sorted(
            (r.service, r.linked_account, r.daily_cost) for r in archived_before if r.ou == old
        )
        now = sorted(
            (r.service, r.linked_account, r.daily_cost)
            for r in history
            if r.ou == new and r.billing_date == BEFORE
        )
        assert now == then and now, new


def test_a_rename_with_unchanged_spend_raises_no_new_spike(runs, aws):
    anomalies = json.loads(_archived(aws, DAY, "anomalies.json"))["anomalies"]
    assert [a for a in anomalies if a["ou"] in RENAMED.values() and a["status"] == "new"] == []


def test_a_budget_alerted_before_the_rename_is_not_alerted_again(runs, aws):
    before = json.loads(_archived(aws, BEFORE, "forecast.json"))
    assert before["new_budget_breaches"] == ["Engineering"]
    after = json.loads(_archived(aws, DAY, "forecast.json"))
    assert after["new_budget_breaches"] == []
    assert "Eng" in after["already_alerted"]
    light = {row["ou"]: row["light"] for row in after["ous"]}
    assert light["Eng"] == "red", "the budget keyed by id follows the OU"


def test_the_digest_says_renamed_from_once_and_reports_the_stale_budget_key(runs, sandbox):
    text = _digest_text(sandbox, DAY)
    for old, new in RENAMED.items():
        assert f"'{new}' was renamed from '{old}'" in text
    assert "The budget for 'Engineering/Platform' names no OU" in text
    assert "renamed from" not in _digest_text(sandbox, AFTER)
    assert "renamed from" not in _digest_text(sandbox, BEFORE)
