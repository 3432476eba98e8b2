"""boto3 clients through the Amazon provider's ``aws_default`` connection, with bounded retries."""

from __future__ import annotations

from typing import Any

AWS_CONN_ID = "aws_default"
# botocore's "standard" mode retries throttling (incl. Cost Explorer's LimitExceededException),
# 5xx and connection errors with exponential backoff and jitter, a bounded number of times.
RETRIES = {"mode": "standard", "max_attempts": 8}


def aws_client(service: str) -> Any:
    """A boto3 client for ``service`` via ``aws_default`` (or boto3's chain when it is not defined,
    so ``AWS_ENDPOINT_URL`` points every client at another endpoint)."""
    from airflow.providers.amazon.aws.hooks.base_aws import AwsBaseHook
    from botocore.config import Config

    config = Config(retries=RETRIES, connect_timeout=10, read_timeout=120)
    return AwsBaseHook(aws_conn_id=AWS_CONN_ID, client_type=service, config=config).get_conn()


def athena_hook() -> Any:
    """The provider's Athena hook on ``aws_default`` (runs, polls and reads queries)."""
    from airflow.providers.amazon.aws.hooks.athena import AthenaHook

    return AthenaHook(aws_conn_id=AWS_CONN_ID)
