# The MWAA execution role: MWAA's own needs (logs, metrics, the Celery queue, the source bucket)
# and, separately, exactly what the DAG calls (policies/mwaa_execution.json.tpl, which
# tests/deploy renders for the sandbox and runs the whole DAG under with IAM enforced).
resource "aws_iam_role" "mwaa_execution" {
  name               = "finops-digest-mwaa-execution"
  assume_role_policy = data.aws_iam_policy_document.mwaa_assume.json
}

data "aws_iam_policy_document" "mwaa_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["airflow.amazonaws.com", "airflow-env.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role_policy" "finops_dag" {
  name = "finops-digest-dag"
  role = aws_iam_role.mwaa_execution.id
  policy = templatefile("${path.module}/policies/mwaa_execution.json.tpl", {
    partition             = local.partition
    region                = var.region
    account_id            = local.account_id
    management_account_id = local.management_account_id
    archive_bucket        = aws_s3_bucket.archive.id
    kms_key_arn           = aws_kms_key.archive.arn
    glue_database         = aws_glue_catalog_database.finops.name
    glue_table            = var.glue_table
    glue_budget_table     = var.glue_budget_table
    glue_crawler          = aws_glue_crawler.ou_breakdown.name
    athena_workgroup      = aws_athena_workgroup.finops.name
    ses_identity          = aws_sesv2_email_identity.sender.email_identity
    # Empty (no QuickSight snapshot): the statement names no dashboard, so it grants nothing.
    quicksight_dashboard_id = local.snapshot_dashboard_id
    # Empty (no var.data_exports): the export statements name nothing, so they grant nothing.
    data_exports_bucket   = local.data_exports_bucket
    data_exports_prefix   = local.data_exports_prefix
    data_exports_database = local.data_exports_database
    data_exports_table    = local.data_exports_table
  })
}

resource "aws_iam_role_policy" "mwaa_platform" {
  name   = "mwaa-platform"
  role   = aws_iam_role.mwaa_execution.id
  policy = data.aws_iam_policy_document.mwaa_platform.json
}

# MWAA's documented execution-role needs, scoped to this environment.
data "aws_iam_policy_document" "mwaa_platform" {
  statement {
    sid       = "PublishAirflowMetrics"
    actions   = ["airflow:PublishMetrics"]
    resources = ["arn:${local.partition}:airflow:${var.region}:${local.account_id}:environment/${var.mwaa_environment_name}"]
  }
  statement {
    sid       = "ReadDagBundle"
    actions   = ["s3:GetObject*", "s3:GetBucket*", "s3:List*"]
    resources = [var.mwaa_source_bucket_arn, "${var.mwaa_source_bucket_arn}/*"]
  }
  statement {
    sid       = "CheckSourceBucketIsPrivate"
    actions   = ["s3:GetAccountPublicAccessBlock"]
    resources = ["*"]
  }
  statement {
    sid = "AirflowLogs"
    actions = [
      "logs:CreateLogStream",
      "logs:CreateLogGroup",
      "logs:PutLogEvents",
      "logs:GetLogEvents",
      "logs:GetLogRecord",
      "logs:GetLogGroupFields",
      "logs:GetQueryResults",
    ]
    resources = ["arn:${local.partition}:logs:${var.region}:${local.account_id}:log-group:airflow-${var.mwaa_environment_name}-*"]
  }
  statement {
    sid       = "DescribeLogGroups"
    actions   = ["logs:DescribeLogGroups"]
    resources = ["*"]
  }
  statement {
    sid       = "Metrics"
    actions   = ["cloudwatch:PutMetricData"]
    resources = ["*"]
  }
  statement {
    sid = "CeleryQueue"
    actions = [
      "sqs:ChangeMessageVisibility",
      "sqs:DeleteMessage",
      "sqs:GetQueueAttributes",
      "sqs:GetQueueUrl",
      "sqs:ReceiveMessage",
      "sqs:SendMessage",
    ]
    resources = ["arn:${local.partition}:sqs:${var.region}:*:airflow-celery-*"]
  }
  statement {
    sid       = "CeleryQueueEncryption"
    actions   = ["kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKey*", "kms:Encrypt"]
    resources = ["arn:${local.partition}:kms:*:*:key/*"]
    condition {
      test     = "StringLike"
      variable = "kms:ViaService"
      values   = ["sqs.${var.region}.amazonaws.com"]
    }
  }
}

# Only with Airflow's Secrets Manager backend (docs/deployment.md): the one secret holding
# finops_config, read by Airflow (not by the DAG code) under the execution role.
resource "aws_iam_role_policy" "finops_config_secret" {
  count  = var.finops_config_in_secrets_manager ? 1 : 0
  name   = "finops-config-secret"
  role   = aws_iam_role.mwaa_execution.id
  policy = data.aws_iam_policy_document.finops_config_secret.json
}

data "aws_iam_policy_document" "finops_config_secret" {
  statement {
    sid       = "ReadFinopsConfigSecret"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = ["arn:${local.partition}:secretsmanager:${var.region}:${local.account_id}:secret:airflow/variables/finops_config-*"]
  }
}
