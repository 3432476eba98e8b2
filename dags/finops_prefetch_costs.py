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
from typing import TYPE_CHECKING

from airflow.sdk import Param, dag, task

from finops_digest.pools import COST_EXPLORER_POOL

if TYPE_CHECKING:  # the contracts, for readers and editors; never imported at parse time
    from finops_digest.tasks.contracts import Organization
    from finops_digest.tasks.prefetch import PrefetchPlan


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
        "execution_timeout": timedelta(minutes=60),
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
    def plan_prefetch(params=None, dag_run=None) -> PrefetchPlan:
        """Check the range and `finops_config`; the days to fetch, history included."""
        from finops_digest.tasks import prefetch

        return prefetch.plan_prefetch(params or {}, dag_run.run_after)

    @task(pool=COST_EXPLORER_POOL)
    def discover_ous(plan: PrefetchPlan) -> Organization:
        """Walk the Organizations tree; stage the mapping the prefetch fetches with."""
        from finops_digest.tasks import ingest

        return ingest.discover_ous(plan, last=plan["last_day"])

    @task
    def list_ous(organization: Organization) -> list[str]:
        """The OUs with accounts: one mapped extraction each (Airflow maps over a task's whole
        return value, so the list is a task of its own)."""
        return organization["ous"]

    @task(
        max_active_tis_per_dagrun=8,
        pool=COST_EXPLORER_POOL,
        doc_md="One OU's Cost Explorer costs for every day of the range, in one paged request.",
    )
    def prefetch_costs(ou: str, plan: PrefetchPlan, organization: Organization) -> dict:
        from finops_digest.tasks import prefetch

        return prefetch.prefetch_costs(plan, organization, ou)

    @task
    def record_prefetch(plan: PrefetchPlan, organization: Organization, fetched: list) -> dict:
        """Mark each day prefetched; log the backfill command that uses the staged costs."""
        from finops_digest.tasks import prefetch

        return prefetch.record_prefetch(plan, organization, list(fetched))

    plan = plan_prefetch()
    organization = discover_ous(plan)
    fetched = prefetch_costs.partial(plan=plan, organization=organization).expand(
        ou=list_ous(organization)
    )
    record_prefetch(plan, organization, fetched)


finops_prefetch_costs()
