"""Which usage types explain a spike: one Cost Explorer question per alerted (OU, Service)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from finops_digest.aws.cost_explorer import build_request, daily_horizon, pages
from finops_digest.detection.detector import root_cause
from finops_digest.detection.findings import money
from finops_digest.ingest.cost_rows import parse_amount

# Two weeks give each usage type a baseline; one request (plus pages) per alerted spike.
BASELINE_DAYS = 14
USAGE_TYPE = ({"Type": "DIMENSION", "Key": "USAGE_TYPE"},)


def usage_type_drivers(
    ce_client: Any,
    *,
    day: date,
    account_ids: Sequence[str],
    service: str,
    metric: str,
    excluded_record_types: Sequence[str],
) -> list[dict[str, Any]]:
    """``[{"usage_type", "impact", "share"}]`` for one service in the given accounts on ``day``,
    against the days before it that Cost Explorer still keeps (up to ``BASELINE_DAYS``)."""
    start = max(day - timedelta(days=BASELINE_DAYS), daily_horizon())
    days = (day - start).days + 1
    request = build_request(
        account_ids,
        start,
        day + timedelta(days=1),
        metric,
        excluded_record_types,
        group_by=USAGE_TYPE,
        service=service,
    )
    index = {start + timedelta(days=n): n for n in range(days)}
    costs: dict[str, list[Decimal]] = defaultdict(lambda: [Decimal(0)] * days)
    for response in pages(ce_client, request):
        for result in response.get("ResultsByTime", []):
            position = index.get(date.fromisoformat(result["TimePeriod"]["Start"]))
            for group in result.get("Groups", []) if position is not None else []:
                amount = group["Metrics"][metric]["Amount"]
                costs[group["Keys"][0]][position] += parse_amount(
                    amount, f"usage type {group['Keys'][0]}"
                )
    drivers = root_cause(
        {usage: series[-1] for usage, series in costs.items()},
        {usage: series[:-1] for usage, series in costs.items()},
    )
    return [
        {"usage_type": usage, "impact": money(impact), "share": round(share, 4)}
        for usage, impact, share in drivers
    ]
