variable "region" {
  description = "Region of the archive, Glue, Athena, SES and MWAA (Cost Explorer is global)."
  type        = string
  default     = "us-east-1"
}

variable "archive_bucket" {
  description = "Name of the versioned archive bucket (finops_config.archive_bucket)."
  type        = string
}

variable "glue_database" {
  description = "Glue database of the Athena table (finops_config.glue_database)."
  type        = string
  default     = "finops_db"
}

variable "glue_table" {
  description = "Athena table the DAG registers and queries (finops_config.glue_table)."
  type        = string
  default     = "ou_breakdown"
}

variable "glue_budget_table" {
  description = "Athena table of each day's budget vs forecast per OU, created by the DAG (finops_config.glue_budget_table)."
  type        = string
  default     = "ou_budget"
}

variable "glue_crawler" {
  description = "Crawler over s3://<archive_bucket>/parquet/ou_breakdown/ (finops_config.glue_crawler)."
  type        = string
  default     = "finops-ou-breakdown-crawler"
}

variable "athena_workgroup" {
  description = "Athena workgroup of the validation query and analysts (finops_config.athena_workgroup)."
  type        = string
  default     = "finops"
}

variable "athena_bytes_scanned_cutoff" {
  description = "Per-query scan limit of the workgroup, in bytes (a runaway query is cancelled)."
  type        = number
  default     = 10737418240 # 10 GiB: years of daily per-OU Parquet are a few MiB
}

variable "ses_sender" {
  description = "Email address the digest, alerts and failure notices are sent from (finops_config.ses_sender)."
  type        = string
}

variable "ses_identity" {
  description = "SES identity that covers ses_sender: the address itself, or its domain if you verify the domain. Empty = ses_sender."
  type        = string
  default     = ""
}

variable "quicksight_dashboard_id" {
  description = "QuickSight dashboard whose PDF export is the executive snapshot (finops_config.quicksight_dashboard_id); the execution role may snapshot only it. Empty = the built-in PDF, no QuickSight permission."
  type        = string
  default     = ""
}

variable "noncurrent_version_retention_days" {
  description = "Days a replaced (noncurrent) archive version is kept before it may expire. Audit data must outlive your audit period."
  type        = number
  default     = 2557 # 7 years
  validation {
    condition     = var.noncurrent_version_retention_days >= 400
    error_message = "noncurrent_version_retention_days must be at least 400: superseded cost data is audit evidence for at least a year."
  }
}

variable "object_lock_retention_days" {
  description = "Object Lock COMPLIANCE retention in days (0 = no Object Lock). Compliance mode cannot be shortened or removed by anyone, root included."
  type        = number
  default     = 0
  validation {
    condition     = var.object_lock_retention_days >= 0
    error_message = "object_lock_retention_days must be 0 (off) or a positive number of days."
  }
}

variable "mwaa_environment_name" {
  description = "Name of the MWAA environment whose execution role runs the DAG."
  type        = string
  default     = "finops"
}

variable "mwaa_source_bucket_arn" {
  description = "ARN of the bucket MWAA reads dags/, plugins.zip and requirements.txt from."
  type        = string
}

variable "organization_management_account_id" {
  description = "Management account of the AWS Organization (where Cost Explorer and Organizations are read). Empty = this account."
  type        = string
  default     = ""
}

variable "tags" {
  description = "Tags on every resource."
  type        = map(string)
  default     = { project = "finops-digest" }
}

variable "finops_config_in_secrets_manager" {
  description = "Whether finops_config is read from Secrets Manager (secret airflow/variables/finops_config) through MWAA's secrets backend, rather than an Airflow Variable."
  type        = bool
  default     = false
}

variable "quicksight_enabled" {
  description = "Create the QuickSight data source, data sets and dashboard (infra/terraform/quicksight.tf). Needs a QuickSight subscription in this account and the views of include/sql/views in glue_database."
  type        = bool
  default     = false
}

variable "quicksight_principal_arns" {
  description = "QuickSight users or groups who may view the dashboard (arn:aws:quicksight:<region>:<account>:user/<namespace>/<name> or .../group/<namespace>/<name>); required with quicksight_enabled."
  type        = list(string)
  default     = []
  validation {
    condition = alltrue([
      for arn in var.quicksight_principal_arns :
      can(regex("^arn:aws[a-z-]*:quicksight:[a-z0-9-]+:[0-9]{12}:(user|group)/[^/]+/.+$", arn))
    ])
    error_message = "quicksight_principal_arns must be QuickSight user or group ARNs: arn:aws:quicksight:<region>:<account id>:user/<namespace>/<name> or .../group/<namespace>/<name>."
  }
}

variable "data_exports" {
  description = "The AWS Data Exports export (CUR 2.0 or FOCUS) the DAG reads its costs from with cost_source data_exports: the S3 bucket and prefix its files are under, and the Glue database and table over them (docs/data_exports.md). Null: Cost Explorer only, and the execution role may read no export."
  type = object({
    bucket   = string
    prefix   = string
    database = string
    table    = string
    format   = optional(string, "cur2")
  })
  default = null
  validation {
    condition     = var.data_exports == null || contains(["cur2", "focus1.0", "focus1.2"], try(var.data_exports.format, ""))
    error_message = "data_exports.format must be cur2, focus1.0 or focus1.2."
  }
}
