"""infra/terraform: what the DAG needs in AWS, hardened, checked by checkov, and the execution-role
policy least-privilege by construction (the sandbox run in test_iam_least_privilege proves it is
sufficient)."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from tests.deploy.policy import POLICY_TEMPLATE, REPO, TERRAFORM, render_policy, statements

# checkov pins boto3/botocore far below Airflow's, so it has its own venv (make test creates it).
CHECKOV = Path(os.environ.get("CHECKOV_VENV", REPO / ".venv-checkov"))
_DUMP_HCL = """
import glob, json, sys, hcl2
merged = {}
for path in sorted(glob.glob(sys.argv[1] + "/*.tf")):
    with open(path) as fh:
        for block, items in hcl2.load(fh).items():
            merged.setdefault(block, []).extend(items)
print(json.dumps(merged))
"""


def _checkov_python() -> Path:
    python = CHECKOV / "bin" / "python"
    if not python.exists():
        pytest.fail(
            f"{python} missing: run `make test` (it creates {CHECKOV} from infra/requirements-checkov.txt)"
        )
    return python


@pytest.fixture(scope="module")
def tf() -> dict:
    """The Terraform, parsed by the HCL parser checkov uses: {"resource": {type: {name: body}}, ...}."""
    out = subprocess.run(
        [_checkov_python(), "-c", _DUMP_HCL, TERRAFORM], check=True, capture_output=True, text=True
    )
    raw = json.loads(out.stdout)
    parsed: dict = {}
    for block in ("resource", "data", "variable", "output"):
        for item in raw.get(block, []):
            for kind, named in item.items():
                if block in ("variable", "output"):
                    parsed.setdefault(block, {})[kind] = named
                else:
                    for name, body in named.items():
                        parsed.setdefault(block, {}).setdefault(kind, {})[name] = body
    return parsed


def _one(body: dict | list, key: str):
    """``body[key]``, unwrapping the one-element lists the HCL parser puts around everything."""
    if isinstance(body, list) and len(body) == 1:
        body = body[0]
    value = body[key]
    return value[0] if isinstance(value, list) and len(value) == 1 else value


def test_checkov_passes_with_every_skip_explained():
    result = subprocess.run(
        [
            CHECKOV / "bin" / "checkov",
            "-d",
            TERRAFORM,
            "--framework",
            "terraform",
            "--skip-download",
            "-o",
            "json",
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "BC_SKIP_MAPPING": "TRUE"},
        timeout=300,
    )
    report = json.loads(result.stdout)
    summary = report["summary"]
    failed = [
        f"{c['check_id']} {c['resource']}: {c['check_name']}"
        for c in report["results"]["failed_checks"]
    ]
    assert summary["failed"] == 0, "\n".join(failed)
    assert summary["parsing_errors"] == 0
    assert summary["resource_count"] >= 15 and summary["passed"] >= 50
    for check in report["results"]["skipped_checks"]:
        reason = (check.get("check_result") or {}).get("suppress_comment") or ""
        assert len(reason.split()) >= 4, f"{check['check_id']} skipped without a reason"
    # Each skip is one line: `# checkov:skip=ID:reason`.
    for path in TERRAFORM.glob("*.tf"):
        for line in path.read_text().splitlines():
            if "checkov:skip" in line:
                assert re.search(r"#\s*checkov:skip=CKV2?_AWS_\d+:\S.{15,}", line), line


def test_archive_bucket_is_versioned_private_kms_encrypted_and_tls_only(tf):
    res = tf["resource"]
    versioning = _one(res["aws_s3_bucket_versioning"]["archive"], "versioning_configuration")
    assert _one(versioning, "status") == "Enabled"
    block = res["aws_s3_bucket_public_access_block"]["archive"]
    for flag in (
        "block_public_acls",
        "block_public_policy",
        "ignore_public_acls",
        "restrict_public_buckets",
    ):
        assert _one(block, flag) is True, flag
    rule = _one(res["aws_s3_bucket_server_side_encryption_configuration"]["archive"], "rule")
    default = _one(rule, "apply_server_side_encryption_by_default")
    assert _one(default, "sse_algorithm") == "aws:kms"
    assert "aws_kms_key.archive" in _one(default, "kms_master_key_id")
    assert _one(res["aws_kms_key"]["archive"], "enable_key_rotation") is True
    tls = _one(tf["data"]["aws_iam_policy_document"]["archive_bucket"], "statement")
    assert _one(tls, "effect") == "Deny"
    condition = _one(tls, "condition")
    assert (_one(condition, "variable"), _one(condition, "values")) == (
        "aws:SecureTransport",
        ["false"],
    )


def test_lifecycle_never_expires_audit_versions_before_the_retention(tf):
    rules = tf["resource"]["aws_s3_bucket_lifecycle_configuration"]["archive"]["rule"]
    whole_bucket = [r for r in rules if _one(r, "filter") in ({}, [{}], None)]
    assert len(whole_bucket) == 1
    rule = whole_bucket[0]
    assert "expiration" not in rule, "current versions of the archive must never expire"
    days = _one(_one(rule, "noncurrent_version_expiration"), "noncurrent_days")
    assert days == "${var.noncurrent_version_retention_days}"
    variable = tf["variable"]["noncurrent_version_retention_days"]
    assert _one(variable, "default") >= 400
    assert ">= 400" in _one(variable["validation"], "condition")
    # Only intermediates (staging/, athena-results/) expire.
    for r in rules:
        if r is not rule:
            assert _one(_one(r, "filter"), "prefix") in (
                "staging/",
                "${local.athena_results_prefix}",
            )


def test_object_lock_compliance_is_optional(tf):
    res = tf["resource"]
    assert _one(res["aws_s3_bucket"]["archive"], "object_lock_enabled") == (
        "${var.object_lock_retention_days > 0}"
    )
    lock = res["aws_s3_bucket_object_lock_configuration"]["archive"]
    assert _one(lock, "count") == "${var.object_lock_retention_days > 0 ? 1 : 0}"
    assert _one(_one(_one(lock, "rule"), "default_retention"), "mode") == "COMPLIANCE"


def test_glue_crawler_athena_workgroup_and_ses(tf):
    res = tf["resource"]
    crawler = res["aws_glue_crawler"]["ou_breakdown"]
    target = _one(_one(crawler, "s3_target"), "path")
    assert target == "s3://${var.archive_bucket}/${local.parquet_prefix}"
    assert (
        'parquet_prefix         = "parquet/ou_breakdown/"' in (TERRAFORM / "locals.tf").read_text()
    )
    assert "aws_iam_role.crawler" in _one(crawler, "role")
    assert "aws_glue_catalog_database" in res
    workgroup = _one(res["aws_athena_workgroup"]["finops"], "configuration")
    assert _one(workgroup, "enforce_workgroup_configuration") is True
    assert _one(workgroup, "bytes_scanned_cutoff_per_query") == "${var.athena_bytes_scanned_cutoff}"
    encryption = _one(_one(workgroup, "result_configuration"), "encryption_configuration")
    assert _one(encryption, "encryption_option") == "SSE_KMS"
    assert "aws_sesv2_email_identity" in res


def test_terraform_renders_the_same_policy_template_with_all_its_variables(tf):
    policy = tf["resource"]["aws_iam_role_policy"]["finops_dag"]
    text = _one(policy, "policy")
    assert 'templatefile("${path.module}/policies/mwaa_execution.json.tpl"' in text
    assert POLICY_TEMPLATE.name == "mwaa_execution.json.tpl"
    passed = set(re.findall(r"'([a-z_]+)': ", text))  # the parser's rendering of the map
    needed = set(re.findall(r"\$\{([a-z_]+)\}", POLICY_TEMPLATE.read_text()))
    assert needed <= passed, f"templatefile() lacks {sorted(needed - passed)}"


# Actions AWS does not scope to resources: only these may have Resource "*".
NO_RESOURCE_LEVEL = {
    "ce:GetCostAndUsage",
    "ce:GetCostForecast",
    "ce:GetAnomalies",
    "organizations:ListRoots",
    "glue:GetCrawlerMetrics",
}


def test_execution_policy_has_no_wildcard_actions_no_deletes_and_scoped_resources():
    policy = render_policy({name: f"x{name}" for name in _template_variables()})
    for st in statements(policy):
        assert st["Effect"] == "Allow"
        for action in st["Action"]:
            assert "*" not in action, action
            assert not action.lower().startswith("s3:delete"), action
            assert not action.lower().startswith("s3:put") or action == "s3:PutObject", action
        if "*" in st["Resource"]:
            assert set(st["Action"]) <= NO_RESOURCE_LEVEL, st["Sid"]
        else:
            assert all(r.startswith(("arn:", "xkms_key_arn")) for r in st["Resource"]), st["Sid"]


def _template_variables() -> set[str]:
    return set(re.findall(r"\$\{([a-z_]+)\}", POLICY_TEMPLATE.read_text()))
