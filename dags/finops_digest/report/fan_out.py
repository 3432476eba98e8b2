"""One message, many destinations: every delivery is attempted, whatever happened to the others.

A refused email address, a Slack webhook answering 500 or an owner's Teams channel timing out
never stops the FinOps team's email or another channel. The failures are raised together once
everything else went out; each delivery records what it sent, so the task's retry (or a re-run of
the day) sends only what is still missing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from finops_digest.errors import FinopsError

log = logging.getLogger(__name__)


class DeliveriesFailedError(FinopsError):
    """Some deliveries failed for good (refused addresses, a channel rejecting the message); all
    the others went out."""


class DeliveriesIncompleteError(RuntimeError):
    """Some deliveries failed in a way a retry may fix (a service down, a timeout); all the others
    went out. Not a FinopsError: the task's retries run, and send only what is missing."""


def deliver_each(deliveries: Sequence[tuple[str, Callable[[], Any]]]) -> dict[str, Any]:
    """Run each ``(name, deliver)`` in order and return ``{name: result}``; then, if any failed,
    raise one error naming every failure: :class:`DeliveriesIncompleteError` (retried) when one of
    them may pass on a retry, else :class:`DeliveriesFailedError`."""
    results: dict[str, Any] = {}
    failures: list[tuple[str, BaseException]] = []
    for name, deliver in deliveries:
        try:
            results[name] = deliver()
        except Exception as exc:  # noqa: BLE001 - every destination gets its chance first
            log.exception("Delivery %s failed; the other deliveries go on", name)
            failures.append((name, exc))
    if failures:
        message = "; ".join(f"{name}: {exc}" for name, exc in failures)
        if all(isinstance(exc, FinopsError) for _, exc in failures):
            raise DeliveriesFailedError(message)
        raise DeliveriesIncompleteError(message)
    return results
