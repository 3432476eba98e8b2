"""Test environment: a fresh Airflow home (set before Airflow is imported) and AWS
pointed at nothing real. Integration tests start the local sandbox themselves."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import boto3
import pytest
from botocore.config import Config

from scripts.local_env import airflow_env, migrate_db

# One Airflow home per test session, so concurrent sessions never share a metadata DB.
AIRFLOW_HOME = Path(tempfile.mkdtemp(prefix="finops-airflow-test-"))
os.environ.update(airflow_env(AIRFLOW_HOME))
for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
    os.environ.pop(name, None)
# Never reach real AWS from a test, even by accident.
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true",
    }
)


@pytest.fixture(scope="session")
def airflow_db() -> None:
    """A migrated metadata DB (SQLite) under the test Airflow home."""
    migrate_db({"AIRFLOW_HOME": str(AIRFLOW_HOME)})


@pytest.fixture(scope="module")
def sandbox(request):
    """A fresh sandbox per test module, with every boto3 client of this process pointed at it;
    a module's ``SANDBOX_OPTIONS`` are passed to ``Sandbox.start`` (e.g. Cost Explorer's today)."""
    from sandbox import Sandbox

    # 100 groups a page (the sandbox's default is 25): every first run reads 95 days of history,
    # and a page costs an HTTP round trip; pagination is still exercised on every day.
    options = {"page_size": 100, **getattr(request.module, "SANDBOX_OPTIONS", {})}
    with Sandbox.start(**options) as sb:
        saved = {k: os.environ.get(k) for k in sb.env()}
        os.environ.update(sb.env())
        yield sb
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.fixture(scope="module")
def aws(sandbox):
    """boto3 client factory on the sandbox; retries off so injected errors surface at once."""

    def client(service: str, attempts: int = 1):
        return boto3.client(
            service,
            endpoint_url=sandbox.endpoint_url,
            region_name="us-east-1",
            config=Config(retries={"total_max_attempts": attempts, "mode": "standard"}),
        )

    return client
