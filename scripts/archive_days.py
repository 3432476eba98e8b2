"""Archive a range of days as the DAG does, fast: its own task functions called in this process
(the ingest and catalog stages; the analysis stage on chosen days), without Airflow's scheduling.

For what needs an archive behind the day it runs: the demo of a weekly-digest or month-close day,
and the tests of those reports. The run for a day itself is always the real DAG.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Collection, Iterable
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "dags"))

from finops_digest.config import VARIABLE_NAME, FinopsConfig, parse_config  # noqa: E402
from finops_digest.tasks import analysis, catalog, ingest  # noqa: E402


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


def main() -> int:
    """``python scripts/archive_days.py --from D --to D [--analysed D ...]``, with the settings of
    ``AIRFLOW_VAR_FINOPS_CONFIG`` and AWS wherever the environment points (the demo's sandbox)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--from", dest="first", type=date.fromisoformat, required=True)
    parser.add_argument("--to", dest="last", type=date.fromisoformat, required=True)
    parser.add_argument("--analysed", type=date.fromisoformat, nargs="*", default=[])
    args = parser.parse_args()
    config = parse_config(os.environ.get(f"AIRFLOW_VAR_{VARIABLE_NAME.upper()}"))
    days = [date.fromordinal(n) for n in range(args.first.toordinal(), args.last.toordinal() + 1)]
    archived = archive_days(config, days, set(args.analysed))
    print(f"archived {archived} day(s), {args.first}..{args.last}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
