"""Monthly budgets per OU (configuration, optionally AWS Budgets) and the forecast against them."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from finops_digest.budgets.lights import RED, traffic_light
from finops_digest.schema import BUDGET_COLUMNS, parquet_bytes

log = logging.getLogger(__name__)

# An AWS Budgets budget named finops-ou-<OU path> (e.g. finops-ou-Engineering/Platform) is that
# OU's monthly budget; budgets named otherwise are somebody else's and are left alone.
AWS_BUDGET_PREFIX = "finops-ou-"
CONFIG, AWS_BUDGETS = "config", "aws-budgets"


def read_aws_budgets(budgets_client: Any, account_id: str, currency: str) -> dict[str, Decimal]:
    """``{OU path: amount}`` from the account's monthly COST budgets named by the convention.

    A budget of the right name but another type, period or currency is skipped with a warning,
    since it cannot be compared with a monthly cost forecast.
    """
    found: dict[str, Decimal] = {}
    paginator = budgets_client.get_paginator("describe_budgets")
    for page in paginator.paginate(AccountId=account_id):
        for budget in page.get("Budgets", []):
            name = budget.get("BudgetName", "")
            if not name.startswith(AWS_BUDGET_PREFIX) or len(name) == len(AWS_BUDGET_PREFIX):
                continue
            ou = name[len(AWS_BUDGET_PREFIX) :]
            limit = budget.get("BudgetLimit") or {}
            kind = (budget.get("BudgetType"), budget.get("TimeUnit"), limit.get("Unit"))
            if kind != ("COST", "MONTHLY", currency):
                log.warning(
                    "AWS budget %r is %s/%s in %s; expected COST/MONTHLY in %s: ignored",
                    name,
                    *kind,
                    currency,
                )
                continue
            try:
                amount = Decimal(str(limit.get("Amount")))
            except InvalidOperation:
                log.warning("AWS budget %r has no usable BudgetLimit %r: ignored", name, limit)
                continue
            found[ou] = amount
    return found


# The note on a budget row whose OU (id or path) is not in the organisation.
NOT_IN_ORGANIZATION = "not in the organisation"


def resolve_budgets(
    configured: Mapping[str, Decimal], from_aws: Mapping[str, Decimal]
) -> dict[str, dict[str, Any]]:
    """``{OU: {"amount", "source"}}``; the configuration wins where both name the same OU."""
    budgets = {ou: {"amount": amount, "source": AWS_BUDGETS} for ou, amount in from_aws.items()}
    for ou, amount in configured.items():
        if ou in budgets and budgets[ou]["amount"] != amount:
            log.info(
                "OU %s: configured budget %s overrides AWS Budgets' %s",
                ou,
                amount,
                budgets[ou]["amount"],
            )
        budgets[ou] = {"amount": amount, "source": CONFIG}
    return budgets


def against_budgets(
    forecasts: Iterable[dict[str, Any]], budgets: Mapping[str, dict[str, Any]]
) -> list[dict[str, Any]]:
    """Each OU's forecast with its budget, share of budget and traffic light (None: no budget).

    Every OU stays, with or without a budget; a budget naming no OU of the organisation is kept as
    a row with no cost, so a typo in an OU path shows instead of vanishing.
    """
    rows = []
    seen = set()
    for entry in forecasts:
        seen.add(entry["ou"])
        rows.append(_with_budget(entry, budgets.get(entry["ou"])))
    for ou in sorted(set(budgets) - seen):
        log.warning("A budget names OU %r, which is not in the organisation", ou)
        zero = Decimal(0)
        entry = {
            "ou": ou,
            "month_to_date": zero,
            "rest_of_month": zero,
            "forecast": zero,
            "lower": zero,
            "upper": zero,
            "method": "actuals",
            "note": NOT_IN_ORGANIZATION,
        }
        rows.append(_with_budget(entry, budgets[ou]))
    return rows


def _with_budget(entry: dict[str, Any], budget: dict[str, Any] | None) -> dict[str, Any]:
    amount = budget["amount"] if budget else None
    return {
        **entry,
        "budget": amount,
        "budget_source": budget["source"] if budget else None,
        "budget_used": float(entry["forecast"] / amount) if amount else None,
        "light": traffic_light(amount, entry["forecast"], entry["upper"]),
    }


def breaches(rows: Iterable[dict[str, Any]]) -> list[str]:
    """OUs whose forecast exceeds their budget (a red light)."""
    return [row["ou"] for row in rows if row["light"] == RED]


def budget_table_parquet(
    day: date, rows: Iterable[dict[str, Any]], metadata: dict[str, str]
) -> bytes:
    """The day's rows of the Athena budget table as Parquet, with the table's columns and types
    (``schema.BUDGET_COLUMNS``): each OU's month to date, forecast with its interval and method,
    budget and light."""

    def amount(value: Decimal | None) -> float | None:
        return None if value is None else float(value)

    records = [
        {
            "billingdate": day,
            "ou": r["ou"],
            "month_to_date": amount(r["month_to_date"]),
            "forecast": amount(r["forecast"]),
            "forecast_lower": amount(r["lower"]),
            "forecast_upper": amount(r["upper"]),
            "forecast_method": r["method"],
            "budget": amount(r["budget"]),
            "budget_source": r["budget_source"],
            "light": r["light"],
        }
        for r in rows
    ]
    return parquet_bytes(BUDGET_COLUMNS, records, metadata)
