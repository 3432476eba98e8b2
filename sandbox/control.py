"""WSGI middleware in front of moto: /_sandbox/ control endpoints, call counts, fault injection."""

from __future__ import annotations

import base64
import io
import json
import re
import time
from collections.abc import Callable, Iterable
from datetime import date
from typing import Any
from urllib.parse import parse_qs

from werkzeug.wrappers import Request

from sandbox import cost_explorer, data_exports, quicksight, webhooks
from sandbox.faults import FaultInjector, error_response
from sandbox.webhooks import WebhookOutbox

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
_SCOPE = re.compile(r"Credential=[^/]+/\d{8}/[^/]+/([^/]+)/aws4_request")
# Services whose operation is named by method and path alone (REST-JSON, no X-Amz-Target).
_REST_JSON_SERVICES = ("quicksight",)


def _s3_operation(environ: dict[str, Any]) -> str:
    """Best-effort S3 operation name from method, path and sub-resource (path-style URLs)."""
    method = environ.get("REQUEST_METHOD", "GET")
    bucket, _, key = environ.get("PATH_INFO", "/").lstrip("/").partition("/")
    qs = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
    if not bucket:
        return "ListBuckets"
    if key:
        if method == "PUT":
            if environ.get("HTTP_X_AMZ_COPY_SOURCE"):
                return "CopyObject"
            return "UploadPart" if "partNumber" in qs else "PutObject"
        if method == "POST":
            return "CreateMultipartUpload" if "uploads" in qs else "CompleteMultipartUpload"
        return {"GET": "GetObject", "HEAD": "HeadObject", "DELETE": "DeleteObject"}.get(
            method, f"{method}Object"
        )
    sub = next(iter(qs), "")
    if method == "GET":
        if sub == "list-type":
            return "ListObjectsV2"
        named = {"versions": "ListObjectVersions", "versioning": "GetBucketVersioning"}
        return named.get(sub) or (f"GetBucket{sub.title()}" if sub else "ListObjects")
    if method == "PUT":
        return f"PutBucket{sub.title()}" if sub else "CreateBucket"
    if method == "POST" and sub == "delete":
        return "DeleteObjects"
    return {"HEAD": "HeadBucket", "DELETE": "DeleteBucket"}.get(method, f"{method}Bucket")


def identify(environ: dict[str, Any]) -> tuple[str, str] | None:
    """(operation, protocol) of an AWS API request, or None if it is not one we recognise."""
    target = environ.get("HTTP_X_AMZ_TARGET")
    if target:
        return target.rsplit(".", 1)[-1], "json"
    content_type = environ.get("CONTENT_TYPE", "")
    length = int(environ.get("CONTENT_LENGTH") or 0)
    if content_type.startswith("application/x-www-form-urlencoded") and length:
        body = environ["wsgi.input"].read(length)
        environ["wsgi.input"] = io.BytesIO(body)  # moto reads the body again
        action = parse_qs(body.decode("utf-8", "replace")).get("Action")
        if action:
            return action[0], "query"
    action = parse_qs(environ.get("QUERY_STRING", "")).get("Action")
    if action:
        return action[0], "query"
    auth = environ.get("HTTP_AUTHORIZATION", "") + environ.get("QUERY_STRING", "")
    scope = _SCOPE.search(auth.replace("%2F", "/"))
    if scope and scope.group(1) == "s3":
        return _s3_operation(environ), "rest-xml"
    if scope and scope.group(1) in _REST_JSON_SERVICES:
        operation = _rest_json_operation(scope.group(1), environ)
        if operation:
            return operation, "json"
    return None


class _RoutedRequest(Request):
    """What moto's router reads of a request: werkzeug's, plus the raw path."""

    @property
    def raw_path(self) -> str:
        return str(self.environ.get("RAW_URI") or self.environ.get("PATH_INFO", "/")).split("?")[0]


def _rest_json_operation(service: str, environ: dict[str, Any]) -> str | None:
    """The operation a REST-JSON request targets, by the service's own route table (the body is
    not read)."""
    from moto.core.routing import get_service_router
    from werkzeug.exceptions import NotFound

    try:
        operation, _ = get_service_router(service).match(_RoutedRequest(environ))
    except NotFound:
        return None
    return str(operation.name)


class SandboxMiddleware:
    """Serves /_sandbox/*, counts every AWS call, and answers injected faults before moto."""

    def __init__(
        self,
        app: WsgiApp,
        faults: FaultInjector,
        emails: Callable[[], list[bytes]],
        describe: Callable[[], dict[str, Any]],
        webhooks: WebhookOutbox,
        sns_messages: Callable[[], list[dict[str, Any]]],
    ) -> None:
        self.app = app
        self.faults = faults
        self.emails = emails
        self.describe = describe
        self.webhooks = webhooks
        self.sns_messages = sns_messages

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        path = environ.get("PATH_INFO", "")
        if path.startswith("/_sandbox/"):
            return self._control(environ, start_response, path[len("/_sandbox/") :].strip("/"))
        found = identify(environ)
        if found:
            operation, protocol = found
            fault = self.faults.record(operation)
            if fault and fault.delay_seconds and fault.applied:
                return self._late_answer(environ, start_response, fault.delay_seconds)
            if fault and fault.delay_seconds:
                time.sleep(fault.delay_seconds)
            if fault:
                status, headers, body = error_response(fault, protocol)
                start_response(status, headers)
                return [body]
        return self.app(environ, start_response)

    def _late_answer(
        self, environ: dict[str, Any], start_response: Callable[..., Any], seconds: float
    ) -> list[bytes]:
        """Carry the call out at once, and answer it `seconds` later."""
        answer: list[Any] = []
        body = b"".join(self.app(environ, lambda *args: answer.append(args)))
        time.sleep(seconds)
        start_response(*answer[0])
        return [body]

    def _control(
        self, environ: dict[str, Any], start_response: Callable[..., Any], what: str
    ) -> Any:
        method = environ.get("REQUEST_METHOD", "GET")
        payload: Any
        if what == "emails" and method == "GET":
            payload = [base64.b64encode(m).decode() for m in self.emails()]
        elif what.startswith(webhooks.PATH + "/") and method == "POST":
            return self.webhooks.answer(environ, start_response, self.faults)
        elif what == webhooks.PATH and method == "GET":
            payload = self.webhooks.posts()
        elif what == webhooks.PATH and method == "DELETE":
            self.webhooks.clear()
            payload = {"ok": True}
        elif what == "sns" and method == "GET":
            payload = self.sns_messages()
        elif what == "calls" and method == "GET":
            payload = self.faults.calls()
        elif what == "calls" and method == "DELETE":
            self.faults.reset_calls()
            payload = {}
        elif what == "faults" and method == "GET":
            payload = self.faults.pending()
        elif what == "faults" and method == "POST":
            length = int(environ.get("CONTENT_LENGTH") or 0)
            try:
                spec = json.loads(environ["wsgi.input"].read(length) or b"{}")
                self.faults.inject(
                    operation=spec["operation"],
                    error_code=spec["error_code"],
                    count=int(spec.get("count", 1)),
                    status=int(spec.get("status", 400)),
                    message=spec.get("message"),
                    delay_seconds=float(spec.get("delay_seconds", 0)),
                    applied=bool(spec.get("applied", False)),
                    retry_after=spec.get("retry_after"),
                )
            except (ValueError, KeyError, TypeError) as exc:
                return self._json(start_response, "400 Bad Request", {"error": str(exc)})
            payload = {"ok": True}
        elif what == "faults" and method == "DELETE":
            self.faults.reset()
            payload = {"ok": True}
        elif what.startswith(quicksight.FILES_PATH + "/") and method == "GET":
            status, body = quicksight.serve_file(
                what[len(quicksight.FILES_PATH) + 1 :], parse_qs(environ.get("QUERY_STRING", ""))
            )
            start_response(status, [("Content-Length", str(len(body)))])
            return [body]
        elif what == "cost-explorer-requests" and method == "GET":
            covering = parse_qs(environ.get("QUERY_STRING", "")).get("covering")
            try:
                day = date.fromisoformat(covering[0]) if covering else None
            except ValueError as exc:
                return self._json(start_response, "400 Bad Request", {"error": str(exc)})
            payload = {"covering": covering[0] if covering else None}
            payload["requests"] = cost_explorer.requests_covering(day)
        elif what == "data-exports" and method == "POST":
            length = int(environ.get("CONTENT_LENGTH") or 0)
            try:
                spec = json.loads(environ["wsgi.input"].read(length) or b"{}")
                payload = data_exports.write_requested(spec)
            except (ValueError, KeyError, TypeError) as exc:
                return self._json(start_response, "400 Bad Request", {"error": str(exc)})
        elif what in ("health", "organization") and method == "GET":
            payload = self.describe() if what == "organization" else {"ok": True}
        else:
            return self._json(start_response, "404 Not Found", {"error": f"no {method} /{what}"})
        return self._json(start_response, "200 OK", payload)

    @staticmethod
    def _json(start_response: Callable[..., Any], status: str, payload: Any) -> list[bytes]:
        body = json.dumps(payload).encode()
        start_response(
            status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
        )
        return [body]
