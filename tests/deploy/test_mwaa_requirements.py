"""requirements.txt installs on MWAA with nothing downloaded but the packages: its --constraint line
names the constraints file the bundle ships, and its pins are the constraints' pins (no install
here; `make mwaa-check` installs it)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from scripts.mwaa_bundle import EXPECTED_CONSTRAINT, build, requirements_for
from scripts.mwaa_reference import (
    constraints_file,
    normalize,
    read_pins,
    read_requirements,
    referenced_files,
    version_of_constraint_line,
)
from tests.deploy.policy import REPO

REQUIREMENTS = (REPO / "requirements.txt").read_text()


def test_requirements_start_with_the_bundled_constraints_and_pin_their_versions():
    assert REQUIREMENTS.splitlines()[0] == EXPECTED_CONSTRAINT
    assert (
        EXPECTED_CONSTRAINT == '--constraint "/usr/local/airflow/dags/constraints-3.3.1-py3.12.txt"'
    )
    pins = read_pins(constraints_file("3.3.1"))
    listed = {normalize(r.name): str(r.specifier) for r in read_requirements(REQUIREMENTS)}
    assert set(listed) == {
        "pyarrow",
        "numpy",
        "matplotlib",
        "apache-airflow-providers-slack",
        "slack-sdk",
    }
    for name, specifier in listed.items():
        assert specifier.startswith("=="), name
        if name in pins:  # matplotlib is not in Airflow's constraints: its pin is ours
            assert specifier == f"=={pins[name]}", name


def test_dev_pins_never_contradict_the_constraints_the_dev_venv_installs_under():
    """make installs requirements-dev.txt with --constraint mwaa/constraints-3.3.1-py3.12.txt."""
    pins = read_pins(constraints_file("3.3.1"))
    dev = read_requirements((REPO / "requirements-dev.txt").read_text())
    assert "--constraint $(DEV_CONSTRAINTS)" in (REPO / "Makefile").read_text()
    for requirement in dev:
        name = normalize(requirement.name)
        if name in pins:
            assert str(requirement.specifier) == f"=={pins[name]}", requirement


def test_the_bundle_ships_the_constraints_file_its_first_line_names(tmp_path):
    bundle = build(tmp_path / "mwaa")
    first = (bundle / "requirements.txt").read_text().splitlines()[0]
    [named] = referenced_files(first)
    assert named == Path("/usr/local/airflow/dags/constraints-3.3.1-py3.12.txt")
    shipped = bundle / "dags" / named.name
    assert shipped.read_bytes() == constraints_file("3.3.1").read_bytes()


def test_a_build_for_another_image_follows_its_constraints(tmp_path):
    bundle = build(tmp_path / "mwaa", mwaa_version="3.2.1")
    text = (bundle / "requirements.txt").read_text()
    assert version_of_constraint_line(text.splitlines()[0]) == "3.2.1"
    pins = {r.name: str(r.specifier) for r in read_requirements(text)}
    assert pins == {
        "pyarrow": "==23.0.1",
        "numpy": "==2.4.4",
        "matplotlib": "==3.11.2",
        "apache-airflow-providers-slack": "==9.10.0",
        "slack_sdk": "==3.41.0",
    }
    assert (bundle / "dags" / "constraints-3.2.1-py3.12.txt").is_file()
    assert not (bundle / "dags" / "constraints-3.3.1-py3.12.txt").exists()


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ('--constraint "https://example.com/c.txt"\npyarrow==25.0.0\n', "must start with"),
        (f"{EXPECTED_CONSTRAINT}\napache-airflow==3.3.1\n", "must not list apache-airflow"),
        (f"{EXPECTED_CONSTRAINT}\npyarrow==24.0.0\n", "pins pyarrow==25.0.0"),
        (f"{EXPECTED_CONSTRAINT}\npyarrow>=25\n", "pin pyarrow>=25 with =="),
        ('--constraint "/usr/local/airflow/dags/constraints-9.9.9-py3.12.txt"\n', "no MWAA 9.9.9"),
    ],
)
def test_a_requirements_file_mwaa_would_reject_fails_the_build(text, complaint):
    with pytest.raises(SystemExit, match=complaint):
        requirements_for(text)


def test_docker_compose_resolves_the_constraint_line_as_mwaa_does():
    """docker-compose.yaml installs the same requirements.txt at container start: the constraints
    file must sit where its first line says, as on MWAA."""
    compose = yaml.safe_load((REPO / "docker-compose.yaml").read_text())
    [named] = referenced_files(REQUIREMENTS.splitlines()[0])
    mounts = compose["x-airflow-common"]["volumes"]
    assert f"./mwaa/{named.name}:{named}:ro" in mounts
