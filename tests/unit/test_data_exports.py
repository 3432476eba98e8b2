"""cost_source data_exports: its settings, the export query per format, and its amounts."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import pytest

from finops_digest.aws import data_exports
from finops_digest.aws.data_exports import Export, costs_sql, day_total_sql, plain_amount
from finops_digest.config import ConfigError, parse_config

CUR2 = {"database": "cid_data_export", "table": "cur2", "format": "cur2"}
FOCUS = {"database": "cid_data_export", "table": "focus", "format": "focus1.2"}
DEFAULT_EXCLUDED = ("Credit", "Refund", "Tax")


def config(**values):
    return parse_config({"archive_bucket": "my-finops-archive", **values})


def test_cost_explorer_stays_the_default_source():
    settings = config()
    assert settings.cost_source == "cost_explorer"
    assert settings.data_exports == {}


def test_data_exports_settings_are_kept_for_the_run():
    settings = config(cost_source="data_exports", data_exports=CUR2)
    assert settings.cost_source == "data_exports"
    assert settings.data_exports == CUR2
    assert type(settings).from_dict(settings.to_dict()).data_exports == CUR2
    provenance = settings.provenance(date(2025, 9, 14))
    assert provenance["cost-source"] == "data_exports cid_data_export.cur2 (cur2)"
    assert "cost-source" not in config().provenance(date(2025, 9, 14))


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"cost_source": "cur"}, "cost_source: expected one of cost_explorer, data_exports"),
        ({"cost_source": "data_exports"}, "data_exports: required with cost_source data_exports"),
        (
            {"cost_source": "data_exports", "data_exports": {**CUR2, "format": "cur1"}},
            "data_exports.format: expected one of cur2, focus1.0, focus1.2, got 'cur1'",
        ),
        (
            {"cost_source": "data_exports", "data_exports": {**CUR2, "table": "CUR 2"}},
            "data_exports.table: expected the Glue table of the export",
        ),
        (
            {"cost_source": "data_exports", "data_exports": {**CUR2, "colums": {}}},
            "data_exports: unknown key(s) ['colums']",
        ),
        (
            {
                "cost_source": "data_exports",
                "data_exports": {**CUR2, "columns": {"account": "a; DROP TABLE x"}},
            },
            "data_exports.columns.account: expected a column name",
        ),
        (
            {"cost_source": "data_exports", "data_exports": {**CUR2, "columns": {"acount": "a"}}},
            "data_exports.columns: unknown role 'acount'",
        ),
        (
            {"cost_source": "data_exports", "data_exports": FOCUS, "cost_metric": "UnblendedCost"},
            "cost_metric: UnblendedCost has no column in a FOCUS export",
        ),
        (
            {
                "cost_source": "data_exports",
                "data_exports": FOCUS,
                "excluded_record_types": ["Tax", "SavingsPlanNegation"],
            },
            "excluded_record_types: SavingsPlanNegation cannot be told apart in a focus1.2 export",
        ),
        (
            {
                "cost_source": "data_exports",
                "data_exports": CUR2,
                "excluded_record_types": ["Support"],
            },
            "excluded_record_types: Support cannot be told apart in a cur2 export",
        ),
    ],
)
def test_a_bad_data_exports_setting_names_what_was_wrong_and_what_is_expected(values, message):
    with pytest.raises(ConfigError) as error:
        config(**values)
    assert message in str(error.value)


def test_a_focus_metric_without_a_column_can_name_the_column_to_sum():
    focus = {**FOCUS, "columns": {"cost": "BilledCost"}}
    settings = config(cost_source="data_exports", data_exports=focus, cost_metric="UnblendedCost")
    sql = costs_sql(
        Export.from_config(settings.data_exports),
        "UnblendedCost",
        (),
        date(2025, 9, 14),
        date(2025, 9, 14),
    )
    assert "SUM(CAST(BilledCost AS DECIMAL(38, 10)))" in sql


@pytest.mark.parametrize(
    ("metric", "column"),
    [
        ("UnblendedCost", "line_item_unblended_cost"),
        ("BlendedCost", "line_item_blended_cost"),
        ("NetUnblendedCost", "line_item_net_unblended_cost"),
    ],
)
def test_cur2_sums_the_metric_column_per_day_account_and_service(metric, column):
    sql = costs_sql(
        Export.from_config(CUR2), metric, DEFAULT_EXCLUDED, date(2025, 9, 11), date(2025, 9, 14)
    )
    assert f"SUM(CAST({column} AS DECIMAL(38, 10))) AS cost" in sql
    assert "CAST(line_item_usage_start_date AS DATE) AS billing_date" in sql
    assert "line_item_usage_account_id AS linked_account" in sql
    assert "product['product_name'] AS service" in sql
    assert "FROM cid_data_export.cur2" in sql
    assert "GROUP BY 1, 2, 3" in sql
    assert "line_item_usage_start_date >= TIMESTAMP '2025-09-11 00:00:00'" in sql
    assert "line_item_usage_start_date < TIMESTAMP '2025-09-15 00:00:00'" in sql


def test_cur2_amortized_metrics_follow_awss_amortization_of_commitments():
    export = Export.from_config(CUR2)
    gross = costs_sql(export, "AmortizedCost", (), date(2025, 9, 14), date(2025, 9, 14))
    net = costs_sql(export, "NetAmortizedCost", (), date(2025, 9, 14), date(2025, 9, 14))
    assert "WHEN 'SavingsPlanCoveredUsage' THEN savings_plan_savings_plan_effective_cost" in gross
    assert "WHEN 'DiscountedUsage' THEN reservation_effective_cost" in gross
    assert "WHEN 'SavingsPlanNegation' THEN 0" in gross
    assert "ELSE line_item_unblended_cost" in gross
    assert "THEN savings_plan_net_savings_plan_effective_cost" in net
    assert "WHEN 'DiscountedUsage' THEN reservation_net_effective_cost" in net
    assert "ELSE line_item_net_unblended_cost" in net


@pytest.mark.parametrize(
    ("metric", "column"),
    [("NetAmortizedCost", "EffectiveCost"), ("NetUnblendedCost", "BilledCost")],
)
def test_focus_reads_its_own_columns(metric, column):
    sql = costs_sql(
        Export.from_config(FOCUS), metric, DEFAULT_EXCLUDED, date(2025, 9, 14), date(2025, 9, 14)
    )
    assert f"SUM(CAST({column} AS DECIMAL(38, 10)))" in sql
    assert "CAST(ChargePeriodStart AS DATE) AS billing_date" in sql
    assert "SubAccountId AS linked_account" in sql
    assert "ServiceName AS service" in sql


def test_record_types_are_left_out_by_the_exports_own_names():
    cur2 = costs_sql(
        Export.from_config(CUR2),
        "UnblendedCost",
        ("Tax", "Enterprise Discount Program Discount", "Credit"),
        date(2025, 9, 14),
        date(2025, 9, 14),
    )
    assert (
        "NOT (COALESCE(line_item_line_item_type, '') IN ('Credit', 'EdpDiscount', 'Tax'))" in cur2
    )
    focus = costs_sql(
        Export.from_config(FOCUS),
        "NetAmortizedCost",
        DEFAULT_EXCLUDED,
        date(2025, 9, 14),
        date(2025, 9, 14),
    )
    assert (
        "NOT (COALESCE(ChargeCategory, '') IN ('Credit', 'Tax') "
        "OR COALESCE(ChargeClass, '') IN ('Correction'))"
    ) in focus
    nothing = costs_sql(
        Export.from_config(CUR2), "UnblendedCost", (), date(2025, 9, 14), date(2025, 9, 14)
    )
    assert "NOT (" not in nothing


def test_each_query_names_only_its_billing_periods_partitions():
    export = Export.from_config(CUR2)
    one = costs_sql(export, "UnblendedCost", (), date(2025, 9, 11), date(2025, 9, 14))
    assert "billing_period IN ('2025-09')" in one
    across = costs_sql(export, "UnblendedCost", (), date(2025, 11, 29), date(2026, 1, 2))
    assert "billing_period IN ('2025-11', '2025-12', '2026-01')" in across
    total = day_total_sql(export, "UnblendedCost", (), date(2025, 9, 1))
    assert "billing_period IN ('2025-09')" in total
    assert "GROUP BY" not in total
    unpartitioned = Export.from_config({**CUR2, "columns": {"billing_period": ""}})
    assert "billing_period" not in costs_sql(
        unpartitioned, "UnblendedCost", (), date(2025, 9, 1), date(2025, 9, 1)
    )


def test_column_overrides_replace_the_format_defaults():
    export = Export.from_config(
        {**CUR2, "columns": {"service": "product_servicecode", "usage_start": "usage_day"}}
    )
    sql = costs_sql(export, "UnblendedCost", (), date(2025, 9, 14), date(2025, 9, 14))
    assert "product_servicecode AS service" in sql
    assert "CAST(usage_day AS DATE) AS billing_date" in sql


@pytest.mark.parametrize(
    ("text", "printed"),
    [
        ("12.3400000000", "12.34"),
        ("100.0000000000", "100"),
        ("0E-10", "0"),
        ("0.0000000000", "0"),
        ("-3.5000000000", "-3.5"),
        ("0.0000000010", "0.000000001"),
    ],
)
def test_amounts_print_as_cost_explorer_prints_them(text, printed):
    assert format(plain_amount(text), "f") == printed


def test_the_result_csv_is_read_as_text_and_filtered_to_an_ous_accounts():
    body = (
        b'"billing_date","linked_account","service","cost","account_name"\n'
        b'"2025-09-14","012345678901","Amazon S3","1.5000000000","a"\n'
        b'"2025-09-14","111111111111","AWS Lambda","0E-10",""\n'
        b'"2025-09-13","222222222222","Tax","2.0000000000","c"\n'
        b'"2025-09-13","333333333333","Tax","0.0000000000","d"\n'
        b'"2025-09-13","444444444444","Tax","-0.0000000001",""\n'
    )
    table = data_exports.read_result(body, {"012345678901", "222222222222"})
    assert table["linked_account"].to_pylist() == ["012345678901", "222222222222"]
    assert data_exports.read_result(io.BytesIO(body)).num_rows == 5
    # Row by row (the history's days from the export), the account id's leading zero kept.
    assert next(data_exports.result_rows(io.BytesIO(body))) == (
        "2025-09-14",
        "012345678901",
        "Amazon S3",
        "1.5000000000",
    )
    assert len(list(data_exports.result_rows(body))) == 5
    assert data_exports.accounts_with_costs(io.BytesIO(body)) == {
        "012345678901": "a",
        "222222222222": "c",
        "444444444444": "",
    }


def test_a_result_with_other_columns_is_refused():
    with pytest.raises(data_exports.ExportQueryError, match="not a CSV with columns"):
        data_exports.read_result(b'"day","cost"\n"2025-09-14","1"\n')
    assert data_exports.accounts_with_costs(b'"linked_account","cost","account_name"\n') == {}


def test_athena_bills_ten_megabytes_at_least():
    assert data_exports.scan_cost(1) == data_exports.scan_cost(10 * 1024**2)
    assert data_exports.scan_cost(1024**4) == Decimal(5)
