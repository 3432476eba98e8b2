"""One post to one destination, through its Airflow connection (Slack webhook, Slack API, Teams
webhook) or ``aws_default`` (SNS): a message id when it went through, else a
:class:`~finops_digest.report.chat.retries.PostFailed` saying whether a retry may help.

Reasons name status codes, the service's error code and exception types only: the secret part of
a webhook URL (Slack's token, Teams' ``sig``) never reaches a log line, a task's result or an
error, even when a service echoes it back.
"""

from __future__ import annotations

import uuid
from typing import Any

from finops_digest.report.chat.destinations import Destination
from finops_digest.report.chat.inert_text import clip, one_line
from finops_digest.report.chat.retries import (
    PermanentFailure,
    PostFailed,
    RetryPolicy,
    TransientFailure,
    refusal,
)

REASON_CHARS = 200


def post_slack_webhook(
    destination: Destination, payload: dict[str, Any], policy: RetryPolicy
) -> str:
    """POST ``payload`` to the Slack incoming webhook of the ``slackwebhook`` connection (its URL
    built by the Slack provider from the connection's host and password); Slack answers
    ``200 ok``."""
    from airflow.providers.slack.hooks.slack_webhook import SlackWebhookHook

    def client() -> Any:
        # slack_sdk's own retries are off: ours apply to every destination alike. Its one
        # timeout bounds the connection and each read.
        hook = SlackWebhookHook(
            slack_webhook_conn_id=destination.connection_id,
            timeout=policy.read_timeout,
            retry_handlers=[],
        )
        return hook.client

    webhook = _connected(destination, client)
    secrets = [webhook.url]
    try:
        answer = webhook.send_dict(payload)
    except OSError as exc:  # urllib: URLError, timeouts, refused connections
        raise _lost(exc, policy) from None
    if answer.status_code == 200:
        return f"slack-webhook-{uuid.uuid4()}"
    raise refusal(
        answer.status_code, _scrubbed(answer.body, secrets), _header(answer.headers, "Retry-After")
    )


def post_slack_api(destination: Destination, payload: dict[str, Any], policy: RetryPolicy) -> str:
    """``chat.postMessage`` to ``destination.channel`` with the bot token of the ``slack``
    connection (its extra ``base_url`` points the SDK elsewhere); the message's ``ts`` is its
    id."""
    from airflow.providers.slack.hooks.slack import SlackHook
    from slack_sdk.errors import SlackApiError

    def client() -> Any:
        hook = SlackHook(
            slack_conn_id=destination.connection_id,
            timeout=int(policy.read_timeout),
            retry_handlers=[],
        )
        return hook.client

    web = _connected(destination, client)
    try:
        answer = web.chat_postMessage(
            channel=destination.channel, text=payload["text"], blocks=payload["blocks"]
        )
    except SlackApiError as exc:
        response = exc.response
        error = str(response.get("error") or "") if hasattr(response, "get") else ""
        status = int(getattr(response, "status_code", 0) or 0)
        if error == "ratelimited" and status != 429:
            status = 429
        retry_after = _header(getattr(response, "headers", {}) or {}, "Retry-After")
        # Slack answers most refusals with 200 and ok=false: a refusal all the same.
        raise refusal(status if status >= 400 else 400, error, retry_after) from None
    except OSError as exc:
        raise _lost(exc, policy) from None
    return str(answer.get("ts") or f"slack-api-{uuid.uuid4()}")


def post_teams(destination: Destination, payload: dict[str, Any], policy: RetryPolicy) -> str:
    """POST ``payload`` to the Teams incoming webhook or Workflows URL of the connection: the
    whole URL in its password (kept secret by Airflow), or in its host; Teams answers 200 (incoming
    webhook) or 202 Accepted (Workflows)."""
    import requests

    url = _connected(destination, lambda: teams_url(destination.connection_id))
    try:
        answer = requests.post(
            url, json=payload, timeout=(policy.connect_timeout, policy.read_timeout)
        )
    except requests.Timeout as exc:
        raise TransientFailure(f"no answer within the timeout ({type(exc).__name__})") from None
    except requests.RequestException as exc:
        raise TransientFailure(f"connection failed ({type(exc).__name__})") from None
    if 200 <= answer.status_code < 300:
        return f"teams-{uuid.uuid4()}"
    raise refusal(
        answer.status_code, _scrubbed(answer.text, [url]), answer.headers.get("Retry-After")
    )


def teams_url(connection_id: str) -> str:
    """The webhook URL of an Airflow connection: its password when that is a URL (the place for
    a secret: masked in logs and the UI), else its host."""
    from airflow.providers.common.compat.sdk import BaseHook

    connection = BaseHook.get_connection(connection_id)
    for value in (connection.password, connection.host):
        if value and "://" in value:
            return value.strip()
    raise PermanentFailure(
        f"the Airflow connection {connection_id!r} holds no webhook URL: expected the Teams "
        "incoming webhook or Workflows URL (https://...) as its password"
    )


def publish_sns(destination: Destination, subject: str, message: str) -> str:
    """Publish to the topic through ``aws_default`` (botocore retries throttling, 5xx and timeouts
    with backoff); the SNS MessageId."""
    from botocore.exceptions import BotoCoreError, ClientError

    from finops_digest.aws.clients import aws_client

    try:
        answer = aws_client("sns").publish(
            TopicArn=destination.topic_arn, Subject=subject, Message=message
        )
    except ClientError as exc:
        error = exc.response.get("Error", {})
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 400)
        reason = f"{error.get('Code', 'error')}: {clip(one_line(error.get('Message', '')), REASON_CHARS)}"
        failure = TransientFailure if status >= 500 or status == 429 else PermanentFailure
        raise failure(f"SNS Publish refused ({reason})") from None
    except BotoCoreError as exc:
        raise TransientFailure(f"SNS Publish failed ({type(exc).__name__})") from None
    return str(answer["MessageId"])


def _connected(destination: Destination, connect: Any) -> Any:
    """``connect()``, a failure to read the connection named as permanent (a missing or
    incomplete connection is fixed in Airflow, not by retrying)."""
    try:
        return connect()
    except PostFailed:
        raise
    except Exception as exc:  # noqa: BLE001 - the providers raise several kinds
        raise PermanentFailure(
            f"the Airflow connection {destination.connection_id!r} cannot be used "
            f"({type(exc).__name__}); expected a defined connection of the {destination.service} "
            "kind holding the webhook URL or token"
        ) from None


def _lost(exc: OSError, policy: RetryPolicy) -> TransientFailure:
    reason = getattr(exc, "reason", exc)
    if isinstance(exc, TimeoutError) or isinstance(reason, TimeoutError):
        return TransientFailure(f"no answer within {policy.read_timeout:g} s")
    return TransientFailure(f"connection failed ({type(reason).__name__})")


def _header(headers: Any, name: str) -> str | None:
    for key, value in dict(headers or {}).items():
        if key.lower() == name.lower():
            return value[0] if isinstance(value, list) else str(value)
    return None


def _scrubbed(body: Any, secrets: list[str]) -> str:
    """A service's answer, short, one line, with any secret it echoed replaced by ``***``."""
    text = one_line(body if isinstance(body, str) else str(body or ""))
    for secret in secrets:
        for part in {secret, *secret.split("/")[3:], *secret.split("?")[1:]}:
            if len(part) >= 8:
                text = text.replace(part, "***")
    return clip(text, REASON_CHARS)
