"""Archive a range of days as the DAG does, fast: its own task functions called in this process
(the ingest and catalog stages; the analysis stage on chosen days), without Airflow's scheduling.

For what needs an archive behind the day it runs: the demo of a weekly-digest or month-close day,
and the tests of those reports. The run for a day itself is always the real DAG.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import date

from finops_digest.config import FinopsConfig
from finops_digest.tasks import analysis, catalog, ingest


def plan(config: FinopsConfig, day: date) -> dict:
    """What ``plan_run`` hands every task: the day and the validated settings."""
    return {
        "billing_date": day.isoformat(),
        "use_prefetched_costs": False,
        "config": config.to_dict(),
    }


def archive_days(
    config: FinopsConfig, days: Iterable[date], analysed: Collection[date] = ()
) -> int:
    """Run each day through ``discover_ous`` .. ``crawl_catalog`` (and ``load_history`` ..
    ``forecast_month_end`` on the ``analysed`` days: spikes, budgets); returns the days archived."""
    days = sorted(days)
    if not days:
        return 0
    tables = catalog.register_table(plan(config, days[0]))
    for day in days:
        p = plan(config, day)
        organization = ingest.discover_ous(p)
        parts = [ingest.extract_costs(p, organization, ou) for ou in organization["ous"]]
        consolidated = ingest.consolidate(p, parts, organization)
        archived = ingest.archive_to_s3(p, consolidated, organization)
        catalog.crawl_catalog(p, tables, archived)
        if day in analysed:
            history = analysis.load_history(p, organization, {"restated": []})
            analysis.detect_anomalies(p, consolidated, history, organization)
            analysis.forecast_month_end(p, consolidated, history, organization)
    return len(days)
