"""Transient AWS faults (throttling, 5xx, timeouts) on every call the DAG makes are retried,
bounded; the run still completes, and a call that keeps failing is named."""

from __future__ import annotations

import json
from datetime import date

import pytest
from botocore.exceptions import ReadTimeoutError

from finops_digest.aws.clients import aws_client
from finops_digest.store.layout import lock_key
from tests.integration.conftest import run_dag, short_name, task_states

# Every AWS API operation one daily run makes (one name per call site).
OPERATIONS = (
    "ListRoots",
    "ListOrganizationalUnitsForParent",
    "ListAccountsForParent",
    "GetCostAndUsage",
    "PutObject",
    "GetObject",
    "GetBucketVersioning",
    "GetTable",
    "BatchCreatePartition",  # the default catalog_strategy, partition_api
    "StartQueryExecution",
    "GetQueryExecution",
    "GetQueryResults",
    "SendRawEmail",
)


def _run_then_clear_faults(sandbox, day: date):
    """Run the DAG for the day with the injected faults; (DagRun, task states)."""
    try:
        dag_run = run_dag(day)
        return dag_run, task_states(dag_run)
    finally:
        sandbox.reset_faults()


def test_a_run_survives_throttling_and_5xx_on_every_aws_call(sandbox, airflow_db, finops_config):
    for operation in OPERATIONS:
        sandbox.inject_fault(
            operation=operation, error_code="ServiceUnavailable", status=503, count=1
        )
        sandbox.inject_fault(operation=operation, error_code="ThrottlingException", count=1)
    dag_run, states = _run_then_clear_faults(sandbox, date(2025, 9, 12))
    assert dag_run.state == "success", states
    assert all(sandbox.calls(op) >= 3 for op in OPERATIONS), {
        op: sandbox.calls(op) for op in OPERATIONS
    }


def _connection_with(monkeypatch, **config_kwargs) -> None:
    """``aws_default`` with botocore settings in its extra, the way an operator tunes them."""
    extra = {"config_kwargs": config_kwargs}
    monkeypatch.setenv("AIRFLOW_CONN_AWS_DEFAULT", json.dumps({"conn_type": "aws", "extra": extra}))


def test_a_run_survives_a_timeout_on_every_aws_call(
    sandbox, airflow_db, finops_config, monkeypatch
):
    _connection_with(monkeypatch, read_timeout=1, connect_timeout=1)
    for operation in OPERATIONS:
        sandbox.inject_timeout(operation, seconds=3)
    dag_run, states = _run_then_clear_faults(sandbox, date(2025, 9, 13))
    assert dag_run.state == "success", states
    assert sandbox.faults.pending() == [], "every operation met its timeout"
    digests = [m for m in sandbox.sent_emails() if b"X-FinOps-Billing-Date: 2025-09-13" in m]
    assert len([m for m in digests if b"X-FinOps-Kind: daily-digest" in m]) == 1


def test_a_lock_write_that_landed_but_timed_out_is_not_mistaken_for_another_run(
    sandbox, airflow_db, finops_config, monkeypatch, aws
):
    day = date(2025, 9, 11)

    def lock_versions() -> int:
        # Later days' runs restating this day took its lock too: count this run's writes only.
        listing = aws("s3").list_object_versions(
            Bucket=finops_config["archive_bucket"], Prefix=lock_key(day)
        )
        return len(listing.get("Versions", []))

    before = lock_versions()
    _connection_with(monkeypatch, read_timeout=1)
    # The run's first write is taking the day's lock; it lands, but its answer never arrives.
    sandbox.inject_timeout("PutObject", seconds=3, applied=True)
    dag_run, states = _run_then_clear_faults(sandbox, day)
    assert dag_run.state == "success", states
    assert tries(dag_run, "lock_billing_day") == 1, "the lock is ours: no task retry needed"
    assert lock_versions() - before == 2, "taken once, handed back once"


def tries(dag_run, task_id: str) -> int:
    """The try number a task instance of the run ended on."""
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session

    with create_session() as session:
        [ti] = [
            ti
            for ti in session.query(TaskInstance).filter_by(run_id=dag_run.run_id)
            if short_name(ti.task_id) == task_id
        ]
        return ti.try_number


def test_a_call_that_keeps_timing_out_fails_naming_the_call(sandbox, monkeypatch):
    _connection_with(
        monkeypatch, read_timeout=0.5, retries={"mode": "standard", "total_max_attempts": 2}
    )
    sandbox.inject_timeout("GetCostAndUsage", seconds=1.5, count=2)
    before = sandbox.calls("GetCostAndUsage")
    try:
        with pytest.raises(ReadTimeoutError) as failure:
            aws_client("ce").get_cost_and_usage(
                TimePeriod={"Start": "2025-09-01", "End": "2025-09-02"},
                Granularity="DAILY",
                Metrics=["UnblendedCost"],
            )
    finally:
        sandbox.reset_faults()
    assert sandbox.calls("GetCostAndUsage") - before == 2, (
        "bounded: the connection's total_max_attempts"
    )
    assert failure.value.__notes__ == [
        "AWS call cost-explorer GetCostAndUsage failed after botocore's retries"
    ]
