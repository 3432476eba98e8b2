"""Chat webhooks (Slack, Teams, any other) answered and recorded in order, like SES's outbox:
``POST /_sandbox/webhooks/<anything>`` is kept as ``{"path", "content_type", "body",
"received_at"}``. Injected ``Webhook`` faults make the next posts fail or answer late."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sandbox.faults import FaultInjector

# The operation name webhook faults and call counts go by (Sandbox.fail_webhooks, POST
# /_sandbox/faults with {"operation": "Webhook", ...}).
WEBHOOK_OPERATION = "Webhook"
PATH = "webhooks"
_REASONS = {200: "OK", 202: "Accepted", 400: "Bad Request", 404: "Not Found", 410: "Gone",
            429: "Too Many Requests", 500: "Internal Server Error", 503: "Service Unavailable",
            504: "Gateway Timeout"}  # fmt: skip


class WebhookOutbox:
    """Every webhook post the sandbox accepted, in order (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._posts: list[dict[str, Any]] = []

    def posts(self) -> list[dict[str, Any]]:
        """The recorded posts, oldest first."""
        with self._lock:
            return [dict(p) for p in self._posts]

    def clear(self) -> None:
        """Forget every recorded post."""
        with self._lock:
            self._posts.clear()

    def answer(
        self, environ: dict[str, Any], start_response: Callable[..., Any], faults: FaultInjector
    ) -> list[bytes]:
        """Answer one webhook post as its service would, or as the next injected fault says;
        record it when it was accepted."""
        path = environ.get("PATH_INFO", "")
        length = int(environ.get("CONTENT_LENGTH") or 0)
        raw = environ["wsgi.input"].read(length) if length else b""
        fault = faults.record(WEBHOOK_OPERATION)
        if fault:
            if fault.delay_seconds:
                time.sleep(fault.delay_seconds)
            body = (fault.message or fault.error_code).encode()
            headers = [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))]
            if fault.retry_after is not None:
                headers.append(("Retry-After", f"{fault.retry_after:g}"))
            start_response(_status(fault.status), headers)
            return [body]
        content_type = environ.get("CONTENT_TYPE", "")
        text = raw.decode("utf-8", "replace")
        try:
            parsed: Any = json.loads(text)
        except ValueError:
            parsed = text
        with self._lock:
            self._posts.append(
                {
                    "path": path,
                    "content_type": content_type,
                    "body": parsed,
                    "received_at": datetime.now(UTC).isoformat(),
                }
            )
        service = path.split(f"/{PATH}/", 1)[-1].split("/", 1)[0]
        if service == "slack":  # Slack's incoming webhooks answer a plain "ok"
            status, body, kind = 200, b"ok", "text/plain"
        elif service == "teams":  # Teams Workflows accept the post and run the flow later
            status, body, kind = 202, b"", "text/plain"
        else:
            status, body, kind = 200, b'{"ok": true}', "application/json"
        start_response(
            _status(status), [("Content-Type", kind), ("Content-Length", str(len(body)))]
        )
        return [body]


def _status(code: int) -> str:
    return f"{code} {_REASONS.get(code, 'Error' if code >= 400 else 'OK')}"
