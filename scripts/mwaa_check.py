"""``make mwaa-check``: the MWAA bundle installed, laid out and run as MWAA's image would.

1. Python 3.12 (pyenv's 3.12.1; MWAA runs 3.12.13), or ``python3`` with a loud warning.
2. The bundle (``scripts/mwaa_bundle.py``) for ``--mwaa-version`` (default 3.3.1).
3. MWAA's layout under a fake root: ``<root>/usr/local/airflow/{dags/, plugins/ (empty),
   requirements/requirements.txt}``, Airflow home = that folder, DAGs folder = its ``dags/``.
4. A venv with what the image installs, installed as its bootstrap does (one pip command, the
   image's constraints and MWAA's essential constraints; see ``mwaa/README.md``), then the bundle's
   requirements.txt installed as MWAA installs it (``pip install --constraint <essential> -r
   requirements.txt``, its own ``--constraint`` line resolved to the bundle's copy), then
   ``pip check``. The venv is cached in ``.venv-mwaa-<v>/``, keyed on every input of those installs.
5. Every third-party import of the bundle is provided by the image or listed in requirements.txt
   (``scripts/mwaa_imports.py``), checked with the dev venv before the install (fast) and with the
   replica after it.
6. The DagBag of the DAGs folder loads with no import errors, nothing of the repository on sys.path.
7. ``airflow db migrate``, then ``airflow dags test finops_daily_digest 2025-09-14`` against the
   local sandbox (started from the dev venv this script runs in): the run succeeds and mails the
   digest.

Logs: ``.mwaa-check/<v>/logs/``. Exit status 1 names the phase and what failed.
"""

from __future__ import annotations

import argparse
import email
import email.policy
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from importlib.metadata import packages_distributions
from pathlib import Path
from typing import TypeVar

if __package__ in (None, ""):  # run as `python scripts/mwaa_check.py`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scripts.local_env import aws_env, pipeline_config, variable_env  # noqa: E402
from scripts.mwaa_bundle import build  # noqa: E402
from scripts.mwaa_imports import missing_from_mwaa, third_party_imports  # noqa: E402
from scripts.mwaa_reference import (  # noqa: E402
    DEFAULT_VERSION,
    LEFT_OUT_OF_THE_REPLICA,
    MWAA_HOME,
    REPO,
    constraints_file,
    essential_constraints_file,
    image_packages_file,
    image_requirements,
    normalize,
    read_pins,
    referenced_files,
)

T = TypeVar("T")
PYTHON_VERSION = "3.12.1"  # pyenv's; MWAA's images run 3.12.13
# images/airflow/<v>/python/mwaa/utils/user_requirements.py: USER_REQUIREMENTS_MAX_INSTALL_TIME.
MWAA_REQUIREMENTS_TIMEOUT_S = 9 * 60
# Bump when the way the venv is built changes, so cached venvs are rebuilt.
VENV_RECIPE = 1
_NO_MODULE = re.compile(r"ModuleNotFoundError: No module named '([^']+)'")

_DAGBAG = r"""
import importlib.util, json, os, sys
from pathlib import Path
from airflow.configuration import conf
from airflow.dag_processing.dagbag import BundleDagBag
# As the dag processor loads the DAGs folder (the "dags-folder" bundle, its path on sys.path).
dags = Path(conf.get("core", "dags_folder"))
bag = BundleDagBag(dag_folder=dags, bundle_path=dags, bundle_name="dags-folder")
repo_dirs = set(json.loads(sys.argv[1]))
print(json.dumps({
    "import_errors": {str(k): str(v) for k, v in bag.import_errors.items()},
    "dag_ids": sorted(bag.dag_ids),
    "repo_on_path": [p for p in sys.path if p and os.path.realpath(p) in repo_dirs],
    "sandbox_importable": importlib.util.find_spec("sandbox") is not None,
}))
"""
_DISTRIBUTIONS = r"""
import importlib.metadata as md, json
print(json.dumps({
    "modules": md.packages_distributions(),
    "versions": {d.metadata["Name"]: d.version for d in md.distributions()},
}))
"""


class CheckFailed(Exception):
    """What went wrong, said so that the reader knows what to change."""


class Check:
    """Runs the phases in order, saying which one it is in, and times them."""

    def __init__(self, version: str, total: int) -> None:
        self.version, self.total, self.number = version, total, 0
        self.started = time.monotonic()

    def phase(self, title: str, step: Callable[..., T], *args, **kwargs) -> T:
        self.number += 1
        self.title = title
        print(f"[mwaa-check {self.version}] {self.number}/{self.total} {title} ...", flush=True)
        started = time.monotonic()
        result = step(*args, **kwargs)
        print(
            f"[mwaa-check {self.version}]     done in {time.monotonic() - started:.1f} s",
            flush=True,
        )
        return result

    def elapsed(self) -> float:
        return time.monotonic() - self.started


def say(message: str) -> None:
    print(f"    {message}", flush=True)


def find_python(explicit: str | None) -> tuple[str, str]:
    """``(interpreter, its version)``: ``explicit``, else pyenv's 3.12.1, else python3.12 on PATH,
    else python3 with a loud warning (MWAA runs 3.12: wheels, pins and behaviour may differ)."""
    candidates = [explicit] if explicit else []
    if not explicit:
        prefix = _output(["pyenv", "prefix", PYTHON_VERSION])
        if prefix:
            candidates.append(str(Path(prefix) / "bin" / "python3.12"))
        candidates += ["python3.12", "python3"]
    for candidate in candidates:
        version = _output([candidate, "-c", "import sys; print(sys.version.split()[0])"])
        if not version:
            continue
        if not version.startswith("3.12."):
            bar = "!" * 78
            print(
                f"{bar}\n!! WARNING: the replica runs on {candidate} = Python {version}, not 3.12 "
                f"(pyenv {PYTHON_VERSION} and python3.12 not found or not chosen).\n"
                f"!! MWAA runs Python 3.12.13: wheels, "
                f"constraint pins (numpy 2.5.1 needs 3.12) and behaviour may differ.\n"
                f"!! Install it with `pyenv install {PYTHON_VERSION}` or pass --python.\n{bar}",
                file=sys.stderr,
                flush=True,
            )
        say(f"{candidate} (Python {version})")
        return candidate, version
    raise CheckFailed(f"no usable Python among {candidates}")


def lay_out(bundle: Path, root: Path) -> Path:
    """The bundle where MWAA puts it, under ``root``: returns ``root/usr/local/airflow``."""
    if root.exists():
        shutil.rmtree(root)
    home = root / MWAA_HOME.lstrip("/")
    shutil.copytree(bundle / "dags", home / "dags")
    (home / "plugins").mkdir()
    requirements = home / "requirements" / "requirements.txt"
    requirements.parent.mkdir()
    requirements.write_text(resolve_like_mwaa((bundle / "requirements.txt").read_text(), root))
    for target in referenced_files(requirements.read_text()):
        if target.is_relative_to(home) and not target.is_file():
            raise CheckFailed(
                f"requirements.txt points at {MWAA_HOME}/{target.relative_to(home)}, which the "
                "bundle does not ship: MWAA's pip would fail to open it"
            )
    say(f"home {home} (dags/, empty plugins/, requirements/requirements.txt)")
    return home


def resolve_like_mwaa(requirements: str, root: Path) -> str:
    """``requirements`` with MWAA's home (``/usr/local/airflow``) moved under ``root``.

    MWAA syncs the bucket's dags/ to /usr/local/airflow/dags before it runs pip on requirements.txt,
    so ``--constraint "/usr/local/airflow/dags/<file>"`` opens the bundle's own copy (AWS's guide,
    "Constraints file"). A developer machine cannot write /usr/local/airflow, so the bundle is laid
    out under ``root`` + /usr/local/airflow and only that prefix is rewritten, only in option lines
    (``--constraint``, ``-r``, ``--find-links``...). Any other path or URL is left as it is: pip
    fails to open a missing file, or needs the internet for a URL, exactly as MWAA's would.
    """
    home = f"{root.as_posix().rstrip('/')}{MWAA_HOME}/"
    return "".join(
        re.sub(rf"(?<=[\s\"'=]){re.escape(MWAA_HOME)}/", home, line)
        if line.lstrip().startswith("-")
        else line
        for line in requirements.splitlines(keepends=True)
    )


def venv_key(python: str, python_version: str, version: str, requirements: str, home: Path) -> str:
    """A hash of everything the venv's installs depend on (``requirements``: the bundle's file,
    before the prefix rewrite, so the fake root's path is no input)."""
    laid_out = (home / "requirements" / "requirements.txt").read_text()
    inputs = {
        "recipe": VENV_RECIPE,
        "python": [os.path.realpath(shutil.which(python) or python), python_version],
        "image_requirements": image_requirements(version),
        "constraints": constraints_file(version).read_text(),
        "essential_constraints": essential_constraints_file(version).read_text(),
        "image_packages": image_packages_file(version).read_text(),
        "requirements": requirements,
        "referenced": [p.read_text() for p in referenced_files(laid_out) if p.is_file()],
    }
    return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()[:16]


def ensure_venv(
    python: str,
    python_version: str,
    version: str,
    requirements: str,
    home: Path,
    venv: Path,
    logs: Path,
) -> bool:
    """The replica's venv, built unless the cached one has the same key. Returns whether cached."""
    key = venv_key(python, python_version, version, requirements, home)
    marker = venv / ".mwaa-check-key"
    if marker.is_file() and marker.read_text() == key and (venv / "bin" / "python").exists():
        say(f"cached: {venv.name}/ (key {key}: same constraints, image list, requirements)")
        return True
    if venv.exists():
        say(f"inputs changed: rebuilding {venv.name}/ (key {key})")
        shutil.rmtree(venv)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--progress-bar", "off"]
    # Nothing of this process's environment steers pip (MWAA's has no PIP_CONSTRAINT, PYTHONPATH).
    drop = ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PIP_CONSTRAINT", "PIP_REQUIREMENT")
    env = {k: v for k, v in os.environ.items() if k not in drop}
    essential = ["--constraint", str(essential_constraints_file(version))]
    _run([python, "-m", "venv", str(venv)], logs / "venv.log", "python -m venv")
    # The image's 002-install-python.sh upgrades pip before anything else.
    _run([*pip, "--upgrade", "pip"], logs / "pip-upgrade.log", "pip install --upgrade pip", env=env)
    left_out = ", ".join(f"{k} ({why})" for k, why in LEFT_OUT_OF_THE_REPLICA.items())
    say(f"the image's packages, with its constraints; left out: {left_out}")
    _run(
        [*pip, *essential, "-c", str(constraints_file(version)), *image_requirements(version)],
        logs / "pip-image.log",
        f"installing MWAA {version}'s own packages",
        env=env,
    )
    say("the bundle's requirements.txt, as MWAA installs it")
    _run(
        [*pip, *essential, "-r", str(home / "requirements" / "requirements.txt")],
        logs / "pip-requirements.log",
        f"the bundle's requirements.txt under MWAA {version}'s constraints",
        cwd=home,
        env=env,
        timeout=MWAA_REQUIREMENTS_TIMEOUT_S,
    )
    _run([*pip[:3], "check"], logs / "pip-check.log", "pip check", env=env)
    marker.write_text(key)
    return False


def check_imports(version: str, dags: Path, requirements: str, distributions) -> None:
    missing = missing_from_mwaa(dags, image_packages_file(version), requirements, distributions)
    if missing:
        raise CheckFailed(
            f"the bundle imports what neither MWAA {version}'s image "
            f"(mwaa/{image_packages_file(version).name}) nor requirements.txt provides: "
            + "; ".join(map(str, missing))
            + ". List the distribution in requirements.txt, pinned as the constraints pin it."
        )


def check_imports_in_replica(venv: Path, version: str, home: Path, requirements: str) -> None:
    """The import check with the replica's own module -> distribution map, and the versions of
    what the bundle imports equal to the image's (else this check would not test MWAA's)."""
    listing = _output([str(venv / "bin" / "python"), "-c", _DISTRIBUTIONS], cwd=home)
    if listing is None:
        raise CheckFailed(f"could not list the distributions of {venv}")
    found = json.loads(listing)
    check_imports(version, home / "dags", requirements, found["modules"])
    installed = {normalize(name): v for name, v in found["versions"].items()}
    image = read_pins(image_packages_file(version))
    modules = found["modules"]
    used = {normalize(d) for m in third_party_imports(home / "dags") for d in modules.get(m, ())}
    wrong = {
        d: (installed.get(d), image[d]) for d in used & set(image) if installed.get(d) != image[d]
    }
    if wrong:
        raise CheckFailed(
            "the replica's versions differ from the image's for what the bundle imports: "
            + ", ".join(f"{d} {v} (image {i})" for d, (v, i) in sorted(wrong.items()))
        )
    drift = sorted(
        f"{d} {installed.get(d, 'absent')} (image {v})"
        for d, v in image.items()
        if installed.get(d) != v
    )
    say(f"imports: all provided; {len(used)} distributions used, at the image's versions")
    if drift:
        say(
            f"elsewhere the replica differs from the image (nothing the bundle imports): {', '.join(drift)}"
        )


def load_dagbag(venv: Path, home: Path, env: dict[str, str], dag_id: str) -> None:
    repo_dirs = [str(REPO / d) for d in ("", "dags", "plugins", "include", "scripts", "sandbox")]
    result = subprocess.run(
        [
            str(venv / "bin" / "python"),
            "-c",
            _DAGBAG,
            json.dumps([os.path.realpath(d) for d in repo_dirs]),
        ],
        cwd=home,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if result.returncode != 0:
        raise CheckFailed(f"loading the DagBag crashed:\n{_tail(result.stderr)}")
    found = json.loads(result.stdout.strip().splitlines()[-1])
    if found["repo_on_path"] or found["sandbox_importable"]:
        raise CheckFailed(f"the repository leaks into the replica: {found}")
    if found["import_errors"]:
        errors = "\n".join(f"  {k}: {v}" for k, v in found["import_errors"].items())
        raise CheckFailed(f"import errors in the DAGs folder{_module_hint(errors)}:\n{errors}")
    if dag_id not in found["dag_ids"]:
        raise CheckFailed(f"{dag_id} not in the DagBag; found {found['dag_ids']}")
    say(
        f"DAGs: {', '.join(found['dag_ids'])}; no import errors; nothing of the repository on sys.path"
    )


def migrate(venv: Path, home: Path, env: dict[str, str], logs: Path) -> None:
    # With the replica's Airflow (scripts/local_env.migrate_db would use the dev venv's, whose
    # schema is 3.3.1's whatever image is checked).
    _run(
        [str(venv / "bin" / "airflow"), "db", "migrate"],
        logs / "db-migrate.log",
        "airflow db migrate",
        cwd=home,
        env=env,
    )


def run_dag(venv: Path, home: Path, env: dict[str, str], logs: Path, dag_id: str, day: str) -> None:
    """``airflow dags test <dag_id> <day>`` in the replica against a fresh sandbox."""
    from sandbox import SANDBOX_DEFAULTS, Sandbox

    with Sandbox.start() as sb:
        say(f"sandbox at {sb.endpoint_url}")
        run_env = {
            **env,
            **aws_env(sb.endpoint_url),
            **variable_env(pipeline_config(SANDBOX_DEFAULTS)),
        }
        _run(
            [str(venv / "bin" / "airflow"), "dags", "test", dag_id, day],
            logs / "dags-test.log",
            f"airflow dags test {dag_id} {day}",
            cwd=home,
            env=run_env,
            timeout=1500,
        )
        sent = [email.message_from_bytes(m, policy=email.policy.default) for m in sb.sent_emails()]
    kinds = sorted({m["X-FinOps-Kind"] for m in sent if m["X-FinOps-Kind"]})
    if "daily-digest" not in kinds:
        raise CheckFailed(f"the run succeeded but sent no daily digest (sent: {kinds})")
    say(f"run succeeded; mailed {', '.join(kinds)}")


def replica_env(home: Path, venv: Path) -> dict[str, str]:
    """MWAA's paths, the replica's executables first, no trace of the repository or dev venv."""
    drop = ("AIRFLOW", "FINOPS_", "AWS_", "PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    env.update(
        {
            "PATH": os.pathsep.join([str(venv / "bin"), env.get("PATH", "")]),
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(home / "dags"),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(home / "plugins"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            # Parsing never reaches AWS; should anything try, it finds no real credentials.
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_EC2_METADATA_DISABLED": "true",
        }
    )
    return env


def _run(
    command, log: Path, what: str, *, cwd: Path | None = None, env=None, timeout: float = 1800
):
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w") as out:
        try:
            result = subprocess.run(
                [str(c) for c in command],
                cwd=cwd,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                timeout=timeout,
            )
        except subprocess.TimeoutExpired:
            raise CheckFailed(f"{what}: still running after {timeout:.0f} s (log: {log})") from None
    if result.returncode != 0:
        text = log.read_text(errors="replace")
        raise CheckFailed(
            f"{what} failed{_module_hint(text)} (exit {result.returncode}; log: {log}):\n{_tail(text)}"
        )


def _module_hint(text: str) -> str:
    modules = sorted(set(_NO_MODULE.findall(text)))
    if not modules:
        return ""
    return (
        f": the bundle imports {', '.join(modules)}, which neither the image nor requirements.txt "
        "provides"
    )


def _tail(text: str, lines: int = 40) -> str:
    return "\n".join(text.rstrip().splitlines()[-lines:])


def _output(command: list[str], cwd: Path | None = None) -> str | None:
    try:
        result = subprocess.run(command, capture_output=True, text=True, cwd=cwd, timeout=120)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return result.stdout.strip() if result.returncode == 0 else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mwaa-version", default=DEFAULT_VERSION)
    parser.add_argument(
        "--python", help=f"interpreter for the replica (default: pyenv's {PYTHON_VERSION})"
    )
    parser.add_argument("--dag", default="finops_daily_digest")
    parser.add_argument("--date", default="2025-09-14")
    args = parser.parse_args(argv)
    version = args.mwaa_version
    work = REPO / ".mwaa-check" / version
    venv = REPO / f".venv-mwaa-{version}"
    logs = work / "logs"
    check = Check(version, total=9)
    try:
        python, python_version = check.phase("Python 3.12", find_python, args.python)
        bundle = check.phase(
            "bundle (scripts/mwaa_bundle.py)", build, work / "bundle", mwaa_version=version
        )
        requirements = (bundle / "requirements.txt").read_text()
        if logs.exists():
            shutil.rmtree(logs)
        home = check.phase("MWAA layout", lay_out, bundle, work / "root")
        check.phase(
            "imports vs image + requirements.txt (dev venv's view, before installing)",
            check_imports,
            version,
            bundle / "dags",
            requirements,
            packages_distributions(),
        )
        cached = check.phase(
            f"venv: MWAA {version}'s packages, then requirements.txt as MWAA installs it",
            ensure_venv,
            python,
            python_version,
            version,
            requirements,
            home,
            venv,
            logs,
        )
        check.phase(
            "imports in the replica", check_imports_in_replica, venv, version, home, requirements
        )
        env = replica_env(home, venv)
        check.phase("metadata DB (airflow db migrate, SQLite)", migrate, venv, home, env, logs)
        check.phase("DagBag from the DAGs folder", load_dagbag, venv, home, env, args.dag)
        check.phase(
            f"the whole DAG: airflow dags test {args.dag} {args.date}",
            run_dag,
            venv,
            home,
            env,
            logs,
            args.dag,
            args.date,
        )
    except CheckFailed as failure:
        print(
            f"[mwaa-check {version}] FAILED in {check.number}/{check.total} {check.title}: {failure}",
            file=sys.stderr,
            flush=True,
        )
        return 1
    state = "venv cached" if cached else "venv built"
    print(
        f"[mwaa-check {version}] OK in {check.elapsed():.0f} s ({state}; logs: {logs})", flush=True
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
