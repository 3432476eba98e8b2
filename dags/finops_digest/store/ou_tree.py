"""The day's OU tree as table rows: which OUs each OU contains, by id, for roll-ups in Athena."""

from __future__ import annotations

from datetime import date
from typing import Any

from finops_digest.aws.organizations import PATH_SEPARATOR
from finops_digest.schema import OU_TREE_COLUMNS, parquet_bytes


def parents(mapping: dict[str, Any]) -> dict[str, str | None]:
    """OU id -> the id of the OU it is nested in (None at the top), from an account-to-OU mapping.

    Mappings archived before the tree was recorded have no ``parent``: their OUs' parents are read
    from the path labels instead (``Engineering/Platform`` sits in ``Engineering``)."""
    ous = mapping["ous"]
    if all("parent" in ou for ou in ous):
        return {ou["id"]: ou["parent"] for ou in ous}
    by_label = {ou["name"]: ou["id"] for ou in ous}
    found: dict[str, str | None] = {}
    for ou in ous:
        head, _, _ = ou["name"].rpartition(PATH_SEPARATOR)
        found[ou["id"]] = by_label.get(head) if head else None
    return found


def tree_rows(day: date, mapping: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per OU and each of its ancestors, itself included (:data:`OU_TREE_COLUMNS`)."""
    parent_of = parents(mapping)
    label = {ou["id"]: ou["name"] for ou in mapping["ous"]}
    rows = []
    for ou_id in sorted(label, key=label.get):
        ancestor: str | None = ou_id
        seen: list[str] = []
        while ancestor is not None and ancestor in label and ancestor not in seen:
            rows.append(
                {
                    "billingdate": day,
                    "ou": label[ou_id],
                    "ou_id": ou_id,
                    "parent_id": parent_of.get(ou_id),
                    "ancestor": label[ancestor],
                    "ancestor_id": ancestor,
                    "distance": len(seen),
                }
            )
            seen.append(ancestor)
            ancestor = parent_of.get(ancestor)
    return rows


def tree_parquet(day: date, mapping: dict[str, Any], metadata: dict[str, str]) -> bytes:
    """The day's rows of the OU tree table as Parquet."""
    return parquet_bytes(OU_TREE_COLUMNS, tree_rows(day, mapping), metadata)
