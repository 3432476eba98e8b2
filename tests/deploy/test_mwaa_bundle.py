"""The MWAA bundle works where MWAA lays it out: `<home>/dags` (the DAG files with the package beside
them) and an empty `<home>/plugins`, with the repository nowhere on sys.path."""

from __future__ import annotations

import email
import email.policy
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from sandbox import SANDBOX_DEFAULTS, Sandbox
from scripts.local_env import aws_env, migrate_db, pipeline_config, variable_env
from scripts.mwaa_bundle import EXPECTED_CONSTRAINT, build
from tests.deploy.policy import REPO

_PARSE_IN_MWAA_LAYOUT = r"""
import json, sys
from pathlib import Path
from datetime import date
repo = Path(sys.argv[1])
from airflow.configuration import conf
from airflow.dag_processing.dagbag import BundleDagBag
# As MWAA's dag processor and workers load the DAGs folder (the "dags-folder" bundle): the bundle's
# path goes on sys.path, which is how the tasks import finops_digest.
dags = Path(conf.get("core", "dags_folder"))
bag = BundleDagBag(dag_folder=dags, bundle_path=dags, bundle_name="dags-folder")
import finops_digest
from finops_digest import resources
from finops_digest.report.emails import _environment, render
try:
    import sandbox  # lives only in the repository
    sandbox_importable = True
except ImportError:
    sandbox_importable = False
notice = render(
    "failure_notice.html.j2", dag_id="finops_daily_digest", task_id="extract_costs", map_index=3,
    run_id="scheduled__2025-09-15", try_number=3, billing_date="2025-09-14",
    error="ClientError: <throttled>", log_url="http://localhost:8080/dags/x",
)
print(json.dumps({
    "import_errors": {str(k): str(v) for k, v in bag.import_errors.items()},
    "dag_ids": sorted(bag.dag_ids),
    "package": finops_digest.__file__,
    "include_dir": str(resources.include_dir()),
    "templates": sorted(_environment().list_templates()),
    "repo_on_path": [p for p in sys.path if p and Path(p).resolve() in
                     (repo, repo / "plugins", repo / "dags", repo / "include")],
    "sandbox_importable": sandbox_importable,
    "notice": notice,
}))
"""


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Path:
    return build(tmp_path_factory.mktemp("dist") / "mwaa")


@pytest.fixture(scope="module")
def mwaa_home(bundle, tmp_path_factory) -> Path:
    """/usr/local/airflow as MWAA lays it out, with a migrated metadata DB."""
    home = tmp_path_factory.mktemp("usr-local-airflow")
    shutil.copytree(bundle / "dags", home / "dags")
    (home / "plugins").mkdir()
    shutil.copy2(bundle / "requirements.txt", home / "requirements.txt")
    migrate_db({"AIRFLOW_HOME": str(home / "airflow")})  # a metadata DB of its own
    return home


def _mwaa_env(home: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "FINOPS_"))}
    env.pop("PYTHONPATH", None)
    env.update(
        {
            "AIRFLOW_HOME": str(home / "airflow"),
            "AIRFLOW__CORE__DAGS_FOLDER": str(home / "dags"),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(home / "plugins"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            **(extra or {}),
        }
    )
    return env


def test_bundle_holds_the_dag_the_package_with_include_and_mwaa_requirements(bundle):
    assert sorted(p.name for p in (bundle / "dags").iterdir()) == [
        ".airflowignore",
        "constraints-3.3.1-py3.12.txt",  # what requirements.txt's --constraint line opens
        "finops_daily_digest.py",
        "finops_digest",
        "finops_prefetch_costs.py",
    ]
    dags = bundle / "dags"
    names = [p.relative_to(dags).as_posix() for p in dags.rglob("*") if p.is_file()]
    assert "finops_digest/__init__.py" in names and "finops_digest/resources.py" in names
    assert "finops_digest/include/templates/digest.html.j2" in names
    assert "finops_digest/include/sql/partition_totals.sql" in names
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
    assert not (bundle / "plugins.zip").exists(), (
        "no plugins.zip: the dashboard plugin is for self-hosted Airflow"
    )
    assert "finops_digest/" in (dags / ".airflowignore").read_text().splitlines()
    lines = (bundle / "requirements.txt").read_text().splitlines()
    assert lines[0] == EXPECTED_CONSTRAINT
    assert not [line for line in lines if line.lower().startswith("apache-airflow==")]
    assert not (bundle / "startup.sh").exists(), "no startup script is needed"


def test_bundle_is_reproducible(bundle, tmp_path):
    again = build(tmp_path / "mwaa")
    files = sorted(p.relative_to(bundle) for p in bundle.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(again) for p in again.rglob("*") if p.is_file())
    assert all((again / f).read_bytes() == (bundle / f).read_bytes() for f in files)


def test_dag_parses_and_templates_render_from_the_mwaa_layout(mwaa_home, tmp_path):
    result = subprocess.run(
        [sys.executable, "-c", _PARSE_IN_MWAA_LAYOUT, str(REPO)],
        cwd=tmp_path,
        env=_mwaa_env(mwaa_home),
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    found = json.loads(result.stdout.strip().splitlines()[-1])
    assert found["import_errors"] == {}
    assert found["dag_ids"] == ["finops_daily_digest", "finops_prefetch_costs"]
    assert found["repo_on_path"] == [] and found["sandbox_importable"] is False
    package = mwaa_home / "dags" / "finops_digest"
    assert Path(found["package"]).parent == package
    assert Path(found["include_dir"]) == package / "include"
    assert {"digest.html.j2", "digest.txt.j2", "anomaly_alert.html.j2"} <= set(found["templates"])
    assert "ClientError: &lt;throttled&gt;" in found["notice"]


def test_the_whole_dag_runs_from_the_bundle_and_mails_rendered_emails(mwaa_home, tmp_path):
    """`airflow dags test` in the MWAA layout against the sandbox: every template is rendered
    from the bundled package's include/ for real (digest and spike alert)."""
    with Sandbox.start() as sb:
        env = _mwaa_env(
            mwaa_home,
            {**aws_env(sb.endpoint_url), **variable_env(pipeline_config(SANDBOX_DEFAULTS))},
        )
        result = subprocess.run(
            [sys.executable, "-m", "airflow", "dags", "test", "finops_daily_digest", "2025-09-14"],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        sent = [email.message_from_bytes(m, policy=email.policy.default) for m in sb.sent_emails()]
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
    kinds = {m["X-FinOps-Kind"]: m for m in sent}
    assert {"daily-digest", "anomaly-alert"} <= set(kinds)
    html = kinds["daily-digest"].get_body(("html",)).get_content()
    assert "2025" in html and "</html>" in html
