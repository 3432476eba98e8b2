output "finops_config" {
  description = "The finops_config Airflow Variable for these resources (add recipients, then store it as the Variable or in Secrets Manager)."
  value = jsonencode(merge({
    archive_bucket         = aws_s3_bucket.archive.id
    glue_database          = aws_glue_catalog_database.finops.name
    glue_table             = var.glue_table
    glue_budget_table      = var.glue_budget_table
    glue_crawler           = aws_glue_crawler.ou_breakdown.name
    athena_workgroup       = aws_athena_workgroup.finops.name
    athena_output_location = local.athena_output_location
    ses_sender             = var.ses_sender
    }, var.data_exports == null ? {} : {
    cost_source = "data_exports"
    data_exports = {
      database = var.data_exports.database
      table    = var.data_exports.table
      format   = var.data_exports.format
    }
  }))
}

output "mwaa_execution_role_arn" {
  description = "Execution role to give the MWAA environment."
  value       = aws_iam_role.mwaa_execution.arn
}

output "archive_kms_key_arn" {
  description = "Key of the archive and Athena results (analysts' roles need kms:Decrypt on it)."
  value       = aws_kms_key.archive.arn
}

output "ses_dkim_tokens" {
  description = "DKIM CNAME tokens to publish when ses_identity is a domain."
  value       = aws_sesv2_email_identity.sender.dkim_signing_attributes[0].tokens
}

output "quicksight_dashboard_id" {
  description = "The QuickSight dashboard's id (null unless quicksight_enabled); open it at https://<region>.quicksight.aws.amazon.com/sn/dashboards/<id>."
  value       = one(aws_quicksight_dashboard.finops[*].dashboard_id)
}

output "quicksight_role_arn" {
  description = "The role the QuickSight Athena data source reads the archive with (null unless quicksight_enabled)."
  value       = one(aws_iam_role.quicksight[*].arn)
}
