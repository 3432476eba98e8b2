"""The MWAA execution-role policy, read from the very template Terraform renders."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from sandbox import SANDBOX_DEFAULTS
from sandbox import data_exports as sandbox_exports

REPO = Path(__file__).resolve().parents[2]
TERRAFORM = REPO / "infra" / "terraform"
POLICY_TEMPLATE = TERRAFORM / "policies" / "mwaa_execution.json.tpl"
_PLACEHOLDER = re.compile(r"\$\{([a-z_]+)\}")


def render_policy(values: dict[str, str]) -> dict[str, Any]:
    """``templatefile()`` for this template: ``${name}`` placeholders only (no directives)."""
    text = POLICY_TEMPLATE.read_text()
    if "%{" in text:
        raise AssertionError("the policy template uses template directives; render them here too")
    missing = sorted(set(_PLACEHOLDER.findall(text)) - set(values))
    if missing:
        raise KeyError(f"no value for template variables {missing}")
    return json.loads(_PLACEHOLDER.sub(lambda m: values[m.group(1)], text))


def sandbox_policy_values() -> dict[str, str]:
    """The template's variables for the sandbox's provisioned resources."""
    d = SANDBOX_DEFAULTS
    return {
        "partition": "aws",
        "region": d["region"],
        "account_id": d["account_id"],
        "management_account_id": d["account_id"],
        "archive_bucket": d["archive_bucket"],
        "kms_key_arn": f"arn:aws:kms:{d['region']}:{d['account_id']}:key/sandbox-has-no-kms",
        "glue_database": d["glue_database"],
        "glue_table": "ou_breakdown",
        "glue_budget_table": "ou_budget",
        "glue_crawler": d["glue_crawler"],
        "athena_workgroup": d["athena_workgroup"],
        "ses_identity": d["ses_sender"],
        "quicksight_dashboard_id": d["quicksight_dashboard_id"],
        # The sandbox's CUR 2.0 export (sandbox/data_exports.py), for cost_source data_exports.
        "data_exports_bucket": sandbox_exports.BUCKET,
        "data_exports_prefix": sandbox_exports.EXPORTS["cur2"].prefix.split("/data/")[0],
        "data_exports_database": sandbox_exports.DATABASE,
        "data_exports_table": sandbox_exports.EXPORTS["cur2"].table,
    }


def statements(policy: dict[str, Any]) -> list[dict[str, Any]]:
    """Statements with Action and Resource always as lists."""
    out = []
    for st in policy["Statement"]:
        st = dict(st)
        for key in ("Action", "Resource"):
            if isinstance(st.get(key), str):
                st[key] = [st[key]]
        out.append(st)
    return out
