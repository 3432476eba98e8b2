"""Accounts as people know them: ``name (id)``, from the day's account-to-OU mapping."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from finops_digest.ingest.former_accounts import NOT_IN_ORGANIZATION

# Account names are anyone's input (up to 50 characters in Organizations; Cost Explorer's
# description of a closed account may be longer): cut where a person reads them.
NAME_LIMIT = 50


def account_label(account_id: str, accounts: Mapping[str, Mapping[str, Any]]) -> str:
    """``Payments prod (123456789012)``; an account that left the organisation without a known
    name is ``123456789012 (closed)``; an unnamed one is its id. The name is plain text: the
    templates escape it (HTML) and the PDF draws it as text."""
    info = accounts.get(account_id) or {}
    name = " ".join(str(info.get("name") or "").split())  # no newlines or runs of spaces
    if len(name) > NAME_LIMIT:
        name = name[: NAME_LIMIT - 1].rstrip() + "…"
    if name:
        return f"{name} ({account_id})"
    if not info or info.get("status") == NOT_IN_ORGANIZATION:
        return f"{account_id} (closed)"
    return account_id
