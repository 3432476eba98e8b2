"""Spikes over OU/service series, OU totals and the organisation total, on hand-built history."""

from datetime import date, timedelta
from decimal import Decimal

from finops_digest.aws.cost_anomaly_detection import mark_seen_by_aws
from finops_digest.detection.detector import HISTORY_DAYS, Thresholds
from finops_digest.detection.findings import ALL_SERVICES, ORGANIZATION, find_anomalies
from finops_digest.ingest.cost_rows import CostRow

DAY = date(2025, 9, 14)


def steady(ou, service, account, level, days=HISTORY_DAYS):
    return [
        CostRow(DAY - timedelta(days=n), ou, service, account, Decimal(level) + Decimal(n % 3))
        for n in range(1, days + 1)
    ]


def test_a_service_spike_is_reported_once_not_again_as_its_ou_and_org_totals():
    history = steady("Marketing", "Amazon CloudFront", "111111111111", "200") + steady(
        "Sales", "AWS Lambda", "222222222222", "300"
    )
    today = [
        CostRow(DAY, "Marketing", "Amazon CloudFront", "111111111111", Decimal("2700")),
        CostRow(DAY, "Sales", "AWS Lambda", "222222222222", Decimal("301")),
    ]
    anomalies = find_anomalies(DAY, today, history, Thresholds())
    assert [(a["ou"], a["service"]) for a in anomalies] == [("Marketing", "Amazon CloudFront")]
    assert anomalies[0]["drivers"][0]["account"] == "111111111111"
    assert anomalies[0]["drivers"][0]["share"] == 1.0


def test_each_anomaly_says_why_in_the_configured_currency():
    history = steady("Marketing", "Amazon CloudFront", "111111111111", "200")
    today = [CostRow(DAY, "Marketing", "Amazon CloudFront", "111111111111", Decimal("2700"))]
    [anomaly] = find_anomalies(DAY, today, history, Thresholds())
    assert anomaly["reason"].startswith("$2,700.00 on Sunday; the last three Sundays were $20")
    [in_euros] = find_anomalies(DAY, today, history, Thresholds(), currency="EUR")
    assert in_euros["reason"].startswith("€2,700.00 on Sunday")


def test_many_small_service_rises_surface_as_the_ou_total():
    services = [f"Service {i}" for i in range(12)]
    history = [row for s in services for row in steady("Data", s, "333333333333", "100")]
    # Each service rises $60 (under the $100 minimum); together the OU rises $720.
    today = [CostRow(DAY, "Data", s, "333333333333", Decimal("161")) for s in services]
    anomalies = find_anomalies(DAY, today, history, Thresholds())
    keys = [(a["ou"], a["service"]) for a in anomalies]
    assert keys == [("Data", ALL_SERVICES)], "the organisation total repeats the OU's rise"
    assert ORGANIZATION not in {ou for ou, _ in keys}


def test_a_quiet_day_has_no_anomalies():
    history = steady("Marketing", "Amazon CloudFront", "111111111111", "200")
    today = [CostRow(DAY, "Marketing", "Amazon CloudFront", "111111111111", Decimal("203"))]
    assert find_anomalies(DAY, today, history, Thresholds()) == []


class FakeAnomalies:
    def __init__(self, response=None, error=None):
        self.response, self.error = response, error

    def get_anomalies(self, **request):
        if self.error:
            raise self.error
        return self.response


def test_spikes_seen_by_aws_are_marked_and_failures_never_raise():
    anomalies = [
        {"service": "Amazon CloudFront", "drivers": [{"account": "111111111111"}]},
        {"service": "AWS Lambda", "drivers": [{"account": "222222222222"}]},
    ]
    aws = {
        "Anomalies": [
            {
                "AnomalyId": "aws-1",
                "RootCauses": [{"Service": "Amazon CloudFront", "LinkedAccount": "111111111111"}],
            },
            {"AnomalyId": "aws-2", "RootCauses": [{"Service": "AWS Lambda", "LinkedAccount": "9"}]},
        ]
    }
    mark_seen_by_aws(FakeAnomalies(aws), DAY, anomalies)
    assert anomalies[0]["aws_anomaly_ids"] == ["aws-1"]
    assert "aws_anomaly_ids" not in anomalies[1]
    untouched = [{"service": "S3", "drivers": []}]
    mark_seen_by_aws(FakeAnomalies(error=RuntimeError("AccessDenied")), DAY, untouched)
    assert untouched == [{"service": "S3", "drivers": []}]
