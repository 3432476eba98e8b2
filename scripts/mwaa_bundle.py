"""Build the Amazon MWAA bundle: ``dist/mwaa/{dags/, requirements.txt}``.

- ``dags/``: the DAG files, ``.airflowignore`` and the ``finops_digest`` package beside them, with
  ``include/`` (templates, SQL) inside it as ``finops_digest/include``. AWS's guide puts custom code
  under the DAGs folder, which Airflow puts on sys.path; ``.airflowignore`` keeps the DAG processor
  out of the package, and the DAG bundle versions the code with the DAG that runs it. No
  ``plugins.zip``: MWAA's plugin manager would import every top-level module of it in every
  component, and the package holds no Airflow plugin.
- ``requirements.txt``: the repository's, whose first line is the ``--constraint`` of MWAA's
  Airflow 3.3.1 / Python 3.12 image, then what the image does not install (pyarrow, numpy,
  matplotlib).

No startup script: the DAG needs no OS packages and no environment variables beyond MWAA's.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGE = "finops_digest"
_SKIP = {"__pycache__", ".DS_Store"}
EXPECTED_CONSTRAINT = (
    '--constraint "https://raw.githubusercontent.com/apache/airflow/constraints-3.3.1/'
    'constraints-3.12.txt"'
)


def _files(root: Path) -> list[Path]:
    return sorted(
        p
        for p in root.rglob("*")
        if p.is_file() and not (_SKIP & set(p.parts)) and p.suffix not in (".pyc", ".pyo")
    )


def _copy(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(source, target)


def build(out: Path, repo: Path = REPO) -> Path:
    """Write the bundle to ``out`` (replacing it); returns ``out``."""
    requirements = (repo / "requirements.txt").read_text()
    if requirements.splitlines()[0].strip() != EXPECTED_CONSTRAINT:
        raise SystemExit(
            f"requirements.txt must start with {EXPECTED_CONSTRAINT} (MWAA's Airflow 3.3.1 / "
            f"Python 3.12 constraints); found {requirements.splitlines()[0]!r}"
        )
    if any(
        line.split("==")[0].strip().lower() == "apache-airflow"
        for line in requirements.splitlines()
    ):
        raise SystemExit("requirements.txt must not list apache-airflow: MWAA provides it")
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
    for sub in ("templates", "sql"):
        for path in _files(include / sub):
            _copy(path, out / "dags" / PACKAGE / "include" / path.relative_to(include))
    shutil.copy2(repo / "requirements.txt", out / "requirements.txt")
    return out


def main(argv: list[str] | None = None) -> int:
    """``python scripts/mwaa_bundle.py [--out dist/mwaa]``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "dist" / "mwaa")
    args = parser.parse_args(argv)
    out = build(args.out)
    count = len(_files(out / "dags" / PACKAGE))
    print(f"MWAA bundle in {out}:")
    print(f"  dags/             {', '.join(sorted(p.name for p in (out / 'dags').iterdir()))}")
    print(f"  dags/{PACKAGE}/   {count} files (with {PACKAGE}/include/)")
    print(
        "  requirements.txt  MWAA's constraints + what its image lacks (pyarrow, numpy, matplotlib)"
    )
    print("Upload it to the environment's source bucket (docs/deployment.md):")
    print(f"  aws s3 sync {out / 'dags'} s3://<source-bucket>/dags/ --delete")
    print(f"  aws s3 cp {out / 'requirements.txt'} s3://<source-bucket>/requirements.txt")
    return 0


if __name__ == "__main__":
    sys.exit(main())
