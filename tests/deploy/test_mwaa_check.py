"""The parts of `make mwaa-check` that decide what it proves, tested without installing anything
(`make mwaa-check` itself is the slow test: it runs in `make test`)."""

from __future__ import annotations

import platform
import sys
from pathlib import Path

import pytest

from scripts.mwaa_bundle import EXPECTED_CONSTRAINT
from scripts.mwaa_check import CheckFailed, find_python, lay_out, resolve_like_mwaa, venv_key
from scripts.mwaa_reference import image_requirements


def test_only_mwaas_home_is_moved_under_the_fake_root(tmp_path):
    text = (
        f"{EXPECTED_CONSTRAINT}\n"
        "-r /usr/local/airflow/dags/more.txt\n"
        '--constraint "/opt/elsewhere/c.txt"\n'
        "# /usr/local/airflow/ in a comment stays\n"
        "pyarrow==25.0.0\n"
    )
    lines = resolve_like_mwaa(text, tmp_path).splitlines()
    assert (
        lines[0] == f'--constraint "{tmp_path}/usr/local/airflow/dags/constraints-3.3.1-py3.12.txt"'
    )
    assert lines[1] == f"-r {tmp_path}/usr/local/airflow/dags/more.txt"
    assert lines[2:] == text.splitlines()[2:]


def _bundle(tmp_path: Path, first_line: str, ship: str | None) -> Path:
    bundle = tmp_path / "bundle"
    (bundle / "dags").mkdir(parents=True)
    (bundle / "dags" / "my_dag.py").write_text("")
    if ship:
        (bundle / "dags" / ship).write_text("pyarrow==25.0.0\n")
    (bundle / "requirements.txt").write_text(f"{first_line}\npyarrow==25.0.0\n")
    return bundle


def test_the_bundle_is_laid_out_as_mwaa_lays_it_out(tmp_path):
    bundle = _bundle(tmp_path, EXPECTED_CONSTRAINT, ship="constraints-3.3.1-py3.12.txt")
    home = lay_out(bundle, tmp_path / "root")
    assert home == tmp_path / "root" / "usr" / "local" / "airflow"
    assert sorted(p.name for p in home.iterdir()) == ["dags", "plugins", "requirements"]
    assert list((home / "plugins").iterdir()) == []
    first = (home / "requirements" / "requirements.txt").read_text().splitlines()[0]
    assert first == f'--constraint "{home}/dags/constraints-3.3.1-py3.12.txt"'


def test_a_constraint_line_naming_a_file_the_bundle_lacks_fails_before_pip(tmp_path):
    bundle = _bundle(tmp_path, EXPECTED_CONSTRAINT, ship=None)
    with pytest.raises(CheckFailed, match="dags/constraints-3.3.1-py3.12.txt, which the bundle"):
        lay_out(bundle, tmp_path / "root")


def test_the_cached_venv_is_keyed_on_what_it_installs_not_on_where_the_bundle_lies(tmp_path):
    bundle = _bundle(tmp_path, EXPECTED_CONSTRAINT, ship="constraints-3.3.1-py3.12.txt")
    text = (bundle / "requirements.txt").read_text()
    here = lay_out(bundle, tmp_path / "a")
    there = lay_out(bundle, tmp_path / "b")
    key = venv_key(sys.executable, "3.12.1", "3.3.1", text, here)
    assert key == venv_key(sys.executable, "3.12.1", "3.3.1", text, there)
    assert key != venv_key(sys.executable, "3.12.1", "3.3.1", text + "numpy==2.5.1\n", here)
    assert key != venv_key(sys.executable, "3.12.1", "3.2.1", text, here)
    assert key != venv_key(sys.executable, "3.12.13", "3.3.1", text, here)


def test_the_replica_installs_what_the_image_installs_but_psycopg2():
    targets = image_requirements("3.3.1")
    assert "apache-airflow[celery,statsd]==3.3.1" in targets
    assert "apache-airflow-core[gunicorn]==3.3.1" in targets
    assert "apache-airflow-providers-amazon[aiobotocore]" in targets and "pycurl" in targets
    assert "psycopg2" not in targets and len(targets) == 13


def test_a_python_other_than_3_12_is_used_with_a_loud_warning(capsys):
    python, version = find_python(sys.executable)
    assert python == sys.executable and version == platform.python_version()
    warned = capsys.readouterr().err
    assert ("WARNING" in warned) == (not version.startswith("3.12."))
