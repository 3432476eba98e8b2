"""FOCUS (FinOps Open Cost and Usage Specification) 1.2 names for what the archive holds: which
FOCUS cost column the configured Cost Explorer metric is, for ``views/focus_daily_costs.sql``."""

from __future__ import annotations

from finops_digest.config import COST_METRICS, ConfigError

FOCUS_VERSION = "1.2"
# FOCUS's EffectiveCost spreads commitment purchases (Savings Plans, RIs) over the usage they
# cover, which is what Cost Explorer's amortized metrics do; BilledCost is the cost as invoiced,
# which the unblended and blended metrics are (blended averages rates across the organisation,
# but is still what the consolidated bill charges, not an amortization).
_EFFECTIVE = ("NetAmortizedCost", "AmortizedCost")
_BILLED = ("NetUnblendedCost", "UnblendedCost", "BlendedCost")


def focus_cost_column(cost_metric: str) -> str:
    """``EffectiveCost`` for an amortized metric, ``BilledCost`` for an unblended or blended one."""
    if cost_metric in _EFFECTIVE:
        return "EffectiveCost"
    if cost_metric in _BILLED:
        return "BilledCost"
    raise ConfigError(
        f"cost_metric {cost_metric!r} has no FOCUS cost column; expected one of "
        + ", ".join(COST_METRICS)
    )
