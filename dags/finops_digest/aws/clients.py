"""boto3 clients through the Amazon provider's ``aws_default`` connection, with bounded retries."""

from __future__ import annotations

from typing import Any

AWS_CONN_ID = "aws_default"
# botocore's "standard" mode retries throttling (incl. Cost Explorer's LimitExceededException),
# 5xx, timeouts and connection errors with exponential backoff and jitter, a bounded number of
# times. The connection's extra ``config_kwargs`` (e.g. ``{"read_timeout": 30}``) override these.
DEFAULT_CONFIG = {
    "retries": {"mode": "standard", "max_attempts": 8},
    "connect_timeout": 10,
    "read_timeout": 120,
}


# A page waits for its answer: fewer retries and shorter waits, so a failing call is reported to
# the reader within seconds instead of after minutes of backoff.
INTERACTIVE_CONFIG = {
    "retries": {"mode": "standard", "max_attempts": 3},
    "connect_timeout": 5,
    "read_timeout": 30,
}


def client_config(defaults: dict[str, Any] = DEFAULT_CONFIG) -> Any:
    """``defaults`` under the ``aws_default`` connection's own ``config_kwargs``."""
    from airflow.providers.amazon.aws.hooks.base_aws import AwsBaseHook
    from botocore.config import Config

    return Config(**defaults).merge(AwsBaseHook(aws_conn_id=AWS_CONN_ID).config)


def aws_client(service: str, defaults: dict[str, Any] = DEFAULT_CONFIG) -> Any:
    """A boto3 client for ``service`` via ``aws_default`` (or boto3's chain when it is not defined,
    so ``AWS_ENDPOINT_URL`` points every client at another endpoint); ``defaults``: its retries
    and timeouts unless the connection sets them."""
    from airflow.providers.amazon.aws.hooks.base_aws import AwsBaseHook

    hook = AwsBaseHook(aws_conn_id=AWS_CONN_ID, client_type=service, config=client_config(defaults))
    client = hook.get_conn()
    client.meta.events.register("after-call-error", _name_the_call)
    return client


def _name_the_call(exception: BaseException, event_name: str, **_: Any) -> None:
    """Name the AWS call on errors that do not (timeouts, lost connections), so a task that
    finally fails says which call failed; API errors already name their operation."""
    from botocore.exceptions import BotoCoreError

    if isinstance(exception, BotoCoreError):
        _, service, operation = event_name.split(".")[:3]
        exception.add_note(f"AWS call {service} {operation} failed after botocore's retries")


def athena_hook() -> Any:
    """The provider's Athena hook on ``aws_default`` (runs, polls and reads queries)."""
    from airflow.providers.amazon.aws.hooks.athena import AthenaHook

    return AthenaHook(aws_conn_id=AWS_CONN_ID, config=client_config())


def glue_crawler_hook() -> Any:
    """The provider's Glue crawler hook on ``aws_default`` (starts and waits for crawls)."""
    from airflow.providers.amazon.aws.hooks.glue_crawler import GlueCrawlerHook

    return GlueCrawlerHook(aws_conn_id=AWS_CONN_ID, config=client_config())
