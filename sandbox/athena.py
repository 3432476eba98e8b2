"""Athena queries that really run: Glue catalog + S3 Parquet -> DuckDB, results like AWS.

moto records query executions but never runs them. Here StartQueryExecution loads every table the
SQL references from the Glue catalog (Parquet objects under each partition location, or under the
table's location with partition projection; partition columns typed per PartitionKeys),
transpiles the SQL Trino -> DuckDB with sqlglot, runs it, stores the rows for GetQueryResults and
writes <query id>.csv to the output location, as Athena does. Like Athena, a query reads only the
partitions its WHERE allows (``key = 'v'`` / ``key IN (...)`` at the top level of a single
SELECT) and reports as ``Statistics.DataScannedInBytes`` the compressed Parquet bytes of the
columns it names in the files it read.
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import io
import json
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import sqlglot
from moto.athena.models import AthenaBackend, Execution
from moto.athena.responses import AthenaResponse
from moto.core.exceptions import JsonRESTError
from moto.glue.exceptions import DatabaseNotFoundException, TableNotFoundException
from moto.glue.models import FakeTable, glue_backends
from sqlglot import exp

from sandbox.patching import patch
from sandbox.s3_store import latest_etag, list_latest, put_object, read_latest, split_s3_uri

# Glue/Hive column type -> DuckDB type (for partition columns and empty tables).
_DUCK_TYPES = {
    "string": "VARCHAR",
    "varchar": "VARCHAR",
    "char": "VARCHAR",
    "int": "INTEGER",
    "integer": "INTEGER",
    "bigint": "BIGINT",
    "smallint": "SMALLINT",
    "tinyint": "TINYINT",
    "double": "DOUBLE",
    "float": "FLOAT",
    "boolean": "BOOLEAN",
    "date": "DATE",
    "timestamp": "TIMESTAMP",
    "binary": "BLOB",
}


def duck_type(glue_type: str) -> str:
    """DuckDB type for a Glue column type (decimal(p,s) and map<k,v> kept, unknown -> VARCHAR)."""
    t = glue_type.strip().lower()
    if t.startswith("decimal"):
        return t.upper()
    if t.startswith("map<") and t.endswith(">"):
        # map<string,string>, as the product column of a CUR 2.0 export (no nested maps here).
        key, _, value = t[4:-1].partition(",")
        return f"MAP({duck_type(key)}, {duck_type(value)})"
    if t.startswith(("varchar", "char")):
        return "VARCHAR"
    return _DUCK_TYPES.get(t, "VARCHAR")


def athena_type(arrow_type: pa.DataType) -> str:
    """The ColumnInfo.Type Athena reports for a result column."""
    t = arrow_type
    checks = (
        (pa.types.is_string, "varchar"),
        (pa.types.is_large_string, "varchar"),
        (pa.types.is_boolean, "boolean"),
        (pa.types.is_int8, "tinyint"),
        (pa.types.is_int16, "smallint"),
        (pa.types.is_int32, "integer"),
        (pa.types.is_integer, "bigint"),
        (pa.types.is_float32, "real"),
        (pa.types.is_floating, "double"),
        (pa.types.is_decimal, "decimal"),
        (pa.types.is_date, "date"),
        (pa.types.is_timestamp, "timestamp"),
        (pa.types.is_binary, "varbinary"),
        (pa.types.is_list, "array"),
        (pa.types.is_struct, "row"),
    )
    for check, name in checks:
        if check(t):
            return name
    return "varchar"


def format_value(value: Any) -> str | None:
    """A result cell as Athena prints it (None for NULL)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
    if isinstance(value, (dt.date, decimal.Decimal, int)):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    return str(value)


class QueryFailed(Exception):
    """The query ran and failed; the message becomes Status.StateChangeReason."""


@dataclass
class QueryOutcome:
    """What GetQueryResults serves for one execution, and what GetQueryExecution reports as
    ``Statistics.DataScannedInBytes``."""

    columns: list[dict[str, Any]] = field(default_factory=list)
    rows: list[list[str | None]] = field(default_factory=list)
    scanned_bytes: int = 0


def _glue_table(account_id: str, region: str, db: str, name: str) -> FakeTable:
    glue = glue_backends[account_id][region]
    try:
        return glue.get_table(db, name)
    except (TableNotFoundException, DatabaseNotFoundException):
        raise QueryFailed(
            f"TABLE_NOT_FOUND: Table 'awsdatacatalog.{db}.{name}' does not exist"
        ) from None


# Parsed Parquet objects by (bucket, key, ETag): a query re-reads every partition of its tables,
# and an archived version never changes, so each object is parsed once.
_PARSED: OrderedDict[tuple[str, str, str], pa.Table] = OrderedDict()
_PARSED_MAX = 4096
_PARSED_LOCK = threading.Lock()
# Compressed bytes per (lowercased) column of each parsed Parquet object: what a query reading
# those columns scans (Athena reads only the columns a query names, and bills what it reads).
_COLUMN_BYTES: dict[int, dict[str, int]] = {}


def _parquet_under(location: str) -> list[tuple[str, pa.Table]]:
    """(key, table) of every Parquet object under ``location`` (latest versions)."""
    bucket, _ = split_s3_uri(location)
    found = []
    for key in list_latest(location if location.endswith("/") else location + "/"):
        name = key.rsplit("/", 1)[-1]
        if not name or name.startswith(("_", ".")):
            continue
        table = _parsed(bucket, key)
        if table is not None:
            found.append((key, table))
    return found


def _parsed(bucket: str, key: str) -> pa.Table | None:
    """The latest version of ``key`` as an Arrow table (None when it is not Parquet)."""
    try:
        tag = latest_etag(bucket, key)
    except KeyError:  # deleted between the listing and now
        return None
    cache_key = (bucket, key, tag)
    with _PARSED_LOCK:
        if cache_key in _PARSED:
            _PARSED.move_to_end(cache_key)
            return _PARSED[cache_key]
    body = read_latest(bucket, key)
    if body[:4] != b"PAR1":
        return None
    parquet = pq.ParquetFile(io.BytesIO(body))
    table = parquet.read()
    sizes: dict[str, int] = {}
    metadata = parquet.metadata
    for group in range(metadata.num_row_groups):
        row_group = metadata.row_group(group)
        for column in range(row_group.num_columns):
            chunk = row_group.column(column)
            # A nested column (product's map keys and values) is stored as several leaf chunks.
            name = chunk.path_in_schema.split(".", 1)[0].lower()
            sizes[name] = sizes.get(name, 0) + chunk.total_compressed_size
    with _PARSED_LOCK:
        _PARSED[cache_key] = table
        _COLUMN_BYTES[id(table)] = sizes
        while len(_PARSED) > _PARSED_MAX:
            _COLUMN_BYTES.pop(id(_PARSED.popitem(last=False)[1]), None)
    return table


def column_bytes(table: pa.Table) -> dict[str, int]:
    """Compressed bytes per lowercased column of a table ``_parsed`` read ({} if unknown)."""
    with _PARSED_LOCK:
        return dict(_COLUMN_BYTES.get(id(table), {}))


def _read_parquet_under(location: str) -> list[pa.Table]:
    return [table for _, table in _parquet_under(location)]


def _projected_pieces(
    location: str, keys: list[tuple[str, str]], parameters: dict[str, str]
) -> list[tuple[pa.Table, list[str]]]:
    """Partition projection: the partitions are the Hive-style ``key=value/`` folders under the
    table's location (Athena's default ``storage.location.template``), nothing registered."""
    if "storage.location.template" in parameters:
        raise QueryFailed("NOT_SUPPORTED: the sandbox projects Hive-style locations only")
    _, prefix = split_s3_uri(location if location.endswith("/") else location + "/")
    pieces = []
    for key, table in _parquet_under(location):
        folders = dict(
            part.split("=", 1) for part in key[len(prefix) :].split("/")[:-1] if "=" in part
        )
        if all(name in folders for name, _ in keys):
            pieces.append((table, [folders[name] for name, _ in keys]))
    return pieces


@dataclass
class _Catalog:
    """The Glue tables one query reads, materialised in its DuckDB connection as views."""

    con: duckdb.DuckDBPyConnection
    account_id: str
    region: str
    loaded: set[tuple[str, str]] = field(default_factory=set)
    pieces: int = 0
    # Values the query allows per column (its WHERE's top-level "col = 'v'" / "col IN (...)"):
    # partitions outside them are not read, as Athena prunes them.
    allowed: dict[str, set[str]] = field(default_factory=dict)
    # Columns the query names (None: all, a "*"): the bytes of those columns are what it scans.
    columns: set[str] | None = None
    scanned_bytes: int = 0

    @classmethod
    def for_query(
        cls, con: duckdb.DuckDBPyConnection, account_id: str, region: str, tree: exp.Expression
    ) -> _Catalog:
        """A catalog that prunes partitions by ``tree``'s simple partition predicates (only for
        a single SELECT: a subquery or a union may read a table without them) and counts the
        bytes of the columns it names."""
        catalog = cls(con, account_id, region)
        if not any(isinstance(s, exp.Star) for s in tree.find_all(exp.Star)):
            catalog.columns = {c.name.lower() for c in tree.find_all(exp.Column)}
        if isinstance(tree, exp.Select) and len(list(tree.find_all(exp.Select))) == 1:
            catalog.allowed = _allowed_values(tree)
        return catalog

    def bind(self, tree: exp.Expression, database: str | None) -> None:
        """Point every table ``tree`` reads at its DuckDB copy, loading the ones not loaded yet."""
        ctes = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
        for table in tree.find_all(exp.Table):
            name = table.name.lower()
            if not table.db and name in ctes:
                continue
            db = (table.db or database or "default").lower()
            # DuckDB has no "awsdatacatalog" catalog: address the table as schema.table.
            table.set("catalog", None)
            table.set("db", exp.to_identifier(db, quoted=True))
            table.set("this", exp.to_identifier(name, quoted=True))
            if (db, name) not in self.loaded:
                self.loaded.add((db, name))
                self.load(_glue_table(self.account_id, self.region, db, name), db, name)

    def load(self, glue_table: FakeTable, db: str, name: str) -> None:
        """Materialise one Glue table (or Athena view) in DuckDB as the view "db"."name"."""
        spec = glue_table.get_version(str(glue_table._current_version))
        self.con.execute(f'CREATE SCHEMA IF NOT EXISTS "{db}"')
        if (spec.get("TableType") or "").upper() == "VIRTUAL_VIEW":
            view = _parse_one(view_sql(spec))
            # The outer query's predicates name the view's columns, not its tables': no pruning
            # inside a view; the columns the view names are read.
            allowed, self.allowed = self.allowed, {}
            if self.columns is not None:
                if any(True for _ in view.find_all(exp.Star)):
                    self.columns = None
                else:
                    self.columns |= {c.name.lower() for c in view.find_all(exp.Column)}
            try:
                self.bind(view, db)
            finally:
                self.allowed = allowed
            self.con.execute(f'CREATE VIEW "{db}"."{name}" AS {view.sql(dialect="duckdb")}')
            return
        sd = spec.get("StorageDescriptor") or {}
        columns = [(c["Name"].lower(), c["Type"]) for c in sd.get("Columns") or []]
        keys = [
            (k["Name"].lower(), k.get("Type", "string")) for k in spec.get("PartitionKeys") or []
        ]
        pieces: list[tuple[pa.Table, list[str]]] = []
        parameters = spec.get("Parameters") or {}
        if keys and parameters.get("projection.enabled", "").lower() == "true":
            pieces = [
                (t, values)
                for t, values in _projected_pieces(sd.get("Location", ""), keys, parameters)
                if self._partition_wanted(keys, values)
            ]
        elif keys:
            for partition in glue_table.partitions.values():
                location = (partition.partition_input.get("StorageDescriptor") or {}).get(
                    "Location"
                )
                if location and self._partition_wanted(keys, list(partition.values)):
                    pieces += [(t, list(partition.values)) for t in _read_parquet_under(location)]
        elif sd.get("Location"):
            pieces = [(t, []) for t in _read_parquet_under(sd["Location"])]
        selects = []
        for arrow_table, values in pieces:
            sizes = column_bytes(arrow_table)
            self.scanned_bytes += sum(
                size for c, size in sizes.items() if self.columns is None or c in self.columns
            )
            present = {f.name.lower(): f.name for f in arrow_table.schema}
            piece = f"_piece_{self.pieces}"
            self.pieces += 1
            # Registered, not copied: DuckDB scans the Arrow table where it lies.
            self.con.register(piece, arrow_table)
            # Athena reads Parquet columns by (case-insensitive) name; missing ones read as NULL.
            select = [
                f'CAST({_quoted(present[c]) if c in present else "NULL"} AS {duck_type(t)}) AS "{c}"'
                for c, t in columns
            ]
            select += [
                f'CAST({_sql_literal(v)} AS {duck_type(t)}) AS "{c}"'
                for (c, t), v in zip(keys, values, strict=True)
            ]
            selects.append(f"SELECT {', '.join(select)} FROM {piece}")
        if not selects:
            col_defs = [f'"{c}" {duck_type(t)}' for c, t in columns + keys]
            self.con.execute(f'CREATE TABLE "{db}"."{name}" ({", ".join(col_defs)})')
        else:
            self.con.execute(f'CREATE VIEW "{db}"."{name}" AS {" UNION ALL ".join(selects)}')

    def _partition_wanted(self, keys: list[tuple[str, str]], values: list[str]) -> bool:
        """Whether a partition's values pass the query's predicates on its keys."""
        return all(
            _typed(value, glue_type) in {_typed(v, glue_type) for v in self.allowed[name]}
            for (name, glue_type), value in zip(keys, values, strict=True)
            if name in self.allowed
        )


def _typed(value: str, glue_type: str) -> object:
    """A partition value as its key's type compares it (month "09" equals 9 for an int key)."""
    if duck_type(glue_type) in ("INTEGER", "BIGINT", "SMALLINT", "TINYINT"):
        try:
            return int(value)
        except ValueError:
            return value
    return str(value)


def _allowed_values(select: exp.Select) -> dict[str, set[str]]:
    """Column -> the literal values a SELECT's WHERE allows it ("col = 'v'", "col IN ('a',
    'b')", in the top-level AND only: anything under OR or NOT is left alone)."""
    where = select.args.get("where")
    if where is None:
        return {}
    allowed: dict[str, set[str]] = {}
    for condition in where.this.flatten() if isinstance(where.this, exp.And) else [where.this]:
        if isinstance(condition, exp.EQ):
            column, literal = condition.this, condition.expression
            if isinstance(literal, exp.Column):
                column, literal = literal, column
            if isinstance(column, exp.Column) and isinstance(literal, exp.Literal):
                found = {str(literal.this)}
            else:
                continue
        elif isinstance(condition, exp.In) and isinstance(condition.this, exp.Column):
            column = condition.this
            literals = condition.expressions
            if not literals or not all(isinstance(v, exp.Literal) for v in literals):
                continue
            found = {str(v.this) for v in literals}
        else:
            continue
        name = column.name.lower()
        allowed[name] = allowed[name] & found if name in allowed else found
    return allowed


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _sql_literal(value: str) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def _parse_one(sql: str) -> exp.Expression:
    try:
        statements = [s for s in sqlglot.parse(sql, read="trino") if s is not None]
    except sqlglot.errors.ParseError as exc:
        raise QueryFailed(f"SYNTAX_ERROR: {exc}") from None
    if len(statements) != 1:
        raise QueryFailed("SYNTAX_ERROR: Only one sql statement is allowed.")
    return statements[0]


# ------------------------------------------------------------------------------------ views
# Athena keeps a view in Glue as a VIRTUAL_VIEW table whose ViewOriginalText is
# "/* Presto View: <base64 of a JSON document with originalSql, columns, ...> */".
_PRESTO_VIEW = re.compile(r"/\* Presto View: (?P<blob>[A-Za-z0-9+/=]+) \*/")
_CREATE_VIEW = re.compile(
    r"^\s*(?:--[^\n]*\n\s*)*CREATE\s+(?P<replace>OR\s+REPLACE\s+)?VIEW\s+(?P<name>[^\s(]+)"
    r"\s+AS\s+(?P<select>.*?)[\s;]*$",
    re.IGNORECASE | re.DOTALL,
)
_HIVE_TYPES = {"varchar": "string", "integer": "int", "real": "float"}


def view_sql(spec: dict[str, Any]) -> str:
    """The SELECT a Glue VIRTUAL_VIEW table stores, as Athena stores it."""
    found = _PRESTO_VIEW.search(spec.get("ViewOriginalText") or "")
    if not found:
        raise QueryFailed(f"GENERIC_INTERNAL_ERROR: {spec.get('Name')} is not an Athena view")
    return json.loads(base64.b64decode(found["blob"]))["originalSql"]


def _create_view(
    sql: str, tree: exp.Create, database: str | None, account_id: str, region: str
) -> QueryOutcome:
    """CREATE [OR REPLACE] VIEW: check the SELECT runs, then store it in Glue as Athena does."""
    matched = _CREATE_VIEW.match(sql)
    if not matched:
        raise QueryFailed("SYNTAX_ERROR: expected CREATE [OR REPLACE] VIEW name AS SELECT ...")
    target = tree.this if isinstance(tree.this, exp.Table) else tree.this.this
    db = (target.db or database or "default").lower()
    name = target.name.lower()
    select = matched["select"]
    con = duckdb.connect()
    try:
        query = _parse_one(select)
        _Catalog(con, account_id, region).bind(query, db)
        try:
            schema = con.sql(f"SELECT * FROM ({query.sql(dialect='duckdb')}) LIMIT 0").arrow()
        except duckdb.Error as exc:
            raise QueryFailed(f"{_category(exc)}: {exc}") from None
    finally:
        con.close()
    columns = [
        {"Name": f.name, "Type": _HIVE_TYPES.get(athena_type(f.type), athena_type(f.type))}
        for f in schema.schema
    ]
    document = {
        "originalSql": select,
        "catalog": "awsdatacatalog",
        "schema": db,
        "columns": [{"name": c["Name"], "type": c["Type"]} for c in columns],
    }
    table_input = {
        "Name": name,
        "TableType": "VIRTUAL_VIEW",
        "Parameters": {"presto_view": "true", "comment": "Presto View"},
        "ViewOriginalText": "/* Presto View: "
        + base64.b64encode(json.dumps(document).encode()).decode()
        + " */",
        "ViewExpandedText": "/* Presto View */",
        "StorageDescriptor": {"Columns": columns, "SerdeInfo": {}, "Location": ""},
        "PartitionKeys": [],
    }
    glue = glue_backends[account_id][region]
    try:
        glue.get_table(db, name)
    except DatabaseNotFoundException:
        raise QueryFailed(f"SCHEMA_NOT_FOUND: Schema '{db}' does not exist") from None
    except TableNotFoundException:
        glue.create_table(db, name, table_input)
    else:
        if not matched["replace"]:
            raise QueryFailed(f"ALREADY_EXISTS: View 'awsdatacatalog.{db}.{name}' already exists")
        glue.update_table(db, name, table_input)
    return QueryOutcome()


def run_query(sql: str, database: str | None, account_id: str, region: str) -> QueryOutcome:
    """Run one Athena (Trino-dialect) statement over the catalogued S3 data."""
    tree = _parse_one(sql)
    if isinstance(tree, exp.Create) and str(tree.args.get("kind", "")).upper() == "VIEW":
        return _create_view(sql, tree, database, account_id, region)
    if not isinstance(tree, (exp.Query, exp.Describe, exp.Show)):
        raise QueryFailed(
            f"NOT_SUPPORTED: the sandbox runs queries and CREATE VIEW only, not "
            f"{tree.key.upper()} statements"
        )
    names = _result_names(tree)
    con = duckdb.connect()
    try:
        catalog = _Catalog.for_query(con, account_id, region, tree)
        catalog.bind(tree, database)
        duck_sql = tree.sql(dialect="duckdb")
        try:
            result = con.sql(duck_sql).to_arrow_table()
        except duckdb.Error as exc:
            raise QueryFailed(f"{_category(exc)}: {exc}") from None
    finally:
        con.close()
    if names and len(names) == result.num_columns:
        result = result.rename_columns(names)
    outcome = _outcome(result)
    outcome.scanned_bytes = catalog.scanned_bytes
    return outcome


def _result_names(tree: exp.Expression) -> list[str] | None:
    """Result column names as Athena shows them: the casing written in the query, "_colN" for
    unnamed expressions (None when a * makes the list unknowable before running)."""
    if not isinstance(tree, exp.Select):
        return None
    names = []
    for n, projection in enumerate(tree.expressions):
        if isinstance(projection, exp.Star) or (
            isinstance(projection, exp.Column) and isinstance(projection.this, exp.Star)
        ):
            return None
        if projection.alias:
            names.append(projection.alias)
        elif isinstance(projection, exp.Column):
            names.append(projection.name)
        else:
            names.append(f"_col{n}")
    return names


def _category(exc: Exception) -> str:
    if isinstance(exc, duckdb.ParserException):
        return "SYNTAX_ERROR"
    if isinstance(exc, duckdb.BinderException):
        return "COLUMN_NOT_FOUND" if "column" in str(exc).lower() else "SYNTAX_ERROR"
    if isinstance(exc, duckdb.CatalogException):
        return "TABLE_NOT_FOUND"
    return "GENERIC_INTERNAL_ERROR"


def _outcome(result: pa.Table) -> QueryOutcome:
    columns = []
    for f in result.schema:
        a_type = athena_type(f.type)
        precision = f.type.precision if pa.types.is_decimal(f.type) else 0
        scale = f.type.scale if pa.types.is_decimal(f.type) else 0
        columns.append(
            {
                "CatalogName": "hive",
                "SchemaName": "",
                "TableName": "",
                "Name": f.name,
                "Label": f.name,
                "Type": a_type,
                "Precision": precision or (2147483647 if a_type == "varchar" else 0),
                "Scale": scale,
                "Nullable": "UNKNOWN",
                "CaseSensitive": a_type == "varchar",
            }
        )
    rows = [[format_value(v) for v in row.values()] for row in result.to_pylist()]
    return QueryOutcome(columns=columns, rows=rows)


def results_csv(outcome: QueryOutcome) -> bytes:
    """The CSV Athena writes next to a query: every value quoted, NULL as an empty field."""

    def cell(v: str | None) -> str:
        return "" if v is None else '"' + v.replace('"', '""') + '"'

    lines = [",".join(cell(c["Name"]) for c in outcome.columns)]
    lines += [",".join(cell(v) for v in row) for row in outcome.rows]
    return ("\n".join(lines) + "\n").encode()


# --------------------------------------------------------------------------------- moto patches
_original_start = AthenaBackend.start_query_execution
_original_get_execution = AthenaResponse.get_query_execution


def _start_query_execution(
    self: AthenaBackend,
    query: str,
    context: Any,
    config: dict[str, Any] | None,
    workgroup: str | None,
    execution_parameters: list[str] | None,
) -> str:
    """StartQueryExecution that runs the query before returning its id."""
    config = dict(config or {})
    wg = self.work_groups.get(workgroup or "primary")
    wg_output = ((wg.configuration if wg else {}).get("ResultConfiguration") or {}).get(
        "OutputLocation"
    )
    if wg_output and (
        not config.get("OutputLocation") or wg.configuration.get("EnforceWorkGroupConfiguration")
    ):
        config["OutputLocation"] = wg_output
    if not config.get("OutputLocation"):
        raise JsonRESTError(
            "InvalidRequestException",
            "No output location provided. An output location is required either through "
            "the Workgroup result configuration setting or as an API input.",
        )
    exec_id = _original_start(self, query, context, config, workgroup, execution_parameters)
    execution: Execution = self.executions[exec_id]
    database = (context or {}).get("Database") if isinstance(context, dict) else None
    if _DB_DDL.match(query):
        outcome = QueryOutcome()  # moto itself handled CREATE/DROP DATABASE
    else:
        try:
            outcome = run_query(query, database, self.account_id, self.region_name)
        except QueryFailed as exc:
            execution.status = "FAILED"
            execution.sandbox_reason = str(exc)  # type: ignore[attr-defined]
            return exec_id
        except Exception as exc:  # an engine bug must still look like a failed query
            execution.status = "FAILED"
            execution.sandbox_reason = f"GENERIC_INTERNAL_ERROR: {exc}"  # type: ignore[attr-defined]
            return exec_id
    execution.status = "SUCCEEDED"
    execution.sandbox_outcome = outcome  # type: ignore[attr-defined]
    try:
        put_object(execution.config["OutputLocation"], results_csv(outcome), self.account_id)
    except Exception as exc:
        execution.status = "FAILED"
        execution.sandbox_reason = f"PERMISSION_DENIED: cannot write query results: {exc}"  # type: ignore[attr-defined]
    return exec_id


# CREATE/DROP DATABASE are handled by moto itself; they succeed with no rows.
_DB_DDL = re.compile(
    f"(?:{AthenaBackend._CREATE_DB_PATTERN.pattern})|(?:{AthenaBackend._DROP_DB_PATTERN.pattern})",
    re.IGNORECASE,
)


def install() -> None:
    """Patch moto's Athena backend/responses (idempotent)."""
    original_get_execution = _original_get_execution

    def get_query_execution(self: AthenaResponse) -> str:
        body = json.loads(original_get_execution(self))
        execution = self.athena_backend.executions.get(self._get_param("QueryExecutionId"))
        outcome = getattr(execution, "sandbox_outcome", None)
        if outcome is not None:
            body["QueryExecution"]["Statistics"]["DataScannedInBytes"] = outcome.scanned_bytes
        reason = getattr(execution, "sandbox_reason", None)
        if reason:
            body["QueryExecution"]["Status"]["StateChangeReason"] = reason
            body["QueryExecution"]["Status"]["AthenaError"] = {
                "ErrorCategory": 2,
                "ErrorType": 1006,
                "Retryable": False,
                "ErrorMessage": reason,
            }
        return json.dumps(body)

    def get_query_results(self: AthenaResponse) -> str:
        exec_id = self._get_param("QueryExecutionId")
        execution = self.athena_backend.executions.get(exec_id)
        if execution is None:
            raise JsonRESTError(
                "InvalidRequestException", f"QueryExecution {exec_id} was not found"
            )
        if execution.status != "SUCCEEDED":
            raise JsonRESTError(
                "InvalidRequestException",
                f"Query has not yet finished. Current state: {execution.status}",
            )
        outcome: QueryOutcome = getattr(execution, "sandbox_outcome", None) or QueryOutcome()
        max_results = int(self._get_param("MaxResults") or 1000)
        try:
            offset = int(self._get_param("NextToken") or 0)
        except ValueError:
            raise JsonRESTError("InvalidRequestException", "Invalid NextToken") from None
        # Row 0 of the first page is the header row of column names, as in Athena.
        all_rows = [[c["Name"] for c in outcome.columns], *outcome.rows]
        page = all_rows[offset : offset + max_results]
        body: dict[str, Any] = {
            "UpdateCount": 0,
            "ResultSet": {
                "Rows": [
                    {"Data": [{} if v is None else {"VarCharValue": v} for v in row]}
                    for row in page
                ],
                "ResultSetMetadata": {"ColumnInfo": outcome.columns},
            },
        }
        if offset + max_results < len(all_rows):
            body["NextToken"] = str(offset + max_results)
        return json.dumps(body)

    patch(AthenaBackend, "start_query_execution", _start_query_execution)
    patch(AthenaResponse, "get_query_execution", get_query_execution)
    patch(AthenaResponse, "get_query_results", get_query_results)
