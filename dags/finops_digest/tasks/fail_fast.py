"""The one place where "retrying cannot fix this" becomes an immediate task failure."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from finops_digest.errors import FinopsError

P = ParamSpec("P")
R = TypeVar("R")


def fail_fast(function: Callable[P, R]) -> Callable[P, R]:
    """Run a task body; a :class:`FinopsError` (wrong input, configuration or data) fails the
    task at once instead of going through its retries, naming the task. Anything else (throttling,
    timeouts, a busy day lock) is left to the task's retries."""

    @functools.wraps(function)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return function(*args, **kwargs)
        except FinopsError as exc:
            from airflow.sdk.exceptions import AirflowFailException

            raise AirflowFailException(f"{function.__name__}: {exc}") from exc

    return run
