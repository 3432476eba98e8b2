"""docker-compose.yaml gives an Airflow 3.3.1 stack wired to the sandbox (no Docker engine here:
the file's structure is what is checked)."""

from __future__ import annotations

import shlex

import pytest
import yaml

from finops_digest.aws import cost_explorer
from finops_digest.config import parse_config
from sandbox import SANDBOX_DEFAULTS
from sandbox.config import SANDBOX_TODAY
from tests.deploy.policy import REPO

AIRFLOW_SERVICES = (
    "airflow-apiserver",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-triggerer",
)
COMMANDS = {
    "airflow-apiserver": "api-server",
    "airflow-scheduler": "scheduler",
    "airflow-dag-processor": "dag-processor",
    "airflow-triggerer": "triggerer",
}


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((REPO / "docker-compose.yaml").read_text())


def test_the_stack_has_airflow_postgres_and_the_sandbox(compose):
    services = compose["services"]
    assert set(services) >= {"postgres", "sandbox", "airflow-init", *AIRFLOW_SERVICES}
    for name, command in COMMANDS.items():
        service = services[name]
        assert service["image"].endswith("apache/airflow:3.3.1-python3.12}"), name
        assert service["command"] == command, name
    from scripts.local_env import pool_command

    init = services["airflow-init"]["command"][-1]
    assert init.startswith("airflow db migrate && ")
    assert shlex.split(init.split(" && ", 1)[1]) == ["airflow", *pool_command()]
    assert "8080:8080" in services["airflow-apiserver"]["ports"]


def test_repository_folders_are_mounted_where_airflow_and_the_library_look(compose):
    for name in AIRFLOW_SERVICES:
        env = compose["services"][name]["environment"]
        mounts = {v.split(":")[0]: v.split(":")[1] for v in compose["services"][name]["volumes"]}
        assert mounts["./dags"] == "/opt/airflow/dags", name
        assert mounts["./plugins"] == "/opt/airflow/plugins", name
        assert mounts["./include"] == env["FINOPS_INCLUDE_DIR"] == "/opt/airflow/include", name
        # The DAG's run-time requirements, installed as MWAA installs them.
        assert mounts["./requirements.txt"] == "/opt/airflow/requirements.txt", name
        assert env["_PIP_ADDITIONAL_REQUIREMENTS"] == "-r /opt/airflow/requirements.txt", name
    sandbox = compose["services"]["sandbox"]
    assert "./sandbox:/opt/finops/sandbox:ro" in sandbox["volumes"]
    assert sandbox["environment"]["PYTHONPATH"] == sandbox["working_dir"] == "/opt/finops"


def test_airflow_reaches_aws_only_through_the_sandbox_with_a_valid_finops_config(compose):
    sandbox = compose["services"]["sandbox"]
    assert sandbox["command"] == [
        "python",
        "-m",
        "sandbox",
        "serve",
        "--host",
        "0.0.0.0",
        "--port",
        "5000",
    ]
    assert "moto[server]" in sandbox["environment"]["_PIP_ADDITIONAL_REQUIREMENTS"]
    for name in AIRFLOW_SERVICES:
        env = compose["services"][name]["environment"]
        assert env["AWS_ENDPOINT_URL"] == "http://sandbox:5000", name
        assert env["AWS_ACCESS_KEY_ID"] == "testing", name
        # The pipeline counts Cost Explorer's 14 months from the sandbox's today, not the clock.
        assert env[cost_explorer.TODAY_ENV] == SANDBOX_TODAY.isoformat(), name
        assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"].startswith(
            "http://airflow-apiserver:8080/"
        )
        config = parse_config(env["AIRFLOW_VAR_FINOPS_CONFIG"])  # raises on any invalid key
        assert config.archive_bucket == SANDBOX_DEFAULTS["archive_bucket"]
        assert config.athena_workgroup == SANDBOX_DEFAULTS["athena_workgroup"]
        assert config.ses_sender == SANDBOX_DEFAULTS["ses_sender"]
        assert config.failure_recipients


def test_every_long_running_service_has_a_healthcheck_and_waits_for_its_dependencies(compose):
    services = compose["services"]
    for name in ("postgres", "sandbox", *AIRFLOW_SERVICES):
        assert services[name]["healthcheck"]["test"], name
    for name in AIRFLOW_SERVICES:
        depends = services[name]["depends_on"]
        assert depends["postgres"]["condition"] == "service_healthy"
        assert depends["sandbox"]["condition"] == "service_healthy"
        assert depends["airflow-init"]["condition"] == "service_completed_successfully"
    assert "/_sandbox/health" in " ".join(services["sandbox"]["healthcheck"]["test"])
    assert "8974/health" in " ".join(services["airflow-scheduler"]["healthcheck"]["test"])
    assert (
        services["airflow-scheduler"]["environment"]["AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK"]
        == "true"
    )
