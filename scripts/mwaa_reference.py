"""What an MWAA image holds and how it installs packages, read from the copies in ``mwaa/``.

One home for the facts the bundle (``mwaa_bundle.py``), its check (``mwaa_check.py``) and the
import check (``mwaa_imports.py``) share: which files describe an image version, where MWAA puts
the bundle, and what a requirements file pins.
"""

from __future__ import annotations

import re
from pathlib import Path

from packaging.requirements import Requirement

REPO = Path(__file__).resolve().parents[1]
MWAA_DIR = REPO / "mwaa"
DEFAULT_VERSION = "3.3.1"
# MWAA's Airflow home; the bucket's dags/ is synced to <home>/dags, requirements.txt to
# <home>/requirements/requirements.txt (images/airflow/<v>/run.sh: MWAA__CORE__REQUIREMENTS_PATH).
MWAA_HOME = "/usr/local/airflow"

# bootstrap/02-airflow/001-install-required-pip-packages.sh of the 3.2.1 and 3.3.1 images: what the
# image installs, in one pip command with the constraints file (and the essential constraints).
IMAGE_REQUIREMENTS = (
    "apache-airflow-providers-amazon[aiobotocore]",
    "apache-airflow[celery,statsd]=={version}",
    "apache-airflow-core[gunicorn]=={version}",
    "apache-airflow-providers-postgres",
    "apache-airflow-providers-fab",
    "celery[sqs]",
    "boto3-stubs[logs]",
    "boto3-stubs[sqs]",
    "psycopg2",
    "pycurl",
    "watchtower",
    "fluent-logger",
    "virtualenv",
    "apache-airflow-providers-standard",
)
# psycopg2 builds from source against libpq (pg_config, a C compiler): MWAA needs it for its Postgres
# metadata DB, the check runs on SQLite, and nothing in the bundle imports it.
LEFT_OUT_OF_THE_REPLICA = {
    "psycopg2": "builds from source against libpq; only MWAA's Postgres uses it"
}


def constraints_name(version: str) -> str:
    """File name of the image's constraints, as committed in ``mwaa/`` and shipped in ``dags/``."""
    return f"constraints-{version}-py3.12.txt"


def constraints_file(version: str) -> Path:
    return _existing(MWAA_DIR / constraints_name(version), version)


def essential_constraints_file(version: str) -> Path:
    return _existing(MWAA_DIR / f"essential-constraints-{version}.txt", version)


def image_packages_file(version: str) -> Path:
    return _existing(MWAA_DIR / f"image-packages-{version}.txt", version)


def constraint_line(version: str) -> str:
    """The first line of the bundle's requirements.txt: the constraints shipped in ``dags/``."""
    return f'--constraint "{MWAA_HOME}/dags/{constraints_name(version)}"'


def version_of_constraint_line(line: str) -> str | None:
    """``3.3.1`` for ``constraint_line("3.3.1")``; None for any other line."""
    pattern = re.escape(constraint_line("@")).replace("@", r"(\d+\.\d+\.\d+)")
    match = re.fullmatch(pattern, line.strip())
    return match.group(1) if match else None


def normalize(name: str) -> str:
    """PEP 503 name: ``Flask_Login`` and ``flask-login`` are one distribution."""
    return re.sub(r"[-_.]+", "-", name).lower()


def read_pins(path: Path) -> dict[str, str]:
    """``name==version`` lines of a constraints or package list, by normalized name."""
    pins = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if "==" in line and not line.startswith("-"):
            name, version = line.split("==", 1)
            pins[normalize(name.split("[")[0])] = version.split(";")[0].strip()
    return pins


def read_requirements(text: str) -> list[Requirement]:
    """The requirement lines of a requirements file (options such as --constraint skipped)."""
    lines = (line.split(" #", 1)[0].strip() for line in text.splitlines())
    return [Requirement(line) for line in lines if line and not line.startswith(("#", "-"))]


def referenced_files(requirements: str) -> list[Path]:
    """Absolute file paths named by option lines (``--constraint "/x"``, ``-r /y``)."""
    paths = []
    for line in requirements.splitlines():
        match = re.match(r"\s*(?:-c|--constraint|-r|--requirement)[\s=]+[\"']?([^\"'\s]+)", line)
        if match and match.group(1).startswith("/"):
            paths.append(Path(match.group(1)))
    return paths


def image_requirements(version: str) -> list[str]:
    """What the image's bootstrap installs, minus what a local replica cannot build."""
    targets = (r.format(version=version) for r in IMAGE_REQUIREMENTS)
    return [t for t in targets if Requirement(t).name not in LEFT_OUT_OF_THE_REPLICA]


def _existing(path: Path, version: str) -> Path:
    if not path.is_file():
        known = sorted(p.name.split("-")[1] for p in MWAA_DIR.glob("constraints-*-py3.12.txt"))
        raise SystemExit(f"no MWAA {version} reference data ({path.name}); mwaa/ has {known}")
    return path
