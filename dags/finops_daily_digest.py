"""
### FinOps daily digest

One run processes one UTC billing day **D** that has ended: the scheduled run's data interval, the
`billing_date` Param, or, for Trigger without one, the latest complete day. AWS Cost Explorer costs per Organizations OU are consolidated into one sorted CSV,
archived as a new version under `ou-breakdowns/year=/month=/day=` in the versioned bucket, registered
in Glue, checked in Athena, scanned for cost spikes, and mailed as a daily digest (plus an alert when
there are spikes). Scheduled runs for D start at D+1 06:00 UTC by default, since Cost Explorer lags.

Configuration: the `finops_config` Variable (JSON), validated once by `plan_run`. AWS: the
`aws_default` connection. Backfill a range with
`airflow backfill create --dag-id finops_daily_digest --from-date ... --to-date ...`;
for a long range, run `finops_prefetch_costs` first and add `--dag-run-conf '{"use_prefetched_costs": true}'`
(one Cost Explorer request per OU for the whole range instead of per OU and day).
The stages and what passes between them: `docs/architecture.md`.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import (
    Asset,
    CronDataIntervalTimetable,
    Param,
    TaskGroup,
    TriggerRule,
    chain,
    dag,
    setup,
    task,
    teardown,
)

from finops_digest.pools import COST_EXPLORER_POOL

if TYPE_CHECKING:  # the contracts, for readers and editors; never imported at parse time
    from finops_digest.tasks.contracts import (
        Archived,
        Catalogued,
        Consolidated,
        Detected,
        Forecast,
        History,
        Organization,
        OuPart,
        Report,
        Restated,
        RunPlan,
        Sent,
        Validation,
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
        # A hung call must not hold a worker slot for hours: each task has a bound (some longer).
        "execution_timeout": timedelta(minutes=30),
        "on_failure_callback": _notify_failure,
    },
    params={
        "billing_date": Param(
            None,
            type=["null", "string"],
            format="date",
            description=(
                "Billing day to process (YYYY-MM-DD), a day that has ended in UTC; empty: the "
                "scheduled run's day, or the latest complete day on a manual run."
            ),
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
    def plan_run(params=None, logical_date=None, dag_run=None) -> RunPlan:
        """Resolve the billing day from the run and validate `finops_config` before any AWS call."""
        from finops_digest.tasks import run

        run_type = getattr(dag_run.run_type, "value", dag_run.run_type)
        return run.plan_run(params or {}, logical_date, dag_run.run_after, run_type)

    @setup
    @task(execution_timeout=timedelta(minutes=5))
    def lock_billing_day(plan: RunPlan, run_id=None, dag_run=None, ti=None) -> str:
        """Take the billing day's lock: two runs of one day never interleave their writes."""
        from finops_digest.tasks import run

        def is_running(holder: str) -> bool:
            alive = ti.get_dr_count(
                dag_id=dag_run.dag_id, run_ids=[holder], states=["queued", "running"]
            )
            return alive > 0

        return run.lock_billing_day(plan, run_id, is_running)

    @task(pool=COST_EXPLORER_POOL)
    def discover_ous(plan: RunPlan) -> Organization:
        """Walk the Organizations tree; stage the day's account-to-OU mapping."""
        from finops_digest.tasks import ingest

        return ingest.discover_ous(plan)

    @task
    def list_ous(organization: Organization) -> list[str]:
        """The OUs with accounts: one mapped extraction each (Airflow maps over a task's whole
        return value, so the list is a task of its own)."""
        return organization["ous"]

    # A mapped task does not take its docstring as doc_md, so it is given explicitly.
    @task(
        max_active_tis_per_dagrun=8,
        pool=COST_EXPLORER_POOL,
        doc_md=(
            "One OU's costs for the day, by service and account, staged in S3: from Cost "
            "Explorer, or (cost_source data_exports) from the export query discover_ous ran."
        ),
    )
    def extract_costs(ou: str, plan: RunPlan, organization: Organization) -> OuPart:
        from finops_digest.tasks import ingest

        return ingest.extract_costs(plan, organization, ou)

    @task
    def consolidate(plan: RunPlan, parts: list[OuPart], organization: Organization) -> Consolidated:
        """Merge the OU parts into the sorted CSV and its Parquet twin (with account names)."""
        from finops_digest.tasks import ingest

        return ingest.consolidate(plan, list(parts), organization)

    @task(outlets=[ARCHIVE_ASSET])
    def archive_to_s3(
        plan: RunPlan, consolidated: Consolidated, organization: Organization, outlet_events=None
    ) -> Archived:
        """Archive CSV, Parquet and mapping as new versions; refuse an unversioned bucket."""
        from finops_digest.tasks import ingest

        archived = ingest.archive_to_s3(plan, consolidated, organization)
        outlet_events[ARCHIVE_ASSET].extra = {"billing_date": plan["billing_date"], **archived}
        return archived

    @task
    def restate_recent_days(plan: RunPlan, parts: list[OuPart], holder: str) -> Restated:
        """Re-archive the previous days whose costs Cost Explorer restated since (new versions)."""
        from finops_digest.tasks import ingest

        return ingest.restate_recent_days(plan, list(parts), holder)

    @task
    def register_table(plan: RunPlan) -> dict[str, str]:
        """Create the Glue tables (costs; budget vs forecast; OU tree; spikes) if they do not
        exist yet; add the columns a table created by an earlier version lacks; create or update
        the shipped Athena views (`include/sql/views`)."""
        from finops_digest.tasks import catalog

        return catalog.register_table(plan)

    @task
    def crawl_catalog(plan: RunPlan, tables: dict[str, str], archived: Archived) -> Catalogued:
        """Make the day's partition queryable: the Glue crawler, or BatchCreatePartition
        (`catalog_strategy` in `finops_config`)."""
        from finops_digest.tasks import catalog

        return catalog.crawl_catalog(plan, tables, archived)

    @task(pool=COST_EXPLORER_POOL, execution_timeout=timedelta(minutes=45))
    def validate_in_athena(
        plan: RunPlan,
        consolidated: Consolidated,
        catalogued: Catalogued,
        organization: Organization,
    ) -> Validation:
        """Athena's row count and cost sum for the day, the consolidated CSV's and the cost
        source's own day total (Cost Explorer's, or the data export's): what each says, and
        where they disagree."""
        from finops_digest.tasks import catalog

        return catalog.validate_in_athena(plan, consolidated, catalogued, organization)

    @task
    def check_quality_gate(validation: Validation) -> Validation:
        """The quality gate: fails the run when the numbers disagree by more than a cent."""
        from finops_digest.tasks import catalog

        return catalog.check_quality_gate(validation)

    @task(trigger_rule=TriggerRule.ONE_FAILED)
    def send_data_check_failed(ti=None) -> Sent:
        """When the gate failed: tell the digest recipients why there is no digest today."""
        from finops_digest.tasks import notify

        # Pulled, not passed: this task runs because something upstream failed, and when that
        # was the check itself (or an earlier task) there is nothing to pull and nothing to say
        # beyond the run's failure notice.
        return notify.send_data_check_failed(
            ti.xcom_pull(task_ids="plan_run"), ti.xcom_pull(task_ids="catalog.validate_in_athena")
        )

    @task(pool=COST_EXPLORER_POOL, execution_timeout=timedelta(minutes=60))
    def load_history(plan: RunPlan, organization: Organization, restated: Restated) -> History:
        """The days before D, read once for detection, the forecast and the digest."""
        from finops_digest.tasks import analysis

        return analysis.load_history(plan, organization, restated)

    @task(pool=COST_EXPLORER_POOL, execution_timeout=timedelta(minutes=60))
    def detect_anomalies(
        plan: RunPlan, consolidated: Consolidated, history: History, organization: Organization
    ) -> Detected:
        """Score each (OU, Service) against its recent history; archive the findings."""
        from finops_digest.tasks import analysis

        return analysis.detect_anomalies(plan, consolidated, history, organization)

    @task(pool=COST_EXPLORER_POOL)
    def forecast_month_end(
        plan: RunPlan, consolidated: Consolidated, history: History, organization: Organization
    ) -> Forecast:
        """Month-end forecast per OU (Cost Explorer, else run-rate) against budgets: lights."""
        from finops_digest.tasks import analysis

        return analysis.forecast_month_end(plan, consolidated, history, organization)

    @task.branch
    def choose_alert(detected: Detected, forecast: Forecast) -> list[str]:
        """Alert on new spikes, or on OUs forecast over budget for the first time this month: the
        team, and each affected OU's owners."""
        if detected["count"] or forecast["new_budget_breaches"]:
            return ["notify.send_anomaly_alert", "notify.send_owner_alerts"]
        return ["notify.no_anomaly"]

    @task
    def send_anomaly_alert(plan: RunPlan, detected: Detected, forecast: Forecast) -> Sent:
        """Email the spikes (and the accounts behind them) and new budget breaches to the alert
        recipients."""
        from finops_digest.tasks import notify

        return notify.send_anomaly_alert(plan, detected, forecast)

    @task
    def send_owner_alerts(
        plan: RunPlan, detected: Detected, forecast: Forecast, organization: Organization
    ) -> Sent:
        """Each OU owner's own new spikes and budget breaches (their OU and the OUs in it)."""
        from finops_digest.tasks import notify_owners

        return notify_owners.send_owner_alerts(plan, detected, forecast, organization)

    @task
    def build_report(
        plan: RunPlan,
        consolidated: Consolidated,
        archived: Archived,
        history: History,
        detected: Detected,
        forecast: Forecast,
        restated: Restated,
    ) -> Report:
        """What the digest and the executive snapshot show, computed once."""
        from finops_digest.tasks import notify

        return notify.build_report(
            plan, consolidated, archived, history, detected, forecast, restated
        )

    @task
    def send_daily_digest(plan: RunPlan, report: Report, validation: Validation) -> Sent:
        """The daily digest to the FinOps team, whatever happened to the spike alert."""
        from finops_digest.tasks import notify

        return notify.send_daily_digest(plan, report, validation)

    @task
    def send_owner_digests(
        plan: RunPlan, report: Report, history: History, validation: Validation
    ) -> Sent:
        """Each OU owner's slice of the digest: their OU and the OUs in it, nothing else."""
        from finops_digest.tasks import notify_owners

        return notify_owners.send_owner_digests(plan, report, history, validation)

    @task
    def send_executive_snapshot(plan: RunPlan, report: Report, validation: Validation) -> Sent:
        """The executive snapshot PDF: archived beside the CSV, mailed to the executives."""
        from finops_digest.tasks import notify

        return notify.send_executive_snapshot(plan, report, validation)

    @task
    def send_weekly_digest(plan: RunPlan) -> Sent:
        """On the weekly day (`weekly_digest_weekday`, Monday by default): the Monday-Sunday week
        before it against the week before, from the archive through Athena; skipped otherwise."""
        from airflow.sdk.exceptions import AirflowSkipException

        from finops_digest.tasks import periodic

        sent = periodic.send_weekly_digest(plan)
        if sent.get("skipped"):
            raise AirflowSkipException(sent["skipped"])
        return sent

    @task
    def send_month_close_report(plan: RunPlan) -> Sent:
        """On the close day (`month_close_day`, the 3rd by default): the previous month per OU
        against budget and the month before, its spikes and restatements, and the chargeback
        CSV, from the archive through Athena; skipped otherwise."""
        from airflow.sdk.exceptions import AirflowSkipException

        from finops_digest.tasks import periodic

        sent = periodic.send_month_close_report(plan)
        if sent.get("skipped"):
            raise AirflowSkipException(sent["skipped"])
        return sent

    @teardown
    def release_billing_day(plan: RunPlan, holder: str) -> bool:
        """Hand the day's lock back, whatever happened to the run."""
        from finops_digest.tasks import run

        return run.release_billing_day(plan, holder)

    plan = plan_run()
    holder = lock_billing_day(plan)
    with TaskGroup("ingest", tooltip="The organisation, each OU's costs, the CSV, the archive"):
        organization = discover_ous(plan)
        parts = extract_costs.partial(plan=plan, organization=organization).expand(
            ou=list_ous(organization)
        )
        consolidated = consolidate(plan, parts, organization)
        archived = archive_to_s3(plan, consolidated, organization)
        restated = restate_recent_days(plan, parts, holder)
    with TaskGroup("catalog", tooltip="Glue tables and partition; the quality gate in Athena"):
        catalogued = crawl_catalog(plan, register_table(plan), archived)
        validation = validate_in_athena(plan, consolidated, catalogued, organization)
        validated = check_quality_gate(validation)
        notice = send_data_check_failed()
    with TaskGroup("analysis", tooltip="History, spikes, month-end forecast against budgets"):
        history = load_history(plan, organization, restated)
        detected = detect_anomalies(plan, consolidated, history, organization)
        forecast = forecast_month_end(plan, consolidated, history, organization)
    with TaskGroup("notify", tooltip="The alert, the report, the digest and the snapshot"):
        branch = choose_alert(detected, forecast)
        alert = send_anomaly_alert(plan, detected, forecast)
        owner_alerts = send_owner_alerts(plan, detected, forecast, organization)
        no_anomaly = EmptyOperator(
            task_id="no_anomaly", doc_md="No new spike or budget breach today: nothing to alert."
        )
        report = build_report(plan, consolidated, archived, history, detected, forecast, restated)
        digest = send_daily_digest(plan, report, validated)
        snapshot = send_executive_snapshot(plan, report, validated)
        owner_digests = send_owner_digests(plan, report, history, validated)

    with TaskGroup("reports", tooltip="The weekly digest and the month-close report (Athena)"):
        weekly = send_weekly_digest(plan)
        month_close = send_month_close_report(plan)

    # Ordering without a hand-off, each on purpose: the day's lock is taken before any work; the
    # gate passes before findings, forecasts or alerts are archived or sent; the notice runs only
    # when the gate (or the check before it) failed; the periodic reports read the archive once
    # this run re-archived the days Cost Explorer restated (the month's last days, on the 3rd)
    # and catalogued its own.
    chain(holder, organization)
    chain(validated, [detected, forecast])
    chain(branch, [alert, owner_alerts, no_anomaly])
    chain([validation, validated], notice)
    chain([restated, catalogued], [weekly, month_close])
    chain(
        [digest, snapshot, owner_digests, alert, owner_alerts, notice, weekly, month_close],
        release_billing_day(plan, holder),
    )


finops_daily_digest()
