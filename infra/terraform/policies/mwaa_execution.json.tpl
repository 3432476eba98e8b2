{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "ArchiveBucket",
      "Effect": "Allow",
      "Action": [
        "s3:GetBucketVersioning",
        "s3:GetBucketLocation",
        "s3:ListBucket",
        "s3:ListBucketVersions"
      ],
      "Resource": "arn:${partition}:s3:::${archive_bucket}"
    },
    {
      "Sid": "ArchiveObjectsAddVersionsAndRead",
      "Effect": "Allow",
      "Action": [
        "s3:GetObject",
        "s3:GetObjectVersion",
        "s3:PutObject",
        "s3:AbortMultipartUpload",
        "s3:ListMultipartUploadParts"
      ],
      "Resource": "arn:${partition}:s3:::${archive_bucket}/*"
    },
    {
      "Sid": "ArchiveKey",
      "Effect": "Allow",
      "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
      "Resource": "${kms_key_arn}"
    },
    {
      "Sid": "CostExplorerHasNoResourceLevelPermissions",
      "Effect": "Allow",
      "Action": ["ce:GetCostAndUsage", "ce:GetCostForecast", "ce:GetAnomalies"],
      "Resource": "*"
    },
    {
      "Sid": "OrganizationsListRootsHasNoResourceLevelPermissions",
      "Effect": "Allow",
      "Action": ["organizations:ListRoots"],
      "Resource": "*"
    },
    {
      "Sid": "OrganizationsTree",
      "Effect": "Allow",
      "Action": [
        "organizations:ListOrganizationalUnitsForParent",
        "organizations:ListAccountsForParent"
      ],
      "Resource": [
        "arn:${partition}:organizations::${management_account_id}:root/o-*/r-*",
        "arn:${partition}:organizations::${management_account_id}:ou/o-*/ou-*"
      ]
    },
    {
      "Sid": "CatalogTheTable",
      "Effect": "Allow",
      "Action": [
        "glue:GetDatabase",
        "glue:GetTable",
        "glue:CreateTable",
        "glue:UpdateTable",
        "glue:GetPartition",
        "glue:GetPartitions",
        "glue:BatchCreatePartition"
      ],
      "Resource": [
        "arn:${partition}:glue:${region}:${account_id}:catalog",
        "arn:${partition}:glue:${region}:${account_id}:database/${glue_database}",
        "arn:${partition}:glue:${region}:${account_id}:table/${glue_database}/${glue_table}",
        "arn:${partition}:glue:${region}:${account_id}:table/${glue_database}/${glue_budget_table}",
        "arn:${partition}:glue:${region}:${account_id}:table/${glue_database}/ou_tree",
        "arn:${partition}:glue:${region}:${account_id}:table/${glue_database}/ou_anomaly",
        "arn:${partition}:glue:${region}:${account_id}:table/${glue_database}/anomaly_rollup",
        "arn:${partition}:glue:${region}:${account_id}:table/${glue_database}/cost_rollup",
        "arn:${partition}:glue:${region}:${account_id}:table/${glue_database}/daily_cost_by_ou",
        "arn:${partition}:glue:${region}:${account_id}:table/${glue_database}/daily_cost_by_service",
        "arn:${partition}:glue:${region}:${account_id}:table/${glue_database}/focus_daily_costs",
        "arn:${partition}:glue:${region}:${account_id}:table/${glue_database}/month_to_date_by_ou",
        "arn:${partition}:glue:${region}:${account_id}:table/${glue_database}/month_to_date_vs_budget"
      ]
    },
    {
      "Sid": "RunTheCrawler",
      "Effect": "Allow",
      "Action": ["glue:GetCrawler", "glue:StartCrawler"],
      "Resource": "arn:${partition}:glue:${region}:${account_id}:crawler/${glue_crawler}"
    },
    {
      "Sid": "CrawlerMetricsHasNoResourceLevelPermissions",
      "Effect": "Allow",
      "Action": ["glue:GetCrawlerMetrics"],
      "Resource": "*"
    },
    {
      "Sid": "QueryInTheWorkgroup",
      "Effect": "Allow",
      "Action": [
        "athena:StartQueryExecution",
        "athena:GetQueryExecution",
        "athena:GetQueryResults"
      ],
      "Resource": "arn:${partition}:athena:${region}:${account_id}:workgroup/${athena_workgroup}"
    },
    {
      "Sid": "SendAsTheSender",
      "Effect": "Allow",
      "Action": ["ses:SendRawEmail"],
      "Resource": "arn:${partition}:ses:${region}:${account_id}:identity/${ses_identity}"
    },
    {
      "Sid": "PostToTheChatTopics",
      "Effect": "Allow",
      "Action": ["sns:Publish"],
      "Resource": "arn:${partition}:sns:${region}:${account_id}:finops-*"
    },
    {
      "Sid": "SnapshotTheExecutiveDashboard",
      "Effect": "Allow",
      "Action": [
        "quicksight:DescribeDashboard",
        "quicksight:StartDashboardSnapshotJob",
        "quicksight:DescribeDashboardSnapshotJob",
        "quicksight:DescribeDashboardSnapshotJobResult"
      ],
      "Resource": "arn:${partition}:quicksight:${region}:${account_id}:dashboard/${quicksight_dashboard_id}"
    },
    {
      "Sid": "ReadTheDataExportTable",
      "Effect": "Allow",
      "Action": ["glue:GetDatabase", "glue:GetTable", "glue:GetPartition", "glue:GetPartitions"],
      "Resource": [
        "arn:${partition}:glue:${region}:${account_id}:catalog",
        "arn:${partition}:glue:${region}:${account_id}:database/${data_exports_database}",
        "arn:${partition}:glue:${region}:${account_id}:table/${data_exports_database}/${data_exports_table}"
      ]
    },
    {
      "Sid": "ReadTheDataExportFiles",
      "Effect": "Allow",
      "Action": ["s3:GetObject"],
      "Resource": "arn:${partition}:s3:::${data_exports_bucket}/${data_exports_prefix}/*"
    },
    {
      "Sid": "ListTheDataExportFiles",
      "Effect": "Allow",
      "Action": ["s3:ListBucket", "s3:GetBucketLocation"],
      "Resource": "arn:${partition}:s3:::${data_exports_bucket}",
      "Condition": {"StringLike": {"s3:prefix": ["${data_exports_prefix}/*"]}}
    },
    {
      "Sid": "ReadBudgets",
      "Effect": "Allow",
      "Action": ["budgets:ViewBudget"],
      "Resource": "arn:${partition}:budgets::${management_account_id}:budget/*"
    }
  ]
}
