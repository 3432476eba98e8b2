"""The environment that points Airflow and the DAG at the local sandbox (demo, tests, `make airflow`)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from sandbox.config import SANDBOX_TODAY, TODAY_ENV

REPO = Path(__file__).resolve().parents[1]


def pipeline_config(defaults: dict) -> dict:
    """The ``finops_config`` Variable for the sandbox's provisioned resources."""
    return {
        "archive_bucket": defaults["archive_bucket"],
        "glue_database": defaults["glue_database"],
        "glue_crawler": defaults["glue_crawler"],
        "athena_workgroup": defaults["athena_workgroup"],
        "athena_output_location": defaults["athena_output_location"],
        "ses_sender": defaults["ses_sender"],
        "digest_recipients": ["finops-team@example.com"],
        "alert_recipients": ["finops-oncall@example.com"],
    }


def aws_env(endpoint_url: str, region: str = "us-east-1") -> dict[str, str]:
    """Every boto3 client (through ``aws_default`` or boto3's chain) goes to ``endpoint_url``."""
    return {
        "AWS_ENDPOINT_URL": endpoint_url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": region,
        "AWS_REGION": region,
        # The sandbox's Cost Explorer's today, from which its 14 months of daily costs count.
        TODAY_ENV: SANDBOX_TODAY.isoformat(),
    }


def airflow_env(home: Path) -> dict[str, str]:
    """An Airflow home under the repo, loading only this repo's DAG and plugins."""
    return {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
        "PYTHONPATH": os.pathsep.join([str(REPO / "dags"), str(REPO)]),
    }


def migrate_db(env: dict[str, str]) -> None:
    """``airflow db migrate`` (SQLite under the Airflow home) unless it was done already."""
    home = Path(env["AIRFLOW_HOME"])
    marker = home / ".migrated"
    if marker.exists():
        return
    home.mkdir(parents=True, exist_ok=True)
    for command in (["db", "migrate"], pool_command()):
        subprocess.run(
            [sys.executable, "-m", "airflow", *command],
            env={**os.environ, **env},
            check=True,
            stdout=subprocess.DEVNULL,
        )
    marker.touch()


def pool_command() -> list[str]:
    """``airflow pools set ...``: the pool the Cost Explorer tasks share (Airflow would never
    schedule them without it)."""
    if str(REPO / "dags") not in sys.path:
        sys.path.append(str(REPO / "dags"))
    from finops_digest.pools import (
        COST_EXPLORER_POOL,
        COST_EXPLORER_POOL_DESCRIPTION,
        COST_EXPLORER_POOL_SLOTS,
    )

    return [
        "pools",
        "set",
        COST_EXPLORER_POOL,
        str(COST_EXPLORER_POOL_SLOTS),
        COST_EXPLORER_POOL_DESCRIPTION,
    ]


def variable_env(config: dict) -> dict[str, str]:
    """``finops_config`` as an environment Variable (``AIRFLOW_VAR_FINOPS_CONFIG``)."""
    return {"AIRFLOW_VAR_FINOPS_CONFIG": json.dumps(config)}
