"""Cost Explorer GetCostAndUsage / GetCostForecast answered from the synthetic organisation.

moto's get_cost_and_usage ignores Filter/GroupBy and get_cost_forecast does not exist; both are
replaced on moto's CostExplorerResponse class so the HTTP surface stays moto's.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from moto.core.exceptions import JsonRESTError

from sandbox.config import SETTINGS
from sandbox.organization import COST_METRICS, HISTORY_START, CostLine, Organization
from sandbox.patching import patch

DIMENSIONS = {
    "LINKED_ACCOUNT": lambda line: line.account_id,
    "SERVICE": lambda line: line.service,
    "RECORD_TYPE": lambda line: line.record_type,
    "USAGE_TYPE": lambda line: line.usage_type,
}
ALL_METRICS = (*COST_METRICS, "UsageQuantity")
# GetCostForecast spells its metrics differently from GetCostAndUsage.
FORECAST_METRICS = {
    "UNBLENDED_COST": "UnblendedCost",
    "BLENDED_COST": "BlendedCost",
    "AMORTIZED_COST": "AmortizedCost",
    "NET_UNBLENDED_COST": "NetUnblendedCost",
    "NET_AMORTIZED_COST": "NetAmortizedCost",
}
MIN_FORECAST_HISTORY_DAYS = 30


class ValidationException(JsonRESTError):
    """AWS's ValidationException (HTTP 400)."""

    def __init__(self, message: str) -> None:
        super().__init__("ValidationException", message)


class CeError(JsonRESTError):
    """Any other Cost Explorer error code (HTTP 400)."""


def _organization() -> Organization:
    org = SETTINGS.organization
    if org is None:
        raise CeError("DataUnavailableException", "The sandbox has no organisation loaded.")
    return org


def _parse_day(value: Any, what: str) -> date:
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        raise ValidationException(f"{what} date is not in a valid format: {value}") from None


def _time_period(params: dict[str, Any]) -> tuple[date, date]:
    period = params.get("TimePeriod") or {}
    if "Start" not in period or "End" not in period:
        raise ValidationException("TimePeriod with Start and End is required")
    start, end = _parse_day(period["Start"], "Start"), _parse_day(period["End"], "End")
    if start >= end:
        raise ValidationException("Start date (and hour) should be before end date (and hour)")
    return start, end


def format_amount(value: Decimal) -> str:
    """Decimal as Cost Explorer prints it: plain notation, "0" for zero."""
    if value == 0:
        return "0"
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


# ------------------------------------------------------------------------------------- filters
def compile_filter(expr: dict[str, Any] | None) -> Callable[[CostLine], bool]:
    """Turn a Cost Explorer Expression into a predicate over CostLine (ValidationException)."""
    if not expr:
        return lambda line: True
    keys = [k for k, v in expr.items() if v]
    if len(keys) != 1:
        raise ValidationException("Expression must have exactly one of And, Or, Not, Dimensions")
    key = keys[0]
    if key in ("And", "Or"):
        parts = [compile_filter(e) for e in expr[key]]
        if len(parts) < 2:
            raise ValidationException(f"{key} expression must have at least 2 operands")
        if key == "And":
            return lambda line: all(p(line) for p in parts)
        return lambda line: any(p(line) for p in parts)
    if key == "Not":
        inner = compile_filter(expr["Not"])
        return lambda line: not inner(line)
    if key == "Dimensions":
        return _dimension_predicate(expr["Dimensions"])
    raise ValidationException(f"The sandbox supports only Dimensions filters, not {key}")


def _dimension_predicate(dim: dict[str, Any]) -> Callable[[CostLine], bool]:
    name = dim.get("Key")
    if name not in DIMENSIONS:
        raise ValidationException(f"Dimension {name} is not supported by the sandbox")
    getter = DIMENSIONS[name]
    values = list(dim.get("Values") or [])
    options = set(dim.get("MatchOptions") or ["EQUALS"])
    fold = "CASE_INSENSITIVE" in options
    norm = (lambda s: s.lower()) if fold else (lambda s: s)
    wanted = [norm(v) for v in values]
    if "ABSENT" in options:
        return lambda line: not getter(line)
    if "STARTS_WITH" in options:
        return lambda line: any(norm(getter(line)).startswith(v) for v in wanted)
    if "ENDS_WITH" in options:
        return lambda line: any(norm(getter(line)).endswith(v) for v in wanted)
    if "CONTAINS" in options:
        return lambda line: any(v in norm(getter(line)) for v in wanted)
    wanted_set = set(wanted)
    return lambda line: norm(getter(line)) in wanted_set


def candidate_accounts(expr: dict[str, Any] | None) -> frozenset[str] | None:
    """Accounts a filter can possibly match (None = any); lets big orgs skip generating lines."""
    if not expr:
        return None
    if "Dimensions" in expr:
        dim = expr["Dimensions"]
        options = set(dim.get("MatchOptions") or ["EQUALS"])
        if dim.get("Key") == "LINKED_ACCOUNT" and options <= {"EQUALS", "CASE_SENSITIVE"}:
            return frozenset(dim.get("Values") or [])
        return None
    if expr.get("And"):
        found = [c for c in (candidate_accounts(e) for e in expr["And"]) if c is not None]
        return frozenset.intersection(*found) if found else None
    if expr.get("Or"):
        subsets = [candidate_accounts(e) for e in expr["Or"]]
        return None if any(s is None for s in subsets) else frozenset().union(*subsets)
    return None


def _lines(org: Organization, day: date, flt: dict[str, Any] | None) -> Iterable[CostLine]:
    predicate = compile_filter(flt)
    return (ln for ln in org.cost_lines(day, candidate_accounts(flt)) if predicate(ln))


def _periods(start: date, end: date, granularity: str) -> list[tuple[date, date]]:
    if granularity == "DAILY":
        return [(start + timedelta(d), start + timedelta(d + 1)) for d in range((end - start).days)]
    if granularity == "MONTHLY":
        out, cur = [], start
        while cur < end:
            nxt = date(cur.year + cur.month // 12, cur.month % 12 + 1, 1)
            out.append((cur, min(nxt, end)))
            cur = nxt
        return out
    raise ValidationException(f"Granularity {granularity} is not supported by the sandbox")


def _metric_value(line: CostLine, metric: str) -> Decimal:
    return line.usage_quantity if metric == "UsageQuantity" else line.amounts[metric]


def _metrics_json(sums: dict[str, Decimal]) -> dict[str, dict[str, str]]:
    return {
        m: {"Amount": format_amount(v), "Unit": "N/A" if m == "UsageQuantity" else "USD"}
        for m, v in sums.items()
    }


# Aggregated answers of recent requests: every page of a paginated answer reuses the first
# page's aggregation instead of re-summing the whole period (matters for the large org).
_AGGREGATES: OrderedDict[tuple[int, str], tuple[list[Any], set[str]]] = OrderedDict()
_CACHE_LOCK = threading.Lock()


# The TimePeriod of every GetCostAndUsage request answered (each page) and whether it asked for
# usage types, so a run's requests for one day's cost rows can be told from those for its history
# or a spike's usage types (Sandbox.cost_explorer_requests).
_PERIODS: list[tuple[date, date, bool]] = []


def reset_requests() -> None:
    """Forget the recorded request periods (a new sandbox starts counting from zero)."""
    with _CACHE_LOCK:
        _PERIODS.clear()


def requests_covering(day: date | None = None) -> int:
    """GetCostAndUsage requests answered so far for ``day``'s cost rows: those whose TimePeriod
    holds it, but for requests grouped by USAGE_TYPE (a spike's root cause); every request with
    ``day`` None."""
    with _CACHE_LOCK:
        if day is None:
            return len(_PERIODS)
        return sum(1 for start, end, usage in _PERIODS if start <= day < end and not usage)


def clear_cache() -> None:
    """Forget cached aggregations (a new sandbox may bring a new organisation)."""
    with _CACHE_LOCK:
        _AGGREGATES.clear()


def _aggregate(
    org: Organization,
    periods: list[tuple[date, date]],
    group_by: list[dict[str, Any]],
    metrics: list[str],
    flt: dict[str, Any] | None,
) -> tuple[list[Any], set[str]]:
    """(period index, group keys, metric sums) items in answer order, and accounts seen."""
    # An empty period still takes one slot so it appears in the answer (AWS returns every
    # period).
    items: list[tuple[int, tuple[str, ...] | None, dict[str, Decimal]]] = []
    seen_accounts: set[str] = set()
    for index, (p_start, p_end) in enumerate(periods):
        sums: dict[tuple[str, ...], dict[str, Decimal]] = {}
        day = p_start
        while day < p_end:
            for line in _lines(org, day, flt):
                key = tuple(DIMENSIONS[g["Key"]](line) for g in group_by)
                bucket = sums.setdefault(key, dict.fromkeys(metrics, Decimal(0)))
                for m in metrics:
                    bucket[m] += _metric_value(line, m)
            day += timedelta(1)
        if not group_by:
            items.append((index, None, sums.get((), dict.fromkeys(metrics, Decimal(0)))))
            continue
        if not sums:
            items.append((index, None, {}))
        for key in sorted(sums):
            items.append((index, key, sums[key]))
            if group_by[0]["Key"] == "LINKED_ACCOUNT":
                seen_accounts.add(key[0])
            elif len(group_by) > 1 and group_by[1]["Key"] == "LINKED_ACCOUNT":
                seen_accounts.add(key[1])
    return items, seen_accounts


# ------------------------------------------------------------------------------ GetCostAndUsage
def daily_horizon(today: date) -> date:
    """Cost Explorer keeps daily costs for the current month and the 13 months before it."""
    months = today.year * 12 + today.month - 1 - 13
    return date(months // 12, months % 12 + 1, 1)


def get_cost_and_usage(params: dict[str, Any]) -> dict[str, Any]:
    """The GetCostAndUsage response for a request body (dict), with pagination."""
    org = _organization()
    start, end = _time_period(params)
    usage_types = any(g.get("Key") == "USAGE_TYPE" for g in params.get("GroupBy") or [])
    with _CACHE_LOCK:
        _PERIODS.append((start, end, usage_types))
    granularity = params.get("Granularity") or "DAILY"
    horizon = daily_horizon(SETTINGS.today)
    if granularity == "DAILY" and start < horizon:
        raise ValidationException(
            f"Start date {start} is before {horizon}: daily data is available for the last 14 "
            f"months only (today is {SETTINGS.today})"
        )
    metrics = list(params.get("Metrics") or [])
    if not metrics:
        raise ValidationException("Metrics is required")
    unknown = [m for m in metrics if m not in ALL_METRICS]
    if unknown:
        raise ValidationException(f"Invalid metrics: {unknown}; valid: {list(ALL_METRICS)}")
    group_by = list(params.get("GroupBy") or [])
    if len(group_by) > 2:
        raise ValidationException("GroupBy must have at most 2 elements")
    for g in group_by:
        if g.get("Type") != "DIMENSION" or g.get("Key") not in DIMENSIONS:
            raise ValidationException(
                f"Unsupported GroupBy {g} (sandbox: DIMENSION {list(DIMENSIONS)})"
            )
    flt = params.get("Filter")
    compile_filter(flt)  # validate even when no day has data

    fingerprint = hashlib.sha256(
        json.dumps(
            {k: v for k, v in params.items() if k != "NextPageToken"}, sort_keys=True
        ).encode()
    ).hexdigest()[:16]
    periods = _periods(start, end, granularity)
    cache_key = (id(org), fingerprint)
    with _CACHE_LOCK:
        cached = _AGGREGATES.get(cache_key)
    if cached is None:
        cached = _aggregate(org, periods, group_by, metrics, flt)
        with _CACHE_LOCK:
            _AGGREGATES[cache_key] = cached
            while len(_AGGREGATES) > 16:
                _AGGREGATES.popitem(last=False)
    items, seen_accounts = cached
    offset = _decode_token(params.get("NextPageToken"), fingerprint)
    page_size = SETTINGS.page_size if group_by else len(items) or 1
    page = items[offset : offset + page_size]

    results: list[dict[str, Any]] = []
    for index, key, sums_ in page:
        if not results or results[-1]["_index"] != index:
            p_start, p_end = periods[index]
            results.append(
                {
                    "_index": index,
                    "TimePeriod": {"Start": p_start.isoformat(), "End": p_end.isoformat()},
                    "Total": {} if group_by else _metrics_json(sums_),
                    "Groups": [],
                    "Estimated": _estimated(org, p_end),
                }
            )
        if key is not None:
            results[-1]["Groups"].append({"Keys": list(key), "Metrics": _metrics_json(sums_)})
    for r in results:
        del r["_index"]

    response: dict[str, Any] = {
        "GroupDefinitions": [{"Type": g["Type"], "Key": g["Key"]} for g in group_by],
        "ResultsByTime": results,
        "DimensionValueAttributes": [
            {"Value": a, "Attributes": {"description": org.account(a).name}}
            for a in sorted(seen_accounts)
            if a in {acc.id for acc in org.accounts}
        ],
    }
    if offset + page_size < len(items):
        response["NextPageToken"] = _encode_token(offset + page_size, fingerprint)
    return response


def _estimated(org: Organization, period_end: date) -> bool:
    """Recent days are estimates; "recent" is relative to an optional as-of day, not the clock."""
    as_of = org.as_of
    return bool(as_of and period_end > as_of - timedelta(days=2))


def _encode_token(offset: int, fingerprint: str) -> str:
    raw = json.dumps({"o": offset, "f": fingerprint}).encode()
    return base64.urlsafe_b64encode(raw).decode()


def _decode_token(token: str | None, fingerprint: str) -> int:
    if not token:
        return 0
    try:
        data = json.loads(base64.urlsafe_b64decode(token.encode()))
        if data["f"] != fingerprint:
            raise ValueError("token belongs to another request")
        return int(data["o"])
    except (ValueError, KeyError, TypeError):
        raise CeError("InvalidNextTokenException", "The NextPageToken is invalid.") from None


# ------------------------------------------------------------------------------ GetCostForecast
def get_cost_forecast(params: dict[str, Any]) -> dict[str, Any]:
    """GetCostForecast: mean of the 14 days before Start, +-10 % at PredictionIntervalLevel 80."""
    org = _organization()
    start, end = _time_period(params)
    metric_name = params.get("Metric")
    metric = FORECAST_METRICS.get(metric_name or "") or (
        metric_name if metric_name in COST_METRICS else None
    )
    if metric is None:
        raise ValidationException(f"Unsupported forecast metric: {metric_name}")
    granularity = params.get("Granularity") or "DAILY"
    level = int(params.get("PredictionIntervalLevel") or 80)
    if not 51 <= level <= 99:
        raise ValidationException("PredictionIntervalLevel must be between 51 and 99")
    if (start - HISTORY_START).days < MIN_FORECAST_HISTORY_DAYS:
        raise CeError(
            "DataUnavailableException",
            "Insufficient amount of historical data to generate forecast.",
        )
    flt = params.get("Filter")
    history = [
        sum((ln.amounts[metric] for ln in _lines(org, start - timedelta(d), flt)), Decimal(0))
        for d in range(1, 15)
    ]
    if not any(history):
        raise CeError(
            "DataUnavailableException",
            "Insufficient amount of historical data to generate forecast.",
        )
    mean_per_day = sum(history, Decimal(0)) / len(history)
    width = Decimal("0.10") * Decimal(level) / Decimal(80)

    def q(v: Decimal) -> str:
        return format_amount(v.quantize(Decimal("0.0000000001")))

    rows, total = [], Decimal(0)
    for p_start, p_end in _periods(start, end, granularity):
        mean = mean_per_day * (p_end - p_start).days
        total += mean
        rows.append(
            {
                "TimePeriod": {"Start": p_start.isoformat(), "End": p_end.isoformat()},
                "MeanValue": q(mean),
                "PredictionIntervalLowerBound": q(mean * (1 - width)),
                "PredictionIntervalUpperBound": q(mean * (1 + width)),
            }
        )
    return {"Total": {"Amount": q(total), "Unit": "USD"}, "ForecastResultsByTime": rows}


# ------------------------------------------------------------------------------------- install
def install() -> None:
    """Replace moto's CE handlers (idempotent)."""
    from moto.ce.responses import CostExplorerResponse

    def get_cost_and_usage_handler(self: CostExplorerResponse) -> str:
        return json.dumps(get_cost_and_usage(json.loads(self.body or "{}")))

    def get_cost_forecast_handler(self: CostExplorerResponse) -> str:
        return json.dumps(get_cost_forecast(json.loads(self.body or "{}")))

    patch(CostExplorerResponse, "get_cost_and_usage", get_cost_and_usage_handler)
    patch(CostExplorerResponse, "get_cost_forecast", get_cost_forecast_handler)
