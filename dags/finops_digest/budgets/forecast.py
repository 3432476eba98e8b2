"""Month-end forecasts per OU: month-to-date actuals plus Cost Explorer's forecast of the rest.

Cost Explorer forecasts only the days after the billing day (``GetCostForecast`` takes no GroupBy,
so one request per OU, filtered to its accounts with the same metric and record-type exclusions as
the actuals). When it cannot forecast (too little history, or a period it refuses) the OU falls back
to a run-rate forecast, labelled as such, so the digest never silently mixes the two.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from finops_digest.aws.cost_explorer import build_request
from finops_digest.ingest.cost_rows import CostDataError, CostRow, parse_amount

log = logging.getLogger(__name__)

PREDICTION_INTERVAL_LEVEL = 80
RUN_RATE_DAYS = 7
COST_EXPLORER, RUN_RATE, ACTUALS = "cost-explorer", "run-rate", "actuals"
# GetCostForecast spells the metrics differently from GetCostAndUsage.
FORECAST_METRICS = {
    "NetAmortizedCost": "NET_AMORTIZED_COST",
    "AmortizedCost": "AMORTIZED_COST",
    "NetUnblendedCost": "NET_UNBLENDED_COST",
    "UnblendedCost": "UNBLENDED_COST",
    "BlendedCost": "BLENDED_COST",
}
# Errors after which a run-rate forecast is the honest answer. ValidationException covers Cost
# Explorer refusing a start date in the past, which is what a backfill of an old day asks for.
FALLBACK_ERRORS = ("DataUnavailableException", "ValidationException")


def month_end(day: date) -> date:
    """The last day of ``day``'s month."""
    first_of_next = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
    return first_of_next - timedelta(days=1)


def remaining_period(day: date) -> tuple[date, date] | None:
    """``[D+1, first of next month)``: what is left of the month after billing day D (End is
    exclusive); ``None`` on the month's last day, when the month-end forecast is the actuals."""
    last = month_end(day)
    if day >= last:
        return None
    return day + timedelta(days=1), last + timedelta(days=1)


def forecast_request(
    account_ids: Sequence[str],
    start: date,
    end: date,
    metric: str,
    excluded_record_types: Sequence[str],
) -> dict[str, Any]:
    """A ``GetCostForecast`` request for one OU over [start, end), with the actuals' own filter."""
    if metric not in FORECAST_METRICS:
        raise ValueError(f"no Cost Explorer forecast metric for {metric!r}")
    actuals = build_request(account_ids, start, end, metric, excluded_record_types)
    return {
        "TimePeriod": actuals["TimePeriod"],
        "Metric": FORECAST_METRICS[metric],
        "Granularity": "MONTHLY",
        "PredictionIntervalLevel": PREDICTION_INTERVAL_LEVEL,
        "Filter": actuals["Filter"],
    }


def parse_forecast(response: dict[str, Any], currency: str, where: str) -> tuple[Decimal, ...]:
    """(mean, lower, upper) summed over the answer's periods; bounds default to the mean."""
    total = response.get("Total") or {}
    unit = total.get("Unit", currency)
    if unit != currency:
        raise CostDataError(f"{where}: forecast in {unit}, expected {currency}")
    mean = lower = upper = Decimal(0)
    results = response.get("ForecastResultsByTime")
    if not results:
        raise CostDataError(f"{where}: GetCostForecast answered no ForecastResultsByTime")
    for period in results:
        value = parse_amount(period.get("MeanValue", ""), f"{where} MeanValue")
        mean += value
        lower += parse_amount(
            period.get("PredictionIntervalLowerBound", str(value)), f"{where} lower bound"
        )
        upper += parse_amount(
            period.get("PredictionIntervalUpperBound", str(value)), f"{where} upper bound"
        )
    return mean, min(lower, mean), max(upper, mean)


def run_rate(day: date, daily: dict[date, Decimal], remaining_days: int) -> Decimal:
    """The average of the ``RUN_RATE_DAYS`` days ending D (missing days count as no cost) times
    the days left; recent days rather than month to date, so it works on the 1st too."""
    window = [day - timedelta(days=n) for n in range(RUN_RATE_DAYS)]
    return (
        sum((daily.get(d, Decimal(0)) for d in window), Decimal(0)) / RUN_RATE_DAYS * remaining_days
    )


def month_end_forecasts(
    day: date,
    ous: Iterable[dict[str, Any]],
    rows: Iterable[CostRow],
    ce_client: Any,
    *,
    metric: str,
    excluded_record_types: Sequence[str],
    currency: str,
) -> list[dict[str, Any]]:
    """One forecast per OU of the mapping (empty OUs included): month to date, the rest of the
    month (mean and 80% interval), the month-end forecast and how it was made.

    ``rows`` are the day's rows plus the history before it (at least the month so far and the
    run-rate window). Amounts are Decimals.
    """
    daily: dict[str, dict[date, Decimal]] = {}
    for row in rows:
        if row.billing_date <= day:
            per_day = daily.setdefault(row.ou, {})
            per_day[row.billing_date] = per_day.get(row.billing_date, Decimal(0)) + row.daily_cost
    period = remaining_period(day)
    settings = (metric, excluded_record_types, currency)
    forecasts = []
    known = set()
    for ou in ous:
        name = ou["name"]
        known.add(name)
        forecasts.append(
            _ou_forecast(
                day, name, ou["accounts"], daily.get(name, {}), period, ce_client, settings
            )
        )
    for name in sorted(set(daily) - known):
        # Costs of an OU that has since left the mapping still count towards the month.
        forecasts.append(_ou_forecast(day, name, [], daily[name], period, ce_client, settings))
    return forecasts


def _ou_forecast(
    day: date,
    ou: str,
    accounts: Sequence[str],
    daily: dict[date, Decimal],
    period: tuple[date, date] | None,
    ce_client: Any,
    settings: tuple[str, Sequence[str], str],
) -> dict[str, Any]:
    metric, excluded_record_types, currency = settings
    first = day.replace(day=1)
    mtd = sum((cost for d, cost in daily.items() if first <= d <= day), Decimal(0))
    if period is None:
        return _entry(ou, mtd, Decimal(0), None, None, ACTUALS, "the month is over")
    if not accounts:
        return _entry(ou, mtd, Decimal(0), None, None, ACTUALS, "no accounts in the OU today")
    start, end = period
    request = forecast_request(accounts, start, end, metric, excluded_record_types)
    try:
        mean, lower, upper = parse_forecast(
            ce_client.get_cost_forecast(**request), currency, f"GetCostForecast for OU {ou}"
        )
        return _entry(ou, mtd, mean, lower, upper, COST_EXPLORER, "")
    except ce_client.exceptions.ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if code not in FALLBACK_ERRORS:
            raise
        message = exc.response.get("Error", {}).get("Message", "")
        log.warning("OU %s: Cost Explorer cannot forecast (%s: %s); run-rate", ou, code, message)
        rest = run_rate(day, daily, (end - start).days)
        return _entry(ou, mtd, rest, None, None, RUN_RATE, f"Cost Explorer: {code}")


def _entry(
    ou: str,
    mtd: Decimal,
    rest: Decimal,
    rest_lower: Decimal | None,
    rest_upper: Decimal | None,
    method: str,
    note: str,
) -> dict[str, Any]:
    """Month-end = actuals so far + the rest of the month; the interval only when one was given
    (actuals alone are certain, so their interval is the forecast itself)."""
    forecast = mtd + rest
    certain = method == ACTUALS
    return {
        "ou": ou,
        "month_to_date": mtd,
        "rest_of_month": rest,
        "forecast": forecast,
        "lower": forecast if certain else (None if rest_lower is None else mtd + rest_lower),
        "upper": forecast if certain else (None if rest_upper is None else mtd + rest_upper),
        "method": method,
        "note": note,
    }


AMOUNT_FIELDS = ("month_to_date", "rest_of_month", "forecast", "lower", "upper", "budget")


def rows_to_json(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Forecast rows as JSON-ready dicts (amounts as exact decimal strings)."""
    return [
        {k: (str(v) if k in AMOUNT_FIELDS and v is not None else v) for k, v in row.items()}
        for row in rows
    ]


def rows_from_json(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The inverse of :func:`rows_to_json`."""
    return [
        {k: (Decimal(v) if k in AMOUNT_FIELDS and v is not None else v) for k, v in row.items()}
        for row in rows
    ]
