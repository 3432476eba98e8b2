"""The Sandbox: moto's server on 127.0.0.1 with the missing AWS behaviours patched in."""

from __future__ import annotations

import logging
import threading
from datetime import date, timedelta
from types import TracebackType
from typing import Any

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import BaseWSGIServer, make_server

from sandbox import athena, cost_explorer, data_exports, glue_crawler, quicksight, ses_sandbox
from sandbox.config import (
    ACCOUNT_ID,
    REGION,
    SANDBOX_DEFAULTS,
    SANDBOX_TODAY,
    SETTINGS,
    TODAY_ENV,
)
from sandbox.control import SandboxMiddleware
from sandbox.faults import FaultInjector
from sandbox.organization import Organization
from sandbox.patching import undo_all
from sandbox.provision import provision_organization, provision_resources
from sandbox.ses_outbox import sent_emails
from sandbox.sns_outbox import published
from sandbox.webhooks import WEBHOOK_OPERATION, WebhookOutbox

_ACTIVE: list[Sandbox] = []  # moto's state is per process: one running sandbox at a time


def install_patches() -> None:
    """Patch moto's classes with the sandbox behaviours (idempotent, process-wide)."""
    cost_explorer.install()
    glue_crawler.install()
    athena.install()
    ses_sandbox.install()
    quicksight.install()


def remove_patches() -> None:
    """Restore plain moto (other code in this process may use moto's mock_aws)."""
    undo_all()


def _reset_moto() -> None:
    """Forget every moto resource, so each sandbox starts from the provisioned state only."""
    from moto.moto_api._internal.models import moto_api_backend

    moto_api_backend.reset()


class Sandbox:
    """A running local AWS endpoint. Use Sandbox.start() (or `with Sandbox.start() as sb:`)."""

    def __init__(
        self,
        server: BaseWSGIServer,
        organization: Organization,
        faults: FaultInjector,
        webhooks: WebhookOutbox,
    ):
        self._server = server
        self._webhooks = webhooks
        self._thread = threading.Thread(target=server.serve_forever, name="sandbox", daemon=True)
        self.organization = organization
        self.faults = faults
        host, port = server.server_address[:2]
        self.host, self.port = str(host), int(port)
        self.endpoint_url = f"http://{self.host}:{self.port}"

    @classmethod
    def start(
        cls,
        organization: Organization | None = None,
        *,
        page_size: int = 25,
        crawler_run_seconds: float = 0.0,
        snapshot_job_seconds: float = 0.0,
        today: date = SANDBOX_TODAY,
        host: str = "127.0.0.1",
        port: int = 0,
        quiet: bool = True,
        iam_enforcement: bool = False,
    ) -> Sandbox:
        """Start moto on host:port (0 = a free port), patch it, provision everything, return.

        page_size: Cost Explorer groups per page; crawler_run_seconds: how long a started crawl
        reports RUNNING before READY (the crawl itself completes at once); snapshot_job_seconds:
        how long a QuickSight snapshot job reports RUNNING before it is COMPLETED; today: Cost Explorer's
        today, from which its 14 months of daily costs are counted; iam_enforcement: once
        provisioned, every request must be signed by an IAM user's access key and be allowed by
        that user's policies (moto's IAM simulation), as on AWS.
        """
        if _ACTIVE:
            raise RuntimeError(f"a sandbox is already running at {_ACTIVE[0].endpoint_url}")
        if quiet:
            logging.getLogger("werkzeug").setLevel(logging.WARNING)
        org = organization or Organization.synthetic()
        install_patches()
        _reset_moto()
        cost_explorer.clear_cache()
        cost_explorer.reset_requests()
        quicksight.reset_files()
        with SETTINGS.lock:
            SETTINGS.organization = org
            SETTINGS.page_size = page_size
            SETTINGS.crawler_run_seconds = crawler_run_seconds
            SETTINGS.snapshot_job_seconds = snapshot_job_seconds
            SETTINGS.today = today
            SETTINGS.extra.pop("ses_unverified_recipients", None)
        provision_organization(org)
        faults = FaultInjector()
        SETTINGS.faults = faults
        webhooks = WebhookOutbox()
        app = SandboxMiddleware(
            DomainDispatcherApplication(create_backend_app),
            faults,
            sent_emails,
            lambda: describe(org, sandbox.endpoint_url),
            webhooks,
            published,
        )
        server = make_server(host, port, app, threaded=True, request_handler=MotoRequestHandler)
        sandbox = cls(server, org, faults, webhooks)
        sandbox._thread.start()
        _ACTIVE.append(sandbox)
        try:
            provision_resources(sandbox.endpoint_url)
        except BaseException:
            sandbox.stop()
            raise
        faults.reset_calls()  # provisioning calls are not the user's
        if iam_enforcement:
            _set_iam_enforcement(True)
        return sandbox

    # ------------------------------------------------------------------------------- user API
    def sent_emails(self) -> list[bytes]:
        """Raw MIME bytes of every email SES sent (send_email and send_raw_email), in order."""
        return sent_emails()

    def webhook_posts(self) -> list[dict[str, Any]]:
        """Every chat webhook post the sandbox accepted (``POST /_sandbox/webhooks/...``), in
        order: ``{"path", "content_type", "body" (parsed JSON, else text), "received_at"}``."""
        return self._webhooks.posts()

    def clear_webhook_posts(self) -> None:
        """Forget the recorded webhook posts."""
        self._webhooks.clear()

    def webhook_url(self, service: str, secret: str = "T000/B000/XXX") -> str:
        """A webhook URL on this sandbox: Slack's answer ``200 ok`` under ``slack``, Teams
        Workflows' ``202 Accepted`` under ``teams``."""
        return f"{self.endpoint_url}/_sandbox/webhooks/{service}/{secret}"

    def fail_webhooks(
        self,
        count: int = 1,
        status: int = 500,
        delay_seconds: float = 0.0,
        retry_after: float | None = None,
    ) -> None:
        """Make the next `count` webhook posts answer `status` (with a `Retry-After` header when
        given, as a 429 has), `delay_seconds` late (longer than a client's timeout: a timeout);
        such a post is not recorded."""
        self.faults.inject(
            WEBHOOK_OPERATION,
            f"HTTP {status}",
            count,
            status,
            delay_seconds=delay_seconds,
            retry_after=retry_after,
        )

    def sns_messages(self) -> list[dict[str, Any]]:
        """Every message published to an SNS topic: ``{"topic_arn", "subject", "message"}``, in
        order per topic."""
        return published()

    def refuse_recipients(self, *addresses: str) -> None:
        """Refuse mail to ``addresses`` as SES does for unverified recipients while the account
        is in SES's sandbox (the whole message is rejected with ``MessageRejected``)."""
        ses_sandbox.refuse(list(addresses))

    def inject_fault(
        self,
        operation: str,
        error_code: str,
        count: int = 1,
        status: int = 400,
        message: str | None = None,
    ) -> None:
        """Make the next `count` calls of an API operation (e.g. "GetCostAndUsage") fail."""
        self.faults.inject(operation, error_code, count, status, message)

    def inject_timeout(
        self, operation: str, seconds: float, count: int = 1, applied: bool = False
    ) -> None:
        """Answer the next `count` calls of an operation `seconds` late, so a client with a
        shorter read timeout times out. `applied`: the call takes effect at once and only its
        answer is late (lost); otherwise it never takes effect (the request was lost)."""
        self.faults.inject(
            operation, "RequestTimeout", count, 504, delay_seconds=seconds, applied=applied
        )

    def fail_snapshot_jobs(
        self, count: int = 1, error_type: str = "INTERNAL_ERROR", message: str | None = None
    ) -> None:
        """Make the next `count` QuickSight snapshot jobs end FAILED with `error_type` (their
        StartDashboardSnapshotJob still succeeds, as on AWS when the rendering fails)."""
        self.faults.inject(quicksight.SNAPSHOT_JOB_FAULT, error_type, count, message=message)

    def write_data_exports(
        self, first: date, last: date | None = None, formats: tuple[str, ...] | None = None
    ) -> dict[str, Any]:
        """Write the Data Exports files (CUR 2.0 and FOCUS, or ``formats``) of the days
        ``first``..``last`` from the organisation's line items (``sandbox.data_exports``)."""
        days = [first + timedelta(days=n) for n in range(((last or first) - first).days + 1)]
        return data_exports.write_days(
            self.organization, days, formats or tuple(data_exports.EXPORTS)
        )

    def reset_faults(self) -> None:
        """Drop all pending injected faults."""
        self.faults.reset()

    def calls(self, operation: str) -> int:
        """How many times an API operation was called since start (faulted calls included)."""
        return int(self.faults.calls(operation))  # type: ignore[arg-type]

    def cost_explorer_requests(self, covering: date | None = None) -> int:
        """GetCostAndUsage requests answered since start (each page) for the cost rows of the
        day ``covering`` (TimePeriod holds it; not grouped by USAGE_TYPE, a spike's root cause;
        not the history before it); every request with None."""
        return cost_explorer.requests_covering(covering)

    @property
    def page_size(self) -> int:
        """Cost Explorer groups per page."""
        return SETTINGS.page_size

    def env(self) -> dict[str, str]:
        """Environment variables that point boto3 / Airflow's aws_default at this sandbox."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": REGION,
            "AWS_REGION": REGION,
            TODAY_ENV: SETTINGS.today.isoformat(),
        }

    def stop(self) -> None:
        """Stop serving (moto's in-process state stays until the next start resets it)."""
        if self in _ACTIVE:
            _ACTIVE.remove(self)
        self._server.shutdown()
        self._server.server_close()
        if self._thread.is_alive():
            self._thread.join(timeout=10)
        if not _ACTIVE:
            _set_iam_enforcement(False)
            remove_patches()
            SETTINGS.organization = None
            SETTINGS.faults = None

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def _set_iam_enforcement(enabled: bool) -> None:
    """moto authorises requests once it has served INITIAL_NO_AUTH_ACTION_COUNT of them
    (moto.core.authorization): 0 = from the next request on, infinity = never (moto's default)."""
    from moto import settings
    from moto.core.authorization import ActionAuthenticatorMixin

    settings.INITIAL_NO_AUTH_ACTION_COUNT = 0 if enabled else float("inf")
    ActionAuthenticatorMixin.request_count = 0


def describe(org: Organization, endpoint_url: str) -> dict[str, Any]:
    """JSON-able description of the sandbox (GET /_sandbox/organization)."""
    return {
        "endpoint_url": endpoint_url,
        "account_id": ACCOUNT_ID,
        "defaults": SANDBOX_DEFAULTS,
        "org_id": org.org_id,
        "root_id": org.root_id,
        "ous": [ou.__dict__ for ou in org.ous],
        "accounts": [a.__dict__ for a in org.accounts],
        "spikes": [
            {**s._asdict(), "day": s.day.isoformat(), "extra_amount": str(s.extra_amount)}
            for s in org.spikes
        ],
    }
