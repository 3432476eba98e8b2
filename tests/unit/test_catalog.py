"""register_table's decision on an existing Glue table: add what it lacks, refuse a retyped
column, keep the rest of the table as it is (moto's Glue, in process)."""

import boto3
import pytest
from moto import mock_aws

from finops_digest.schema import COST_COLUMNS, COST_TABLE_COLUMNS, PARQUET_ONLY_COLUMNS
from finops_digest.store.catalog import CatalogError, ensure_table, table_input

DB, TABLE = "finops_db", "ou_breakdown"
LOCATION = "s3://archive/parquet/ou_breakdown/"


@pytest.fixture
def glue():
    with mock_aws():
        client = boto3.client("glue", region_name="us-east-1")
        client.create_database(DatabaseInput={"Name": DB})
        yield client


def columns(glue) -> tuple[tuple[str, str], ...]:
    table = glue.get_table(DatabaseName=DB, Name=TABLE)["Table"]
    return tuple((c["Name"], c["Type"]) for c in table["StorageDescriptor"]["Columns"])


def test_a_table_created_before_accountname_gets_it_at_the_end_and_keeps_the_rest(glue):
    # As the previous version created it: the CSV's five columns, plus a parameter of its own.
    before = table_input(TABLE, LOCATION, "NetAmortizedCost", COST_COLUMNS, {"owner": "finops"})
    glue.create_table(DatabaseName=DB, TableInput=before)
    old = glue.get_table(DatabaseName=DB, Name=TABLE)["Table"]

    wanted = table_input(TABLE, LOCATION, "NetAmortizedCost")
    assert ensure_table(glue, DB, wanted) == "updated"
    assert columns(glue) == COST_COLUMNS + PARQUET_ONLY_COLUMNS == COST_TABLE_COLUMNS
    new = glue.get_table(DatabaseName=DB, Name=TABLE)["Table"]
    for key in ("PartitionKeys", "Parameters", "TableType"):
        assert new[key] == old[key], key
    sd_new, sd_old = new["StorageDescriptor"], old["StorageDescriptor"]
    assert {k: v for k, v in sd_new.items() if k != "Columns"} == {
        k: v for k, v in sd_old.items() if k != "Columns"
    }
    assert ensure_table(glue, DB, wanted) == "exists", "nothing left to add"


def test_a_column_of_another_type_is_refused_naming_it_and_the_table_is_left_alone(glue):
    retyped = tuple((n, "decimal(38,10)" if n == "dailycost" else t) for n, t in COST_COLUMNS)
    glue.create_table(
        DatabaseName=DB, TableInput=table_input(TABLE, LOCATION, "NetAmortizedCost", retyped)
    )
    with pytest.raises(CatalogError) as refused:
        ensure_table(glue, DB, table_input(TABLE, LOCATION, "NetAmortizedCost"))
    assert str(refused.value).startswith(
        f"Glue table {DB}.{TABLE} has column dailycost of type decimal(38,10); expected double."
    )
    assert columns(glue) == retyped, "no column added, none retyped"


def test_columns_the_dag_does_not_know_are_kept(glue):
    extra = (*COST_COLUMNS, ("costcenter", "string"))
    glue.create_table(
        DatabaseName=DB, TableInput=table_input(TABLE, LOCATION, "NetAmortizedCost", extra)
    )
    assert ensure_table(glue, DB, table_input(TABLE, LOCATION, "NetAmortizedCost")) == "updated"
    assert columns(glue) == (*extra, *PARQUET_ONLY_COLUMNS)
