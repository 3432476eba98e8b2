"""`python -m sandbox serve --port-file` runs the sandbox in its own process, controlled by HTTP."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

REPO = Path(__file__).resolve().parents[2]


def _get(url: str) -> object:
    with urllib.request.urlopen(url, timeout=10) as resp:
        return json.loads(resp.read())


def _post(url: str, payload: dict) -> object:
    req = urllib.request.Request(
        url,
        data=json.dumps(payload).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.loads(resp.read())


def test_serve_subprocess_with_control_endpoints(tmp_path):
    port_file = tmp_path / "port"
    proc = subprocess.Popen(
        [sys.executable, "-m", "sandbox", "serve", "--port-file", str(port_file)],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while not port_file.exists():
            assert proc.poll() is None, proc.stdout.read().decode()
            assert time.monotonic() < deadline, "sandbox did not start"
            time.sleep(0.1)
        url = f"http://127.0.0.1:{int(port_file.read_text())}"
        client = lambda s: boto3.client(  # noqa: E731
            s,
            endpoint_url=url,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            config=Config(retries={"total_max_attempts": 1, "mode": "standard"}),
        )
        assert _get(f"{url}/_sandbox/calls") == {}
        _post(
            f"{url}/_sandbox/faults",
            {
                "operation": "ListRoots",
                "error_code": "TooManyRequestsException",
                "count": 1,
                "status": 400,
            },
        )
        with pytest.raises(ClientError) as err:
            client("organizations").list_roots()
        assert err.value.response["Error"]["Code"] == "TooManyRequestsException"
        assert client("organizations").list_roots()["Roots"]
        assert _get(f"{url}/_sandbox/calls")["ListRoots"] == 2
        client("ses").send_raw_email(
            RawMessage={
                "Data": b"From: finops@example.com\r\nTo: a@example.com\r\nSubject: hi\r\n\r\nbody"
            }
        )
        (mail,) = _get(f"{url}/_sandbox/emails")
        assert b"Subject: hi" in base64.b64decode(mail)
        described = _get(f"{url}/_sandbox/organization")
        assert described["spikes"][0]["ou_path"] == "Marketing"
    finally:
        proc.terminate()
        assert proc.wait(timeout=20) == 0
