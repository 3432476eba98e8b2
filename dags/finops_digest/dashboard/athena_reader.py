"""Run the dashboard's queries in Athena, side by side, and read their rows as typed values.

A page asks several questions at once; each is one Athena query, started together and polled
together, so a view costs about as long as its slowest query. Answers are kept for a few minutes
(the archive changes once a day), so going back up a level asks Athena nothing.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from finops_digest.errors import FinopsError

# First poll soon (the sandbox answers at once), then back off to Athena's usual pace.
POLL_SECONDS = (0.05, 0.1, 0.2, 0.4, 0.8, 1.0)
# How long one query may run before the page gives up on it.
QUERY_TIMEOUT_SECONDS = 60
CACHE_SECONDS = 300
CACHE_ENTRIES = 512
_NUMERIC = {"double", "float", "real", "decimal", "bigint", "integer", "int", "smallint", "tinyint"}


class DashboardQueryError(FinopsError):
    """Athena could not answer one of the page's questions (the reason is Athena's own)."""


@dataclass(frozen=True)
class AthenaTarget:
    """Where and how the queries run: ``finops_config``'s workgroup, result location, Glue
    database and budget table."""

    workgroup: str
    output_location: str
    database: str
    budget_table: str


class AthenaReader:
    """Runs SQL in Athena with one boto3 client; thread-safe; answers cached by SQL text."""

    def __init__(self, client_factory: Callable[[], Any], target: AthenaTarget) -> None:
        self._client_factory = client_factory
        self._local = threading.local()
        self.target = target
        self._cache: OrderedDict[str, tuple[float, list[dict[str, Any]]]] = OrderedDict()
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="dashboard-athena")
        self.queries_run = 0

    def _client(self) -> Any:
        # boto3 clients are thread-safe, but making one is not: one per thread.
        client = getattr(self._local, "client", None)
        if client is None:
            client = self._local.client = self._client_factory()
        return client

    def run_all(self, queries: dict[str, str]) -> dict[str, list[dict[str, Any]]]:
        """Each named query's rows (column name -> value), all run at once."""
        futures = {name: self._pool.submit(self.rows, sql) for name, sql in queries.items()}
        return {name: future.result() for name, future in futures.items()}

    def rows(self, sql: str) -> list[dict[str, Any]]:
        """One query's rows: numbers as floats, NULL as None, the rest as Athena's text."""
        now = time.monotonic()
        with self._lock:
            cached = self._cache.get(sql)
            if cached and now - cached[0] < CACHE_SECONDS:
                self._cache.move_to_end(sql)
                return cached[1]
        result = self._run(sql)
        with self._lock:
            self._cache[sql] = (now, result)
            while len(self._cache) > CACHE_ENTRIES:
                self._cache.popitem(last=False)
        return result

    def _run(self, sql: str) -> list[dict[str, Any]]:
        client = self._client()
        try:
            query_id = client.start_query_execution(
                QueryString=sql,
                QueryExecutionContext={"Database": self.target.database},
                ResultConfiguration={"OutputLocation": self.target.output_location},
                WorkGroup=self.target.workgroup,
            )["QueryExecutionId"]
        except Exception as exc:  # botocore's errors: no credentials, no endpoint, denied
            raise DashboardQueryError(f"StartQueryExecution failed: {exc}") from exc
        with self._lock:
            self.queries_run += 1
        deadline = time.monotonic() + QUERY_TIMEOUT_SECONDS
        for attempt in range(10**6):
            status = client.get_query_execution(QueryExecutionId=query_id)["QueryExecution"][
                "Status"
            ]
            if status["State"] == "SUCCEEDED":
                return self._results(client, query_id)
            if status["State"] in ("FAILED", "CANCELLED"):
                reason = status.get("StateChangeReason") or status["State"]
                raise DashboardQueryError(f"Athena query {query_id} failed: {reason}")
            if time.monotonic() > deadline:
                raise DashboardQueryError(
                    f"Athena query {query_id} still {status['State']} after "
                    f"{QUERY_TIMEOUT_SECONDS} s"
                )
            time.sleep(POLL_SECONDS[min(attempt, len(POLL_SECONDS) - 1)])
        raise AssertionError("unreachable")

    @staticmethod
    def _results(client: Any, query_id: str) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        columns: list[tuple[str, str]] = []
        token = None
        while True:
            kwargs = {"QueryExecutionId": query_id, "MaxResults": 1000}
            if token:
                kwargs["NextToken"] = token
            page = client.get_query_results(**kwargs)
            data = page["ResultSet"]["Rows"]
            if not columns:
                info = page["ResultSet"]["ResultSetMetadata"]["ColumnInfo"]
                columns = [(c["Name"], c["Type"].lower()) for c in info]
                data = data[1:]  # the header row
            for row in data:
                values = [cell.get("VarCharValue") for cell in row["Data"]]
                rows.append(
                    {
                        name: _typed(value, kind)
                        for (name, kind), value in zip(columns, values, strict=True)
                    }
                )
            token = page.get("NextToken")
            if not token:
                return rows


def _typed(value: str | None, kind: str) -> Any:
    if value is None:
        return None
    if kind in _NUMERIC:
        return float(value)
    if kind == "boolean":
        return value == "true"
    return value
