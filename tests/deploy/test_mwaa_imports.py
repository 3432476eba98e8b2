"""What the bundle imports, MWAA has: the image installs it or requirements.txt lists it. Fast (no
install): the module -> distribution map is the dev venv's; `make mwaa-check` runs the same check
(`scripts/mwaa_imports.py`) with the map of a replica of MWAA's image."""

from __future__ import annotations

from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

from scripts.mwaa_bundle import build
from scripts.mwaa_imports import missing_from_mwaa, third_party_imports
from scripts.mwaa_reference import image_packages_file

IMAGE = image_packages_file("3.3.1")


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Path:
    return build(tmp_path_factory.mktemp("dist") / "mwaa")


@pytest.fixture(scope="module")
def distributions() -> dict:
    return packages_distributions()


def test_the_import_scan_sees_imports_inside_functions_and_skips_the_bundles_own(bundle):
    imports = third_party_imports(bundle / "dags")
    # pyarrow and matplotlib are imported inside the tasks, never at parse time.
    assert {"airflow", "pyarrow", "numpy", "matplotlib"} <= set(imports)
    assert "finops_digest" not in imports and "finops_daily_digest" not in imports
    assert "json" not in imports and "__future__" not in imports
    assert all(":" in place for places in imports.values() for place in places)


def test_every_third_party_import_is_in_the_image_or_requirements(bundle, distributions):
    requirements = (bundle / "requirements.txt").read_text()
    missing = missing_from_mwaa(bundle / "dags", IMAGE, requirements, distributions)
    assert missing == [], "\n".join(map(str, missing))


def test_without_pyarrow_in_requirements_the_check_names_pyarrow(bundle, distributions):
    requirements = (bundle / "requirements.txt").read_text()
    assert "pyarrow==" in requirements
    without = "\n".join(
        line for line in requirements.splitlines() if not line.startswith("pyarrow")
    )
    missing = missing_from_mwaa(bundle / "dags", IMAGE, without, distributions)
    assert [m.module for m in missing] == ["pyarrow"]
    assert "pyarrow" in str(missing[0]) and ".py:" in str(missing[0])


def test_a_dev_only_or_unknown_module_is_named(tmp_path, distributions):
    dags = tmp_path / "dags"
    dags.mkdir()
    (dags / "x.py").write_text(
        "import json\n\ndef task():\n    import duckdb\n    import nosuchmod\n"
    )
    missing = missing_from_mwaa(dags, IMAGE, '--constraint "x"\n', distributions)
    assert [(m.module, m.imported_at) for m in missing] == [
        ("duckdb", ("x.py:4",)),
        ("nosuchmod", ("x.py:5",)),
    ]
    assert "no installed distribution" in str(missing[1])
