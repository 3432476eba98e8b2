"""OU identity across renames: earlier labels read as today's through the OU ids."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from finops_digest.ingest.cost_rows import CostRow
from finops_digest.ingest.ou_identity import relabel, renamed


def _mapping(*ous: tuple[str, str]) -> dict:
    return {"ous": [{"id": i, "name": n, "accounts": []} for i, n in ous]}


THEN = _mapping(("r-1", "Root"), ("ou-e", "Engineering"), ("ou-p", "Engineering/Platform"))


def test_a_parent_rename_renames_every_path_below_it():
    now = _mapping(("r-1", "Root"), ("ou-e", "Eng"), ("ou-p", "Eng/Platform"))
    assert renamed(THEN, now) == {"Engineering": "Eng", "Engineering/Platform": "Eng/Platform"}


def test_two_ous_swapping_names_are_told_apart_by_id():
    now = _mapping(("r-1", "Root"), ("ou-e", "Engineering/Platform"), ("ou-p", "Engineering"))
    rows = [
        CostRow(date(2025, 9, 1), "Engineering", "EC2", "1", Decimal("1.00")),
        CostRow(date(2025, 9, 1), "Engineering/Platform", "EC2", "2", Decimal("2.00")),
    ]
    assert [(r.ou, r.linked_account) for r in relabel(rows, renamed(THEN, now))] == [
        ("Engineering/Platform", "1"),
        ("Engineering", "2"),
    ]


def test_deleted_ous_and_labels_without_an_id_keep_their_label():
    now = _mapping(("r-1", "Root"))
    assert renamed(THEN, now) == {}
    assert renamed({"ous": [{"name": "Engineering", "accounts": []}]}, THEN) == {}
    row = CostRow(date(2025, 9, 1), "Unattributed", "EC2", "9", Decimal("1.00"))
    assert relabel([row], {"Engineering": "Eng"}) == [row]
