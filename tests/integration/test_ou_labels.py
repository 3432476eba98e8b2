"""Two OUs that spell the same path: a top-level OU named like the root pseudo-OU, and an OU whose
name contains "/" beside the nested path it spells. Each keeps its own costs, once, under a label
made distinct with its id, and the day passes the quality gate."""

from __future__ import annotations

import json
from datetime import date

from finops_digest.ingest.cost_rows import from_csv
from tests.integration.conftest import run_dag, task_states

BUCKET = "finops-digest-archive"
DAY = date(2025, 9, 8)


def test_colliding_paths_get_distinct_labels_and_every_account_counts_once(
    sandbox, airflow_db, finops_config, aws
):
    org = aws("organizations")
    root = org.list_roots()["Roots"][0]["Id"]
    by_path = {}
    for account in sandbox.organization.accounts:
        by_path.setdefault(sandbox.organization.ou_path_of(account.id), []).append(account.id)
    moved = {}
    for name, source in (("Root", "Data"), ("Engineering/Platform", "Sales")):
        ou = org.create_organizational_unit(ParentId=root, Name=name)["OrganizationalUnit"]
        account = by_path[source][0]
        parent = org.list_parents(ChildId=account)["Parents"][0]["Id"]
        org.move_account(AccountId=account, SourceParentId=parent, DestinationParentId=ou["Id"])
        moved[account] = f"{name} ({ou['Id']})"

    dag_run = run_dag(DAY)
    assert dag_run.state == "success", task_states(dag_run)  # the quality gate agreed to the cent

    s3 = aws("s3")
    key = f"ou-breakdowns/year={DAY:%Y}/month={DAY:%m}/day={DAY:%d}/"
    rows = from_csv(s3.get_object(Bucket=BUCKET, Key=key + "ou_breakdown.csv")["Body"].read(), key)
    labels_of: dict[str, set[str]] = {}
    for row in rows:
        labels_of.setdefault(row.linked_account, set()).add(row.ou)
    assert all(len(labels) == 1 for labels in labels_of.values()), "one OU per account"
    for account, label in moved.items():
        assert labels_of[account] == {label}
    mapping = json.loads(
        s3.get_object(Bucket=BUCKET, Key=key + "account_ou_mapping.json")["Body"].read()
    )
    names = [ou["name"] for ou in mapping["ous"]]
    assert len(names) == len(set(names)), names
    platform = [ou for ou in mapping["ous"] if ou["name"].startswith("Engineering/Platform")]
    assert len(platform) == 2
    assert all(ou["name"] == f"Engineering/Platform ({ou['id']})" for ou in platform)
    assert f"Root ({root})" in names  # the root pseudo-OU, beside the OU named "Root"
