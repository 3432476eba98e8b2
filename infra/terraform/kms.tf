# One customer-managed key for the archive, Athena results and the crawler's logs: who may read
# the cost history is then decided in one key policy and the IAM policies below.
resource "aws_kms_key" "archive" {
  description             = "finops-digest archive, Athena results and Glue crawler logs"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy                  = data.aws_iam_policy_document.archive_key.json
}

resource "aws_kms_alias" "archive" {
  name          = "alias/finops-digest-archive"
  target_key_id = aws_kms_key.archive.key_id
}

data "aws_iam_policy_document" "archive_key" {
  # checkov:skip=CKV_AWS_109:A key policy's "*" resource is the key itself; account admins must keep control of it.
  # checkov:skip=CKV_AWS_111:A key policy's "*" resource is the key itself; account admins must keep control of it.
  # checkov:skip=CKV_AWS_356:A key policy's "*" resource is the key itself, not every resource.
  statement {
    sid       = "AccountAdministersKeyThroughIam"
    actions   = ["kms:*"]
    resources = ["*"]
    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account_id}:root"]
    }
  }
  statement {
    sid = "GlueCrawlerLogsEncryption"
    actions = [
      "kms:Encrypt",
      "kms:Decrypt",
      "kms:ReEncrypt*",
      "kms:GenerateDataKey*",
      "kms:DescribeKey",
    ]
    resources = ["*"]
    principals {
      type        = "Service"
      identifiers = ["logs.${var.region}.amazonaws.com"]
    }
    condition {
      test     = "ArnLike"
      variable = "kms:EncryptionContext:aws:logs:arn"
      values   = ["arn:${local.partition}:logs:${var.region}:${local.account_id}:log-group:/aws-glue/crawlers-role/*"]
    }
  }
}
