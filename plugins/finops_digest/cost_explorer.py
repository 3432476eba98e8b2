"""Cost Explorer requests and responses: one OU's daily cost per service and account."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date
from typing import Any

from finops_digest.cost_rows import CostDataError, CostRow, parse_amount

log = logging.getLogger(__name__)

GROUP_BY = (
    {"Type": "DIMENSION", "Key": "SERVICE"},
    {"Type": "DIMENSION", "Key": "LINKED_ACCOUNT"},
)


def build_request(
    account_ids: Sequence[str],
    start: date,
    end: date,
    metric: str,
    excluded_record_types: Sequence[str],
) -> dict[str, Any]:
    """A ``GetCostAndUsage`` request: DAILY over [start, end), by service and account, one OU's accounts."""
    if not account_ids:
        raise ValueError("build_request needs at least one linked account")
    accounts = {"Dimensions": {"Key": "LINKED_ACCOUNT", "Values": sorted(account_ids)}}
    if excluded_record_types:
        excluded = {"Dimensions": {"Key": "RECORD_TYPE", "Values": sorted(excluded_record_types)}}
        cost_filter: dict[str, Any] = {"And": [accounts, {"Not": excluded}]}
    else:
        cost_filter = accounts
    return {
        # End is exclusive in Cost Explorer: [D, D+1) is exactly day D.
        "TimePeriod": {"Start": start.isoformat(), "End": end.isoformat()},
        "Granularity": "DAILY",
        "Metrics": [metric],
        "GroupBy": list(GROUP_BY),
        "Filter": cost_filter,
    }


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
) -> tuple[list[CostRow], int]:
    """All cost rows of one OU for [start, end), following ``NextPageToken`` to the last page.

    Returns the rows (zero amounts included, as Cost Explorer sent them) and the number of
    requests made (each costs $0.01). Throttling is retried by the client's botocore retry config.
    """
    request = build_request(account_ids, start, end, metric, excluded_record_types)
    rows: list[CostRow] = []
    pages = 0
    while True:
        response = ce_client.get_cost_and_usage(**request)
        pages += 1
        rows.extend(parse_response(response, ou=ou, metric=metric, currency=currency))
        token = response.get("NextPageToken")
        if not token:
            break
        request["NextPageToken"] = token
    log.info(
        "Cost Explorer: OU %s, %s..%s: %d rows in %d request(s)", ou, start, end, len(rows), pages
    )
    return rows, pages


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
