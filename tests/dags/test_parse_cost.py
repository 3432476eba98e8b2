"""Parsing the DAG file is cheap: the DAG processor re-parses it every few minutes, so the heavy
libraries (boto3, pandas, pyarrow) load only when a task runs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

DAG_FILES = sorted((Path(__file__).resolve().parents[2] / "dags").glob("*.py"))
HEAVY = ("boto3", "botocore", "pandas", "pyarrow")

_IMPORT_DAG_FILE = """
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("dag_file", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in sys.argv[2:])))
"""


@pytest.mark.parametrize("dag_file", DAG_FILES, ids=lambda p: p.name)
def test_importing_the_dag_file_loads_no_aws_sdk_pandas_or_pyarrow(dag_file, tmp_path):
    result = subprocess.run(
        [sys.executable, "-c", _IMPORT_DAG_FILE, str(dag_file), *HEAVY],
        cwd=tmp_path,
        env=os.environ.copy(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    loaded = json.loads(result.stdout.strip().splitlines()[-1])
    assert loaded == [], f"the DAG file imports {loaded} at parse time; import them inside tasks"
