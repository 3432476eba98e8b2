"""The finops_config keys operating the DAG needs: failure_recipients and catalog_strategy."""

from __future__ import annotations

import pytest

from finops_digest.config import ConfigError, parse_config

BASE = {"archive_bucket": "my-finops-archive", "ses_sender": "finops@example.com"}


def test_defaults_register_partitions_directly_and_mail_nobody_on_failure():
    config = parse_config(BASE)
    assert config.catalog_strategy == "partition_api"
    assert config.failure_recipients == ()


def test_valid_values_are_kept():
    config = parse_config(
        {**BASE, "catalog_strategy": "crawler", "failure_recipients": "oncall@example.com"}
    )
    assert config.catalog_strategy == "crawler"
    assert config.failure_recipients == ("oncall@example.com",)


def test_bad_values_are_named_with_what_was_expected():
    with pytest.raises(ConfigError) as error:
        parse_config(
            {**BASE, "catalog_strategy": "projection", "failure_recipients": ["not-an-address"]}
        )
    message = str(error.value)
    assert "catalog_strategy: expected one of crawler, partition_api, got 'projection'" in message
    assert "failure_recipients: expected a list of email addresses" in message


def test_failure_recipients_need_a_sender():
    with pytest.raises(ConfigError, match="ses_sender: required"):
        parse_config({"archive_bucket": "my-finops-archive", "failure_recipients": ["a@b.co"]})
