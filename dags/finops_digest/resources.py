"""Locate ``include/`` (templates, SQL) wherever the package is deployed."""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

_HERE = Path(__file__).resolve().parent


@cache
def include_dir() -> Path:
    """``$FINOPS_INCLUDE_DIR``, else ``include/`` shipped inside the package (MWAA's plugins.zip),
    else the repository's top-level ``include/`` (local runs and docker-compose)."""
    candidates = [Path(p) for p in [os.environ.get("FINOPS_INCLUDE_DIR")] if p]
    candidates += [_HERE / "include", _HERE.parents[1] / "include"]
    for candidate in candidates:
        if (candidate / "templates").is_dir():
            return candidate
    raise FileNotFoundError(
        "include/ with templates/ not found; looked in " + ", ".join(map(str, candidates))
    )


def templates_dir() -> Path:
    """Jinja templates for the emails."""
    return include_dir() / "templates"


def sql_path(name: str) -> Path:
    """A SQL file from ``include/sql``."""
    return include_dir() / "sql" / f"{name}.sql"
