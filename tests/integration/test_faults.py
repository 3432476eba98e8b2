"""Transient AWS faults on every call the DAG makes are retried; the run still completes."""

from __future__ import annotations

from datetime import date

from tests.integration.conftest import run_dag, task_states

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


def test_a_run_survives_throttling_and_5xx_on_every_aws_call(sandbox, airflow_db, finops_config):
    for operation in OPERATIONS:
        sandbox.inject_fault(
            operation=operation, error_code="ServiceUnavailable", status=503, count=1
        )
        sandbox.inject_fault(operation=operation, error_code="ThrottlingException", count=1)
    try:
        dag_run = run_dag(date(2025, 9, 12))
        states = task_states(dag_run)
    finally:
        sandbox.reset_faults()
    assert dag_run.state == "success", states
    assert all(sandbox.calls(op) >= 3 for op in OPERATIONS), {
        op: sandbox.calls(op) for op in OPERATIONS
    }
