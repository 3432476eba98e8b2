"""Archived data is never deleted or overwritten by code, and nothing secret is committed."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PIPELINE = [REPO / "dags", REPO / "plugins", REPO / "include"]


def pipeline_files():
    for root in PIPELINE:
        yield from (
            p for p in root.rglob("*") if p.is_file() and p.suffix in {".py", ".sql", ".j2"}
        )


def test_no_code_path_deletes_objects_or_versions():
    pattern = re.compile(r"delete_object|DeleteObject|delete_objects|delete_bucket", re.IGNORECASE)
    offenders = [
        str(p.relative_to(REPO)) for p in pipeline_files() if pattern.search(p.read_text())
    ]
    assert offenders == []


def test_no_credentials_in_the_repository():
    key_id = re.compile(r"\b(AKIA|ASIA)[0-9A-Z]{16}\b")
    secret = re.compile(r"aws_secret_access_key\s*=\s*['\"][A-Za-z0-9/+]{40}['\"]", re.IGNORECASE)
    listing = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    found = []
    for name in listing:
        path = REPO / name
        if path.is_file():
            text = path.read_text(errors="ignore")
            if key_id.search(text) or secret.search(text):
                found.append(name)
    assert found == []
