"""The day lock and the sent-email record against S3 semantics (moto, in process)."""

import json
from datetime import date

import boto3
import pytest
from moto import mock_aws

from finops_digest.store import day_lock, layout
from finops_digest.store import delivery_record as delivery

DAY = date(2025, 9, 14)


@pytest.fixture
def s3():
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket="archive")
        client.put_bucket_versioning(
            Bucket="archive", VersioningConfiguration={"Status": "Enabled"}
        )
        yield client


def test_a_second_run_of_the_same_day_is_refused_while_the_first_holds_it(s3):
    day_lock.acquire(s3, "archive", DAY, "run-a")
    with pytest.raises(
        day_lock.DayLockedError, match="2025-09-14 is being processed by run 'run-a'"
    ):
        day_lock.acquire(s3, "archive", DAY, "run-b")
    day_lock.acquire(s3, "archive", date(2025, 9, 15), "run-b")  # other days run in parallel


def test_a_retry_of_the_holder_retakes_it_and_release_lets_others_in(s3):
    day_lock.acquire(s3, "archive", DAY, "run-a")
    day_lock.acquire(s3, "archive", DAY, "run-a")
    assert day_lock.release(s3, "archive", DAY, "run-b") is False
    assert day_lock.release(s3, "archive", DAY, "run-a") is True
    day_lock.acquire(s3, "archive", DAY, "run-b")
    versions = s3.list_object_versions(Bucket="archive", Prefix=layout.lock_key(DAY))["Versions"]
    assert len(versions) == 4, "every hand-over is kept as a version"


def test_a_lock_whose_holder_is_no_longer_running_is_taken_over_and_says_so(s3, caplog):
    day_lock.acquire(s3, "archive", DAY, "run-dead")  # its teardown never ran
    running = {"run-alive", "run-b"}
    with pytest.raises(day_lock.DayLockedError):
        day_lock.acquire(s3, "archive", DAY, "run-b", lambda run: True)
    with caplog.at_level("WARNING"):
        taken = day_lock.acquire(s3, "archive", DAY, "run-b", lambda run: run in running)
    assert taken == "run-dead"
    assert "Took over the lock of billing day 2025-09-14 from run 'run-dead'" in caplog.text
    record = s3.get_object(Bucket="archive", Key=layout.lock_key(DAY))["Body"].read()
    assert json.loads(record) == {"held": True, "holder": "run-b", "took_over_from": "run-dead"}
    assert day_lock.release(s3, "archive", DAY, "run-b") is True


def test_deliveries_are_remembered_per_day_and_kind(s3):
    assert delivery.already_sent(s3, "archive", DAY, "daily-digest") == set()
    delivery.record_sent(s3, "archive", DAY, "daily-digest", ["a@example.com"], "m-1")
    delivery.record_sent(s3, "archive", DAY, "daily-digest", ["b@example.com"], "m-2")
    assert delivery.already_sent(s3, "archive", DAY, "daily-digest") == {
        "a@example.com",
        "b@example.com",
    }
    assert delivery.already_sent(s3, "archive", DAY, "anomaly-alert") == set()
