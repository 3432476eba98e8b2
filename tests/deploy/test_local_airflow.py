"""`make airflow`'s stack for real: scheduler, dag-processor and api-server (which serves the
task execution API) from .venv against the sandbox; a 3-day backfill created through the CLI
must end in three successful runs, one per billing day."""

from __future__ import annotations

import os
import sqlite3
import time
from contextlib import closing

import boto3
import pytest

from scripts.airflow_local import start

DAG_ID = "finops_daily_digest"
COMPONENTS = ("api-server", "scheduler", "dag-processor")
BILLING_DAYS = ("2025-09-01", "2025-09-02", "2025-09-03")
WAIT_SECONDS = 360


def _query(db, sql: str, *args) -> list[tuple]:
    with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)) as con:
        return con.execute(sql, args).fetchall()


def _wait(what: str, check, stack, seconds: float):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for process in stack.processes:
            assert process.poll() is None, f"{process.args} exited; logs in {stack.home / 'logs'}"
        try:
            result = check()
        except sqlite3.OperationalError:  # locked by a writer for a moment
            result = None
        if result:
            return result
        time.sleep(2)
    pytest.fail(f"{what} not within {seconds}s; logs in {stack.home / 'logs'}")


@pytest.mark.timeout(WAIT_SECONDS + 240)
def test_a_three_day_backfill_created_with_the_cli_is_run_by_the_scheduler(tmp_path):
    home = tmp_path / "airflow"  # a metadata DB of its own, migrated by start()
    db = home / "airflow.db"
    # Only the backfill's runs: the scheduler creates no run of the latest interval here.
    no_schedule = {"AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False"}
    with start(home, components=COMPONENTS, extra_env=no_schedule) as stack:
        pids = [p.pid for p in stack.processes]
        _wait(
            "the DAG parsed and serialized",
            lambda: _query(db, "SELECT 1 FROM serialized_dag WHERE dag_id = ?", DAG_ID),
            stack,
            120,
        )
        # --to-date is the day after the last billing day: a run's logical date is its day at
        # 06:00 UTC, and backfill takes logical dates up to --to-date (00:00).
        created = stack.airflow(
            "backfill",
            "create",
            "--dag-id",
            DAG_ID,
            "--from-date",
            BILLING_DAYS[0],
            "--to-date",
            "2025-09-04",
        )
        assert created.returncode == 0, created.stdout[-2000:] + created.stderr[-2000:]

        def finished():
            runs = _query(
                db,
                "SELECT substr(logical_date, 1, 10), state FROM dag_run "
                "WHERE dag_id = ? AND run_type = 'backfill'",
                DAG_ID,
            )
            done = len(runs) == 3 and all(s in ("success", "failed") for _, s in runs)
            return sorted(runs) if done else None

        runs = _wait("three finished backfill runs", finished, stack, WAIT_SECONDS)
        # The days ran side by side; none had to wait for a retry (e.g. two runs racing to
        # create the Glue table).
        retried = _query(db, "SELECT run_id, task_id FROM task_instance WHERE try_number > 1")
        s3 = boto3.client("s3", endpoint_url=stack.sandbox_url, region_name="us-east-1")
        listed = s3.list_objects_v2(Bucket="finops-digest-archive", Prefix="ou-breakdowns/")
        archived = {
            "{}-{}-{}".format(*(part.split("=")[1] for part in obj["Key"].split("/")[1:4]))
            for obj in listed["Contents"]
            if obj["Key"].endswith("/ou_breakdown.csv")
        }
    assert runs == [(day, "success") for day in BILLING_DAYS]
    assert retried == []
    assert archived == set(BILLING_DAYS)
    for pid in pids:  # every component's process group is gone
        with pytest.raises(ProcessLookupError):
            os.killpg(pid, 0)
