"""The Athena views shipped in ``include/sql/views``, created (or brought up to date) by the DAG
itself, so Athena users, QuickSight and the dashboard find them without a manual step."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from typing import Any

from finops_digest.resources import include_dir
from finops_digest.store import layout
from finops_digest.store.catalog import render_sql
from finops_digest.store.focus import focus_cost_column

_CREATE_VIEW = re.compile(
    r"CREATE\s+OR\s+REPLACE\s+VIEW\s+(?P<name>[^\s(]+)\s+AS\s+(?P<select>.*?)[\s;]*$",
    re.IGNORECASE | re.DOTALL,
)
# How Athena keeps a view in Glue: ViewOriginalText is "/* Presto View: <base64 JSON> */".
_PRESTO_VIEW = re.compile(r"/\* Presto View: (?P<blob>[A-Za-z0-9+/=]+) \*/")


def placeholders(
    database: str, table: str, budget_table: str, cost_metric: str, currency: str
) -> dict[str, str]:
    """Every value the shipped SQL files refer to by placeholder."""
    return {
        "database": database,
        "table": table,
        "budget_table": budget_table,
        "ou_tree_table": layout.OU_TREE_TABLE,
        "anomaly_table": layout.ANOMALY_TABLE,
        "focus_cost_column": focus_cost_column(cost_metric),
        "currency": currency,
    }


def shipped_views(names: dict[str, str]) -> dict[str, str]:
    """View name -> its ``CREATE OR REPLACE VIEW`` statement, rendered with ``names``."""
    views = {}
    for path in sorted((include_dir() / "sql" / "views").glob("*.sql")):
        views[path.stem] = render_sql(f"views/{path.stem}", **names)
    return views


def view_select(statement: str) -> str:
    """The SELECT of a ``CREATE OR REPLACE VIEW name AS SELECT ...`` statement."""
    found = _CREATE_VIEW.search(statement)
    if not found:
        raise ValueError(f"not a CREATE OR REPLACE VIEW statement: {statement[:80]!r}")
    return found["select"]


def stored_select(table: dict[str, Any]) -> str | None:
    """The SELECT of a view as Glue's ``GetTable`` returns it (None for anything else)."""
    found = _PRESTO_VIEW.search(table.get("ViewOriginalText") or "")
    if table.get("TableType") != "VIRTUAL_VIEW" or not found:
        return None
    return json.loads(base64.b64decode(found["blob"])).get("originalSql")


def _same(a: str | None, b: str) -> bool:
    return a is not None and " ".join(a.split()) == " ".join(b.split())


def ensure_views(
    glue_client: Any, database: str, views: dict[str, str], run: Callable[[str], Any]
) -> dict[str, str]:
    """Create each view missing from ``database``, and re-create one whose stored SELECT is not
    the shipped one, with ``run`` (an Athena query); a view already current costs one GetTable.

    Returns view name -> "created", "updated" or "exists"."""
    status = {}
    for name, statement in views.items():
        try:
            table = glue_client.get_table(DatabaseName=database, Name=name)["Table"]
        except glue_client.exceptions.EntityNotFoundException:
            status[name] = "created"
        else:
            if _same(stored_select(table), view_select(statement)):
                status[name] = "exists"
                continue
            status[name] = "updated"
        run(statement)
    return status
