"""The OU walk against a hand-built organisation (pagination included)."""

from finops_digest.aws.organizations import walk_organization


class FakeOrganizations:
    """Answers list_roots and the two paginated list calls from a dict tree, 2 items per page."""

    def __init__(self, children, accounts):
        self.children, self.accounts = children, accounts

    def list_roots(self):
        return {"Roots": [{"Id": "r-root"}]}

    def get_paginator(self, operation):
        source, key = {
            "list_organizational_units_for_parent": (self.children, "OrganizationalUnits"),
            "list_accounts_for_parent": (self.accounts, "Accounts"),
        }[operation]

        class Paginator:
            def paginate(self, ParentId):
                items = source.get(ParentId, [])
                for start in range(0, max(len(items), 1), 2):
                    yield {key: items[start : start + 2]}

        return Paginator()


def test_nested_ous_root_accounts_and_empty_ous():
    org = FakeOrganizations(
        children={
            "r-root": [
                {"Id": "ou-eng", "Name": "Engineering"},
                {"Id": "ou-empty", "Name": "Sandbox"},
            ],
            "ou-eng": [{"Id": "ou-plat", "Name": "Platform"}],
        },
        accounts={
            "r-root": [{"Id": "000000000001", "Name": "management"}],
            "ou-eng": [{"Id": f"10000000000{i}", "Name": f"eng{i}"} for i in range(5)],
            "ou-plat": [{"Id": "200000000000", "Name": "plat", "Status": "SUSPENDED"}],
        },
    )
    result = walk_organization(org, root_ou_name="Root")
    ous = {ou["name"]: ou["accounts"] for ou in result["ous"]}
    assert ous == {
        "Root": ["000000000001"],
        "Engineering": [f"10000000000{i}" for i in range(5)],
        "Engineering/Platform": ["200000000000"],
        "Sandbox": [],
    }
    assert result["accounts"]["200000000000"] == {
        "name": "plat",
        "status": "SUSPENDED",
        "ou": "Engineering/Platform",
    }
    assert len(result["accounts"]) == 7
