"""The shipped execution-role policy, read from the Terraform template itself, so check-aws names
each permission by the statement (Sid) that grants it and never keeps a copy of the policy."""

from __future__ import annotations

import json
import re
from fnmatch import fnmatchcase
from pathlib import Path

from finops_digest.cli.exits import UsageError

# dags/finops_digest/cli/ -> the repository, where Terraform keeps the template.
TEMPLATE = (
    Path(__file__).resolve().parents[3]
    / "infra"
    / "terraform"
    / "policies"
    / "mwaa_execution.json.tpl"
)
# templatefile()'s ${name} interpolations; only Sids and actions are read, so any value does.
_PLACEHOLDER = re.compile(r"\$\{[A-Za-z_][A-Za-z0-9_]*\}")


def read_statements(path: Path = TEMPLATE) -> dict[str, tuple[str, ...]]:
    """Sid -> the actions it allows, in the template's order."""
    try:
        text = path.read_text()
    except OSError as exc:
        raise UsageError(
            f"cannot read the policy template {path}: {exc.strerror or exc}; pass --policy"
        ) from exc
    if "%{" in text:
        raise UsageError(
            f"{path} uses template directives (%{{...}}); check-aws reads ${{...}} only"
        )
    try:
        policy = json.loads(_PLACEHOLDER.sub("x", text))
    except json.JSONDecodeError as exc:
        raise UsageError(f"{path} is not a JSON policy once ${{...}} are filled: {exc}") from exc
    statements: dict[str, tuple[str, ...]] = {}
    for n, statement in enumerate(policy.get("Statement", [])):
        if statement.get("Effect") != "Allow":
            continue
        actions = statement.get("Action", [])
        sid = statement.get("Sid") or f"statement #{n + 1} (no Sid)"
        statements[sid] = tuple([actions] if isinstance(actions, str) else actions)
    return statements


def granted_by(statements: dict[str, tuple[str, ...]], action: str) -> list[str]:
    """The Sids allowing ``action`` (IAM matches actions case-insensitively, with wildcards)."""
    return [
        sid
        for sid, actions in statements.items()
        if any(fnmatchcase(action.lower(), pattern.lower()) for pattern in actions)
    ]
