"""OU owners: who owns which part of the organisation, and the slice of a report that is theirs.

An owner of an OU owns it and every OU nested in it (an owner of ``Engineering`` hears about
``Engineering/Platform`` too), so an OU with no owner of its own is covered by its parent's.
Owners are configured by OU path or id (``ou_owners``); inside the pipeline an owned OU is its id,
so a rename keeps its owners, and its slice is found by the day's labels of its subtree.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from finops_digest.ingest.cost_rows import CostRow
from finops_digest.report.accounts import account_label
from finops_digest.report.figures import budget_summary, digest_figures, ou_table
from finops_digest.store.ou_tree import parents

# An owner's digest lists every service of the slice and its largest accounts.
TOP_ACCOUNTS = 25
# The note on an ``ou_owners`` key that names no OU of the day's organisation.
NO_SUCH_OU = "names no OU of the organisation (by id or path): its owners get nothing"


def owned_scopes(
    ou_owners: Mapping[str, Mapping[str, Any]], mapping: Mapping[str, Any]
) -> tuple[list[dict[str, Any]], list[str]]:
    """Each owned OU of the day's ``mapping`` (an account-to-OU mapping with ids and parents):
    ``{"id", "ou" (its label), "ous" (its label and those of the OUs nested in it), "emails",
    "channels"}``, sorted by label; and one notice per key naming no OU."""
    ous = mapping["ous"]
    by_id = {ou["id"]: ou["name"] for ou in ous if ou.get("id")}
    by_label = {ou["name"]: ou["id"] for ou in ous if ou.get("id")}
    parent_of = parents(mapping)
    scopes, notices = [], []
    for key, owner in ou_owners.items():
        ou_id = key if key in by_id else by_label.get(key)
        if ou_id is None:
            notices.append(f"The owners of {key!r}: {key!r} {NO_SUCH_OU}.")
            continue
        inside = sorted(by_id[o] for o in by_id if _within(o, ou_id, parent_of))
        scopes.append(
            {
                "id": ou_id,
                "ou": by_id[ou_id],
                "ous": inside,
                "emails": list(owner.get("emails", [])),
                "channels": list(owner.get("channels", [])),
            }
        )
    scopes.sort(key=lambda s: s["ou"])
    return scopes, notices


def _within(ou_id: str, ancestor: str, parent_of: Mapping[str, str | None]) -> bool:
    """Whether ``ou_id`` is ``ancestor`` or nested in it (a cycle in bad data ends the walk)."""
    seen: set[str] = set()
    current: str | None = ou_id
    while current is not None and current not in seen:
        if current == ancestor:
            return True
        seen.add(current)
        current = parent_of.get(current)
    return False


def in_scope(items: Iterable[Mapping[str, Any]], scope: Mapping[str, Any]) -> list[Any]:
    """The items (spikes, budget rows) of the scope's OUs."""
    labels = set(scope["ous"])
    return [item for item in items if item["ou"] in labels]


def slice_report(
    context: Mapping[str, Any],
    scope: Mapping[str, Any],
    today: Iterable[CostRow],
    history: Iterable[CostRow],
    accounts: Mapping[str, Mapping[str, Any]],
) -> dict[str, Any]:
    """The digest's context for one owner: the organisation's ``context`` (the report built once)
    with every figure recomputed from the scope's rows only (totals, services, accounts, movers,
    trend), its budget rows and lights, and its spikes; ``scope`` says what it covers."""
    labels = set(scope["ous"])
    day: date = context["billing_date"]
    mine = [row for row in today if row.ou in labels]
    figures = digest_figures(
        day,
        mine,
        (row for row in history if row.ou in labels),
        in_scope(context["anomalies"], scope),
        accounts,
    )
    budgets = in_scope(context["ou_budgets"], scope)
    return {
        **context,
        **figures,
        "ou_table": ou_table(figures["ous"], budgets),
        "ou_budgets": budgets,
        "budget_totals": budget_summary(budgets),
        # Organisation-wide notes (restated days, renames elsewhere) are the FinOps team's.
        "restated": [],
        "notices": [],
        "scope": {
            "ou": scope["ou"],
            "ous": sorted(labels),
            "services": _largest(mine, lambda r: r.service),
            "accounts": [
                {"account": account_label(a["key"], accounts), "cost": a["cost"]}
                for a in _largest(mine, lambda r: r.linked_account)[:TOP_ACCOUNTS]
            ],
            "account_count": len({r.linked_account for r in mine}),
        },
    }


def _largest(rows: Iterable[CostRow], key: Any) -> list[dict[str, Any]]:
    """The rows' day cost per ``key``, largest first (ties by key)."""
    totals: dict[str, Any] = {}
    for row in rows:
        totals[key(row)] = totals.get(key(row), 0) + row.daily_cost
    return [
        {"key": name, "cost": cost}
        for name, cost in sorted(totals.items(), key=lambda item: (-item[1], item[0]))
    ]
