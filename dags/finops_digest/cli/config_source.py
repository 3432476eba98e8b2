"""Where a ``finops_config`` comes from for a check: a file, stdin, or what the DAG would read."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from finops_digest.cli.exits import UsageError
from finops_digest.config import VARIABLE_NAME

# Airflow's environment-variable secrets backend: what the DAG reads before the metadata DB.
ENV_NAME = f"AIRFLOW_VAR_{VARIABLE_NAME.upper()}"


def read_config(source: str | None) -> tuple[str | None, str]:
    """The raw value and where it came from: ``source`` (a path, or ``-`` for stdin), else the
    environment variable, else the Airflow Variable (None when neither is set or reachable)."""
    if source == "-":
        return sys.stdin.read(), "stdin"
    if source:
        try:
            return Path(source).read_text(), source
        except OSError as exc:
            raise UsageError(f"cannot read {source}: {exc.strerror or exc}") from exc
    if ENV_NAME in os.environ:
        return os.environ[ENV_NAME], ENV_NAME
    return _airflow_variable(), f"the Airflow Variable {VARIABLE_NAME!r}"


def _airflow_variable() -> str | None:
    """The Variable as the DAG's ``load_config`` reads it; None if Airflow cannot be asked (no
    metadata DB here), so the check reports "not set" rather than a traceback."""
    try:
        from airflow.sdk import Variable

        return Variable.get(VARIABLE_NAME, default=None)
    except Exception as exc:  # noqa: BLE001 - any failure here means "not reachable"
        print(f"(the Airflow Variable is not reachable: {exc})", file=sys.stderr)
        return None
