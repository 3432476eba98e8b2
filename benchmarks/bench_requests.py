"""Cost Explorer requests per run, measured on the sandbox, next to the design's minimum.

    python benchmarks/bench_requests.py --size 50,2000,150 --day 2025-09-14 --days 30 [--measure-backfill]

Prints one JSON object. Each figure is ``GetCostAndUsage`` calls counted by the sandbox while the
library's own task functions run (``tasks.ingest.discover_ous`` + ``extract_costs`` per OU, as the
DAG's tasks call them; for the range option, ``finops_prefetch_costs``'s tasks and then the
backfill's runs with ``use_prefetched``; ``history.load_history``
with an empty archive, as ``detect_anomalies`` does on a first run).

The minimum the design allows: per run, one request per OU over the day and the days Cost
Explorer may have restated (``restatement_days``), plus its extra pages, and one org-wide
request by account over the same days (costs of accounts no longer in the tree); before
restatements it was a request per OU and day, plus one per extra page, that is
``max(1, ceil(groups / page_size))`` with groups = (service, account) pairs of the OU that day;
for one request over a range, ``ceil(sum of the days' groups / page_size)`` (the sandbox, like
AWS, pages across days; an empty day still takes one slot). Groups come from the synthetic
organisation, independently of our code: every service an account uses bills every day.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULT_MARK = "BENCH-RESULT"  # prefixes the JSON line bench.py reads (Airflow logs to stdout)
for path in (ROOT, ROOT / "dags"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

import boto3  # noqa: E402

from finops_digest.config import parse_config  # noqa: E402
from finops_digest.ingest.cost_history import HISTORY_WINDOW_DAYS, load_history  # noqa: E402
from finops_digest.ingest.ou_identity import ArchivedLabels  # noqa: E402
from finops_digest.store import layout  # noqa: E402
from finops_digest.tasks import ingest, prefetch  # noqa: E402
from sandbox import SANDBOX_DEFAULTS, Sandbox  # noqa: E402
from sandbox.organization import HISTORY_START, Organization  # noqa: E402
from scripts.local_env import aws_env, pipeline_config, variable_env  # noqa: E402

HISTORY_WINDOW = HISTORY_WINDOW_DAYS


def groups_per_ou(org: Organization, root_name: str = "Root") -> dict[str, int]:
    """(service, account) pairs a day per OU name (OU path; accounts under the root: Root)."""
    groups: dict[str, int] = {}
    for account in org.accounts:
        ou = org.ou_path_of(account.id) or root_name
        groups[ou] = groups.get(ou, 0) + len(org.services_of(account.id))
    return groups


def minimum_range(groups: dict[str, int], days: list[date], page: int) -> int:
    """One paged request per OU over all the days."""
    return sum(
        max(1, math.ceil(sum(g if d >= HISTORY_START else 1 for d in days) / page))
        for g in groups.values()
    )


def span(start: date, count: int) -> list[date]:
    return [start + timedelta(days=n) for n in range(count)]


def minimum_daily_run(
    groups: dict[str, int], accounts: int, day: date, restated: int, page: int
) -> int:
    """One run: per OU one paged request over the day and the ``restated`` days before it, plus
    one org-wide request by account over the same days (accounts no longer in the tree)."""
    window = span(day - timedelta(days=restated), restated + 1)
    return minimum_range(groups, window, page) + minimum_range({"org": accounts}, window, page)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", default="50,2000,150", help="OUS,ACCOUNTS,SERVICES")
    parser.add_argument("--day", type=date.fromisoformat, default=date(2025, 9, 14))
    parser.add_argument("--days", type=int, default=30, help="backfill length")
    parser.add_argument("--page-size", type=int, default=25)
    parser.add_argument(
        "--measure-backfill",
        action="store_true",
        help="also request the backfill (both strategies) and the first-run history",
    )
    args = parser.parse_args(argv)
    ous, accounts, services = (int(x) for x in args.size.split(","))
    org = Organization.synthetic(ous=ous, accounts=accounts, services=services)
    groups = {ou: g for ou, g in groups_per_ou(org).items() if g}
    accounts = sum(1 for a in org.accounts if org.services_of(a.id))
    restated = parse_config(pipeline_config(SANDBOX_DEFAULTS)).restatement_days
    backfill = span(args.day - timedelta(days=args.days - 1), args.days)
    result: dict = {
        "size": args.size,
        "ous_with_accounts": len(groups),
        "page_size": args.page_size,
        "groups_per_day": sum(groups.values()),
        "minimum": {
            "day": minimum_daily_run(groups, accounts, args.day, restated, args.page_size),
            "backfill_per_day": sum(
                minimum_daily_run(groups, accounts, d, restated, args.page_size) for d in backfill
            ),
            # The prefetch: per OU one request over the range, and the org-wide question (accounts
            # no longer in the tree) once over it; the backfill's runs then ask nothing.
            "backfill_range": minimum_range(groups, backfill, args.page_size)
            + minimum_range(
                {"org": accounts},
                span(backfill[0] - timedelta(days=restated), restated + len(backfill)),
                args.page_size,
            ),
            "history_first_run": minimum_range(
                groups,
                span(args.day - timedelta(days=HISTORY_WINDOW), HISTORY_WINDOW),
                args.page_size,
            ),
            # finops_prefetch_costs with with_history (its default): the history window too,
            # so the backfill's detect_anomalies asks Cost Explorer nothing either.
            "backfill_prefetch_with_history": minimum_range(
                groups,
                span(backfill[0] - timedelta(days=HISTORY_WINDOW), HISTORY_WINDOW + len(backfill)),
                args.page_size,
            )
            + minimum_range(
                {"org": accounts},
                span(
                    backfill[0] - timedelta(days=HISTORY_WINDOW + restated),
                    HISTORY_WINDOW + restated + len(backfill),
                ),
                args.page_size,
            ),
            "history_after_prefetch": minimum_range(
                groups,
                span(
                    args.day - timedelta(days=HISTORY_WINDOW),
                    max(0, HISTORY_WINDOW - args.days + 1),
                ),
                args.page_size,
            ),
            # A fresh archive backfilled oldest first: day k finds k of its window archived.
            "history_fresh_backfill": sum(
                minimum_range(
                    groups,
                    span(d - timedelta(days=HISTORY_WINDOW), max(0, HISTORY_WINDOW - k)),
                    args.page_size,
                )
                for k, d in enumerate(backfill)
                if HISTORY_WINDOW - k > 0
            ),
        },
        "measured": {},
        "history_window_days": HISTORY_WINDOW,
    }
    with Sandbox.start(organization=org, page_size=args.page_size) as sandbox:
        os.environ.update(aws_env(sandbox.endpoint_url))
        os.environ.update(variable_env(pipeline_config(SANDBOX_DEFAULTS)))
        # No Airflow metadata DB here: the provider's hooks find aws_default in the environment.
        os.environ["AIRFLOW_CONN_AWS_DEFAULT"] = json.dumps({"conn_type": "aws"})
        config = parse_config(pipeline_config(SANDBOX_DEFAULTS))

        def client(name: str):
            return boto3.client(name, endpoint_url=sandbox.endpoint_url)

        def measured(work) -> dict:
            before, started = sandbox.calls("GetCostAndUsage"), time.perf_counter()
            work()
            return {
                "requests": sandbox.calls("GetCostAndUsage") - before,
                "seconds": round(time.perf_counter() - started, 2),
            }

        def plan(day: date, use_prefetched: bool = False) -> dict:
            """What plan_run hands every task of the day's run."""
            return {
                "billing_date": day.isoformat(),
                "use_prefetched_costs": use_prefetched,
                "config": config.to_dict(),
            }

        def per_day(days: list[date], use_prefetched: bool = False) -> dict[date, list[str]]:
            """What each day's run extracts; the URIs of its parts, per day."""
            parts = {}
            for day in days:
                run = plan(day, use_prefetched)
                organization = ingest.discover_ous(run)
                parts[day] = [
                    ingest.extract_costs(run, organization, ou)["uri"] for ou in organization["ous"]
                ]
            return parts

        result["measured"]["day"] = measured(lambda: per_day([args.day]))
        if args.measure_backfill:
            staged: dict = {}
            result["measured"]["backfill_per_day"] = measured(
                lambda: staged.update(per_day(backfill))
            )
            s3 = client("s3")
            mapping = json.loads(
                s3.get_object(
                    Bucket=config.archive_bucket,
                    Key=layout.staging_key(args.day, layout.MAPPING_NAME),
                )["Body"].read()
            )

            def history() -> None:
                load_history(
                    s3,
                    client("ce"),
                    None,  # Cost Explorer's requests and the prefetch are measured, not Athena
                    bucket=config.archive_bucket,
                    days=span(args.day - timedelta(days=HISTORY_WINDOW), HISTORY_WINDOW),
                    labels=ArchivedLabels(s3, config.archive_bucket, mapping),
                    metric=config.cost_metric,
                    excluded_record_types=config.excluded_record_types,
                    currency=config.currency,
                )

            result["measured"]["history_first_run"] = measured(history)
            from_prefetch: dict = {}

            def by_range() -> None:
                # finops_prefetch_costs (history off: counted below), then the backfill's runs.
                ranged = prefetch.plan_prefetch(
                    {
                        "from_date": str(backfill[0]),
                        "to_date": str(backfill[-1]),
                        "with_history": False,
                    }
                )
                organization = ingest.discover_ous(ranged, last=ranged["last_day"])
                fetched = [
                    prefetch.prefetch_costs(ranged, organization, ou) for ou in organization["ous"]
                ]
                prefetch.record_prefetch(ranged, organization, fetched)
                from_prefetch.update(per_day(backfill, use_prefetched=True))

            result["measured"]["backfill_range"] = measured(by_range)
            result["range_parts_identical"] = _contents(s3, staged) == _contents(s3, from_prefetch)
            # The same history once the backfill's days are prefetched: only the rest is asked.
            result["measured"]["history_after_prefetch"] = measured(history)
    print(RESULT_MARK, json.dumps(result), flush=True)
    return 0


def _contents(s3, parts: dict[date, list[str]]) -> dict[date, list[bytes]]:
    """The bytes of each day's parts, in OU order."""
    return {
        day: [
            s3.get_object(Bucket=b, Key=k)["Body"].read() for b, k in map(layout.parse_s3_uri, uris)
        ]
        for day, uris in parts.items()
    }


if __name__ == "__main__":
    sys.exit(main())
