"""Post one chat message to every channel that takes its category, once per billing day, kind and
destination, however often the day is re-run; a failing destination never stops the others.

Deliveries are recorded like emails (``store/delivery_record.py``, the destination's id as the
recipient), so a re-run posts only to the destinations still missing. As with email, a crash
between a service accepting a post and its record may repeat that one post on a re-run, never
lose one.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from finops_digest.config import FinopsConfig
from finops_digest.errors import FinopsError
from finops_digest.report.chat import transports
from finops_digest.report.chat.content import ChatMessage
from finops_digest.report.chat.destinations import (
    SLACK_API,
    SNS,
    TEAMS,
    ChannelConfigError,
    Destination,
    destination,
)
from finops_digest.report.chat.retries import (
    DEFAULT_POLICY,
    PostFailed,
    RetryPolicy,
    with_retries,
)
from finops_digest.report.chat.slack import slack_payload
from finops_digest.report.chat.sns import sns_message
from finops_digest.report.chat.teams import teams_payload
from finops_digest.store import delivery_record

log = logging.getLogger(__name__)


class ChannelDeliveryError(FinopsError):
    """Some chat destinations refused the message for good (a 4xx: a revoked webhook, an unknown
    channel, a missing connection); every other destination got it. Retrying cannot help: fix
    the destination, then re-run the day (only the destinations still missing get it)."""


class ChannelsUnavailableError(RuntimeError):
    """Some chat destinations could not be reached (5xx, 429, timeouts after the post's own
    retries); every other destination got the message. Not a FinopsError: the task's retries
    run, and post only to the destinations still missing."""


def send_to_channels(
    config: FinopsConfig,
    channels: Sequence[Mapping[str, Any]],
    message: ChatMessage,
    *,
    kind: str,
    day: date,
    category: str | None = None,
    policy: RetryPolicy = DEFAULT_POLICY,
) -> dict[str, Any]:
    """Post ``message`` to each of ``channels`` whose ``kinds`` include its ``category`` (the
    message's own unless given) and that has not had this ``kind`` of message for ``day``; record
    each post. Returns ``{"sent", "already_sent", "skipped", "failed" {destination: reason},
    "transient" [destinations whose failure a retry may fix]}``; never raises for a destination
    (see :func:`post_to_channels`)."""
    category = category or message.category
    result: dict[str, Any] = {
        "kind": kind,
        "sent": [],
        "already_sent": [],
        "skipped": [],
        "failed": {},
        "transient": [],
    }
    wanted: dict[str, Destination] = {}
    for channel in channels:
        try:
            found = destination(channel)
        except ChannelConfigError as exc:
            result["failed"][f"{channel.get('type')}:{channel.get('name') or '?'}"] = str(exc)
            continue
        if category in found.categories:
            wanted.setdefault(found.id, found)
        else:
            result["skipped"].append(found.id)
    if not wanted:
        if not result["failed"]:
            log.info("No chat channel takes the %s of %s: nothing posted", kind, day)
        return result
    s3 = _s3()
    done = delivery_record.already_sent(s3, config.archive_bucket, day, kind)
    formatted: dict[str, Any] = {}

    def formatted_for(service: str) -> Any:
        # Each format once, whatever the number of destinations of that service.
        if service not in formatted:
            formatted[service] = _formatted(service, message)
        return formatted[service]

    for dest in wanted.values():
        if dest.id in done:
            result["already_sent"].append(dest.id)
            continue
        try:
            message_id = _post(dest, formatted_for(dest.service), policy)
        except PostFailed as exc:
            log.error(
                "The %s of %s did not reach %s (%s): %s", kind, day, dest.id, dest.name, exc.reason
            )
            result["failed"][dest.id] = exc.reason
            if exc.transient:
                result["transient"].append(dest.id)
            continue
        delivery_record.record_sent(s3, config.archive_bucket, day, kind, [dest.id], message_id)
        result["sent"].append(dest.id)
        log.info("Posted the %s of %s to %s (%s)", kind, day, dest.id, dest.name)
    if result["already_sent"]:
        log.info(
            "The %s of %s already went to %s: not posted again", kind, day, result["already_sent"]
        )
    return result


def post_to_channels(
    config: FinopsConfig,
    channels: Sequence[Mapping[str, Any]],
    message: ChatMessage,
    *,
    kind: str,
    day: date,
    category: str | None = None,
    policy: RetryPolicy = DEFAULT_POLICY,
) -> dict[str, Any]:
    """:func:`send_to_channels`, then, if a destination failed, the error naming each failure:
    :class:`ChannelsUnavailableError` (the task's retries may fix it) when one failure was
    transient, else :class:`ChannelDeliveryError`."""
    result = send_to_channels(
        config, channels, message, kind=kind, day=day, category=category, policy=policy
    )
    if result["failed"]:
        raise delivery_error(result, day=day)
    return result


def delivery_error(result: Mapping[str, Any], *, day: date) -> Exception:
    """The error to raise for ``result``'s failures (after every other delivery went out): each
    failed destination with its reason, and what was expected."""
    failed = result["failed"]
    text = (
        f"Chat delivery of the {result['kind']} of {day} failed for {len(failed)} "
        "destination(s): "
        + "; ".join(f"{dest} ({reason})" for dest, reason in sorted(failed.items()))
        + f". Posted to {len(result['sent'])} other(s)"
        + (f", {len(result['already_sent'])} had it already" if result["already_sent"] else "")
        + ". Expected each destination to accept the message (a 2xx answer from the webhook or "
        "the Slack API, a published SNS message); a re-run posts only to those still missing."
    )
    if result["transient"]:
        return ChannelsUnavailableError(text)
    return ChannelDeliveryError(text)


def _formatted(service: str, message: ChatMessage) -> Any:
    if service == TEAMS:
        return teams_payload(message)
    if service == SNS:
        return sns_message(message)
    return slack_payload(message)


def _post(dest: Destination, formatted: Any, policy: RetryPolicy) -> str:
    """One destination's post: SNS once (botocore retries it), a webhook or the Slack API with
    our retries."""
    if dest.service == SNS:
        subject, body = formatted
        return transports.publish_sns(dest, subject, body)
    if dest.service == TEAMS:
        post = transports.post_teams
    elif dest.service == SLACK_API:
        post = transports.post_slack_api
    else:
        post = transports.post_slack_webhook
    return with_retries(lambda: post(dest, formatted, policy), policy, f"posting to {dest.id}")


def _s3() -> Any:
    from finops_digest.aws.clients import aws_client

    return aws_client("s3")
