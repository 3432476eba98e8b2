"""The FOCUS cost column follows the configured Cost Explorer metric."""

from __future__ import annotations

import pytest

from finops_digest.config import COST_METRICS, ConfigError
from finops_digest.store.focus import focus_cost_column


@pytest.mark.parametrize(
    ("metric", "column"),
    [
        ("NetAmortizedCost", "EffectiveCost"),
        ("AmortizedCost", "EffectiveCost"),
        ("NetUnblendedCost", "BilledCost"),
        ("UnblendedCost", "BilledCost"),
        ("BlendedCost", "BilledCost"),
    ],
)
def test_amortized_metrics_are_effective_cost_the_others_billed_cost(metric, column):
    assert focus_cost_column(metric) == column


def test_every_configurable_metric_has_a_focus_column():
    assert {focus_cost_column(m) for m in COST_METRICS} == {"EffectiveCost", "BilledCost"}


def test_an_unknown_metric_is_named_with_the_choices():
    with pytest.raises(ConfigError, match=r"'UsageQuantity' has no FOCUS cost column.*BlendedCost"):
        focus_cost_column("UsageQuantity")
