"""`make airflow`'s stack for real: scheduler, dag-processor and api-server (which serves the
task execution API) from .venv against the sandbox: a 3-day backfill created through the CLI ends in
three successful runs, one per billing day, side by side; two runs of one day take turns."""

from __future__ import annotations

import json
import sqlite3
import time
from contextlib import closing
from datetime import UTC, date, datetime, timedelta

import boto3
import pytest

from finops_digest.store.layout import lock_key, sent_key
from scripts.airflow_local import live_members, start

DAG_ID = "finops_daily_digest"
COMPONENTS = ("api-server", "scheduler", "dag-processor")
BILLING_DAYS = ("2025-09-01", "2025-09-02", "2025-09-03")
WAIT_SECONDS = 360
BUCKET = "finops-digest-archive"


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


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    """The stack with the DAG parsed; only runs the tests create (no scheduled latest run)."""
    home = tmp_path_factory.mktemp("local-airflow") / "airflow"  # a metadata DB of its own
    no_schedule = {"AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False"}
    with start(home, components=COMPONENTS, extra_env=no_schedule) as running:
        pids = [p.pid for p in running.processes]
        _wait(
            "the DAG parsed and serialized",
            lambda: _query(_db(running), "SELECT 1 FROM serialized_dag WHERE dag_id = ?", DAG_ID),
            running,
            120,
        )
        yield running
    # Every component and every task process it forked has stopped, though runs were still going.
    assert {pid: live_members(pid) for pid in pids} == {pid: [] for pid in pids}


def _db(stack):
    return stack.home / "airflow.db"


def _s3(stack):
    return boto3.client("s3", endpoint_url=stack.sandbox_url, region_name="us-east-1")


def _runs(stack, where: str, *args) -> list[tuple[str, str]]:
    return _query(
        _db(stack), f"SELECT run_id, state FROM dag_run WHERE dag_id = ? AND {where}", DAG_ID, *args
    )


@pytest.mark.timeout(WAIT_SECONDS + 240)
def test_a_three_day_backfill_created_with_the_cli_is_run_by_the_scheduler(stack):
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
            _db(stack),
            "SELECT substr(logical_date, 1, 10), state FROM dag_run "
            "WHERE dag_id = ? AND run_type = 'backfill'",
            DAG_ID,
        )
        done = len(runs) == 3 and all(s in ("success", "failed") for _, s in runs)
        return sorted(runs) if done else None

    runs = _wait("three finished backfill runs", finished, stack, WAIT_SECONDS)
    # The days ran side by side; none had to wait for a retry (e.g. two runs racing to
    # create the Glue table).
    retried = _query(_db(stack), "SELECT run_id, task_id FROM task_instance WHERE try_number > 1")
    listed = _s3(stack).list_objects_v2(Bucket=BUCKET, Prefix="ou-breakdowns/")
    archived = {
        "{}-{}-{}".format(*(part.split("=")[1] for part in obj["Key"].split("/")[1:4]))
        for obj in listed["Contents"]
        if obj["Key"].endswith("/ou_breakdown.csv")
    }
    assert runs == [(day, "success") for day in BILLING_DAYS]
    assert retried == []
    assert archived == set(BILLING_DAYS)


@pytest.mark.timeout(2 * WAIT_SECONDS + 240)
def test_two_runs_of_the_same_day_at_once_take_turns(stack):
    day = "2025-09-20"
    run_ids = ("same-day-a", "same-day-b")
    for run_id in run_ids:
        triggered = stack.airflow(
            "dags", "trigger", DAG_ID, "--run-id", run_id, "--conf", f'{{"billing_date": "{day}"}}'
        )
        assert triggered.returncode == 0, triggered.stdout[-2000:] + triggered.stderr[-2000:]

    def finished():
        runs = _runs(stack, "run_id IN (?, ?)", *run_ids)
        return sorted(runs) if all(s in ("success", "failed") for _, s in runs) else None

    # The second run's lock_billing_day waits through its retries (2 min) for the first.
    runs = _wait("both same-day runs finished", finished, stack, 2 * WAIT_SECONDS)
    assert runs == [(run_id, "success") for run_id in run_ids]
    s3 = _s3(stack)
    lock = lock_key(date.fromisoformat(day))
    versions = s3.list_object_versions(Bucket=BUCKET, Prefix=lock)["Versions"]
    history = [
        json.loads(s3.get_object(Bucket=BUCKET, Key=lock, VersionId=v["VersionId"])["Body"].read())
        for v in sorted(versions, key=lambda v: v["LastModified"])
    ]
    holders = [(h["holder"], h["held"]) for h in history]
    first, second = holders[0][0], [h for h, _ in holders if h != holders[0][0]][0]
    # Taken and handed back in turn: the day's writes of the two runs never interleaved.
    assert holders == [(first, True), (first, False), (second, True), (second, False)]
    waited = _query(
        _db(stack),
        "SELECT run_id FROM task_instance WHERE task_id = 'lock_billing_day' AND try_number > 1",
    )
    assert [r for (r,) in waited] == [second]
    sent = sent_key(date.fromisoformat(day), "daily-digest")
    record = json.loads(s3.get_object(Bucket=BUCKET, Key=sent)["Body"].read())
    assert len(record["deliveries"]) == 1, "one digest for the day, not one per run"


@pytest.mark.timeout(WAIT_SECONDS + 120)
def test_a_manual_trigger_processes_the_latest_complete_day_and_refuses_today(stack):
    """`airflow dags trigger` without a logical date, as the UI's Trigger button makes runs:
    the latest complete day, never today's unfinished one; a billing_date of today is refused."""
    today = datetime.now(UTC).date().isoformat()
    latest = stack.airflow("dags", "trigger", DAG_ID, "--run-id", "trigger-latest")
    assert latest.returncode == 0, latest.stdout[-2000:] + latest.stderr[-2000:]
    refused = stack.airflow(
        "dags",
        "trigger",
        DAG_ID,
        "--run-id",
        "trigger-today",
        "--conf",
        json.dumps({"billing_date": today}),
    )
    assert refused.returncode == 0, refused.stdout[-2000:] + refused.stderr[-2000:]

    def planned():
        rows = _query(
            _db(stack),
            "SELECT run_id, state FROM task_instance WHERE dag_id = ? AND task_id = 'plan_run' "
            "AND run_id IN ('trigger-latest', 'trigger-today')",
            DAG_ID,
        )
        done = dict(rows)
        return (
            done
            if len(done) == 2
            and done.get("trigger-today") == "failed"
            and done.get("trigger-latest") == "success"
            else None
        )

    _wait("both manual runs planned", planned, stack, WAIT_SECONDS)
    # The latest day's run would go on for minutes: nothing more is scheduled once planned.
    stack.airflow("dags", "pause", DAG_ID)
    (run_after,) = _query(
        _db(stack), "SELECT run_after FROM dag_run WHERE run_id = 'trigger-latest'"
    )[0]
    (value,) = _query(
        _db(stack),
        "SELECT value FROM xcom WHERE run_id = 'trigger-latest' AND task_id = 'plan_run' "
        "AND key = 'return_value'",
    )[0]
    plan = json.loads(value)
    expected = date.fromisoformat(str(run_after)[:10]) - timedelta(days=1)
    assert plan["billing_date"] == expected.isoformat()
    logs = "\n".join(
        p.read_text(errors="replace")
        for p in (stack.home / "logs").rglob("*.log")
        if "trigger-today" in str(p) and "plan_run" in str(p)
    )
    assert f"billing day {today} has not ended in UTC" in logs
