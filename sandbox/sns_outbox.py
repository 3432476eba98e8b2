"""Every message SNS published to a topic, in order per topic (moto keeps them on the topic)."""

from __future__ import annotations

from typing import Any

from moto.sns.models import sns_backends

from sandbox.config import ACCOUNT_ID, REGION


def published(account_id: str = ACCOUNT_ID, region: str = REGION) -> list[dict[str, Any]]:
    """``[{"topic_arn", "subject", "message"}]`` of every Publish to a topic."""
    backend = sns_backends[account_id][region]
    return [
        {"topic_arn": arn, "subject": subject, "message": message}
        for arn, topic in list(backend.topics.items())
        for _, message, subject, _, _ in list(topic.sent_notifications)
    ]
