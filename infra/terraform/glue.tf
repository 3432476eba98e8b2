resource "aws_glue_catalog_database" "finops" {
  name        = var.glue_database
  description = "FinOps cost history (finops-digest); the DAG creates the table with typed partition keys."
}

# The default catalog strategy: the DAG starts this crawler after archiving each day, and it adds
# the day's partition. With catalog_strategy = "partition_api" the DAG registers the partition
# itself and the crawler is only a fallback (see docs/deployment.md).
resource "aws_glue_crawler" "ou_breakdown" {
  name                   = var.glue_crawler
  role                   = aws_iam_role.crawler.arn
  database_name          = aws_glue_catalog_database.finops.name
  security_configuration = aws_glue_security_configuration.crawler.name
  description            = "Adds new daily partitions of ${var.glue_database}.${var.glue_table}"

  s3_target {
    path = "s3://${var.archive_bucket}/${local.parquet_prefix}"
  }

  # Only new day folders are read, so a crawl stays short as the history grows; the table itself
  # (typed keys) belongs to the DAG, so the crawler never changes or deletes it.
  recrawl_policy {
    recrawl_behavior = "CRAWL_NEW_FOLDERS_ONLY"
  }
  schema_change_policy {
    update_behavior = "LOG"
    delete_behavior = "LOG"
  }
}

resource "aws_glue_security_configuration" "crawler" {
  name = "finops-digest-crawler"
  encryption_configuration {
    cloudwatch_encryption {
      cloudwatch_encryption_mode = "SSE-KMS"
      kms_key_arn                = aws_kms_key.archive.arn
    }
    job_bookmarks_encryption {
      job_bookmarks_encryption_mode = "CSE-KMS"
      kms_key_arn                   = aws_kms_key.archive.arn
    }
    s3_encryption {
      s3_encryption_mode = "SSE-KMS"
      kms_key_arn        = aws_kms_key.archive.arn
    }
  }
}

resource "aws_iam_role" "crawler" {
  name               = "finops-digest-glue-crawler"
  assume_role_policy = data.aws_iam_policy_document.glue_assume.json
}

data "aws_iam_policy_document" "glue_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["glue.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role_policy" "crawler" {
  name   = "finops-digest-glue-crawler"
  role   = aws_iam_role.crawler.id
  policy = data.aws_iam_policy_document.crawler.json
}

# What the crawler does: read the Parquet prefix, add partitions to the one table, write its logs.
data "aws_iam_policy_document" "crawler" {
  statement {
    sid       = "ListParquetPrefix"
    actions   = ["s3:ListBucket"]
    resources = [aws_s3_bucket.archive.arn]
    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = [local.parquet_prefix, "${local.parquet_prefix}*"]
    }
  }
  statement {
    sid       = "ReadParquet"
    actions   = ["s3:GetObject"]
    resources = ["${aws_s3_bucket.archive.arn}/${local.parquet_prefix}*"]
  }
  statement {
    sid       = "DecryptArchive"
    actions   = ["kms:Decrypt"]
    resources = [aws_kms_key.archive.arn]
  }
  statement {
    sid = "CatalogTheTable"
    actions = [
      "glue:GetDatabase",
      "glue:GetTable",
      "glue:CreateTable",
      "glue:UpdateTable",
      "glue:GetPartition",
      "glue:GetPartitions",
      "glue:BatchGetPartition",
      "glue:CreatePartition",
      "glue:BatchCreatePartition",
      "glue:UpdatePartition",
      "glue:BatchUpdatePartition",
    ]
    resources = [
      "arn:${local.partition}:glue:${var.region}:${local.account_id}:catalog",
      aws_glue_catalog_database.finops.arn,
      "arn:${local.partition}:glue:${var.region}:${local.account_id}:table/${var.glue_database}/*",
    ]
  }
  statement {
    sid       = "CrawlerLogs"
    actions   = ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:AssociateKmsKey"]
    resources = ["arn:${local.partition}:logs:${var.region}:${local.account_id}:log-group:/aws-glue/crawlers*"]
  }
}
