"""Resource-level IAM checks for moto's non-S3 services, as AWS makes them.

moto authorises S3 requests against the bucket/object ARN, but every other service's request
against "*", so a policy scoped to ARNs (as ours is) would be denied everything. This test-only
shim computes the ARNs AWS's service authorization reference names for each operation the DAG
calls (all of them must be allowed, e.g. catalog + database + table for Glue), maps operation
names to IAM action names where they differ, and records every authorised (action, resource).
An operation it does not know is checked against "*", so a new call fails loudly until mapped.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from moto import settings
from moto.core.authorization import ActionAuthenticatorMixin
from moto.iam.access_control import IAMRequest, IAMRequestBase

# Operation -> IAM action, where the API name is not the permission name.
_ACTION_NAMES = {("budgets", "DescribeBudgets"): "ViewBudget"}
# Services whose requests carry their parameters in the path (no body on a GET).
_REST_JSON = ("quicksight",)


def _params(response: Any) -> dict[str, Any]:
    try:
        body = json.loads(response.body or "{}")
    except (TypeError, ValueError):
        body = {}
    if isinstance(body, dict) and body:
        return body
    return {k: v[0] for k, v in (response.querystring or {}).items() if v}


def resources_of(
    service: str, operation: str, params: dict[str, Any], region: str, account: str, org_id: str
) -> list[str]:
    """The ARNs AWS authorises ``service:operation`` against (["*"] if it has none)."""
    glue = f"arn:aws:glue:{region}:{account}"
    if service == "glue":
        if operation in ("GetCrawler", "StartCrawler"):
            return [f"{glue}:crawler/{params['Name']}"]
        if operation == "GetDatabase":
            return [f"{glue}:catalog", f"{glue}:database/{params['Name']}"]
        table = {
            "GetTable": params.get("Name"),
            "CreateTable": (params.get("TableInput") or {}).get("Name"),
            "UpdateTable": (params.get("TableInput") or {}).get("Name"),
        }.get(operation) or params.get("TableName")
        if table:
            db = params["DatabaseName"]
            return [f"{glue}:catalog", f"{glue}:database/{db}", f"{glue}:table/{db}/{table}"]
    if service == "athena":
        workgroup = params.get("WorkGroup")
        if operation in ("GetQueryExecution", "GetQueryResults", "StopQueryExecution"):
            from moto.athena.models import athena_backends

            execution = athena_backends[account][region].executions.get(params["QueryExecutionId"])
            workgroup = getattr(execution, "workgroup", None)
            workgroup = getattr(workgroup, "name", workgroup)
        return [f"arn:aws:athena:{region}:{account}:workgroup/{workgroup or 'primary'}"]
    if service == "ses" and operation in ("SendRawEmail", "SendEmail"):
        return [f"arn:aws:ses:{region}:{account}:identity/{params['Source']}"]
    if service == "organizations" and "ParentId" in params:
        parent = params["ParentId"]
        kind = "root" if parent.startswith("r-") else "ou"
        return [f"arn:aws:organizations::{account}:{kind}/{org_id}/{parent}"]
    if service == "quicksight" and "DashboardId" in params:
        # The snapshot-job calls are authorised against their dashboard.
        return [f"arn:aws:quicksight:{region}:{account}:dashboard/{params['DashboardId']}"]
    if service == "budgets":
        return [f"arn:aws:budgets::{account}:budget/*"]
    return ["*"]


@contextmanager
def resource_level_iam(org_id: str) -> Iterator[list[tuple[str, str]]]:
    """Patch moto's authoriser for the duration; yields the list of authorised (action, ARN)."""
    granted: list[tuple[str, str]] = []
    original_check = IAMRequestBase.check_action_permitted
    original_normal = ActionAuthenticatorMixin._authenticate_and_authorize_normal_action

    def check_action_permitted(self: IAMRequestBase, resource: str) -> None:
        original_check(self, resource)
        granted.append((self._action, resource))

    def authorize_normal(self: Any, resource: str = "*") -> None:
        if ActionAuthenticatorMixin.request_count < settings.INITIAL_NO_AUTH_ACTION_COUNT:
            ActionAuthenticatorMixin.request_count += 1
            return
        operation = self._get_action()
        service = self.headers["Authorization"].split("Credential=")[1].split("/")[3]
        # REST-JSON services carry some parameters in the path (moto's router matched them).
        params = {**_params(self), **(getattr(self, "uri_match", None) or {})}
        path = self.raw_path + (f"?{self.uri.split('?', 1)[1]}" if "?" in self.uri else "")
        request = IAMRequest(
            account_id=self.current_account,
            method=self.method,
            path=path,
            # A REST-JSON GET has no body: botocore signed an empty payload, not moto's parsed
            # parameters (moto's default for a request without a body).
            data=b"" if service in _REST_JSON and not self.raw_body else self.data,
            body=self.raw_body,
            headers=self.headers,
            action=_ACTION_NAMES.get((service, operation), operation),
        )
        request.check_signature()
        for arn in resources_of(
            service, operation, params, self.region, self.current_account, org_id
        ):
            request.check_action_permitted(arn)

    IAMRequestBase.check_action_permitted = check_action_permitted  # type: ignore[method-assign]
    ActionAuthenticatorMixin._authenticate_and_authorize_normal_action = authorize_normal  # type: ignore[method-assign]
    try:
        yield granted
    finally:
        IAMRequestBase.check_action_permitted = original_check  # type: ignore[method-assign]
        ActionAuthenticatorMixin._authenticate_and_authorize_normal_action = original_normal  # type: ignore[method-assign]
