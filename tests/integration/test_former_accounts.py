"""An account that leaves the organisation keeps its costs reported under its last known OU."""

from __future__ import annotations

import json
from datetime import date

from finops_digest.ingest.cost_rows import from_csv
from tests.integration.conftest import run_dag, task_states

BUCKET = "finops-digest-archive"


def test_costs_of_a_removed_account_stay_under_its_last_ou(sandbox, airflow_db, finops_config, aws):
    account = next(
        a for a in sandbox.organization.accounts if sandbox.organization.ou_path_of(a.id) == "Sales"
    )
    # One left before anything was archived: it is named as Cost Explorer names it.
    unknown = next(
        a for a in sandbox.organization.accounts if sandbox.organization.ou_path_of(a.id) == "Data"
    )
    aws("organizations").remove_account_from_organization(AccountId=unknown.id)
    assert task_states(run_dag(date(2025, 9, 1)))["archive_to_s3"] == "success"
    first = json.loads(
        aws("s3")
        .get_object(
            Bucket=BUCKET, Key="ou-breakdowns/year=2025/month=09/day=01/account_ou_mapping.json"
        )["Body"]
        .read()
    )["accounts"][unknown.id]
    assert (first["ou"], first["name"]) == ("Unattributed", unknown.name)
    aws("organizations").remove_account_from_organization(AccountId=account.id)

    states = task_states(run_dag(date(2025, 9, 2)))
    assert states["archive_to_s3"] == "success", states
    s3 = aws("s3")
    key = "ou-breakdowns/year=2025/month=09/day=02/"
    rows = from_csv(s3.get_object(Bucket=BUCKET, Key=key + "ou_breakdown.csv")["Body"].read(), key)
    assert {r.ou for r in rows if r.linked_account == account.id} == {"Sales"}
    mapping = json.loads(
        s3.get_object(Bucket=BUCKET, Key=key + "account_ou_mapping.json")["Body"].read()
    )
    assert mapping["accounts"][account.id]["status"] == "NOT_IN_ORGANIZATION"
    assert mapping["accounts"][account.id]["ou"] == "Sales"
    assert mapping["accounts"][account.id]["name"] == account.name
