"""Budgets: traffic lights at their boundaries, configuration vs AWS Budgets, the alert memory."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from finops_digest.budgets.against_budget import against_budgets, breaches, resolve_budgets
from finops_digest.budgets.lights import AMBER, GREEN, RED, traffic_light
from finops_digest.config import ConfigError, parse_config

D = Decimal


@pytest.mark.parametrize(
    ("budget", "forecast", "upper", "light"),
    [
        (D("100"), D("80"), D("99.99"), GREEN),
        (D("100"), D("80"), D("100"), GREEN),  # the upper bound landing on the budget is within
        (D("100"), D("80"), D("100.01"), AMBER),
        (D("100"), D("100"), D("120"), AMBER),  # the forecast landing on the budget is within
        (D("100"), D("100.01"), D("120"), RED),
        (D("100"), D("100.01"), D("90"), RED),  # a bound below the mean cannot make it green
        (D("100"), D("100"), None, GREEN),  # run-rate: no interval, the forecast decides
        (D("100"), D("100.01"), None, RED),
        (None, D("1e9"), D("2e9"), None),  # no budget: no light
    ],
)
def test_traffic_light_boundaries(budget, forecast, upper, light):
    assert traffic_light(budget, forecast, upper) == light


def forecast_row(ou, forecast, upper, method="cost-explorer"):
    return {
        "ou": ou,
        "month_to_date": D("10"),
        "rest_of_month": forecast - D("10"),
        "forecast": forecast,
        "lower": forecast - D("5"),
        "upper": upper,
        "method": method,
        "note": "",
    }


def test_every_ou_stays_with_or_without_a_budget_and_unknown_budgets_show():
    budgets = resolve_budgets({"A": D("100"), "Typo": D("50")}, {})
    rows = against_budgets(
        [forecast_row("A", D("101"), D("110")), forecast_row("B", D("500"), D("600"))], budgets
    )
    by_ou = {r["ou"]: r for r in rows}
    assert set(by_ou) == {"A", "B", "Typo"}
    assert by_ou["A"]["light"] == RED and by_ou["A"]["budget_used"] == pytest.approx(1.01)
    assert by_ou["B"]["light"] is None and by_ou["B"]["budget"] is None
    assert by_ou["Typo"]["note"] == "not in the organisation" and by_ou["Typo"]["light"] == GREEN
    assert breaches(rows) == ["A"]


def test_configuration_wins_over_aws_budgets():
    budgets = resolve_budgets({"A": D("100")}, {"A": D("999"), "B": D("200")})
    assert budgets == {
        "A": {"amount": D("100"), "source": "config"},
        "B": {"amount": D("200"), "source": "aws-budgets"},
    }


def test_budgets_config_is_validated_with_every_problem_named():
    config = parse_config(
        {"archive_bucket": "my-bucket", "budgets": {"Data": 25000, "Engineering/Platform": "1.5e4"}}
    )
    assert config.budgets == {"Data": D("25000"), "Engineering/Platform": D("15000")}
    assert config.budgets_from_aws is False
    with pytest.raises(ConfigError) as error:
        parse_config(
            {
                "archive_bucket": "my-bucket",
                "budgets": {"Data": 0, "Sales": "lots", "/": 5, "Ok": 1},
                "budgets_from_aws": "yes",
                "executive_recipients": ["not-an-email"],
            }
        )
    message = str(error.value)
    assert "budgets: 'Data': expected a positive monthly amount, got 0" in message
    assert "budgets: 'Sales': expected a positive monthly amount, got 'lots'" in message
    assert "budgets: '/' is not an OU path" in message
    assert "budgets_from_aws: expected true or false, got 'yes'" in message
    assert "executive_recipients: expected a list of email addresses" in message
    with pytest.raises(ConfigError, match="budgets: expected an object of OU path"):
        parse_config({"archive_bucket": "my-bucket", "budgets": [1, 2]})


def test_new_breaches_are_those_not_alerted_this_month():
    from finops_digest.budgets.alert_memory import new_breaches
    from finops_digest.store.layout import budget_alerts_key

    state = {"month": "2025-09", "alerted": {"A": {"billing_date": "2025-09-03"}}}
    assert new_breaches(["A", "B"], state, date(2025, 9, 14)) == ["B"]
    assert budget_alerts_key(date(2025, 9, 14)) == "state/budget-alerts/2025-09.json"
    with pytest.raises(ValueError, match="alert state of 2025-09 used for 2025-10-01"):
        new_breaches(["A"], state, date(2025, 10, 1))
