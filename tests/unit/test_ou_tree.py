"""The OU tree table: each OU once per ancestor (itself included), by id, for roll-ups."""

from __future__ import annotations

from datetime import date

from finops_digest.store.ou_tree import parents, tree_rows

DAY = date(2025, 9, 14)


def _mapping(with_parents: bool) -> dict:
    ous = [
        {"id": "r-1", "name": "Root", "parent": None, "accounts": ["1"]},
        {"id": "ou-e", "name": "Engineering", "parent": None, "accounts": []},
        {"id": "ou-p", "name": "Engineering/Platform", "parent": "ou-e", "accounts": ["2"]},
        {"id": "ou-k", "name": "Engineering/Platform/K8s", "parent": "ou-p", "accounts": ["3"]},
        # A top-level OU whose own name spells a nested path: only ids tell them apart.
        {"id": "ou-x", "name": "Engineering/Platform (ou-x)", "parent": None, "accounts": ["4"]},
    ]
    if not with_parents:
        for ou in ous:
            del ou["parent"]
    return {"ous": ous}


def test_each_ou_has_a_row_per_ancestor_with_its_distance():
    rows = tree_rows(DAY, _mapping(with_parents=True))
    k8s = [(r["ancestor_id"], r["distance"]) for r in rows if r["ou_id"] == "ou-k"]
    assert k8s == [("ou-k", 0), ("ou-p", 1), ("ou-e", 2)]
    assert [r["ancestor_id"] for r in rows if r["ou_id"] == "ou-x"] == ["ou-x"]
    assert [r["ancestor_id"] for r in rows if r["ou_id"] == "r-1"] == ["r-1"]
    # Engineering's subtree, by id: itself, Platform and K8s, never the look-alike top-level OU.
    assert {r["ou_id"] for r in rows if r["ancestor_id"] == "ou-e"} == {"ou-e", "ou-p", "ou-k"}
    assert all(r["billingdate"] == DAY for r in rows)


def test_mappings_archived_before_parents_were_recorded_read_them_from_the_paths():
    assert parents(_mapping(with_parents=False)) == {
        "r-1": None,
        "ou-e": None,
        "ou-p": "ou-e",
        "ou-k": "ou-p",
        "ou-x": "ou-e",  # the best a path can say; ids in today's mappings say better
    }
    assert parents(_mapping(with_parents=True))["ou-x"] is None
