"""``python -m finops_digest``, run as a person runs it (a subprocess with PYTHONPATH=dags), or
in-process through ``main(argv)`` where a subprocess per case would only add Airflow's import time.

check-aws runs against the sandbox with IAM enforced, as a user holding the policy rendered from
Terraform's own template (as test_iam_least_privilege.py does): nothing missing under the shipped
policy, and each statement removed in turn is named by its Sid.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import boto3
import pytest
from moto.core.authorization import disable_iam_authentication

from finops_digest.cli import main
from finops_digest.resources import include_dir
from finops_digest.store import layout
from finops_digest.store.catalog import render_sql
from finops_digest.store.views import placeholders
from sandbox import SANDBOX_DEFAULTS, Sandbox
from scripts.local_env import pipeline_config
from tests.deploy.iam_resources import resource_level_iam
from tests.deploy.policy import render_policy, sandbox_policy_values, statements

REPO = Path(__file__).resolve().parents[2]
BUCKET = SANDBOX_DEFAULTS["archive_bucket"]
ARCHIVED_KEY = layout.archive_key(date(2025, 9, 14))
# The crawler strategy, AWS Budgets, the QuickSight snapshot and the data export (the sandbox's
# CUR 2.0 table) on, so their statements are probed too.
CONFIG = {
    **pipeline_config(SANDBOX_DEFAULTS),
    "catalog_strategy": "crawler",
    "budgets_from_aws": True,
    "quicksight_dashboard_id": SANDBOX_DEFAULTS["quicksight_dashboard_id"],
    "cost_source": "data_exports",
    "data_exports": {"database": "data_exports", "table": "cur2", "format": "cur2"},
}
SHIPPED = render_policy(sandbox_policy_values())
# Statements no call can prove without sending mail or without KMS (the sandbox has none): check-aws
# names them as not probed instead.
NOT_PROBED = {"ArchiveKey", "SendAsTheSender", "PostToTheChatTopics"}
PROBED = [st["Sid"] for st in statements(SHIPPED) if st["Sid"] not in NOT_PROBED]


def cli(*args: str, env: dict[str, str] | None = None, stdin: str | None = None):
    """``python -m finops_digest ARGS`` as a user's shell runs it (no Airflow log level set)."""
    base = {k: v for k, v in os.environ.items() if k != "AIRFLOW__LOGGING__LOGGING_LEVEL"}
    return subprocess.run(
        [sys.executable, "-m", "finops_digest", *args],
        cwd=REPO,
        env={**base, "PYTHONPATH": str(REPO / "dags"), **(env or {})},
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
    )


def lines(stdout: str, status: str) -> list[str]:
    """The report lines of one status (OK, MISSING, NOT FOUND, ERROR, SKIPPED)."""
    return [line for line in stdout.splitlines() if line.startswith(f"{status} ")]


# ----------------------------------------------------------------------------- every subcommand
@pytest.mark.parametrize("command", ["check-config", "check-aws", "render-sql"])
def test_each_subcommand_has_its_help(command):
    done = cli(command, "--help")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"usage: python -m finops_digest {command}")
    assert "Exit 0" in " ".join(done.stdout.split())


def test_no_subcommand_is_a_usage_error():
    done = cli()
    assert done.returncode == 2
    assert "check-config" in done.stderr and "render-sql" in done.stderr


# -------------------------------------------------------------------------------- check-config
def test_check_config_accepts_a_valid_file_and_prints_the_effective_settings(tmp_path):
    path = tmp_path / "finops_config.json"
    path.write_text(json.dumps(CONFIG))
    done = cli("check-config", str(path))
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"{path}: valid finops_config" in done.stdout
    settings = {line.split()[0]: line.split()[1:] for line in done.stdout.splitlines()[1:]}
    assert settings["archive_bucket"] == [BUCKET]
    assert settings["catalog_strategy"] == ["crawler"]
    assert settings["cost_metric"] == ["NetAmortizedCost", "(default)"]
    assert settings["athena_output_location"] == [SANDBOX_DEFAULTS["athena_output_location"]]


def test_check_config_lists_every_problem_at_once(tmp_path):
    path = tmp_path / "finops_config.json"
    path.write_text(
        json.dumps(
            {
                "archive_bucket": "Not_A_Bucket",
                "glue_databse": "finops_db",
                "cost_metric": "Cheapest",
                "restatement_days": 30,
                "digest_recipients": ["team@example.com"],
            }
        )
    )
    done = cli("check-config", str(path))
    assert done.returncode == 1
    for problem in (
        "(5 problem(s))",
        "archive_bucket: expected an S3 bucket name, got 'Not_A_Bucket'",
        "glue_databse: unknown key (did you mean 'glue_database'?)",
        "cost_metric: expected one of NetAmortizedCost",
        "restatement_days: expected a whole number from 0 to 14, got 30",
        "ses_sender: required when recipients are configured",
    ):
        assert problem in done.stdout


def test_check_config_names_bad_json():
    done = cli("check-config", "-", stdin='{"archive_bucket": "my-archive",}')
    assert done.returncode == 1
    assert "stdin: 'finops_config' is not valid JSON: Expecting property name" in done.stdout


def test_check_config_reads_stdin_and_by_default_the_variable_environment():
    from_stdin = cli("check-config", "-", stdin=json.dumps(CONFIG))
    assert from_stdin.returncode == 0 and from_stdin.stdout.startswith("stdin: valid")
    from_env = cli("check-config", env={"AIRFLOW_VAR_FINOPS_CONFIG": '{"archive_bucket": "x"}'})
    assert from_env.returncode == 1
    assert "AIRFLOW_VAR_FINOPS_CONFIG: " in from_env.stdout
    assert "archive_bucket: expected an S3 bucket name, got 'x'" in from_env.stdout


def test_check_config_of_a_file_that_is_not_there_is_a_usage_error(tmp_path):
    done = cli("check-config", str(tmp_path / "nope.json"))
    assert done.returncode == 2
    assert "nope.json: No such file or directory" in done.stderr


# ---------------------------------------------------------------------------------- render-sql
NAMES = {
    "database": "acme_finops",
    "table": "costs",
    "budget_table": "budgets",
    "bucket": "acme-archive",
}
# What render-sql fills in without --cost-metric / --currency: finops_config's defaults.
SQL_FILES = sorted(
    f"{p.parent.name}/{p.stem}"
    for kind in ("ddl", "views")
    for p in (include_dir() / "sql" / kind).glob("*.sql")
)


def _statements(stdout: str) -> dict[str, str]:
    """Printed statement per file: each follows its ``-- <kind>/<name>.sql`` header."""
    found, current = {}, None
    for line in stdout.splitlines():
        if line.startswith("-- ") and line.endswith(".sql") and "/" in line:
            current = line[3:-4]
            found[current] = ""
        elif current:
            found[current] += line + "\n"
    return {name: text.strip() for name, text in found.items()}


def test_render_sql_prints_every_ddl_and_view_with_the_names_given():
    done = cli(
        "render-sql",
        *("--database", NAMES["database"], "--table", NAMES["table"]),
        *("--budget-table", NAMES["budget_table"], "--bucket", NAMES["bucket"]),
    )
    assert done.returncode == 0, done.stderr
    printed = _statements(done.stdout)
    assert sorted(printed) == SQL_FILES
    assert list(printed)[:2] == ["ddl/ou_breakdown", "ddl/ou_budget"], "tables before views"
    for name, sql in printed.items():
        values = placeholders(
            NAMES["database"], NAMES["table"], NAMES["budget_table"], "NetAmortizedCost", "USD"
        )
        assert sql == render_sql(name, bucket=NAMES["bucket"], **values).strip() + ";"
        assert "{" not in sql and "finops_db" not in sql
    assert "CREATE EXTERNAL TABLE IF NOT EXISTS acme_finops.costs (" in printed["ddl/ou_breakdown"]
    assert "LOCATION 's3://acme-archive/parquet/ou_budget/'" in printed["ddl/ou_budget"]
    view = printed["views/month_to_date_vs_budget"]
    assert "FROM acme_finops.budgets AS b" in view and "JOIN acme_finops.costs AS c" in view


def test_render_sql_prints_only_the_names_asked_for_and_views_need_no_bucket():
    done = cli("render-sql", "--database", "acme_finops", "daily_cost_by_service")
    assert done.returncode == 0, done.stderr
    printed = _statements(done.stdout)
    assert list(printed) == ["views/daily_cost_by_service"]
    assert (
        "CREATE OR REPLACE VIEW acme_finops.daily_cost_by_service AS"
        in printed["views/daily_cost_by_service"]
    )


@pytest.mark.parametrize(
    ("args", "cost", "currency"),
    [
        ([], "EffectiveCost", "USD"),
        (["--cost-metric", "AmortizedCost"], "EffectiveCost", "USD"),
        (["--cost-metric", "UnblendedCost", "--currency", "EUR"], "BilledCost", "EUR"),
        (["--cost-metric", "BlendedCost"], "BilledCost", "USD"),
    ],
)
def test_render_sql_names_the_focus_cost_column_after_the_cost_metric(args, cost, currency):
    done = cli("render-sql", *args, "focus_daily_costs")
    assert done.returncode == 0, done.stderr
    view = _statements(done.stdout)["views/focus_daily_costs"]
    assert f"dailycost AS {cost}," in view
    other = ({"EffectiveCost", "BilledCost"} - {cost}).pop()
    assert f"AS {other}" not in view
    assert f"'{currency}' AS BillingCurrency" in view


def test_render_sql_refuses_an_unknown_name_naming_the_choices():
    done = cli("render-sql", "daily_cost_by_ou", "daily_costs")
    assert done.returncode == 2
    assert "unknown SQL name(s) daily_costs" in done.stderr
    for choice in SQL_FILES:
        assert choice.split("/")[1] in done.stderr
    assert done.stdout == "", "nothing printed before the refusal"


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["ou_breakdown"], "ou_breakdown needs --bucket"),
        (["--database", "Finops-DB", "daily_cost_by_ou"], "glue_database: expected a name Athena"),
        (
            ["--cost-metric", "UsageQuantity", "focus_daily_costs"],
            "invalid choice: 'UsageQuantity'",
        ),
        (["--currency", "eur", "focus_daily_costs"], "currency: expected an ISO 4217"),
    ],
)
def test_render_sql_refuses_what_athena_would_not_run(args, said):
    done = cli("render-sql", *args)
    assert done.returncode == 2
    assert said in done.stderr


# ----------------------------------------------------------------------------------- check-aws
def test_check_aws_probes_nothing_with_an_invalid_config(tmp_path, capsys):
    path = tmp_path / "finops_config.json"
    path.write_text(json.dumps({**CONFIG, "athena_workgroup": "a b"}))
    assert main(["check-aws", "--config", str(path)]) == 1
    out = capsys.readouterr().out
    assert "athena_workgroup: expected a workgroup name" in out
    assert "check-config" in out and not lines(out, "OK")


def test_check_aws_without_the_policy_template_is_a_usage_error(tmp_path, capsys):
    assert main(["check-aws", "--policy", str(tmp_path / "policy.json.tpl")]) == 2
    assert "cannot read the policy template" in capsys.readouterr().err


@pytest.fixture(scope="module")
def enforced():
    """The sandbox enforcing IAM (resource-level, as AWS does), with one archived object so the
    versioned read is probed. Yields a factory: policy -> that user's credentials as env."""
    with Sandbox.start(iam_enforcement=True) as sb:
        admin = {
            "endpoint_url": sb.endpoint_url,
            "region_name": "us-east-1",
            "aws_access_key_id": "testing",
            "aws_secret_access_key": "testing",
        }
        with disable_iam_authentication():
            boto3.client("s3", **admin).put_object(Bucket=BUCKET, Key=ARCHIVED_KEY, Body=b"x")
        sb.write_data_exports(date(2025, 9, 14), formats=("cur2",))

        def user(name: str, policy: dict) -> dict[str, str]:
            with disable_iam_authentication():
                iam = boto3.client("iam", **admin)
                iam.create_user(UserName=name)
                iam.put_user_policy(
                    UserName=name, PolicyName="finops-digest-dag", PolicyDocument=json.dumps(policy)
                )
                key = iam.create_access_key(UserName=name)["AccessKey"]
            return {
                **sb.env(),
                "AWS_ACCESS_KEY_ID": key["AccessKeyId"],
                "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"],
                "AIRFLOW_VAR_FINOPS_CONFIG": json.dumps(CONFIG),
            }

        with resource_level_iam(sb.organization.org_id):
            yield sb, admin, user


def test_check_aws_under_the_shipped_policy_finds_nothing_missing_and_writes_nothing(enforced):
    sandbox, admin, user = enforced
    done = cli("check-aws", env=user("finops-shipped", SHIPPED))
    assert done.returncode == 0, done.stdout + done.stderr
    assert not lines(done.stdout, "MISSING") and not lines(done.stdout, "ERROR")
    assert "check-aws: all " in done.stdout
    assert done.stdout.splitlines()[0].endswith(
        "as arn:aws:iam::123456789012:user/finops-shipped, statements of mwaa_execution.json.tpl"
    )
    # The output speaks the policy's words: every action, with its statement's Sid.
    for st in statements(SHIPPED):
        for action in st["Action"]:
            assert any(f" {action} [{st['Sid']}]" in line for line in done.stdout.splitlines()), (
                action
            )
    assert any("s3:GetObjectVersion [" in line for line in lines(done.stdout, "OK"))
    for sid in NOT_PROBED:
        assert all(f"[{sid}]" not in line for line in lines(done.stdout, "OK"))
    with disable_iam_authentication():
        s3 = boto3.client("s3", **admin)
        keys = {v["Key"] for v in s3.list_object_versions(Bucket=BUCKET).get("Versions", [])}
        uploads = s3.list_multipart_uploads(Bucket=BUCKET).get("Uploads", [])
    assert {k for k in keys if not k.startswith("athena-results/")} == {ARCHIVED_KEY}
    assert uploads == [], "the write probe's upload was aborted"


@pytest.mark.parametrize("sid", PROBED)
def test_check_aws_names_the_statement_taken_out_of_the_policy(enforced, sid, monkeypatch, capsys):
    _, _, user = enforced
    policy = {**SHIPPED, "Statement": [st for st in SHIPPED["Statement"] if st["Sid"] != sid]}
    for key, value in user(f"finops-without-{sid}"[:64], policy).items():
        monkeypatch.setenv(key, value)
    code = main(["check-aws"])
    out = capsys.readouterr().out
    missing = lines(out, "MISSING")
    assert code == 1, out
    assert missing, out
    # Every missing action is one of that statement's, named by its Sid; nothing else is missing.
    removed = next(st for st in statements(SHIPPED) if st["Sid"] == sid)
    for line in missing:
        action = line.split()[1]
        assert action in removed["Action"] and f"[{sid}]" in line, line
    assert f": statement {sid}" in out.splitlines()[-1]


def test_check_aws_says_a_statement_it_cannot_probe_is_not_probed(enforced, monkeypatch, capsys):
    _, _, user = enforced
    policy = {
        **SHIPPED,
        "Statement": [s for s in SHIPPED["Statement"] if s["Sid"] != "SendAsTheSender"],
    }
    for key, value in user("finops-without-ses", policy).items():
        monkeypatch.setenv(key, value)
    assert main(["check-aws"]) == 0
    skipped = lines(capsys.readouterr().out, "SKIPPED")
    assert any(
        "ses:SendRawEmail [SendAsTheSender]" in line and "no dry run" in line for line in skipped
    )


def test_check_aws_reports_a_resource_that_is_not_there_apart_from_a_permission(
    enforced, monkeypatch, capsys
):
    _, _, user = enforced
    policy = render_policy({**sandbox_policy_values(), "glue_database": "no_such_db"})
    for key, value in user("finops-no-such-db", policy).items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv(
        "AIRFLOW_VAR_FINOPS_CONFIG", json.dumps({**CONFIG, "glue_database": "no_such_db"})
    )
    assert main(["check-aws"]) == 1
    out = capsys.readouterr().out
    assert not lines(out, "MISSING"), out
    (not_found,) = lines(out, "NOT FOUND")
    assert (
        "glue:GetDatabase [CatalogTheTable] database no_such_db: GetDatabase: EntityNotFoundException"
        in not_found
    )
    assert out.splitlines()[-1] == "check-aws: 1 not found"
