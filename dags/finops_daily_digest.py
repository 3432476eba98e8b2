"""
### FinOps daily digest

One run processes one UTC billing day **D** (the run's logical date, or the `billing_date` Param on a
manual run): AWS Cost Explorer costs per Organizations OU are consolidated into one sorted CSV,
archived as a new version under `ou-breakdowns/year=/month=/day=` in the versioned bucket, registered
in Glue, checked in Athena, scanned for cost spikes, and mailed as a daily digest (plus an alert when
there are spikes). Scheduled runs for D start at D+1 06:00 UTC by default, since Cost Explorer lags.

Configuration: the `finops_config` Variable (JSON). AWS: the `aws_default` connection.
Backfill a range with `airflow backfill create --dag-id finops_daily_digest --from-date ... --to-date ...`;
for a long range, run `finops_prefetch_costs` first and add `--dag-run-conf '{"use_prefetched_costs": true}'`
(one Cost Explorer request per OU for the whole range instead of per OU and day).
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import (
    Asset,
    CronDataIntervalTimetable,
    Param,
    TriggerRule,
    chain,
    dag,
    setup,
    task,
    teardown,
)

# Cron of the daily run, in UTC. Each run covers the previous day's data interval.
SCHEDULE = os.environ.get("FINOPS_DIGEST_SCHEDULE", "0 6 * * *")

# Updated by every successful archive_to_s3, so downstream DAGs (a dashboard refresh) can be
# scheduled on `Asset("finops_ou_breakdowns")`. The bucket is run-time configuration, so the asset
# is named, not an s3:// URI (which would also make parsing load the Amazon provider and boto3);
# each event's extra carries the day's real s3:// URIs and version ids.
ARCHIVE_ASSET = Asset(name="finops_ou_breakdowns", group="finops")


def _notify_failure(context) -> None:
    """Email ``failure_recipients`` (read from ``finops_config`` at run time) about the failure."""
    from finops_digest.report.failure_notice import notify_failure

    notify_failure(context)


def _step(name: str, plan: dict, *args, **kwargs):
    """Run ``finops_digest.steps.<name>`` for the planned billing day (``dag_steps.run_step``)."""
    from finops_digest.dag_steps import run_step

    return run_step(name, plan, *args, **kwargs)


@dag(
    dag_id="finops_daily_digest",
    schedule=CronDataIntervalTimetable(SCHEDULE, timezone="UTC"),
    # Early enough for backfills over Cost Explorer's history; catchup stays off.
    start_date=datetime(2024, 1, 1, tzinfo=UTC),
    catchup=False,
    max_active_runs=4,
    doc_md=__doc__,
    tags=["finops", "aws", "cost-explorer"],
    default_args={
        "owner": "finops",
        "retries": 2,
        "retry_delay": timedelta(minutes=2),
        "retry_exponential_backoff": True,
        "on_failure_callback": _notify_failure,
    },
    params={
        "billing_date": Param(
            None,
            type=["null", "string"],
            format="date",
            description="Billing day to process (YYYY-MM-DD); empty: the run's logical date.",
        ),
        "use_prefetched_costs": Param(
            False,
            type="boolean",
            description=(
                "Backfills: take the day's costs from the finops_prefetch_costs DAG's parts "
                "(no Cost Explorer request) where that DAG fetched them."
            ),
        ),
    },
)
def finops_daily_digest():
    @task
    def plan_run(params=None, logical_date=None, data_interval_start=None) -> dict:
        """Resolve the billing day from the run and validate `finops_config` before any AWS call."""
        from airflow.sdk.exceptions import AirflowFailException

        from finops_digest.billing_day import resolve_billing_day
        from finops_digest.config import load_config
        from finops_digest.errors import FinopsError

        try:
            config = load_config()
            day = resolve_billing_day(
                (params or {}).get("billing_date"), logical_date, data_interval_start
            )
        except FinopsError as exc:
            raise AirflowFailException(str(exc)) from exc
        return {
            "billing_date": day.isoformat(),
            "catalog_strategy": config.catalog_strategy,
            "use_prefetched_costs": bool((params or {}).get("use_prefetched_costs")),
        }

    @task
    def discover_ous(plan: dict) -> list:
        """Walk the Organizations tree; stage the day's account-to-OU mapping."""
        return _step("discover_ous", plan, use_prefetched=plan["use_prefetched_costs"])

    # A mapped task does not take its docstring as doc_md, so it is given explicitly.
    @task(
        max_active_tis_per_dagrun=8,
        doc_md="One OU's Cost Explorer costs for the day, by service and account, staged in S3.",
    )
    def extract_costs(ou: str, plan: dict) -> dict:
        return _step("extract_costs", plan, ou, use_prefetched=plan["use_prefetched_costs"])

    @task
    def consolidate(plan: dict, parts: list) -> dict:
        """Merge the OU parts into the sorted CSV and its Parquet twin."""
        return _step("consolidate", plan, list(parts))

    @task(outlets=[ARCHIVE_ASSET])
    def archive_to_s3(plan: dict, consolidated: dict, outlet_events=None) -> dict:
        """Archive CSV, Parquet and mapping as new versions; refuse an unversioned bucket."""
        archived = _step("archive_to_s3", plan, consolidated)
        outlet_events[ARCHIVE_ASSET].extra = {"billing_date": plan["billing_date"], **archived}
        return archived

    @task
    def restate_recent_days(plan: dict, parts: list) -> dict:
        """Re-archive the previous days whose costs Cost Explorer restated since (new versions)."""
        return _step("restate_recent_days", plan, list(parts))

    @task
    def register_table(plan: dict) -> dict:
        """Create the Glue tables (costs; budget vs forecast) if they do not exist yet."""
        return _step("register_table", plan)

    @task
    def crawl_catalog(plan: dict) -> dict:
        """Make the day's partition queryable: the Glue crawler, or BatchCreatePartition
        (`catalog_strategy` in `finops_config`)."""
        return _step("crawl_catalog", plan)

    @task
    def validate_in_athena(plan: dict, consolidated: dict) -> dict:
        """Athena's row count and cost sum for the day must equal the consolidated CSV's."""
        return _step("validate_in_athena", plan, consolidated)

    @task
    def detect_anomalies(plan: dict, consolidated: dict) -> dict:
        """Score each (OU, Service) against its recent history; archive the findings."""
        return _step("detect_anomalies", plan, consolidated)

    @task
    def forecast_month_end(plan: dict, consolidated: dict, detected: dict) -> dict:
        """Month-end forecast per OU (Cost Explorer, else run-rate) against budgets: lights."""
        return _step("forecast_month_end", plan, consolidated, detected)

    @task.branch
    def choose_alert(detected: dict, forecast: dict) -> str:
        """Alert on new spikes, or on OUs forecast over budget for the first time this month."""
        alert = detected["count"] or forecast["new_budget_breaches"]
        return "send_anomaly_alert" if alert else "no_anomaly"

    @task
    def send_anomaly_alert(plan: dict, detected: dict, forecast: dict) -> dict:
        """Email the spikes (and the accounts behind them) and new budget breaches to the alert
        recipients."""
        return _step("send_anomaly_alert", plan, detected, forecast)

    no_anomaly = EmptyOperator(
        task_id="no_anomaly", doc_md="No new spike or budget breach today: nothing to alert."
    )

    @task(trigger_rule=TriggerRule.NONE_FAILED_MIN_ONE_SUCCESS)
    def send_daily_digest(
        plan: dict,
        consolidated: dict,
        archived: dict,
        detected: dict,
        forecast: dict,
        restated: dict,
    ) -> dict:
        """The daily digest to the FinOps team, whether or not there were spikes."""
        return _step(
            "send_daily_digest", plan, consolidated, archived, detected, forecast, restated
        )

    @task
    def send_executive_snapshot(plan: dict, archived: dict, detected: dict, forecast: dict) -> dict:
        """The executive snapshot PDF: archived beside the CSV, mailed to the executives."""
        return _step("send_executive_snapshot", plan, archived, detected, forecast)

    @setup
    def lock_billing_day(plan: dict, run_id=None) -> str:
        """Take the billing day's lock: two runs of one day never interleave their writes."""
        _step("lock_billing_day", plan, run_id)
        return run_id

    @teardown
    def release_billing_day(plan: dict, holder: str) -> bool:
        """Hand the day's lock back, whatever happened to the run."""
        return _step("release_billing_day", plan, holder)

    plan = plan_run()
    locked = lock_billing_day(plan)
    organization = discover_ous(plan)
    chain(locked, organization)
    parts = extract_costs.partial(plan=plan).expand(ou=organization)
    consolidated = consolidate(plan, parts)
    archived = archive_to_s3(plan, consolidated)
    validated = validate_in_athena(plan, consolidated)
    detected = detect_anomalies(plan, consolidated)
    forecast = forecast_month_end(plan, consolidated, detected)
    alert = send_anomaly_alert(plan, detected, forecast)
    restated = restate_recent_days(plan, parts)
    digest = send_daily_digest(plan, consolidated, archived, detected, forecast, restated)
    snapshot = send_executive_snapshot(plan, archived, detected, forecast)

    branch = choose_alert(detected, forecast)
    # Detection runs only on validated data; the digest waits for whichever branch ran.
    # Restated days are archived before detection and the digest read the history.
    chain(
        archived, restated, register_table(plan), crawl_catalog(plan), validated, detected, branch
    )
    chain(branch, [alert, no_anomaly], digest)
    chain([digest, snapshot], release_billing_day(plan, locked))


finops_daily_digest()
