"""Build the Amazon MWAA bundle: ``dist/mwaa/{dags/, requirements.txt}``.

- ``dags/``: the DAG files, ``.airflowignore`` and the ``finops_digest`` package beside them, with
  ``include/`` (templates, SQL) inside it as ``finops_digest/include``. AWS's guide puts custom code
  under the DAGs folder, which Airflow puts on sys.path; ``.airflowignore`` keeps the DAG processor
  out of the package, and the DAG bundle versions the code with the DAG that runs it. No
  ``plugins.zip``: MWAA's plugin manager would import every top-level module of it in every
  component, and the one plugin (the dashboard, ``plugins/finops_dashboard.py``) is for a
  self-hosted Airflow's API server: on MWAA the QuickSight dashboard takes its place.
- ``dags/constraints-<v>-py3.12.txt``: the image's own constraints (from ``mwaa/``). MWAA syncs
  ``dags/`` to ``/usr/local/airflow/dags`` before it installs requirements.txt, so an environment
  without internet access resolves the ``--constraint`` line too (AWS's guide, "Constraints file").
- ``requirements.txt``: the repository's, whose first line is that ``--constraint``, then what the
  image does not install (pyarrow, numpy, matplotlib), each pinned to the constraints' version.
  ``--mwaa-version`` builds for another image: the constraint line and the pins follow that
  image's constraints file.

No startup script: the DAG needs no OS packages and no environment variables beyond MWAA's.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as `python scripts/mwaa_bundle.py`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scripts.mwaa_reference import (  # noqa: E402
    DEFAULT_VERSION,
    constraint_line,
    constraints_file,
    constraints_name,
    normalize,
    read_pins,
    read_requirements,
    version_of_constraint_line,
)

REPO = Path(__file__).resolve().parents[1]
PACKAGE = "finops_digest"
_SKIP = {"__pycache__", ".DS_Store"}
EXPECTED_CONSTRAINT = constraint_line(DEFAULT_VERSION)


def _files(root: Path) -> list[Path]:
    return sorted(
        p
        for p in root.rglob("*")
        if p.is_file() and not (_SKIP & set(p.parts)) and p.suffix not in (".pyc", ".pyo")
    )


def _copy(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(source, target)


def requirements_for(text: str, mwaa_version: str | None = None) -> tuple[str, str]:
    """``(requirements.txt for the bundle, MWAA version it targets)`` from the repository's file.

    Fails unless the first line is the ``--constraint`` of a constraints file in ``mwaa/``,
    apache-airflow is absent (MWAA provides it; listing it would fight the image) and every
    requirement is pinned with ``==`` to the version the constraints pin (when they pin it).
    With ``mwaa_version``, the constraint line and those pins are rewritten for that image.
    """
    lines = text.splitlines()
    source_version = version_of_constraint_line(lines[0]) if lines else None
    if source_version is None:
        raise SystemExit(
            f"requirements.txt must start with {EXPECTED_CONSTRAINT} (the constraints of MWAA's "
            f"image, shipped in the bundle's dags/); found {lines[0] if lines else ''!r}"
        )
    requirements = read_requirements(text)
    if any(normalize(r.name) == "apache-airflow" for r in requirements):
        raise SystemExit("requirements.txt must not list apache-airflow: MWAA provides it")
    _check_pins(requirements, source_version)
    version = mwaa_version or source_version
    if version == source_version:
        constraints_file(version)  # the file the first line names is in mwaa/
        return text if text.endswith("\n") else text + "\n", version
    pins = read_pins(constraints_file(version))
    out = [
        constraint_line(version),
        f"# Re-pinned for MWAA {version} from {constraints_name(version)} by scripts/mwaa_bundle.py.",
    ]
    for line in lines[1:]:
        requirement = read_requirements(line)
        pinned = requirement and pins.get(normalize(requirement[0].name))
        if pinned:
            extras = f"[{','.join(sorted(requirement[0].extras))}]" if requirement[0].extras else ""
            line = f"{requirement[0].name}{extras}=={pinned}"
        out.append(line)
    return "\n".join(out) + "\n", version


def _check_pins(requirements, version: str) -> None:
    pins = read_pins(constraints_file(version))
    for requirement in requirements:
        specs = list(requirement.specifier)
        if len(specs) != 1 or specs[0].operator != "==":
            raise SystemExit(
                f"requirements.txt: pin {requirement} with == (MWAA installs it as is)"
            )
        expected = pins.get(normalize(requirement.name))
        if expected and specs[0].version != expected:
            raise SystemExit(
                f"requirements.txt pins {requirement}, but {constraints_name(version)} pins "
                f"{requirement.name}=={expected}: pip cannot install both"
            )


def build(out: Path, repo: Path = REPO, mwaa_version: str | None = None) -> Path:
    """Write the bundle to ``out`` (replacing it); returns ``out``."""
    requirements, version = requirements_for((repo / "requirements.txt").read_text(), mwaa_version)
    if out.exists():
        shutil.rmtree(out)
    (out / "dags").mkdir(parents=True)
    for dag_file in sorted((repo / "dags").glob("*.py")):
        shutil.copy2(dag_file, out / "dags" / dag_file.name)
    shutil.copy2(repo / "dags" / ".airflowignore", out / "dags" / ".airflowignore")

    package = repo / "dags" / PACKAGE
    include = repo / "include"
    for path in _files(package):
        _copy(path, out / "dags" / PACKAGE / path.relative_to(package))
    for sub in ("templates", "sql", "dashboard"):
        for path in _files(include / sub):
            _copy(path, out / "dags" / PACKAGE / "include" / path.relative_to(include))
    shutil.copy2(constraints_file(version), out / "dags" / constraints_name(version))
    (out / "requirements.txt").write_text(requirements)
    return out


def main(argv: list[str] | None = None) -> int:
    """``python scripts/mwaa_bundle.py [--out dist/mwaa] [--mwaa-version 3.3.1]``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "dist" / "mwaa")
    parser.add_argument(
        "--mwaa-version", help="MWAA image to build for (default: requirements.txt's)"
    )
    args = parser.parse_args(argv)
    out = build(args.out, mwaa_version=args.mwaa_version)
    count = len(_files(out / "dags" / PACKAGE))
    print(f"MWAA bundle in {out}:")
    print(f"  dags/             {', '.join(sorted(p.name for p in (out / 'dags').iterdir()))}")
    print(f"  dags/{PACKAGE}/   {count} files (with {PACKAGE}/include/)")
    print(f"  requirements.txt  {(out / 'requirements.txt').read_text().splitlines()[0]}")
    print("                    + what the image lacks (pyarrow, numpy, matplotlib)")
    print("Upload it to the environment's source bucket (docs/deployment.md):")
    print(f"  aws s3 sync {out / 'dags'} s3://<source-bucket>/dags/ --delete")
    print(f"  aws s3 cp {out / 'requirements.txt'} s3://<source-bucket>/requirements.txt")
    return 0


if __name__ == "__main__":
    sys.exit(main())
