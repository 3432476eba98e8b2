# QuickSight as code (off unless quicksight_enabled): an Athena data source on the finops
# workgroup, data sets over the cost table and the shipped views (include/sql/views), and a
# dashboard with a drill-down sheet and a budget sheet. The QuickSight subscription, and the views
# themselves, must exist first (docs/deployment.md, "QuickSight").

locals {
  # The reader set: open the dashboard and query through it. Readers need nothing on the data
  # sets or the data source (the dashboard queries on its own behalf), so those grant no one.
  quicksight_viewer_actions = [
    "quicksight:DescribeDashboard",
    "quicksight:ListDashboardVersions",
    "quicksight:QueryDashboard",
  ]
  # budgets/lights.py LIGHT_COLOURS, upper-cased as QuickSight's hex colours must be (a test
  # keeps the two equal), so a red light is the same red in the email, the PDF and QuickSight.
  quicksight_light_colours = {
    green = "#15803D"
    amber = "#D97706"
    red   = "#B91C1C"
  }
  # Column types as QuickSight reads them from Athena, per shipped table or view (a test checks
  # the names against schema.py and each view's SELECT).
  quicksight_cost_columns = [
    { name = "billingdate", type = "DATETIME" },
    { name = "ou", type = "STRING" },
    { name = "service", type = "STRING" },
    { name = "linkedaccount", type = "STRING" },
    { name = "dailycost", type = "DECIMAL" },
    { name = "accountname", type = "STRING" },
    { name = "year", type = "INTEGER" },
    { name = "month", type = "INTEGER" },
    { name = "day", type = "INTEGER" },
  ]
  quicksight_daily_cost_by_ou_columns = [
    { name = "billingdate", type = "DATETIME" },
    { name = "year", type = "INTEGER" },
    { name = "month", type = "INTEGER" },
    { name = "day", type = "INTEGER" },
    { name = "ou", type = "STRING" },
    { name = "total_cost", type = "DECIMAL" },
    { name = "line_items", type = "INTEGER" },
  ]
  quicksight_month_to_date_vs_budget_columns = [
    { name = "billingdate", type = "DATETIME" },
    { name = "year", type = "INTEGER" },
    { name = "month", type = "INTEGER" },
    { name = "day", type = "INTEGER" },
    { name = "ou", type = "STRING" },
    { name = "month_to_date_cost", type = "DECIMAL" },
    { name = "budget", type = "DECIMAL" },
    { name = "budget_used", type = "DECIMAL" },
    { name = "forecast", type = "DECIMAL" },
    { name = "forecast_lower", type = "DECIMAL" },
    { name = "forecast_upper", type = "DECIMAL" },
    { name = "forecast_method", type = "STRING" },
    { name = "forecast_vs_budget", type = "DECIMAL" },
    { name = "light", type = "STRING" },
  ]
}

resource "aws_quicksight_data_source" "athena" {
  count          = var.quicksight_enabled ? 1 : 0
  data_source_id = "finops-digest-athena"
  name           = "finops-digest Athena (${aws_athena_workgroup.finops.name})"
  type           = "ATHENA"
  parameters {
    athena {
      work_group = aws_athena_workgroup.finops.name
      # Its own role rather than the account-wide QuickSight service role, so reading the cost
      # history is granted here, to this data source only.
      role_arn = aws_iam_role.quicksight[0].arn
    }
  }
}

# Direct query: each dashboard view runs Athena on the workgroup (a few MiB of Parquet, under the
# scan limit), so the dashboard shows the day the DAG archived last with no SPICE refresh to run.
resource "aws_quicksight_data_set" "costs" {
  count       = var.quicksight_enabled ? 1 : 0
  data_set_id = "finops-digest-costs"
  name        = "finops-digest cost per OU, service and account"
  import_mode = "DIRECT_QUERY"
  physical_table_map {
    physical_table_map_id = "costs"
    relational_table {
      data_source_arn = aws_quicksight_data_source.athena[0].arn
      catalog         = "AwsDataCatalog"
      schema          = aws_glue_catalog_database.finops.name
      name            = var.glue_table
      dynamic "input_columns" {
        for_each = local.quicksight_cost_columns
        content {
          name = input_columns.value.name
          type = input_columns.value.type
        }
      }
    }
  }
}

resource "aws_quicksight_data_set" "daily_cost_by_ou" {
  count       = var.quicksight_enabled ? 1 : 0
  data_set_id = "finops-digest-daily-cost-by-ou"
  name        = "finops-digest daily cost by OU"
  import_mode = "DIRECT_QUERY"
  physical_table_map {
    physical_table_map_id = "daily-cost-by-ou"
    relational_table {
      data_source_arn = aws_quicksight_data_source.athena[0].arn
      catalog         = "AwsDataCatalog"
      schema          = aws_glue_catalog_database.finops.name
      name            = "daily_cost_by_ou"
      dynamic "input_columns" {
        for_each = local.quicksight_daily_cost_by_ou_columns
        content {
          name = input_columns.value.name
          type = input_columns.value.type
        }
      }
    }
  }
}

resource "aws_quicksight_data_set" "month_to_date_vs_budget" {
  count       = var.quicksight_enabled ? 1 : 0
  data_set_id = "finops-digest-month-to-date-vs-budget"
  name        = "finops-digest month to date vs budget"
  import_mode = "DIRECT_QUERY"
  physical_table_map {
    physical_table_map_id = "month-to-date-vs-budget"
    relational_table {
      data_source_arn = aws_quicksight_data_source.athena[0].arn
      catalog         = "AwsDataCatalog"
      schema          = aws_glue_catalog_database.finops.name
      name            = "month_to_date_vs_budget"
      dynamic "input_columns" {
        for_each = local.quicksight_month_to_date_vs_budget_columns
        content {
          name = input_columns.value.name
          type = input_columns.value.type
        }
      }
    }
  }
}

resource "aws_quicksight_dashboard" "finops" {
  count               = var.quicksight_enabled ? 1 : 0
  dashboard_id        = "finops-digest"
  name                = "FinOps digest"
  version_description = "Managed by Terraform (infra/terraform/quicksight.tf)"

  lifecycle {
    precondition {
      condition     = length(var.quicksight_principal_arns) > 0
      error_message = "quicksight_enabled needs quicksight_principal_arns: the QuickSight users or groups who may view the dashboard (none would leave it visible to no one)."
    }
  }

  dynamic "permissions" {
    for_each = toset(var.quicksight_principal_arns)
    content {
      principal = permissions.value
      actions   = local.quicksight_viewer_actions
    }
  }

  definition {
    data_set_identifiers_declarations {
      identifier   = "costs"
      data_set_arn = aws_quicksight_data_set.costs[0].arn
    }
    data_set_identifiers_declarations {
      identifier   = "daily_cost_by_ou"
      data_set_arn = aws_quicksight_data_set.daily_cost_by_ou[0].arn
    }
    data_set_identifiers_declarations {
      identifier   = "month_to_date_vs_budget"
      data_set_arn = aws_quicksight_data_set.month_to_date_vs_budget[0].arn
    }

    sheets {
      sheet_id = "cost-drill-down"
      name     = "Cost drill-down"

      # One bar per OU; clicking a bar drills to that OU's services, then to a service's accounts
      # (the explicit hierarchy below: the field well holds every level, the hierarchy orders them).
      visuals {
        bar_chart_visual {
          visual_id = "cost-drill-down"
          title {
            format_text {
              plain_text = "Cost by OU, then service, then linked account"
            }
          }
          chart_configuration {
            field_wells {
              bar_chart_aggregated_field_wells {
                category {
                  categorical_dimension_field {
                    field_id     = "drill-ou"
                    hierarchy_id = "ou-service-account"
                    column {
                      data_set_identifier = "costs"
                      column_name         = "ou"
                    }
                  }
                }
                category {
                  categorical_dimension_field {
                    field_id     = "drill-service"
                    hierarchy_id = "ou-service-account"
                    column {
                      data_set_identifier = "costs"
                      column_name         = "service"
                    }
                  }
                }
                category {
                  categorical_dimension_field {
                    field_id     = "drill-linkedaccount"
                    hierarchy_id = "ou-service-account"
                    column {
                      data_set_identifier = "costs"
                      column_name         = "linkedaccount"
                    }
                  }
                }
                values {
                  numerical_measure_field {
                    field_id = "drill-cost"
                    column {
                      data_set_identifier = "costs"
                      column_name         = "dailycost"
                    }
                    aggregation_function {
                      simple_numerical_aggregation = "SUM"
                    }
                  }
                }
              }
            }
          }
          column_hierarchies {
            explicit_hierarchy {
              hierarchy_id = "ou-service-account"
              columns {
                data_set_identifier = "costs"
                column_name         = "ou"
              }
              columns {
                data_set_identifier = "costs"
                column_name         = "service"
              }
              columns {
                data_set_identifier = "costs"
                column_name         = "linkedaccount"
              }
            }
          }
        }
      }

      visuals {
        line_chart_visual {
          visual_id = "daily-cost-by-ou"
          title {
            format_text {
              plain_text = "Daily cost per OU"
            }
          }
          chart_configuration {
            field_wells {
              line_chart_aggregated_field_wells {
                category {
                  date_dimension_field {
                    field_id         = "daily-billingdate"
                    date_granularity = "DAY"
                    column {
                      data_set_identifier = "daily_cost_by_ou"
                      column_name         = "billingdate"
                    }
                  }
                }
                values {
                  numerical_measure_field {
                    field_id = "daily-total-cost"
                    column {
                      data_set_identifier = "daily_cost_by_ou"
                      column_name         = "total_cost"
                    }
                    aggregation_function {
                      simple_numerical_aggregation = "SUM"
                    }
                  }
                }
                colors {
                  categorical_dimension_field {
                    field_id = "daily-ou"
                    column {
                      data_set_identifier = "daily_cost_by_ou"
                      column_name         = "ou"
                    }
                  }
                }
              }
            }
          }
        }
      }
    }

    sheets {
      sheet_id = "budget-vs-forecast"
      name     = "Budget vs forecast"

      # One row per OU and day the DAG ran, newest day first: month to date, budget, month-end
      # forecast and the light the digest showed, the light's cell in the digest's colour.
      visuals {
        table_visual {
          visual_id = "budget-vs-forecast"
          title {
            format_text {
              plain_text = "Month to date, budget and forecast per OU"
            }
          }
          chart_configuration {
            field_wells {
              table_aggregated_field_wells {
                group_by {
                  date_dimension_field {
                    field_id         = "budget-billingdate"
                    date_granularity = "DAY"
                    column {
                      data_set_identifier = "month_to_date_vs_budget"
                      column_name         = "billingdate"
                    }
                  }
                }
                group_by {
                  categorical_dimension_field {
                    field_id = "budget-ou"
                    column {
                      data_set_identifier = "month_to_date_vs_budget"
                      column_name         = "ou"
                    }
                  }
                }
                group_by {
                  categorical_dimension_field {
                    field_id = "budget-light"
                    column {
                      data_set_identifier = "month_to_date_vs_budget"
                      column_name         = "light"
                    }
                  }
                }
                # One row per (day, OU) in the view, so MAX is that row's value.
                values {
                  numerical_measure_field {
                    field_id = "budget-month-to-date"
                    column {
                      data_set_identifier = "month_to_date_vs_budget"
                      column_name         = "month_to_date_cost"
                    }
                    aggregation_function {
                      simple_numerical_aggregation = "MAX"
                    }
                  }
                }
                values {
                  numerical_measure_field {
                    field_id = "budget-budget"
                    column {
                      data_set_identifier = "month_to_date_vs_budget"
                      column_name         = "budget"
                    }
                    aggregation_function {
                      simple_numerical_aggregation = "MAX"
                    }
                  }
                }
                values {
                  numerical_measure_field {
                    field_id = "budget-forecast"
                    column {
                      data_set_identifier = "month_to_date_vs_budget"
                      column_name         = "forecast"
                    }
                    aggregation_function {
                      simple_numerical_aggregation = "MAX"
                    }
                  }
                }
              }
            }
            sort_configuration {
              row_sort {
                field_sort {
                  field_id  = "budget-billingdate"
                  direction = "DESC"
                }
              }
            }
          }
          conditional_formatting {
            dynamic "conditional_formatting_options" {
              for_each = local.quicksight_light_colours
              content {
                cell {
                  field_id = "budget-light"
                  text_format {
                    background_color {
                      solid {
                        expression = "{light} = '${conditional_formatting_options.key}'"
                        color      = conditional_formatting_options.value
                      }
                    }
                  }
                }
              }
            }
          }
        }
      }
    }
  }
}

# What QuickSight does as this data source: run queries on the one workgroup, read the catalog of
# the one database, read the Parquet archive and write query results under athena-results/, with
# the archive key. Nothing else in the account.
resource "aws_iam_role" "quicksight" {
  count              = var.quicksight_enabled ? 1 : 0
  name               = "finops-digest-quicksight-athena"
  assume_role_policy = data.aws_iam_policy_document.quicksight_assume.json
}

data "aws_iam_policy_document" "quicksight_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["quicksight.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role_policy" "quicksight" {
  count  = var.quicksight_enabled ? 1 : 0
  name   = "finops-digest-quicksight-athena"
  role   = aws_iam_role.quicksight[0].id
  policy = data.aws_iam_policy_document.quicksight.json
}

data "aws_iam_policy_document" "quicksight" {
  statement {
    sid = "QueryTheWorkgroup"
    actions = [
      "athena:StartQueryExecution",
      "athena:StopQueryExecution",
      "athena:GetQueryExecution",
      "athena:GetQueryResults",
      "athena:GetQueryResultsStream",
      "athena:GetWorkGroup",
    ]
    resources = [aws_athena_workgroup.finops.arn]
  }
  statement {
    sid = "BrowseTheCatalog"
    actions = [
      "athena:GetDataCatalog",
      "athena:GetDatabase",
      "athena:ListDatabases",
      "athena:GetTableMetadata",
      "athena:ListTableMetadata",
    ]
    resources = ["arn:${local.partition}:athena:${var.region}:${local.account_id}:datacatalog/AwsDataCatalog"]
  }
  statement {
    sid = "ReadTheDatabase"
    actions = [
      "glue:GetDatabase",
      "glue:GetTable",
      "glue:GetTables",
      "glue:GetPartition",
      "glue:GetPartitions",
      "glue:BatchGetPartition",
    ]
    resources = [
      "arn:${local.partition}:glue:${var.region}:${local.account_id}:catalog",
      aws_glue_catalog_database.finops.arn,
      "arn:${local.partition}:glue:${var.region}:${local.account_id}:table/${var.glue_database}/*",
    ]
  }
  statement {
    sid       = "LocateBucket"
    actions   = ["s3:GetBucketLocation"]
    resources = [aws_s3_bucket.archive.arn]
  }
  statement {
    sid       = "ListArchiveAndResults"
    actions   = ["s3:ListBucket"]
    resources = [aws_s3_bucket.archive.arn]
    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = ["parquet/*", "${local.athena_results_prefix}*"]
    }
  }
  statement {
    sid       = "ReadArchive"
    actions   = ["s3:GetObject"]
    resources = ["${aws_s3_bucket.archive.arn}/parquet/*"]
  }
  statement {
    sid = "WriteQueryResults"
    actions = [
      "s3:GetObject",
      "s3:PutObject",
      "s3:AbortMultipartUpload",
      "s3:ListMultipartUploadParts",
    ]
    resources = ["${aws_s3_bucket.archive.arn}/${local.athena_results_prefix}*"]
  }
  statement {
    sid       = "ArchiveKey"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [aws_kms_key.archive.arn]
  }
}
