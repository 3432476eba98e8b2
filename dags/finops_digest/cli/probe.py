"""What a check-aws probe is: one IAM action and the one call that proves it is granted."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from finops_digest.config import FinopsConfig


class Skip(Exception):
    """The probe cannot run: what it needs from an earlier probe is not there; says why."""


class ProbeProblem(Exception):
    """The call was allowed but its answer shows a problem (a failed query, a wrong setting)."""


@dataclass(frozen=True)
class Probe:
    """One IAM action, what it is checked on, and the call that proves it.

    ``call`` returns what it saw; None means the action is not probed and ``skip`` says why (the
    only call would change something the DAG keeps, or the feature is off).
    """

    action: str
    target: str
    call: Callable[[Session], str] | None = None
    skip: str = ""
    # AWS answers "not found" only after allowing the call: the permission is there. Said so.
    absent_ok: str = ""
    # An S3 call denied for a KMS reason (SSE-KMS): this KMS action is the one missing.
    kms_action: str = ""
    # The Sid of the statement the probe proves, where its action is in several statements and
    # the resource decides which (the data export's reads beside the archive's).
    statement: str = ""


@dataclass
class Session:
    """What the probes share: the configuration, one client per service (``client_factory``,
    i.e. ``aws_client`` through ``aws_default``), the caller's account, the probe's dates, and
    what earlier probes found (the root id, an archived object, an upload id, a query id)."""

    config: FinopsConfig
    client_factory: Callable[[str], Any]
    account: str
    today: date
    # A finished billing day in every time zone: what the cost probes ask about.
    day: date
    found: dict[str, Any] = field(default_factory=dict)
    _clients: dict[str, Any] = field(default_factory=dict)

    def client(self, service: str) -> Any:
        """One boto3 client per service for the whole check."""
        if service not in self._clients:
            self._clients[service] = self.client_factory(service)
        return self._clients[service]

    def need(self, key: str, why: str) -> Any:
        """What an earlier probe found under ``key``, or Skip with ``why``."""
        if self.found.get(key) is None:
            raise Skip(why)
        return self.found[key]
