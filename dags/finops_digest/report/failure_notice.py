"""Tell people when a run fails: an SES email (the Amazon provider's notifier) to
``failure_recipients``, with the DAG, task, billing day, error and a link to the log.

The recipients live in ``finops_config``, which is only read at run time, so the notifier is built
inside the callback rather than at DAG parse time. Import-light: the DAG file references
``notify_failure`` at parse time, and boto3 is imported only when a notice is sent.
"""

from __future__ import annotations

import logging
import re
from typing import Any

log = logging.getLogger(__name__)

# What a notice never carries, even when an AWS error message does: role and resource ARNs,
# access key ids, and anything after "Traceback" (the log has the details; the mail goes wide).
_REDACTIONS = (
    (re.compile(r"arn:aws[a-z-]*:[^\s\"',;)]*"), "arn:…"),
    (re.compile(r"\b(AKIA|ASIA)[A-Z0-9]{16}\b"), "<access key id>"),
    (re.compile(r"\b\d{12}\b"), "<account id>"),
    (re.compile(r"Traceback \(most recent call last\).*", re.S), "(traceback in the task log)"),
)


def redact(text: str) -> str:
    """``text`` without ARNs, access key ids, account ids or tracebacks."""
    for pattern, replacement in _REDACTIONS:
        text = pattern.sub(replacement, text)
    return text


def failure_details(context: dict[str, Any]) -> dict[str, Any]:
    """What the notice says, from the failed task's context."""
    from finops_digest.billing_day import resolve_billing_day
    from finops_digest.errors import FinopsError

    ti = context["ti"]
    try:
        dag_run = context.get("dag_run")
        billing_date = resolve_billing_day(
            (context.get("params") or {}).get("billing_date"),
            context.get("logical_date"),
            getattr(dag_run, "run_after", None),
            _run_type(dag_run),
        ).isoformat()
    except FinopsError as exc:
        billing_date = f"unknown ({exc})"
    exception = context.get("exception")
    notes = "; ".join(getattr(exception, "__notes__", ()))  # e.g. which AWS call timed out
    return {
        "dag_id": ti.dag_id,
        "task_id": ti.task_id,
        "map_index": getattr(ti, "map_index", None),
        "run_id": ti.run_id,
        "try_number": getattr(ti, "try_number", None),
        "billing_date": billing_date,
        "error": redact(
            f"{type(exception).__name__}: {exception}" + (f" ({notes})" if notes else "")
            if exception
            else "unknown error"
        ),
        "log_url": ti.log_url,
    }


def _first_failure_of_the_run(config: Any, details: dict[str, Any]) -> bool:
    """Claim the run's one notice with a conditional create: the first failed task (of 50
    mapped extracts failing at once, say) sends it, the others do not. A claim that cannot be
    checked (S3 unreachable) sends, so a failure is never left untold."""
    from botocore.exceptions import ClientError

    from finops_digest.aws.clients import aws_client
    from finops_digest.store.layout import failure_notice_key

    try:
        aws_client("s3").put_object(
            Bucket=config.archive_bucket,
            Key=failure_notice_key(details["dag_id"], details["run_id"]),
            Body=(f'{{"task_id": "{details["task_id"]}"}}').encode(),
            IfNoneMatch="*",
        )
    except ClientError as exc:
        return exc.response["Error"]["Code"] not in (
            "PreconditionFailed",
            "ConditionalRequestConflict",
        )
    return True


def _run_type(dag_run: Any) -> str | None:
    run_type = getattr(dag_run, "run_type", None)
    return getattr(run_type, "value", run_type)


def notify_failure(context: dict[str, Any]) -> None:
    """``on_failure_callback``: email ``failure_recipients`` through SES.

    Never raises: a notice that cannot be sent is logged, and the task's own failure stands.
    """
    from finops_digest.config import load_config
    from finops_digest.errors import FinopsError

    try:
        config = load_config()
    except FinopsError as exc:
        log.error("No failure notice sent: finops_config is invalid: %s", exc)
        return
    if not config.failure_recipients:
        log.info("No failure_recipients in finops_config: no failure notice sent")
        return
    try:
        from airflow.providers.amazon.aws.notifications.ses import SesNotifier

        from finops_digest.aws.clients import AWS_CONN_ID
        from finops_digest.report.emails import render

        details = failure_details(context)
        if not _first_failure_of_the_run(config, details):
            log.info("The run's failure notice already went out: not sent again")
            return
        notifier = SesNotifier(
            aws_conn_id=AWS_CONN_ID,
            mail_from=config.ses_sender,
            to=list(config.failure_recipients),
            subject=(
                f"[FinOps] FAILED {details['dag_id']}.{details['task_id']} "
                f"for billing day {details['billing_date']}"
            ),
            html_content=render("failure_notice.html.j2", **details),
            custom_headers={
                "X-FinOps-Kind": "failure",
                "X-FinOps-Billing-Date": details["billing_date"],
            },
        )
        # notify() rather than notifier(context): the error text is data, not a Jinja template.
        notifier.notify(context)
        log.info("Failure notice sent to %d recipient(s)", len(config.failure_recipients))
    except Exception:
        log.exception("Failure notice could not be sent")
