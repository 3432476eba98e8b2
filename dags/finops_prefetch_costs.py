"""
### FinOps cost prefetch for backfills

Before backfilling `finops_daily_digest` over a long range, trigger this DAG with the range: it asks
Cost Explorer once per OU for every billing day of it (one paged request, instead of one per OU and
day, each also re-pulling the restated days) and stages each day's costs per OU. By default it also
fetches the days anomaly detection compares the first backfilled days against, so the backfill
pays no Cost Explorer requests for history either.

Then backfill with the staged costs:
`airflow backfill create --dag-id finops_daily_digest --from-date FROM --to-date TO
--dag-run-conf '{"use_prefetched_costs": true}'` (the last task's log prints the exact command).
A day or OU not prefetched, or an OU whose accounts changed since, is fetched as usual.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from airflow.sdk import Param, dag, task


def _step(name: str, plan: dict, *args, **kwargs):
    """Run ``finops_digest.steps.<name>`` from the prefetch's first day (``dag_steps.run_step``)."""
    from finops_digest.dag_steps import run_step

    return run_step(name, plan, *args, **kwargs)


@dag(
    dag_id="finops_prefetch_costs",
    schedule=None,
    start_date=datetime(2024, 1, 1, tzinfo=UTC),
    catchup=False,
    max_active_runs=1,
    doc_md=__doc__,
    tags=["finops", "aws", "cost-explorer", "backfill"],
    default_args={
        "owner": "finops",
        "retries": 2,
        "retry_delay": timedelta(minutes=2),
        "retry_exponential_backoff": True,
    },
    params={
        "from_date": Param(
            type="string", format="date", description="First billing day to backfill."
        ),
        "to_date": Param(
            type="string",
            format="date",
            description="Last billing day to backfill (included).",
        ),
        "with_history": Param(
            True,
            type="boolean",
            description="Also fetch the days anomaly detection compares the first days against.",
        ),
    },
)
def finops_prefetch_costs():
    @task
    def plan_prefetch(params=None) -> dict:
        """Check the range and `finops_config`; the days to fetch, history included."""
        from airflow.sdk.exceptions import AirflowFailException

        from finops_digest.config import load_config
        from finops_digest.errors import FinopsError
        from finops_digest.steps import plan_prefetch

        try:
            return plan_prefetch(params or {}, load_config())
        except FinopsError as exc:
            raise AirflowFailException(str(exc)) from exc

    @task
    def discover_ous(plan: dict) -> list:
        """Walk the Organizations tree; stage the mapping the prefetch fetches with."""
        return _step("discover_ous", plan, last=plan["last_day"])

    @task(
        max_active_tis_per_dagrun=8,
        doc_md="One OU's Cost Explorer costs for every day of the range, in one paged request.",
    )
    def prefetch_costs(ou: str, plan: dict) -> dict:
        return _step("prefetch_costs", plan, ou, plan["last_day"])

    @task
    def record_prefetch(plan: dict, fetched: list) -> dict:
        """Mark each day prefetched; log the backfill command that uses the staged costs."""
        return _step("record_prefetch", plan, list(fetched), plan["last_day"], plan["from_date"])

    plan = plan_prefetch()
    ous = discover_ous(plan)
    fetched = prefetch_costs.partial(plan=plan).expand(ou=ous)
    record_prefetch(plan, fetched)


finops_prefetch_costs()
