"""Cost Explorer requests and responses: one OU's daily cost per service and account."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from finops_digest.ingest.cost_rows import CostDataError, CostRow, parse_amount

log = logging.getLogger(__name__)

REQUEST_PRICE_USD = Decimal("0.01")  # each GetCostAndUsage request (each page) is billed
# Cost Explorer keeps daily costs for the current month and the 13 before it.
DAILY_HORIZON_MONTHS = 14
# The date Cost Explorer's horizon counts from: unset on AWS (today in UTC); the local sandbox,
# whose costs live in 2025, sets its own today here.
TODAY_ENV = "FINOPS_COST_EXPLORER_TODAY"
GROUP_BY = (
    {"Type": "DIMENSION", "Key": "SERVICE"},
    {"Type": "DIMENSION", "Key": "LINKED_ACCOUNT"},
)


def explorer_today() -> date:
    """Cost Explorer's today: ``TODAY_ENV`` when set (the sandbox's), else the UTC date."""
    override = os.environ.get(TODAY_ENV)
    return date.fromisoformat(override) if override else datetime.now(UTC).date()


def daily_horizon(today: date | None = None) -> date:
    """The first day Cost Explorer still has daily costs for: the first of the month 13 months
    before ``today``'s (default: Cost Explorer's today, ``TODAY_ENV`` or the UTC date)."""
    if today is None:
        today = explorer_today()
    months = today.year * 12 + today.month - 1 - (DAILY_HORIZON_MONTHS - 1)
    return date(months // 12, months % 12 + 1, 1)


def build_request(
    account_ids: Sequence[str] | None,
    start: date,
    end: date,
    metric: str,
    excluded_record_types: Sequence[str],
    *,
    group_by: Sequence[dict[str, str]] = GROUP_BY,
    service: str | None = None,
) -> dict[str, Any]:
    """The one builder of ``GetCostAndUsage`` requests: DAILY over [start, end), by service and
    account (or ``group_by``), for one OU's accounts (None: the whole organisation), and one
    ``service`` when given."""
    conditions: list[dict[str, Any]] = []
    if account_ids is not None:
        if not account_ids:
            raise ValueError("build_request needs at least one linked account, or None for all")
        conditions.append({"Dimensions": {"Key": "LINKED_ACCOUNT", "Values": sorted(account_ids)}})
    if service is not None:
        conditions.append({"Dimensions": {"Key": "SERVICE", "Values": [service]}})
    if excluded_record_types:
        excluded = {"Dimensions": {"Key": "RECORD_TYPE", "Values": sorted(excluded_record_types)}}
        conditions.append({"Not": excluded})
    request = {
        # End is exclusive in Cost Explorer: [D, D+1) is exactly day D.
        "TimePeriod": {"Start": start.isoformat(), "End": end.isoformat()},
        "Granularity": "DAILY",
        "Metrics": [metric],
    }
    if conditions:
        request["Filter"] = conditions[0] if len(conditions) == 1 else {"And": conditions}
    if group_by:
        request["GroupBy"] = list(group_by)
    return request


def day_total(
    ce_client: Any,
    *,
    account_ids: Sequence[str],
    day: date,
    metric: str,
    excluded_record_types: Sequence[str],
) -> Decimal:
    """Cost Explorer's own total for the accounts on ``day`` (one ungrouped request)."""
    request = build_request(
        account_ids, day, day + timedelta(days=1), metric, excluded_record_types, group_by=()
    )
    response = ce_client.get_cost_and_usage(**request)
    results = _field(response, "ResultsByTime", "response")
    return sum(
        (
            parse_amount(
                _field(
                    _field(_field(r, "Total", "ResultsByTime[]"), metric, "Total"), "Amount", metric
                ),
                f"Cost Explorer total on {day}",
            )
            for r in results
        ),
        Decimal(0),
    )


def accounts_with_costs(
    ce_client: Any, *, start: date, end: date, metric: str, excluded_record_types: Sequence[str]
) -> dict[str, str]:
    """Every linked account with a non-zero cost in [start, end), whatever the tree says, with
    the name Cost Explorer gives it (``DimensionValueAttributes``' description; "" if none)."""
    request = build_request(
        None, start, end, metric, excluded_record_types, group_by=(GROUP_BY[1],)
    )
    found: set[str] = set()
    names: dict[str, str] = {}
    for response in pages(ce_client, request):
        for attribute in response.get("DimensionValueAttributes", []):
            names[attribute["Value"]] = attribute.get("Attributes", {}).get("description", "")
        for result in response.get("ResultsByTime", []):
            for group in result.get("Groups", []):
                if float(group["Metrics"][metric]["Amount"]) != 0:
                    found.add(group["Keys"][0])
    return {account: names.get(account, "") for account in sorted(found)}


def pages(ce_client: Any, request: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every page of a ``GetCostAndUsage`` answer (there is no boto3 paginator for it)."""
    request = dict(request)
    while True:
        response = ce_client.get_cost_and_usage(**request)
        yield response
        token = response.get("NextPageToken")
        if not token:
            return
        request["NextPageToken"] = token


def fetch_cost_rows(
    ce_client: Any,
    *,
    ou: str,
    account_ids: Sequence[str],
    start: date,
    end: date,
    metric: str,
    excluded_record_types: Sequence[str],
    currency: str = "USD",
    estimated: set[date] | None = None,
) -> tuple[list[CostRow], int]:
    """All cost rows of one OU for [start, end), following ``NextPageToken`` to the last page;
    the days Cost Explorer still marks ``Estimated`` (still being revised) are added to
    ``estimated`` when given.

    Returns the rows (zero amounts included, as Cost Explorer sent them) and the number of
    requests made (each costs $0.01). Throttling is retried by the client's botocore retry config.
    """
    request = build_request(account_ids, start, end, metric, excluded_record_types)
    rows: list[CostRow] = []
    requests = 0
    for response in pages(ce_client, request):
        requests += 1
        rows.extend(parse_response(response, ou=ou, metric=metric, currency=currency))
        if estimated is not None:
            estimated.update(
                date.fromisoformat(r["TimePeriod"]["Start"])
                for r in response.get("ResultsByTime", [])
                if r.get("Estimated")
            )
    log.info(
        "Cost Explorer: OU %s, %s..%s: %d rows in %d request(s)",
        ou,
        start,
        end,
        len(rows),
        requests,
    )
    return rows, requests


def parse_response(
    response: dict[str, Any], *, ou: str, metric: str, currency: str = "USD"
) -> list[CostRow]:
    """Rows of one ``GetCostAndUsage`` page; a missing field raises an error that names it."""
    rows = []
    for result in _field(response, "ResultsByTime", "response"):
        period = _field(result, "TimePeriod", "ResultsByTime[]")
        day = date.fromisoformat(_field(period, "Start", "ResultsByTime[].TimePeriod"))
        for group in result.get("Groups", []):
            keys = _field(group, "Keys", "Groups[]")
            if len(keys) != 2:
                raise CostDataError(
                    f"Cost Explorer group keys {keys!r}: expected [SERVICE, LINKED_ACCOUNT]"
                )
            service, account = keys
            value = _field(_field(group, "Metrics", "Groups[]"), metric, "Groups[].Metrics")
            unit = _field(value, "Unit", f"Groups[].Metrics.{metric}")
            if unit != currency:
                raise CostDataError(
                    f"Cost Explorer returned {unit} for {service} in {account} on {day}; "
                    f"expected {currency} (set 'currency' in finops_config if that is intended)"
                )
            amount = parse_amount(
                _field(value, "Amount", f"Groups[].Metrics.{metric}"),
                f"Cost Explorer {service} / {account} on {day}",
            )
            rows.append(CostRow(day, ou, service, account, amount))
    return rows


def _field(container: dict[str, Any], name: str, where: str) -> Any:
    try:
        return container[name]
    except (KeyError, TypeError):
        raise CostDataError(
            f"Cost Explorer answer lacks field '{name}' in {where}; got keys {sorted(container or {})}"
        ) from None
