"""Walk the AWS Organizations tree and attribute every account to its OU."""

from __future__ import annotations

from collections import Counter
from typing import Any

from finops_digest.errors import FinopsError

PATH_SEPARATOR = "/"


class OrganizationError(FinopsError):
    """The organisation cannot be walked with the configured identity."""


def walk_organization(org_client: Any, root_ou_name: str = "Root") -> dict[str, Any]:
    """Map every account to the OU it sits in, walking nested OUs from the root.

    OUs are named by their path from the root (``Engineering/Platform``), since OU names are only
    unique among siblings. Accounts directly under the root go to the pseudo-OU ``root_ou_name``.
    Returns ``{"root_id", "ous": [{"id", "name", "parent", "accounts": [...]}], "accounts":
    {id: {...}}}``, ``parent`` the id of the OU it is nested in (None for a top-level OU and for
    the root pseudo-OU, which sits beside them); OUs without accounts are kept so the day's
    attribution can be audited in full.
    """
    roots = org_client.list_roots()["Roots"]
    if not roots:
        raise OrganizationError(
            "Organizations list_roots returned no root: expected the management account (or a "
            "delegated administrator) as the aws_default connection's identity"
        )
    root_id = roots[0]["Id"]
    ous: list[dict[str, Any]] = []
    accounts: dict[str, dict[str, str]] = {}

    def visit(parent_id: str, ou_id: str, name: str, parent: str | None) -> None:
        members = []
        for account in _paginate(org_client, "list_accounts_for_parent", "Accounts", parent_id):
            members.append(account["Id"])
            accounts[account["Id"]] = {
                "name": account.get("Name", ""),
                "status": account.get("Status", "ACTIVE"),
                "ou": name,
            }
        ous.append({"id": ou_id, "name": name, "parent": parent, "accounts": sorted(members)})
        children = _paginate(
            org_client, "list_organizational_units_for_parent", "OrganizationalUnits", parent_id
        )
        for child in children:
            child_name = (
                child["Name"] if parent_id == root_id else name + PATH_SEPARATOR + child["Name"]
            )
            visit(child["Id"], child["Id"], child_name, None if parent_id == root_id else ou_id)

    visit(root_id, root_id, root_ou_name, None)
    _make_labels_distinct(ous, accounts)
    ous.sort(key=lambda ou: ou["name"])
    return {"root_id": root_id, "ous": ous, "accounts": accounts}


def account_names(mapping: dict[str, Any]) -> dict[str, str]:
    """Account id -> the account's name ("" when Organizations gave none), from an
    account-to-OU mapping: ``walk_organization``'s answer, as ``discover_ous`` stages it."""
    return {account: info.get("name", "") for account, info in mapping["accounts"].items()}


def _make_labels_distinct(ous: list[dict[str, Any]], accounts: dict[str, dict[str, str]]) -> None:
    """Two OUs may spell the same path: a top-level OU named like the root pseudo-OU, or one
    whose name contains "/" beside the nested path it spells (Organizations allows both). Each
    such label gets its OU's id, ``Engineering/Platform (ou-ab12-cd34ef56)``, so every account's
    costs appear exactly once, under one OU."""
    counts = Counter(ou["name"] for ou in ous)
    for ou in ous:
        if counts[ou["name"]] > 1:
            ou["name"] = f"{ou['name']} ({ou['id']})"
            for account in ou["accounts"]:
                accounts[account]["ou"] = ou["name"]


def _paginate(client: Any, operation: str, key: str, parent_id: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for page in client.get_paginator(operation).paginate(ParentId=parent_id):
        items.extend(page[key])
    return items
