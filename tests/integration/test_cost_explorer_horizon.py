"""Cost Explorer keeps 14 months of daily costs. Here its today is 2026-03-15, so it keeps the days
from 2025-02-01 and refuses any daily request reaching before (as AWS does). History reads and
prefetch ranges reaching beyond are clipped with a note, never a failed day; a billing day
beyond is refused at plan_run, naming the first day it keeps."""

from __future__ import annotations

import email
import email.policy
import html
from datetime import date, timedelta

import pytest

from finops_digest.ingest.cost_history import HISTORY_WINDOW_DAYS
from sandbox import SANDBOX_DEFAULTS
from scripts.local_env import pipeline_config, variable_env
from tests.integration.conftest import returned, run_dag, task_states

SANDBOX_OPTIONS = {"today": date(2026, 3, 15)}
HORIZON = date(2025, 2, 1)
BUCKET = SANDBOX_DEFAULTS["archive_bucket"]
ONCALL = "finops-oncall@example.com"


@pytest.fixture(scope="module")
def finops_config():
    config = {**pipeline_config(SANDBOX_DEFAULTS), "failure_recipients": [ONCALL]}
    with pytest.MonkeyPatch.context() as patch:
        for key, value in variable_env(config).items():
            patch.setenv(key, value)
        yield config


def _messages(sandbox, kind: str, day: date) -> list[email.message.EmailMessage]:
    parsed = (
        email.message_from_bytes(raw, policy=email.policy.default) for raw in sandbox.sent_emails()
    )
    return [
        m for m in parsed if m["X-FinOps-Kind"] == kind and m["X-FinOps-Billing-Date"] == str(day)
    ]


def test_history_beyond_the_horizon_is_left_out_with_a_note(
    sandbox, airflow_db, finops_config, aws
):
    day = date(2025, 2, 20)
    dag_run = run_dag(day)
    assert dag_run.state == "success", task_states(dag_run)
    stats = returned(dag_run, "load_history")["stats"]
    beyond = (HORIZON - (day - timedelta(days=HISTORY_WINDOW_DAYS))).days
    assert stats["beyond_horizon_days"] == beyond
    assert stats["cost_explorer_days"] == HISTORY_WINDOW_DAYS - beyond
    [digest] = _messages(sandbox, "daily-digest", day)
    text = digest.get_body(("plain",)).get_content()
    assert f"{beyond} of the {HISTORY_WINDOW_DAYS} history days are missing" in text


def test_a_day_at_the_horizon_restates_only_the_days_cost_explorer_keeps(
    sandbox, airflow_db, finops_config
):
    dag_run = run_dag(HORIZON)
    assert dag_run.state == "success", task_states(dag_run)
    assert returned(dag_run, "load_history")["stats"]["beyond_horizon_days"] == HISTORY_WINDOW_DAYS


def test_a_prefetch_reaching_beyond_the_horizon_is_clipped_with_a_note(
    sandbox, airflow_db, finops_config
):
    params = {"from_date": "2025-01-25", "to_date": "2025-02-03"}
    dag_run = run_dag(date(2025, 1, 25), params, dag_id="finops_prefetch_costs")
    assert dag_run.state == "success", task_states(dag_run)
    summary = returned(dag_run, "record_prefetch")
    assert (summary["first_day"], summary["last_day"]) == ("2025-02-01", "2025-02-03")
    assert summary["notes"] == [
        "from_date 2025-01-25 is beyond Cost Explorer's 14 months of daily costs: the range "
        "starts at 2025-02-01",
        f"history before 2025-02-01 is beyond Cost Explorer's 14 months of daily costs: "
        f"{HISTORY_WINDOW_DAYS} days fewer",
    ]
    assert "--from-date 2025-02-01 " in summary["backfill_command"]


def test_a_billing_day_beyond_the_horizon_is_refused_naming_the_first_day_kept(
    sandbox, airflow_db, finops_config
):
    day = date(2025, 1, 20)
    calls = sandbox.calls("GetCostAndUsage")
    dag_run = run_dag(day)
    assert dag_run.state == "failed"
    assert task_states(dag_run)["plan_run"] == "failed"
    assert sandbox.calls("GetCostAndUsage") == calls
    [notice] = _messages(sandbox, "failure", day)
    text = html.unescape(notice.get_body(("html", "plain")).get_content())
    assert "billing day 2025-01-20 is beyond Cost Explorer's 14 months of daily costs" in text
    assert "expected a day from 2025-02-01 on" in text
