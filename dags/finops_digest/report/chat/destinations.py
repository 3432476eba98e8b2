"""The chat channels of ``finops_config`` (and of OU owners) as destinations, each named by an id
that carries no secret: the webhook URL or token stays in its Airflow connection."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from finops_digest.errors import FinopsError
from finops_digest.report.chat.content import CATEGORIES

SLACK_WEBHOOK, SLACK_API, TEAMS, SNS = "slack", "slack-api", "teams", "sns"


class ChannelConfigError(FinopsError):
    """A chat channel that names no destination we can post to."""


@dataclass(frozen=True)
class Destination:
    """Where one channel's messages go. ``id`` (``slack:finops_slack``,
    ``slack:finops_slack_api:#finops``, ``teams:finops_teams``, ``sns:<topic ARN>``) is what the
    delivery record, the logs and the errors name."""

    id: str
    service: str
    name: str
    categories: frozenset[str]
    connection_id: str = ""
    channel: str = ""
    topic_arn: str = ""


def destination(channel: Mapping[str, Any]) -> Destination:
    """The destination of one channel: ``{"type": "slack", "connection_id"}`` (an incoming
    webhook), with ``"channel"`` (the Slack API, a bot token), ``{"type": "teams",
    "connection_id"}``, ``{"type": "sns", "topic_arn"}``; optional ``"name"`` and ``"kinds"``
    (``digest``/``alert``, default both)."""
    kinds = frozenset(channel.get("kinds") or CATEGORIES)
    if not kinds <= set(CATEGORIES):
        raise ChannelConfigError(
            f"chat channel {_label(channel)}: kinds must be among {list(CATEGORIES)}, "
            f"got {sorted(kinds)}"
        )
    kind = channel.get("type")
    if kind in ("slack", "teams"):
        connection = channel.get("connection_id")
        if not connection or not isinstance(connection, str):
            raise ChannelConfigError(
                f"chat channel {_label(channel)}: expected the Airflow connection id of the "
                f"{kind} webhook as 'connection_id'"
            )
        if kind == "teams":
            service, ident, extra = TEAMS, f"teams:{connection}", {}
        elif channel.get("channel"):
            service, ident = SLACK_API, f"slack:{connection}:{channel['channel']}"
            extra = {"channel": str(channel["channel"])}
        else:
            service, ident, extra = SLACK_WEBHOOK, f"slack:{connection}", {}
        return Destination(
            id=ident,
            service=service,
            name=str(channel.get("name") or ident),
            categories=kinds,
            connection_id=connection,
            **extra,
        )
    if kind == "sns":
        arn = channel.get("topic_arn")
        if not isinstance(arn, str) or not arn.startswith("arn:") or ":sns:" not in arn:
            raise ChannelConfigError(
                f"chat channel {_label(channel)}: expected an SNS topic ARN as 'topic_arn', "
                f"got {arn!r}"
            )
        ident = f"sns:{arn}"
        return Destination(
            id=ident,
            service=SNS,
            name=str(channel.get("name") or ident),
            categories=kinds,
            topic_arn=arn,
        )
    raise ChannelConfigError(
        f"chat channel {_label(channel)}: type must be 'slack', 'teams' or 'sns', got {kind!r}"
    )


def _label(channel: Mapping[str, Any]) -> str:
    return repr(channel.get("name") or channel.get("connection_id") or channel.get("topic_arn"))
