import json
from decimal import Decimal

import pytest

from finops_digest.config import ConfigError, parse_config


def test_minimal_config_gets_the_documented_defaults():
    config = parse_config(json.dumps({"archive_bucket": "my-finops-archive"}))
    assert config.glue_database == "finops_db"
    assert config.glue_table == "ou_breakdown"
    assert config.glue_crawler == "finops-ou-breakdown-crawler"
    assert config.athena_workgroup == "primary"
    assert config.cost_metric == "NetAmortizedCost"
    assert config.excluded_record_types == ("Credit", "Refund", "Tax")
    assert config.results_location == "s3://my-finops-archive/athena-results/"


def test_missing_variable_says_what_to_set():
    with pytest.raises(ConfigError, match="finops_config' is not set: expected JSON"):
        parse_config(None)


def test_every_problem_is_listed_at_once():
    with pytest.raises(ConfigError) as error:
        parse_config(
            {
                "glue_databse": "x",
                "cost_metric": "Cheapest",
                "digest_recipients": ["not-an-email"],
                "anomaly_min_impact": -5,
                "excluded_record_types": ["Taxes"],
            }
        )
    message = str(error.value)
    assert "archive_bucket: required" in message
    assert "glue_databse: unknown key (did you mean 'glue_database'?)" in message
    assert "cost_metric: expected one of NetAmortizedCost" in message
    assert (
        "digest_recipients: expected a list of email addresses, invalid: ['not-an-email']"
        in message
    )
    assert "anomaly_min_impact: expected a non-negative dollar amount" in message
    assert "excluded_record_types" in message
    assert "ses_sender: required when recipients are configured" in message
    assert "(7 problem(s))" in message


def test_not_json_is_reported_as_such():
    with pytest.raises(ConfigError, match="not valid JSON"):
        parse_config("{archive_bucket: x}")


def test_values_are_typed():
    config = parse_config(
        {
            "archive_bucket": "b-1",
            "ses_sender": "finops@example.com",
            "alert_recipients": ["a@example.com"],
            "anomaly_min_impact": "250.50",
            "excluded_record_types": [],
        }
    )
    assert config.anomaly_min_impact == Decimal("250.50")
    assert config.alert_recipients == ("a@example.com",)
    assert config.excluded_record_types == ()


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("archive_bucket", "finops-archive\n"),
        ("ses_sender", "finops@example.com\n"),
        ("glue_database", "finops_db\n"),
        ("currency", "USD\n"),
        ("athena_output_location", "s3://bucket/results/\n"),
        ("anomaly_feedback_key", "feedback/x.json\n"),
    ],
)
def test_strings_are_matched_whole_so_a_trailing_newline_is_refused(key, value):
    raw = {"archive_bucket": "finops-archive", key: value}
    with pytest.raises(ConfigError, match=rf"{key}: expected"):
        parse_config(raw)


@pytest.mark.parametrize("name", ["finops-db", "FinOps", "1db", "finops.db", "db name"])
def test_glue_names_are_what_athena_takes_unquoted(name):
    for key in ("glue_database", "glue_table", "glue_budget_table"):
        with pytest.raises(ConfigError, match=rf"{key}: expected a name Athena takes unquoted"):
            parse_config({"archive_bucket": "finops-archive", key: name})
    assert parse_config({"archive_bucket": "finops-archive", "glue_database": "finops_db2"})
