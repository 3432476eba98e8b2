"""Starting patches moto; stopping serves no more and restores plain moto for mock_aws users."""

from __future__ import annotations

import urllib.request

import pytest
from moto.ce.responses import CostExplorerResponse
from moto.glue.models import FakeCrawler

from sandbox import Organization, Sandbox


def test_context_manager_starts_and_stops_cleanly():
    original_start_crawler = FakeCrawler.start_crawler
    small = Organization.synthetic(ous=3, accounts=5, services=10)
    with Sandbox.start(organization=small, page_size=5) as sb:
        assert sb.organization is small
        assert sb.endpoint_url.startswith("http://127.0.0.1:")
        assert hasattr(CostExplorerResponse, "get_cost_forecast")
        with urllib.request.urlopen(f"{sb.endpoint_url}/_sandbox/health", timeout=5) as resp:
            assert resp.status == 200
    assert not hasattr(CostExplorerResponse, "get_cost_forecast")
    assert FakeCrawler.start_crawler is original_start_crawler
    with pytest.raises(OSError):
        urllib.request.urlopen(f"{sb.endpoint_url}/_sandbox/health", timeout=2)
