"""The report document: the digest's and the snapshot's figures as JSON that keeps its types
(exact Decimals, dates), so what is rendered after staging is what was computed."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any


def _encode(value: Any) -> Any:
    if isinstance(value, Decimal):
        return {"$decimal": str(value)}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    if isinstance(value, dict):
        return {"$dict": [[_encode(k), _encode(v)] for k, v in value.items()]}
    if isinstance(value, list | tuple):
        return [_encode(v) for v in value]
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, list):
        return [_decode(v) for v in value]
    if isinstance(value, dict):
        if "$decimal" in value:
            return Decimal(value["$decimal"])
        if "$date" in value:
            return date.fromisoformat(value["$date"])
        return {_decode(k): _decode(v) for k, v in value["$dict"]}
    return value


def dumps(document: dict[str, Any]) -> bytes:
    """Encode a report (dict keys of any JSON type, Decimals and dates kept exactly)."""
    return json.dumps(_encode(document)).encode()


def loads(data: bytes) -> dict[str, Any]:
    """Decode what :func:`dumps` wrote."""
    return _decode(json.loads(data))
