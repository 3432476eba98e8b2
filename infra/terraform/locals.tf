locals {
  account_id            = data.aws_caller_identity.current.account_id
  partition             = data.aws_partition.current.partition
  ses_identity          = var.ses_identity != "" ? var.ses_identity : var.ses_sender
  management_account_id = var.organization_management_account_id != "" ? var.organization_management_account_id : local.account_id
  # The crawler's target and the Glue table's location (plugins/finops_digest/layout.py).
  parquet_prefix         = "parquet/ou_breakdown/"
  athena_results_prefix  = "athena-results/"
  athena_output_location = "s3://${var.archive_bucket}/${local.athena_results_prefix}"
}

# The dashboard the execution role may export as the executive snapshot: the one configured, else
# the one quicksight.tf creates (when enabled), else none.
locals {
  snapshot_dashboard_id = var.quicksight_dashboard_id != "" ? var.quicksight_dashboard_id : (
    var.quicksight_enabled ? aws_quicksight_dashboard.finops[0].dashboard_id : ""
  )
}

# The Data Exports export the execution role may read (cost_source data_exports); all empty when
# var.data_exports is null, so its policy statements name nothing that exists and grant nothing.
locals {
  data_exports_bucket   = var.data_exports == null ? "" : var.data_exports.bucket
  data_exports_prefix   = var.data_exports == null ? "" : trimsuffix(var.data_exports.prefix, "/")
  data_exports_database = var.data_exports == null ? "" : var.data_exports.database
  data_exports_table    = var.data_exports == null ? "" : var.data_exports.table
}
