"""``check-aws``: is every permission the DAG needs granted to the ``aws_default`` connection?

Each probe makes one call (reads; see the probe modules for the few that are not) and reports it
OK, MISSING (AWS denied it), NOT FOUND (the resource is not there) or ERROR, naming the IAM action
and the statement (Sid) of the shipped policy that grants it, so a fix reads as a policy change.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections import Counter
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from finops_digest.cli.config_source import ENV_NAME, read_config
from finops_digest.cli.exits import OK, PROBLEMS
from finops_digest.cli.policy_statements import TEMPLATE, granted_by, read_statements
from finops_digest.cli.probe import Probe, ProbeProblem, Session, Skip
from finops_digest.config import ConfigError, parse_config
from finops_digest.errors import FinopsError

# Error codes by which AWS says "not allowed" (S3's HEAD answers carry only the status).
DENIED = {
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "AuthorizationError",
    "403",
}
NOT_FOUND = {
    "NoSuchBucket",
    "NoSuchKey",
    "NoSuchUpload",
    "NoSuchVersion",
    "404",
    "NotFound",
    "NotFoundException",
    "EntityNotFoundException",
    "ResourceNotFoundException",
    "AWSOrganizationsNotInUseException",
}
# How S3 says a denial was KMS's (SSE-KMS): the key's permission is the missing one.
KMS_MARKERS = ("kms:", "kms key", "customer master key")
# An error message is shown on its line, one line, at most this long.
MESSAGE_CHARS = 200
# Statuses that make the check fail (exit 1); SKIPPED lines only inform.
PROBLEM_STATUSES = ("MISSING", "NOT FOUND", "ERROR")


@dataclass(frozen=True)
class Result:
    """What one probe found."""

    status: str  # OK, MISSING, NOT FOUND, ERROR, SKIPPED
    action: str
    target: str
    detail: str
    statement: str = ""  # the probe's own statement (Probe.statement), if it names one


def add_parser(sub: Any) -> None:
    """Register ``check-aws`` on the subcommand parsers."""
    parser = sub.add_parser(
        "check-aws",
        help="probe every permission the DAG needs, through aws_default",
        description=(
            "Probe each IAM permission the DAG needs with the aws_default connection (or boto3's "
            "chain, so AWS_ENDPOINT_URL and AWS_PROFILE apply): one small call each, reads except "
            "a SELECT 1 in the Athena workgroup and a multipart upload to "
            "state/check-aws/probe that is aborted (nothing is written). Each line names the "
            "action and the Sid of the policy statement granting it. Exit 0 all granted, 1 a "
            "permission missing, a resource not found or an error, 2 usage error."
        ),
    )
    parser.add_argument(
        "--config",
        metavar="FILE|-",
        help=f"the finops_config JSON (default: ${ENV_NAME}, else the Airflow Variable)",
    )
    parser.add_argument(
        "--policy",
        type=Path,
        default=TEMPLATE,
        metavar="FILE",
        help="the policy template naming the statements (default: the repository's "
        "infra/terraform/policies/mwaa_execution.json.tpl)",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Probe, print one line per action, then what to fix."""
    statements = read_statements(args.policy)
    raw, where = read_config(args.config)
    try:
        config = parse_config(raw)
    except ConfigError as exc:
        print(f"{where}: {exc}\nFix it first: python -m finops_digest check-config")
        return PROBLEMS

    _quiet_airflow()
    from botocore.exceptions import BotoCoreError, ClientError

    from finops_digest.aws.clients import aws_client
    from finops_digest.cli import (
        archive_probes,
        catalog_probes,
        data_export_probes,
        service_probes,
    )

    try:
        identity = aws_client("sts").get_caller_identity()
    except (BotoCoreError, ClientError) as exc:
        print(f"ERROR     sts:GetCallerIdentity (needs no permission), so nothing probed: {exc}")
        return PROBLEMS
    # A check of today's access, not a billing day's run: the clock is the right date here. Two
    # days back is a finished day in every time zone.
    today = datetime.now(UTC).date()
    session = Session(config, aws_client, identity["Account"], today, today - timedelta(days=2))
    print(f"check-aws: {where}, as {identity['Arn']}, statements of {args.policy.name}")
    probes = [
        *archive_probes.probes(config),
        *service_probes.probes(config),
        *catalog_probes.probes(config),
        *data_export_probes.probes(config),
    ]
    results = [replace(outcome(probe, session), statement=probe.statement) for probe in probes]
    probed = {r.action.lower() for r in results} | {p.action.lower() for p in probes}
    results += [
        Result("SKIPPED", action, "", "check-aws has no probe for it")
        for actions in statements.values()
        for action in actions
        if action.lower() not in probed
    ]
    return report(results, statements)


def _quiet_airflow() -> None:
    """Each hook logs its fallback to boto3's chain (no ``aws_default`` connection) at WARNING on
    stdout, which would bury the report; Airflow reads its level once, when first imported."""
    if "airflow" not in sys.modules:
        os.environ.setdefault("AIRFLOW__LOGGING__LOGGING_LEVEL", "ERROR")


def outcome(probe: Probe, session: Session) -> Result:
    """Run one probe and classify its answer."""
    from botocore.exceptions import ClientError

    if probe.call is None:
        return Result("SKIPPED", probe.action, probe.target, probe.skip)
    try:
        return Result("OK", probe.action, probe.target, probe.call(session))
    except Skip as why:
        return Result("SKIPPED", probe.action, probe.target, str(why))
    except ClientError as exc:
        error = exc.response.get("Error", {})
        code, message = str(error.get("Code", "")), " ".join(str(error.get("Message", "")).split())
        shown = message if len(message) <= MESSAGE_CHARS else message[: MESSAGE_CHARS - 3] + "..."
        said = f"{exc.operation_name}: {code}" + (f" ({shown})" if shown else "")
        if code in DENIED:
            kms = probe.kms_action and any(m in message.lower() for m in KMS_MARKERS)
            return Result("MISSING", probe.kms_action if kms else probe.action, probe.target, said)
        if code in NOT_FOUND or (code == "InvalidRequestException" and "not found" in message):
            if probe.absent_ok:
                return Result("OK", probe.action, probe.target, probe.absent_ok)
            return Result("NOT FOUND", probe.action, probe.target, said)
        return Result("ERROR", probe.action, probe.target, said)
    except (FinopsError, ProbeProblem) as exc:
        return Result("ERROR", probe.action, probe.target, str(exc))
    except Exception as exc:  # noqa: BLE001 - one odd answer must not hide the other probes
        return Result("ERROR", probe.action, probe.target, f"{type(exc).__name__}: {exc}")


def _sids(result: Result, statements: dict[str, tuple[str, ...]], claimed: set[str]) -> list[str]:
    """The statements granting a result's action: its probe's own, or those no probe claims."""
    if result.statement:
        return [result.statement]
    granting = granted_by(statements, result.action)
    return [sid for sid in granting if sid not in claimed] or granting


def report(results: list[Result], statements: dict[str, tuple[str, ...]]) -> int:
    """One line per result, then a summary naming the statements to fix; the exit code."""
    claimed = {r.statement for r in results if r.statement}
    for r in results:
        sids = ", ".join(_sids(r, statements, claimed)) or "in no statement of the policy"
        target = f" {r.target}:" if r.target else ""
        print(f"{r.status:<9} {r.action} [{sids}]{target} {r.detail}")
    counts = Counter(r.status for r in results)
    problems = sum(counts[s] for s in PROBLEM_STATUSES)
    if not problems:
        print(
            f"check-aws: all {counts['OK']} probes OK; "
            f"{counts['SKIPPED']} not probed (reasons above)"
        )
        return OK
    print(
        "check-aws: " + ", ".join(f"{counts[s]} {s.lower()}" for s in PROBLEM_STATUSES if counts[s])
    )
    missing: dict[str, list[str]] = {}
    for r in results:
        if r.status == "MISSING":
            for sid in _sids(r, statements, claimed) or ["(no statement yet)"]:
                missing.setdefault(sid, []).append(r.action)
    for sid, actions in missing.items():
        print(f"  grant {', '.join(dict.fromkeys(actions))}: statement {sid}")
    return PROBLEMS
