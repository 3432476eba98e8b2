"""Days Cost Explorer still marks Estimated are archived as such and said in the digest; once
final, the archive says so too."""

from __future__ import annotations

import email
import email.policy
from datetime import date

from tests.integration.conftest import run_dag, task_states

DAY = date(2025, 9, 14)


def _digest_text(sandbox) -> str:
    sent = [email.message_from_bytes(m, policy=email.policy.default) for m in sandbox.sent_emails()]
    digest = [m for m in sent if m["X-FinOps-Kind"] == "daily-digest"][-1]
    return digest.get_body(("plain",)).get_content()


def test_an_estimated_day_is_recorded_and_shown_as_estimated(
    sandbox, airflow_db, finops_config, aws
):
    sandbox.organization.as_of = date(2025, 9, 15)  # Cost Explorer's "today": D is estimated
    try:
        dag_run = run_dag(DAY)
    finally:
        sandbox.organization.as_of = None
    assert dag_run.state == "success", task_states(dag_run)
    head = aws("s3").head_object(
        Bucket=finops_config["archive_bucket"],
        Key="ou-breakdowns/year=2025/month=09/day=14/ou_breakdown.csv",
    )
    assert head["Metadata"]["estimated"] == "true"
    assert "Estimated: Cost Explorer still revises 2025-09-14" in _digest_text(sandbox)


def test_a_final_day_is_recorded_as_final(sandbox, airflow_db, finops_config, aws):
    dag_run = run_dag(date(2025, 9, 10))
    assert dag_run.state == "success", task_states(dag_run)
    head = aws("s3").head_object(
        Bucket=finops_config["archive_bucket"],
        Key="ou-breakdowns/year=2025/month=09/day=10/ou_breakdown.csv",
    )
    assert head["Metadata"]["estimated"] == "false"
    assert "Estimated:" not in _digest_text(sandbox)
