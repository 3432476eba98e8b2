# Analysts' and the DAG's workgroup: results encrypted with the archive key, a per-query scan limit,
# and the settings enforced so a client cannot write unencrypted results elsewhere.
resource "aws_athena_workgroup" "finops" {
  name          = var.athena_workgroup
  force_destroy = false
  configuration {
    enforce_workgroup_configuration    = true
    publish_cloudwatch_metrics_enabled = true
    bytes_scanned_cutoff_per_query     = var.athena_bytes_scanned_cutoff
    result_configuration {
      output_location = local.athena_output_location
      encryption_configuration {
        encryption_option = "SSE_KMS"
        kms_key_arn       = aws_kms_key.archive.arn
      }
    }
  }
}
