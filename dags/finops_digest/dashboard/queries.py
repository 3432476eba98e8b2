"""The dashboard's Athena SQL, one function per question, over the shipped views
(``cost_rollup``, ``anomaly_rollup``, ``month_to_date_vs_budget``) and the OU tree.

Every value from a URL enters the SQL through :func:`literal` only. Every query names the days it
reads with :func:`partition_filter`, on the partition keys, so Athena reads just those partitions
(and bills just those bytes).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from finops_digest.store import layout

# How far back "the latest archived day" is looked for, when a range holds no archived day.
LATEST_LOOKBACK_DAYS = 400


@dataclass(frozen=True)
class Names:
    """Where the views and tables live: ``finops_config``'s Glue database and budget table."""

    database: str
    budget_table: str

    def view(self, name: str) -> str:
        return f"{self.database}.{name}"


def literal(value: str) -> str:
    """``value`` as a SQL string literal: quotes doubled, so a name is only ever data."""
    return "'" + value.replace("'", "''") + "'"


def partition_filter(start: date, end: date, alias: str = "") -> str:
    """``year``/``month``/``day`` predicates covering ``start``..``end`` (inclusive), one term per
    calendar month, which partition projection and pruning resolve without reading other days."""
    if start > end:
        raise ValueError(f"start {start} is after end {end}")
    p = f"{alias}." if alias else ""
    terms = []
    first = start
    while first <= end:
        next_month = (first.replace(day=1) + timedelta(days=32)).replace(day=1)
        last = min(end, next_month - timedelta(days=1))
        terms.append(
            f"({p}year = {first.year} AND {p}month = {first.month} "
            f"AND {p}day BETWEEN {first.day} AND {last.day})"
        )
        first = next_month
    return "(" + " OR ".join(terms) + ")"


def previous_period(start: date, end: date) -> tuple[date, date]:
    """The same number of days just before ``start``: what "change" compares with."""
    length = (end - start).days + 1
    return start - timedelta(days=length), start - timedelta(days=1)


def scope_filter(ou_id: str | None, alias: str = "r") -> str:
    """Rows of the OU ``ou_id`` with its child OUs; each row once when None (the organisation)."""
    if ou_id is None:
        return f"{alias}.ancestor_id = {alias}.ou_id"
    return f"{alias}.ancestor_id = {literal(ou_id)}"


def state_filter(
    start: date,
    end: date,
    ou_id: str | None,
    service: str | None,
    account: str | None,
    alias: str = "r",
    account_column: str = "linkedaccount",
) -> str:
    """The rows of a state: its days (:func:`partition_filter`), its OU with the OUs nested in it
    (:func:`scope_filter`), and the service and linked account when it names them."""
    terms = [partition_filter(start, end, alias), scope_filter(ou_id, alias)]
    if service:
        terms.append(f"{alias}.service = {literal(service)}")
    if account:
        terms.append(f"{alias}.{account_column} = {literal(account)}")
    return " AND ".join(terms)


def find_ou_sql(names: Names, ou: str, start: date, end: date) -> str:
    """The OU a URL names (by label or id) within the range: its path from the top on each day."""
    tree = names.view(layout.OU_TREE_TABLE)
    days = partition_filter(start, end)
    return (
        f"SELECT billingdate, ou_id, ou, ancestor_id, ancestor, distance FROM {tree} "
        f"WHERE {days} AND ou_id IN (SELECT ou_id FROM {tree} "
        f"WHERE {days} AND (ou = {literal(ou)} OR ou_id = {literal(ou)})) "
        "ORDER BY billingdate DESC, distance DESC"
    )


def archived_days_sql(names: Names, start: date, end: date) -> str:
    """The archived days of the range (a day is archived once its OU tree is)."""
    return (
        f"SELECT billingdate FROM {names.view(layout.OU_TREE_TABLE)} "
        f"WHERE {partition_filter(start, end)} GROUP BY billingdate ORDER BY billingdate"
    )


def latest_archived_sql(names: Names, end: date) -> str:
    """The latest archived day up to ``end`` (within :data:`LATEST_LOOKBACK_DAYS`)."""
    start = end - timedelta(days=LATEST_LOOKBACK_DAYS)
    return (
        f"SELECT max(billingdate) AS billingdate FROM {names.view(layout.OU_TREE_TABLE)} "
        f"WHERE {partition_filter(start, end)}"
    )


def _change_columns(start: date, end: date) -> str:
    since = literal(start.isoformat())
    return (
        f"SUM(CASE WHEN r.billingdate >= DATE {since} THEN r.dailycost ELSE 0 END) AS cost, "
        f"SUM(CASE WHEN r.billingdate < DATE {since} THEN r.dailycost ELSE 0 END) AS previous"
    )


def child_ous_sql(names: Names, ou_id: str | None, start: date, end: date) -> str:
    """Cost of each child OU of ``ou_id`` (top-level OUs for the organisation), its children
    rolled in, and of the accounts directly in ``ou_id`` (child NULL), now and the period before."""
    before, _ = previous_period(start, end)
    tree = names.view(layout.OU_TREE_TABLE)
    parent = "parent_id IS NULL" if ou_id is None else f"parent_id = {literal(ou_id)}"
    own = (
        "FALSE"
        if ou_id is None
        else f"(r.ancestor_id = {literal(ou_id)} AND r.ou_id = r.ancestor_id)"
    )
    return (
        f"SELECT CASE WHEN {own} THEN NULL ELSE r.ancestor_id END AS child, "
        f"max_by(r.ancestor, r.billingdate) AS label, {_change_columns(start, end)} "
        f"FROM {names.view('cost_rollup')} AS r "
        f"WHERE {partition_filter(before, end, 'r')} AND (r.ancestor_id IN "
        f"(SELECT ou_id FROM {tree} WHERE {partition_filter(start, end)} AND {parent}) OR {own}) "
        "GROUP BY 1 ORDER BY cost DESC, label"
    )


def breakdown_sql(
    names: Names,
    dimension: str,
    ou_id: str | None,
    service: str | None,
    account: str | None,
    start: date,
    end: date,
) -> str:
    """Cost by ``dimension`` ("service" or "linkedaccount") within the state, now and before."""
    if dimension not in ("service", "linkedaccount"):
        raise ValueError(f"dimension must be service or linkedaccount, got {dimension!r}")
    before, _ = previous_period(start, end)
    label = "max(r.accountname)" if dimension == "linkedaccount" else "r.service"
    return (
        f"SELECT r.{dimension} AS key, {label} AS label, {_change_columns(start, end)} "
        f"FROM {names.view('cost_rollup')} AS r "
        f"WHERE {state_filter(before, end, ou_id, service, account)} "
        f"GROUP BY r.{dimension} ORDER BY cost DESC, key"
    )


def trend_sql(
    names: Names,
    ou_id: str | None,
    service: str | None,
    account: str | None,
    start: date,
    end: date,
) -> str:
    """The state's cost on each day of the range."""
    return (
        "SELECT r.billingdate AS day, SUM(r.dailycost) AS cost, max(r.accountname) AS accountname "
        f"FROM {names.view('cost_rollup')} AS r "
        f"WHERE {state_filter(start, end, ou_id, service, account)} "
        "GROUP BY r.billingdate ORDER BY day"
    )


def anomalies_sql(
    names: Names,
    ou_id: str | None,
    service: str | None,
    account: str | None,
    start: date,
    end: date,
) -> str:
    """The spikes of the range within the state, largest first each day."""
    return (
        "SELECT a.billingdate AS day, a.ou, a.service, a.status, a.impact, a.actual, a.expected, "
        "a.reason, a.account, a.account_label, a.usage_type "
        f"FROM {names.view('anomaly_rollup')} AS a "
        f"WHERE {state_filter(start, end, ou_id, service, account, 'a', 'account')} "
        "ORDER BY day, a.impact DESC"
    )


def budgets_sql(names: Names, ou_id: str | None, day: date) -> str:
    """Month to date vs budget and forecast on ``day`` for the OUs within ``ou_id`` (every OU for
    the organisation), as the digest of that day reported them (the budget table: its month to
    date counts every day of the month, archived here or not) with its traffic lights."""
    tree = names.view(layout.OU_TREE_TABLE)
    within = (
        ""
        if ou_id is None
        else f"AND b.ou IN (SELECT ou FROM {tree} WHERE {partition_filter(day, day)} "
        f"AND ancestor_id = {literal(ou_id)}) "
    )
    return (
        "SELECT b.ou, b.month_to_date, b.budget, b.forecast, b.forecast_lower, b.forecast_upper, "
        f"b.light FROM {names.view(names.budget_table)} AS b "
        f"WHERE {partition_filter(day, day, 'b')} {within}ORDER BY b.ou"
    )
