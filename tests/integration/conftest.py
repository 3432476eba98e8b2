"""Fixtures for tests that run against the local AWS sandbox over HTTP."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest

from sandbox import SANDBOX_DEFAULTS
from scripts.local_env import pipeline_config, variable_env


@pytest.fixture(scope="module")
def finops_config() -> Iterator[dict]:
    """The ``finops_config`` Variable for the sandbox's resources, for the whole module."""
    config = pipeline_config(SANDBOX_DEFAULTS)
    with pytest.MonkeyPatch.context() as patch:
        for key, value in variable_env(config).items():
            patch.setenv(key, value)
        yield config


def run_dag(day: date, conf: dict | None = None, dag_id: str = "finops_daily_digest"):
    """Execute the whole DAG with Airflow (``dag.test``) for one billing day; returns the DagRun."""
    from airflow.dag_processing.dagbag import DagBag

    dag = DagBag(dag_folder=os.environ["AIRFLOW__CORE__DAGS_FOLDER"]).get_dag(dag_id)
    logical = datetime(day.year, day.month, day.day, tzinfo=UTC)
    return dag.test(logical_date=logical, run_conf=conf)


def short_name(task_id: str) -> str:
    """A task's name without its TaskGroup (``ingest.extract_costs`` -> ``extract_costs``)."""
    return task_id.rsplit(".", 1)[-1]


def returned(dag_run, task: str):
    """What a task of the run returned (its ``return_value`` XCom), by its name."""
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with create_session() as session:
        rows = (
            session.query(XComModel)
            .filter_by(run_id=dag_run.run_id, key="return_value", map_index=-1)
            .all()
        )
        [row] = [r for r in rows if short_name(r.task_id) == task]
        return XComModel.deserialize_value(row)


def task_states(dag_run) -> dict[str, str]:
    """Task name (without its TaskGroup) -> state (mapped tasks: their states joined)."""
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session

    states: dict[str, set[str]] = {}
    with create_session() as session:
        instances = session.query(TaskInstance).filter_by(
            dag_id=dag_run.dag_id, run_id=dag_run.run_id
        )
        for ti in instances:
            states.setdefault(short_name(ti.task_id), set()).add(str(ti.state))
    return {task: ",".join(sorted(s)) for task, s in states.items()}


def mapped_instances(dag_run, task: str) -> int:
    """How many task instances (map indexes) a task had in the run, by its name."""
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session

    with create_session() as session:
        instances = session.query(TaskInstance).filter_by(
            dag_id=dag_run.dag_id, run_id=dag_run.run_id
        )
        return sum(1 for ti in instances if short_name(ti.task_id) == task)
