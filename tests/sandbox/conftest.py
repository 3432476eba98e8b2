"""A started sandbox per test module, and boto3 clients on it."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config

from sandbox import Sandbox


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    """A fresh sandbox for the module; AWS_* env points this process's boto3 at it."""
    with Sandbox.start() as sb:
        saved = {k: os.environ.get(k) for k in sb.env()}
        os.environ.update(sb.env())
        yield sb
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


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
