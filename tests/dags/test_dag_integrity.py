"""Policy checks over the DagBag: it parses cleanly, cheaply, and reads as the UI expects."""

from __future__ import annotations

import os
import socket

import pytest

DAG_ID = "finops_daily_digest"
PREFETCH_DAG_ID = "finops_prefetch_costs"


@pytest.fixture(scope="module")
def dagbag(airflow_db):
    from airflow.dag_processing.dagbag import DagBag

    original_connect = socket.socket.connect

    def no_network(self, address):
        raise AssertionError(f"the DAG file opened a connection at parse time: {address}")

    socket.socket.connect = no_network
    try:
        return DagBag(dag_folder=os.environ["AIRFLOW__CORE__DAGS_FOLDER"])
    finally:
        socket.socket.connect = original_connect


def test_dag_imports_without_errors_and_without_aws_calls(dagbag):
    assert dagbag.import_errors == {}
    assert set(dagbag.dag_ids) == {DAG_ID, PREFETCH_DAG_ID}


@pytest.mark.parametrize("dag_id", [DAG_ID, PREFETCH_DAG_ID])
def test_owner_tags_retries_and_docs(dagbag, dag_id):
    dag = dagbag.get_dag(dag_id)
    assert set(dag.tags) >= {"finops", "aws"}
    assert dag.doc_md and "billing day" in dag.doc_md
    for task in dag.tasks:
        assert task.owner == "finops", task.task_id
        assert task.retries >= 1, task.task_id
        assert task.doc_md or task.doc, f"{task.task_id} has no documentation for the UI"


def test_one_run_per_day_after_the_day_is_over(dagbag):
    from airflow.sdk import CronDataIntervalTimetable

    dag = dagbag.get_dag(DAG_ID)
    assert isinstance(dag.timetable, CronDataIntervalTimetable)
    assert dag.timetable.expression == "0 6 * * *"
    assert dag.catchup is False
    assert "billing_date" in dag.params
    assert dag.params["use_prefetched_costs"] is False


def test_the_prefetch_runs_only_when_triggered_with_a_range(dagbag):
    dag = dagbag.get_dag(PREFETCH_DAG_ID)
    from airflow.sdk.definitions.timetables.simple import NullTimetable

    assert isinstance(dag.timetable, NullTimetable)
    assert {"from_date", "to_date", "with_history"} <= set(dag.params)


def _short(task_id: str) -> str:
    """A task's name without its TaskGroup (``ingest.extract_costs`` -> ``extract_costs``)."""
    return task_id.rsplit(".", 1)[-1]


def test_the_chain_follows_the_design(dagbag):
    dag = dagbag.get_dag(DAG_ID)
    downstream = {_short(t.task_id): {_short(d) for d in t.downstream_task_ids} for t in dag.tasks}
    assert "extract_costs" in downstream["list_ous"] and "list_ous" in downstream["discover_ous"]
    assert "consolidate" in downstream["extract_costs"]
    assert "consolidate" in downstream["discover_ous"], "the Parquet names accounts as mapped"
    assert "archive_to_s3" in downstream["consolidate"]
    assert "crawl_catalog" in downstream["register_table"]
    assert "validate_in_athena" in downstream["crawl_catalog"]
    assert "check_quality_gate" in downstream["validate_in_athena"]
    assert {"detect_anomalies", "forecast_month_end"} <= downstream["check_quality_gate"]
    assert {"detect_anomalies", "forecast_month_end"} <= downstream["load_history"]
    assert downstream["choose_alert"] == {"send_anomaly_alert", "send_owner_alerts", "no_anomaly"}
    assert {"send_daily_digest", "send_executive_snapshot"} <= downstream["build_report"]
    from airflow.sdk.definitions.mappedoperator import MappedOperator

    assert isinstance(dag.get_task("ingest.extract_costs"), MappedOperator), "one task per OU"
    assert dag.get_task("catalog.send_data_check_failed").trigger_rule == "one_failed"


def test_tasks_read_as_stages_have_time_bounds_and_share_the_cost_explorer_pool(dagbag):
    from finops_digest.pools import COST_EXPLORER_POOL

    dag = dagbag.get_dag(DAG_ID)
    groups = {t.task_id.split(".")[0] for t in dag.tasks if "." in t.task_id}
    assert groups == {"ingest", "catalog", "analysis", "notify", "reports"}
    for dag_id in (DAG_ID, PREFETCH_DAG_ID):
        for task in dagbag.get_dag(dag_id).tasks:
            assert task.execution_timeout is not None, task.task_id
            assert task.execution_timeout.total_seconds() <= 3600, task.task_id
    calls_cost_explorer = {
        "ingest.discover_ous",
        "ingest.extract_costs",
        "catalog.validate_in_athena",
        "analysis.load_history",
        "analysis.detect_anomalies",
        "analysis.forecast_month_end",
    }
    assert {t.task_id for t in dag.tasks if t.pool == COST_EXPLORER_POOL} == calls_cost_explorer


def test_delivery_and_analysis_are_decoupled(dagbag):
    """Messages to different people do not wait on each other, and the forecast does not wait
    on (or fail with) spike detection."""
    dag = dagbag.get_dag(DAG_ID)

    full = {_short(t.task_id): t.task_id for t in dag.tasks}

    def ancestors(name: str) -> set[str]:
        found = set()
        todo = [full[name]]
        while todo:
            for parent in dag.get_task(todo.pop()).upstream_task_ids:
                if _short(parent) not in found:
                    found.add(_short(parent))
                    todo.append(parent)
        return found

    assert "send_anomaly_alert" not in ancestors("send_daily_digest")
    assert "choose_alert" not in ancestors("send_daily_digest")
    assert "send_anomaly_alert" not in ancestors("send_executive_snapshot")
    assert "detect_anomalies" not in ancestors("forecast_month_end")
    assert "check_quality_gate" in ancestors("send_daily_digest")


def test_each_task_calls_the_library_function_it_runs_by_name():
    """No dispatch by string: each task body imports a ``finops_digest.tasks`` module and calls
    the function of the task's own name."""
    import ast
    from pathlib import Path

    dags = Path(__file__).resolve().parents[2] / "dags"
    for path in sorted(dags.glob("*.py")):
        tree = ast.parse(path.read_text())
        dispatch = [
            ast.unparse(c)
            for c in ast.walk(tree)
            if isinstance(c, ast.Call)
            and ast.unparse(c.func) == "getattr"
            and not isinstance(c.args[1], ast.Constant)
        ]
        assert dispatch == [], f"{path.name} dispatches by name: {dispatch}"
        for node in ast.walk(tree):
            if not isinstance(node, ast.FunctionDef) or not any(
                "task" in ast.unparse(d)
                or "setup" in ast.unparse(d)
                or "teardown" in ast.unparse(d)
                for d in node.decorator_list
            ):
                continue
            calls = {
                ast.unparse(c.func)
                for c in ast.walk(node)
                if isinstance(c, ast.Call) and isinstance(c.func, ast.Attribute)
            }
            imported = [
                n
                for n in ast.walk(node)
                if isinstance(n, ast.ImportFrom) and n.module == "finops_digest.tasks"
            ]
            if imported:
                module = imported[0].names[0].name
                assert f"{module}.{node.name}" in calls, f"{path.name}:{node.name} calls {calls}"
