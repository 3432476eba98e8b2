"""How a chat post is retried: what a retry can fix (a 5xx, a 429, a timeout, a lost connection)
is tried again a few times with a short backoff; what it cannot (any other 4xx) is not."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

log = logging.getLogger(__name__)


class PostFailed(Exception):
    """A post that did not go through; ``reason`` names what answered (never a URL or token)."""

    transient = False

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


class TransientFailure(PostFailed):
    """A failure a later attempt may not see: 5xx, 429, timeout, lost connection."""

    transient = True


class PermanentFailure(PostFailed):
    """A refusal that trying again cannot change: a 4xx (bad payload, revoked webhook, unknown
    channel), a missing connection."""


@dataclass(frozen=True)
class RetryPolicy:
    """Attempts per post, the backoff between them (``backoff_seconds``, then twice that), the
    longest 429 ``Retry-After`` honoured, and each post's timeouts."""

    attempts: int = 3
    backoff_seconds: float = 1.0
    max_retry_after_seconds: float = 30.0
    connect_timeout: float = 10.0
    read_timeout: float = 30.0


DEFAULT_POLICY = RetryPolicy()


def with_retries(
    post: Callable[[], str],
    policy: RetryPolicy,
    what: str,
    sleep: Callable[[float], None] = time.sleep,
) -> str:
    """``post()`` (which returns a message id), tried up to ``policy.attempts`` times while it
    fails transiently; the last failure is raised, saying how many attempts were made."""
    for attempt in range(1, policy.attempts + 1):
        try:
            return post()
        except TransientFailure as exc:
            if attempt == policy.attempts:
                raise TransientFailure(f"{exc.reason}, after {attempt} attempts") from exc
            wait = policy.backoff_seconds * 2 ** (attempt - 1)
            if exc.retry_after is not None:
                wait = min(max(exc.retry_after, 0.0), policy.max_retry_after_seconds)
            log.warning("%s: %s; attempt %d again in %.1f s", what, exc.reason, attempt + 1, wait)
            sleep(wait)
    raise AssertionError("unreachable: the loop returns or raises")


def refusal(status: int, body: str, retry_after: str | None = None) -> PostFailed:
    """The failure an HTTP answer ``status`` means: 429 and 5xx transient (a 429's
    ``Retry-After`` kept), any other status permanent; ``body`` says why (the service's error
    code, e.g. Slack's ``invalid_payload``)."""
    reason = f"HTTP {status}" + (f" {body}" if body else "")
    if status == 429:
        return TransientFailure(reason, retry_after=parse_retry_after(retry_after))
    if status >= 500:
        return TransientFailure(reason)
    return PermanentFailure(reason)


def parse_retry_after(value: str | None) -> float | None:
    """A ``Retry-After`` header in seconds (delta-seconds or an HTTP date), or None."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - time.time())
