"""Tell people when a run fails: an SES email (the Amazon provider's notifier) to
``failure_recipients``, with the DAG, task, billing day, error and a link to the log.

The recipients live in ``finops_config``, which is only read at run time, so the notifier is built
inside the callback rather than at DAG parse time. Import-light: the DAG file references
``notify_failure`` at parse time, and boto3 is imported only when a notice is sent.
"""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)


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
        "error": (
            f"{type(exception).__name__}: {exception}" + (f" ({notes})" if notes else "")
            if exception
            else "unknown error"
        ),
        "log_url": ti.log_url,
    }


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
