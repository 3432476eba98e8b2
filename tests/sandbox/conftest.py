"""A started sandbox per test module, and boto3 clients on it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import boto3
import pytest
from botocore.config import Config

from sandbox import Sandbox


@pytest.fixture(scope="module")
def aws(sandbox: Sandbox) -> Callable[..., Any]:
    """boto3 client factory on the sandbox; retries off so injected errors surface at once."""

    def client(service: str, attempts: int = 1) -> Any:
        return boto3.client(
            service,
            endpoint_url=sandbox.endpoint_url,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            config=Config(retries={"total_max_attempts": attempts, "mode": "standard"}),
        )

    return client
