"""Per-operation call counting and injected AWS errors, shaped as each protocol's real errors."""

from __future__ import annotations

import json
import threading
import uuid
from collections import Counter
from dataclasses import dataclass
from xml.sax.saxutils import escape


@dataclass
class Fault:
    """The next `remaining` calls of `operation` fail with `error_code` / HTTP `status`.

    With `delay_seconds`, the answer comes that late instead (a client with a shorter read timeout
    sees a timeout); `applied` says whether the call takes effect at once (only its answer is late)
    or never (the request was lost). `retry_after`: the Retry-After header of the answer (webhooks'
    429s).
    """

    operation: str
    error_code: str
    remaining: int
    status: int = 400
    message: str | None = None
    delay_seconds: float = 0.0
    applied: bool = False
    retry_after: float | None = None


class FaultInjector:
    """Thread-safe registry of pending faults and per-operation call counts."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._calls: Counter[str] = Counter()

    def inject(
        self,
        operation: str,
        error_code: str,
        count: int = 1,
        status: int = 400,
        message: str | None = None,
        delay_seconds: float = 0.0,
        applied: bool = False,
        retry_after: float | None = None,
    ) -> None:
        """Make the next `count` calls of `operation` fail (queued after earlier faults)."""
        fault = Fault(
            operation,
            error_code,
            int(count),
            int(status),
            message,
            float(delay_seconds),
            applied,
            None if retry_after is None else float(retry_after),
        )
        with self._lock:
            self._faults.append(fault)

    def reset(self) -> None:
        """Drop every pending fault."""
        with self._lock:
            self._faults.clear()

    def pending(self) -> list[dict[str, object]]:
        """Pending faults as plain dicts."""
        with self._lock:
            return [f.__dict__.copy() for f in self._faults if f.remaining > 0]

    def record(self, operation: str) -> Fault | None:
        """Count one call; return the fault it must fail with, if any."""
        with self._lock:
            self._calls[operation] += 1
            for fault in self._faults:
                if fault.operation == operation and fault.remaining > 0:
                    fault.remaining -= 1
                    return fault
        return None

    def take(self, operation: str) -> Fault | None:
        """The next pending fault of ``operation``, used up, without counting a call: for
        failures that are not an API call's answer (a started job that ends FAILED)."""
        with self._lock:
            for fault in self._faults:
                if fault.operation == operation and fault.remaining > 0:
                    fault.remaining -= 1
                    return fault
        return None

    def calls(self, operation: str | None = None) -> int | dict[str, int]:
        """Calls of one operation, or all counts as a dict."""
        with self._lock:
            return self._calls[operation] if operation else dict(self._calls)

    def reset_calls(self) -> None:
        """Zero every call count."""
        with self._lock:
            self._calls.clear()


def error_response(fault: Fault, protocol: str) -> tuple[str, list[tuple[str, str]], bytes]:
    """(status line, headers, body) of an AWS error in the request's protocol.

    protocol: "json" (X-Amz-Target services), "query" (Action=...), or "rest-xml" (S3).
    """
    request_id = str(uuid.uuid4())
    message = fault.message or f"Injected by the sandbox: {fault.error_code}"
    status = f"{fault.status} {'Bad Request' if fault.status < 500 else 'Service Unavailable'}"
    if protocol == "json":
        body = json.dumps({"__type": fault.error_code, "message": message}).encode()
        headers = [
            ("Content-Type", "application/x-amz-json-1.1"),
            ("x-amzn-ErrorType", fault.error_code),
            ("x-amzn-RequestId", request_id),
        ]
    elif protocol == "query":
        kind = "Sender" if fault.status < 500 else "Receiver"
        body = (
            f'<ErrorResponse xmlns="http://ses.amazonaws.com/doc/2010-12-01/"><Error>'
            f"<Type>{kind}</Type><Code>{escape(fault.error_code)}</Code>"
            f"<Message>{escape(message)}</Message></Error>"
            f"<RequestId>{request_id}</RequestId></ErrorResponse>"
        ).encode()
        headers = [("Content-Type", "text/xml"), ("x-amzn-RequestId", request_id)]
    else:
        body = (
            f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{escape(fault.error_code)}'
            f"</Code><Message>{escape(message)}</Message><RequestId>{request_id}</RequestId>"
            f"</Error>"
        ).encode()
        headers = [("Content-Type", "application/xml"), ("x-amz-request-id", request_id)]
    headers.append(("Content-Length", str(len(body))))
    return status, headers, body
