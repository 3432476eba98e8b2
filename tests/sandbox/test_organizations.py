"""The synthetic organisation is what Organizations returns, with stable ids."""

from __future__ import annotations

from datetime import date

from sandbox import Organization


def _paged(call, key, **kwargs):
    items, token = [], None
    while True:
        page = call(**kwargs, **({"NextToken": token} if token else {}))
        items += page[key]
        token = page.get("NextToken")
        if not token:
            return items


def test_tree_nested_ou_root_accounts_and_empty_ou(sandbox, aws):
    orgs = aws("organizations")
    org = sandbox.organization
    (root,) = orgs.list_roots()["Roots"]
    assert root["Id"] == org.root_id
    top = _paged(
        orgs.list_organizational_units_for_parent,
        "OrganizationalUnits",
        ParentId=root["Id"],
        MaxResults=3,
    )
    assert {o["Name"] for o in top} == {
        "Engineering",
        "Data",
        "Marketing",
        "Sales",
        "Finance",
        "Security",
        "Sandbox",
    }
    engineering = next(o for o in top if o["Name"] == "Engineering")
    nested = orgs.list_organizational_units_for_parent(ParentId=engineering["Id"])
    assert [o["Name"] for o in nested["OrganizationalUnits"]] == ["Platform"]
    sandbox_ou = next(o for o in top if o["Name"] == "Sandbox")
    assert orgs.list_accounts_for_parent(ParentId=sandbox_ou["Id"])["Accounts"] == []
    at_root = _paged(orgs.list_accounts_for_parent, "Accounts", ParentId=root["Id"], MaxResults=1)
    assert "123456789012" in {a["Id"] for a in at_root} and len(at_root) == 2
    marketing = next(o for o in top if o["Name"] == "Marketing")
    paged = _paged(
        orgs.list_accounts_for_parent, "Accounts", ParentId=marketing["Id"], MaxResults=2
    )
    assert sorted(a["Id"] for a in paged) == sorted(a.id for a in org.accounts_in(marketing["Id"]))
    everyone = _paged(orgs.list_accounts, "Accounts", MaxResults=7)
    assert sorted(a["Id"] for a in everyone) == sorted(a.id for a in org.accounts)
    assert len(everyone) >= 30


def test_ids_and_data_are_deterministic_and_spike_is_data_driven():
    a, b = Organization.synthetic(), Organization.synthetic()
    assert [x.id for x in a.accounts] == [x.id for x in b.accounts]
    assert all(len(x.id) == 12 and x.id.isdigit() for x in a.accounts)
    assert [o.path for o in a.ous if "/" in o.path] == ["Engineering/Platform"]
    day = date(2025, 9, 14)
    assert a.cost_lines(day) == b.cost_lines(day)
    (spike,) = a.spikes
    assert (spike.day, spike.ou_path, spike.service) == (day, "Marketing", "Amazon CloudFront")
    assert a.ou_path_of(spike.account_id) == "Marketing"
    # 2025-09-10 is quiet: no injected anomaly on it or in the 30 days before.
    assert not [s for s in a.spikes if 0 <= (date(2025, 9, 10) - s.day).days <= 30]
    assert len({ln.service for ln in a.cost_lines(day)} - {"Tax"}) >= 20


def test_large_organisation_is_constructible():
    big = Organization.synthetic(ous=50, accounts=2000, services=150)
    assert len(big.ous) == 50 and len(big.accounts) == 2001 and len(big.services) == 150
    one = big.accounts[5].id
    lines = big.cost_lines(date(2025, 9, 10), frozenset([one]))
    assert lines and {ln.account_id for ln in lines} == {one}
