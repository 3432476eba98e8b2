"""Reversible monkeypatching of moto classes (so stopping the sandbox restores plain moto)."""

from __future__ import annotations

from typing import Any

_MISSING = object()
_applied: list[tuple[Any, str, Any]] = []


def patch(owner: Any, name: str, value: Any) -> None:
    """Set owner.name = value, remembering the original the first time."""
    if not any(o is owner and n == name for o, n, _ in _applied):
        _applied.append((owner, name, owner.__dict__.get(name, _MISSING)))
    setattr(owner, name, value)


def undo_all() -> None:
    """Put every patched attribute back as it was."""
    while _applied:
        owner, name, original = _applied.pop()
        if original is _MISSING:
            delattr(owner, name)
        else:
            setattr(owner, name, original)
