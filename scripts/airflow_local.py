"""`make airflow`: the Airflow UI on localhost against the local AWS sandbox, without Docker.

Starts the sandbox, then Airflow 3's components from .venv (api-server, scheduler, dag-processor,
triggerer; LocalExecutor, SQLite) with an Airflow home under .airflow/ui, `finops_config` and the
AWS environment pointing at the sandbox, and prints the URLs (the UI, and the drill-through dashboard
that plugins/finops_dashboard.py mounts in the API server) and the login. Ctrl-C stops everything.
The same start/stop code runs the backfill test (tests/deploy/test_local_airflow.py).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "dags")]

from sandbox import SANDBOX_DEFAULTS  # noqa: E402
from scripts.local_env import (  # noqa: E402
    airflow_env,
    aws_env,
    migrate_db,
    pipeline_config,
    variable_env,
)

ALL_COMPONENTS = ("api-server", "scheduler", "dag-processor", "triggerer")
LOGIN = ("admin", "admin")
# Where plugins/finops_dashboard.py mounts the dashboard (its URL_PREFIX; a test checks they agree).
DASHBOARD_PATH = "/finops-dashboard/"


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def live_members(process_group: int) -> list[int]:
    """The pids of a process group's members that still run (not zombies waiting to be reaped:
    a killed worker's orphans are reaped by PID 1, which in a container may never do so)."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            # pid (comm) state ppid pgrp ...: comm may hold spaces, so split after its ")".
            state, _ppid, pgrp = stat.read_text().rsplit(")", 1)[1].split()[:3]
            if int(pgrp) == process_group and state not in ("Z", "X"):
                members.append(int(stat.parent.name))
    return members


def _wait_for(what: str, ready, timeout: float, processes: list[subprocess.Popen]) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for process in processes:
            if process.poll() is not None:
                raise RuntimeError(
                    f"{process.args[-1]} exited with {process.returncode} while "
                    f"waiting for {what}; see its log"
                )
        try:
            if ready():
                return
        except OSError:
            pass
        time.sleep(0.5)
    raise TimeoutError(f"{what} not ready after {timeout:.0f}s")


@dataclass
class LocalAirflow:
    """Running sandbox + Airflow components, each in its own process group."""

    home: Path
    port: int
    env: dict[str, str]
    sandbox_url: str = ""
    processes: list[subprocess.Popen] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://localhost:{self.port}"

    @property
    def dashboard_url(self) -> str:
        return f"{self.url}{DASHBOARD_PATH}"

    def airflow(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        """Run an `airflow` CLI command in this environment."""
        return subprocess.run(
            [sys.executable, "-m", "airflow", *args],
            env=self.env,
            cwd=self.home,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def stop(self) -> None:
        """SIGTERM every process group (components fork workers), then SIGKILL stragglers."""
        for process in reversed(self.processes):
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 20
        for process in reversed(self.processes):
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)  # workers left in the group
            process.wait()
        # SIGKILL is delivered asynchronously: wait until no member of any group still runs.
        groups = [process.pid for process in self.processes]
        deadline = time.monotonic() + 10
        while any(live_members(g) for g in groups) and time.monotonic() < deadline:
            time.sleep(0.2)
        self.processes.clear()

    def __enter__(self) -> LocalAirflow:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def stack_env(home: Path, port: int, sandbox_url: str, config: dict) -> dict[str, str]:
    """Environment of every component: this repo's DAG, the sandbox, LocalExecutor on SQLite."""
    return {
        **os.environ,
        **airflow_env(home),
        **aws_env(sandbox_url),
        **variable_env(config),
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__PARALLELISM": "8",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API__BASE_URL": f"http://localhost:{port}",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://localhost:{port}/execution/",
        "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_hex(16),
        "AIRFLOW__CORE__AUTH_MANAGER": (
            "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
        ),
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{LOGIN[0]}:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(home / "passwords.json"),
        # Pick up DAG file edits quickly on a laptop.
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "10",
        "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "False",
    }


def start(
    home: Path,
    port: int | None = None,
    components: tuple[str, ...] = ALL_COMPONENTS,
    config: dict | None = None,
    timeout: float = 180,
    extra_env: dict[str, str] | None = None,
) -> LocalAirflow:
    """Start the sandbox and the Airflow components; returns once the API server answers.

    ``extra_env`` overrides Airflow settings of every component (e.g. for a test)."""
    home = home.resolve()
    logs = home / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    stack = LocalAirflow(home=home, port=port, env={})
    try:
        port_file = home / "sandbox.port"
        port_file.unlink(missing_ok=True)
        stack.processes.append(
            _spawn(
                [sys.executable, "-m", "sandbox", "serve", "--port-file", str(port_file)],
                logs / "sandbox.log",
                {**os.environ, "PYTHONPATH": str(REPO)},
            )
        )
        _wait_for("the sandbox", port_file.exists, timeout, stack.processes)
        stack.sandbox_url = f"http://127.0.0.1:{port_file.read_text().strip()}"
        stack.env = stack_env(
            home, port, stack.sandbox_url, config or pipeline_config(SANDBOX_DEFAULTS)
        ) | (extra_env or {})
        (home / "passwords.json").write_text(json.dumps({LOGIN[0]: LOGIN[1]}) + "\n")
        migrate_db(stack.env)
        for component in components:
            stack.processes.append(
                _spawn(
                    [sys.executable, "-m", "airflow", component],
                    logs / f"{component}.log",
                    stack.env,
                    cwd=home,
                )
            )
        if "api-server" in components:
            _wait_for(
                "the API server",
                lambda: urllib.request.urlopen(f"{stack.url}/api/v2/monitor/health", timeout=2),
                timeout,
                stack.processes,
            )
    except BaseException:
        stack.stop()
        raise
    return stack


def _spawn(args: list[str], log: Path, env: dict[str, str], cwd: Path = REPO) -> subprocess.Popen:
    with open(log, "ab") as out:
        # A new session per component, so stop() can signal it and every worker it forked.
        return subprocess.Popen(
            args, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=cwd, start_new_session=True
        )


def main(argv: list[str] | None = None) -> int:
    """`python scripts/airflow_local.py [--home .airflow/ui] [--port 8080]`."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, default=REPO / ".airflow" / "ui")
    parser.add_argument("--port", type=int, default=8080)
    args = parser.parse_args(argv)
    stopping = False

    def interrupt(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, interrupt)
    signal.signal(signal.SIGINT, interrupt)
    stack = start(args.home, args.port)
    try:
        print(
            f"""
Airflow UI   {stack.url}   login {LOGIN[0]} / {LOGIN[1]}
Dashboard    {stack.dashboard_url}   (same login; "FinOps dashboard" in the UI's navigation)
AWS sandbox  {stack.sandbox_url}   (finops_config and AWS_ENDPOINT_URL point there)
Logs         {stack.home / "logs"}

The sandbox has cost data from 2025-01-01. Trigger finops_daily_digest with billing_date 2025-09-14
(a spike day), or backfill a range; the scheduler runs it:
  AIRFLOW_HOME={stack.home} .venv/bin/airflow backfill create --dag-id finops_daily_digest \\
      --from-date 2025-09-01 --to-date 2025-09-04   # billing days 09-01 .. 09-03
(the DAG is unpaused, so the scheduler also runs the latest day on its own). The dashboard shows
the days those runs have archived (until the first one has, it says nothing is archived yet).
Ctrl-C stops Airflow and the sandbox.""",
            flush=True,
        )
        while not stopping:
            for process in stack.processes:
                if process.poll() is not None:
                    print(f"{process.args[-1]} exited ({process.returncode}); stopping", flush=True)
                    stopping = True
            time.sleep(1)
    finally:
        stack.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
