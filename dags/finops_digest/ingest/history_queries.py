"""The history through Athena (``include/sql/history``): aggregated series over the archived
Parquet, so no worker reads the archived rows of the days before D.

Each query names the partitions (year/month/day) of its days only, and is streamed from the
result file Athena writes (``athena.query_streamed``). What each query scanned is counted in
``scanned_bytes``: Athena bills $5 per TB scanned.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from finops_digest.aws.athena import query_streamed
from finops_digest.config import FinopsConfig
from finops_digest.dashboard.queries import literal, partition_filter
from finops_digest.resources import sql_path

# The detector's scope of a series that sums every OU (``detection.findings.ORGANIZATION``) or
# every service of an OU (``ALL_SERVICES``): the account detail of such a series names no OU or
# no service.
ANY = None


@dataclass(frozen=True)
class Scope:
    """The rows of one series: the OU labels it gathers (``ANY``: every OU) and its service
    (``ANY``: every service)."""

    labels: frozenset[str] | None
    service: str | None

    def condition(self) -> str:
        terms = []
        if self.labels is not ANY:
            terms.append(f"ou IN ({', '.join(literal(label) for label in sorted(self.labels))})")
        if self.service is not ANY:
            terms.append(f"service = {literal(self.service)}")
        return " AND ".join(terms) or "TRUE"


@dataclass
class HistoryQueries:
    """Runs the history's queries with the provider's Athena hook in ``finops_config``'s
    database, table and workgroup; ``scanned_bytes`` adds up what they scanned."""

    hook: Any
    s3: Any
    config: FinopsConfig
    scanned_bytes: int = 0
    queries: list[str] = field(default_factory=list)

    def series(self, first: date, last: date) -> Iterator[tuple[date, str, str, Decimal]]:
        """``(day, OU label of that day, service, cost)`` for every archived day of
        ``first``..``last`` that Athena can read."""
        sql = self._render("series", days=partition_filter(first, last))
        for row in self._rows(sql):
            yield (
                date.fromisoformat(row["billingdate"]),
                row["ou"],
                row["service"],
                Decimal(row["cost"]),
            )

    def accounts(
        self, scopes: Sequence[Scope], first: date, last: date
    ) -> Iterator[tuple[int, date, str, str, Decimal]]:
        """``(scope index, day, OU label of that day, account, cost)`` for each scope's rows of
        ``first``..``last``, in one query."""
        if not scopes:
            return
        days = partition_filter(first, last)
        branches = (
            self._render("account_series", scope=str(n), condition=scope.condition(), days=days)
            for n, scope in enumerate(scopes)
        )
        # The file's comment once, not in every branch.
        sql = "\nUNION ALL\n".join(
            "\n".join(line for line in branch.splitlines() if not line.startswith("--"))
            for branch in branches
        )
        for row in self._rows(sql):
            yield (
                int(row["scope"]),
                date.fromisoformat(row["billingdate"]),
                row["ou"],
                row["linkedaccount"],
                Decimal(row["cost"]),
            )

    def _render(self, name: str, **values: str) -> str:
        text = sql_path(f"history/{name}").read_text()
        return text.format(
            database=self.config.glue_database, table=self.config.glue_table, **values
        )

    def _rows(self, sql: str) -> Iterator[dict[str, str]]:
        result = query_streamed(
            self.hook,
            self.s3,
            sql,
            database=self.config.glue_database,
            output_location=self.config.results_location,
            workgroup=self.config.athena_workgroup,
        )
        self.scanned_bytes += result.scanned_bytes
        self.queries.append(result.query_id)
        return result.rows
