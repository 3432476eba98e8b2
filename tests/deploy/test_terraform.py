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
import sqlglot
from sqlglot import exp

from finops_digest.budgets.lights import LIGHT_COLOURS
from finops_digest.resources import include_dir
from finops_digest.schema import COST_TABLE_COLUMNS, PARTITION_KEYS
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
    """The Terraform, parsed by the HCL parser checkov uses: {"resource": {type: {name: body}}, ...},
    "locals" as {name: value} across every file."""
    out = subprocess.run(
        [_checkov_python(), "-c", _DUMP_HCL, TERRAFORM], check=True, capture_output=True, text=True
    )
    raw = json.loads(out.stdout)
    parsed: dict = {}
    for block in ("resource", "data", "variable", "output", "locals"):
        for item in raw.get(block, []):
            for kind, named in item.items():
                if block in ("variable", "output", "locals"):
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


# ---------------------------------------------------------------------------------- QuickSight
QUICKSIGHT_ON = "${var.quicksight_enabled ? 1 : 0}"
# Glue/Athena column type -> the type a QuickSight data set declares for it.
QUICKSIGHT_TYPES = {"date": "DATETIME", "string": "STRING", "double": "DECIMAL", "int": "INTEGER"}


def _quicksight_resources(tf) -> dict[str, dict]:
    """Every resource quicksight.tf declares, as "type.name" -> body."""
    return {
        f"{kind}.{name}": body
        for kind, named in tf["resource"].items()
        for name, body in named.items()
        if kind.startswith("aws_quicksight_") or name == "quicksight"
    }


def _dynamic(body: dict, name: str) -> dict:
    """The ``dynamic "<name>"`` block of ``body``: {"for_each": ..., "content": ...}."""
    [block] = [d[name] for d in body["dynamic"] if name in d]
    return block


def _local(tf, expression: str):
    """The value of ``${local.<name>}``."""
    name = re.fullmatch(r"\$\{local\.([a-z_]+)\}", expression)
    assert name, f"{expression!r} is not a local"
    return _one(tf["locals"], name.group(1))


def _column(field: dict) -> tuple[str, str]:
    """(data set identifier, column) of a field well's field or a hierarchy's column."""
    column = _one(field, "column") if "column" in field else field
    return _one(column, "data_set_identifier"), _one(column, "column_name")


def _dashboard(tf) -> dict:
    return _one(tf["resource"]["aws_quicksight_dashboard"]["finops"], "definition")


def _sheet(tf, name: str) -> dict:
    [sheet] = [s for s in _dashboard(tf)["sheets"] if _one(s, "name") == name]
    return sheet


def _visual(sheet: dict, kind: str) -> dict:
    [visual] = [_one(v, kind) for v in sheet["visuals"] if kind in v]
    return visual


def _identifiers(tf) -> dict[str, str]:
    """The dashboard's data set identifier -> the data set resource it declares."""
    return {
        _one(d, "identifier"): re.fullmatch(
            r"\$\{aws_quicksight_data_set\.([a-z_]+)\[0\]\.arn\}", _one(d, "data_set_arn")
        ).group(1)
        for d in _dashboard(tf)["data_set_identifiers_declarations"]
    }


def test_quicksight_is_off_by_default_and_every_resource_follows_the_switch(tf):
    assert _one(tf["variable"]["quicksight_enabled"], "default") is False
    resources = _quicksight_resources(tf)
    assert {
        "aws_quicksight_data_source.athena",
        "aws_quicksight_dashboard.finops",
        "aws_iam_role.quicksight",
        "aws_iam_role_policy.quicksight",
    } <= resources.keys()
    for name, body in resources.items():
        assert _one(body, "count") == QUICKSIGHT_ON, name
    precondition = _one(
        _one(tf["resource"]["aws_quicksight_dashboard"]["finops"], "lifecycle"), "precondition"
    )
    assert _one(precondition, "condition") == "${length(var.quicksight_principal_arns) > 0}"


def test_quicksight_reads_athena_through_the_workgroup_with_its_own_role(tf):
    source = tf["resource"]["aws_quicksight_data_source"]["athena"]
    assert _one(source, "type") == "ATHENA"
    athena = _one(_one(source, "parameters"), "athena")
    assert _one(athena, "work_group") == "${aws_athena_workgroup.finops.name}"
    assert _one(athena, "role_arn") == "${aws_iam_role.quicksight[0].arn}"
    assert "permission" not in source, "viewers need nothing on the data source"


def _view_columns(name: str) -> list[str]:
    """The output columns of a shipped view's SELECT."""
    sql = (include_dir() / "sql" / "views" / f"{name}.sql").read_text()
    tree = sqlglot.parse_one(sql.replace("{", "").replace("}", ""), read="trino")
    assert isinstance(tree, exp.Create)
    return [column.alias_or_name for column in tree.expression.selects]


def test_quicksight_data_sets_read_the_shipped_views_and_the_cost_table_column_for_column(tf):
    views = {p.stem for p in (include_dir() / "sql" / "views").glob("*.sql")}
    cost_table = [
        {"name": n, "type": QUICKSIGHT_TYPES[t]} for n, t in COST_TABLE_COLUMNS + PARTITION_KEYS
    ]
    read = set()
    for name, body in tf["resource"]["aws_quicksight_data_set"].items():
        table = _one(_one(body, "physical_table_map"), "relational_table")
        assert _one(table, "schema") == "${aws_glue_catalog_database.finops.name}", name
        assert _one(table, "data_source_arn") == "${aws_quicksight_data_source.athena[0].arn}"
        assert "permissions" not in body, "viewers need nothing on the data sets"
        columns = _local(tf, _one(_dynamic(table, "input_columns"), "for_each"))
        relation = _one(table, "name")
        if relation == "${var.glue_table}":
            assert columns == cost_table, name
        else:
            assert relation in views, f"{name} reads {relation!r}, which include/sql/views lacks"
            assert [c["name"] for c in columns] == _view_columns(relation), name
        read.add(relation)
    assert {"daily_cost_by_ou", "month_to_date_vs_budget", "${var.glue_table}"} <= read


def test_cost_drill_down_goes_ou_then_service_then_linked_account(tf):
    bar = _visual(_sheet(tf, "Cost drill-down"), "bar_chart_visual")
    [hierarchy] = [_one(h, "explicit_hierarchy") for h in bar["column_hierarchies"]]
    levels = [_column(c) for c in hierarchy["columns"]]
    assert [column for _, column in levels] == ["ou", "service", "linkedaccount"]
    assert _identifiers(tf)[levels[0][0]] == "costs"
    wells = _one(
        _one(_one(bar, "chart_configuration"), "field_wells"), "bar_chart_aggregated_field_wells"
    )
    categories = [_one(c, "categorical_dimension_field") for c in wells["category"]]
    assert [_column(c) for c in categories] == levels, "the field well holds each level in order"
    assert {_one(c, "hierarchy_id") for c in categories} == {_one(hierarchy, "hierarchy_id")}
    [value] = [_one(v, "numerical_measure_field") for v in wells["values"]]
    assert _column(value)[1] == "dailycost"


def test_budget_sheet_shows_the_light_coloured_as_the_digest_colours_it(tf):
    table = _visual(_sheet(tf, "Budget vs forecast"), "table_visual")
    wells = _one(
        _one(_one(table, "chart_configuration"), "field_wells"), "table_aggregated_field_wells"
    )
    fields = {}
    for well in wells["group_by"] + wells["values"]:
        [(_, field)] = [(k, _one(well, k)) for k in well if k.endswith("_field")]
        fields[_one(field, "field_id")] = _column(field)
    assert {_identifiers(tf)[ds] for ds, _ in fields.values()} == {"month_to_date_vs_budget"}
    shown = {column for _, column in fields.values()}
    assert {"ou", "month_to_date_cost", "budget", "forecast", "light"} <= shown
    [light_field] = [f for f, (_, column) in fields.items() if column == "light"]

    options = _dynamic(_one(table, "conditional_formatting"), "conditional_formatting_options")
    colours = _local(tf, _one(options, "for_each"))
    assert colours == {light: colour.upper() for light, colour in LIGHT_COLOURS.items()}
    cell = _one(_one(options, "content"), "cell")
    assert _one(cell, "field_id") == light_field
    solid = _one(_one(_one(cell, "text_format"), "background_color"), "solid")
    assert _one(solid, "expression") == "{light} = '${conditional_formatting_options.key}'"
    assert _one(solid, "color") == "${conditional_formatting_options.value}"


def test_quicksight_viewers_get_reader_actions_and_its_role_no_wildcard(tf):
    dashboard = tf["resource"]["aws_quicksight_dashboard"]["finops"]
    permissions = _dynamic(dashboard, "permissions")
    assert _one(permissions, "for_each") == "${toset(var.quicksight_principal_arns)}"
    actions = _local(tf, _one(_one(permissions, "content"), "actions"))
    assert actions == [
        "quicksight:DescribeDashboard",
        "quicksight:ListDashboardVersions",
        "quicksight:QueryDashboard",
    ]
    policy = tf["data"]["aws_iam_policy_document"]["quicksight"]
    for st in policy["statement"]:
        for action in _one(st, "actions"):
            assert "*" not in action, action
            assert not action.startswith(("s3:Delete", "glue:Create", "glue:Update", "glue:Delete"))
        for resource in _one(st, "resources"):
            assert resource != "*" and not resource.endswith(":*"), (_one(st, "sid"), resource)
    trust = _one(tf["data"]["aws_iam_policy_document"]["quicksight_assume"], "statement")
    assert _one(_one(trust, "principals"), "identifiers") == ["quicksight.amazonaws.com"]
    assert _one(_one(trust, "condition"), "variable") == "aws:SourceAccount"


def test_the_execution_role_may_catalog_every_table_and_view_the_dag_creates():
    """register_table creates the projected tables and every shipped view (Athena's CREATE VIEW
    writes a Glue table): each needs its table ARN in the policy, and nothing else is granted."""
    from finops_digest.store import layout

    policy = render_policy({name: f"x{name}" for name in _template_variables()})
    [catalog] = [st for st in statements(policy) if st["Sid"] == "CatalogTheTable"]
    prefix = "arn:xpartition:glue:xregion:xaccount_id:table/xglue_database/"
    granted = {r[len(prefix) :] for r in catalog["Resource"] if r.startswith(prefix)}
    views = {p.stem for p in (include_dir() / "sql" / "views").glob("*.sql")}
    tables = {"xglue_table", "xglue_budget_table", layout.OU_TREE_TABLE, layout.ANOMALY_TABLE}
    assert granted == views | tables
