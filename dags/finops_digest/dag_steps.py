"""How a DAG task runs a step: ``steps.<name>(billing day, config, aws_client, ...)``."""

from __future__ import annotations

from typing import Any


def run_step(name: str, plan: dict, *args: Any, **kwargs: Any) -> Any:
    """Run ``finops_digest.steps.<name>`` for the planned billing day (``plan["billing_date"]``).

    Wrong input or configuration cannot be fixed by retrying, so such errors fail the task at once;
    anything else (throttling, timeouts) goes through the task's retries.
    """
    from datetime import date

    from airflow.sdk.exceptions import AirflowFailException

    from finops_digest import steps
    from finops_digest.aws.clients import aws_client
    from finops_digest.config import load_config
    from finops_digest.errors import FinopsError

    try:
        step = getattr(steps, name)
        return step(
            date.fromisoformat(plan["billing_date"]), load_config(), aws_client, *args, **kwargs
        )
    except FinopsError as exc:
        raise AirflowFailException(f"{name}: {exc}") from exc
