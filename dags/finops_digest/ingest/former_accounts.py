"""Accounts with costs that are no longer in the organisation tree (closed, removed, left):
their costs are reported under their last known OU, or a named pseudo-OU, never dropped."""

from __future__ import annotations

import logging
from datetime import date, timedelta
from typing import Any

from finops_digest.store import archive, layout

log = logging.getLogger(__name__)

UNATTRIBUTED_OU = "Unattributed"
NOT_IN_ORGANIZATION = "NOT_IN_ORGANIZATION"
# How far back the archived mappings are searched for an account's last OU.
LOOKBACK_DAYS = 35


def attribute_former_accounts(
    s3_client: Any, bucket: str, day: date, organization: dict[str, Any], former: dict[str, str]
) -> None:
    """Add ``former`` accounts (id -> the name Cost Explorer gives, or "") to ``organization``
    under their last archived OU (or Unattributed), with their last archived name, else
    Cost Explorer's."""
    remaining = set(former)
    last_known: dict[str, dict[str, str]] = {}
    for back in range(1, LOOKBACK_DAYS + 1):
        if not remaining:
            break
        key = layout.archive_key(day - timedelta(days=back), layout.MAPPING_NAME)
        mapping = archive.get_json_if_exists(s3_client, bucket, key)
        if mapping is None:
            continue
        accounts = mapping["accounts"]
        for account in list(remaining):
            if account in accounts:
                last_known[account] = accounts[account]
                remaining.discard(account)
    ous = {ou["name"]: ou for ou in organization["ous"]}
    for account in sorted(former):
        known = last_known.get(account, {})
        ou = known.get("ou", UNATTRIBUTED_OU)
        if ou not in ous:
            ous[ou] = {"id": "", "name": ou, "accounts": []}
            organization["ous"].append(ous[ou])
        ous[ou]["accounts"] = sorted([*ous[ou]["accounts"], account])
        organization["accounts"][account] = {
            "name": known.get("name") or former[account],
            "status": NOT_IN_ORGANIZATION,
            "ou": ou,
        }
        log.warning(
            "Account %s has costs but is not in the organisation: reported under %s", account, ou
        )
    organization["ous"].sort(key=lambda o: o["name"])
