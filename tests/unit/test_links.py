"""The CSV link of a digest too big to mail says truthfully how long it works: a URL signed with
a role's temporary credentials (MWAA's execution role) dies with the session."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlparse

import boto3
import botocore.config
import botocore.session
import pytest
from botocore.credentials import RefreshableCredentials
from moto import mock_aws

from finops_digest.report.links import presigned_link


@pytest.fixture
def archived():
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="archive")
        s3.put_bucket_versioning(Bucket="archive", VersioningConfiguration={"Status": "Enabled"})
        version = s3.put_object(Bucket="archive", Key="d/ou_breakdown.csv", Body=b"x")["VersionId"]
        yield version


def _expires(link: dict) -> int:
    query = parse_qs(urlparse(link["url"]).query)
    return int(query.get("X-Amz-Expires", query.get("Expires", ["0"]))[0])


def _valid_for(link: dict) -> timedelta:
    until = datetime.strptime(link["valid_until"], "%Y-%m-%d %H:%M UTC").replace(tzinfo=UTC)
    return until - datetime.now(UTC)


def test_long_term_keys_give_sigv4s_seven_days(archived):
    s3 = boto3.client(
        "s3", region_name="us-east-1", config=botocore.config.Config(signature_version="s3v4")
    )
    link = presigned_link(s3, "archive", "d/ou_breakdown.csv", archived)
    assert _expires(link) == 7 * 24 * 3600
    assert timedelta(days=6, hours=23) < _valid_for(link) <= timedelta(days=7)


def test_a_role_session_ends_the_link_with_it(archived):
    expiry = datetime.now(UTC) + timedelta(minutes=50)
    credentials = RefreshableCredentials.create_from_metadata(
        metadata={
            "access_key": "ASIATEST",
            "secret_key": "secret",
            "token": "session",
            "expiry_time": expiry.isoformat(),
        },
        refresh_using=lambda: {},
        method="assume-role",
    )
    session = botocore.session.get_session()
    session._credentials = credentials
    s3 = boto3.Session(botocore_session=session).client(
        "s3", region_name="us-east-1", config=botocore.config.Config(signature_version="s3v4")
    )
    link = presigned_link(s3, "archive", "d/ou_breakdown.csv", archived)
    assert 45 * 60 <= _expires(link) <= 50 * 60
    assert _valid_for(link) <= timedelta(minutes=50)


def test_temporary_keys_of_unknown_end_promise_one_hour(archived):
    s3 = boto3.client(
        "s3",
        region_name="us-east-1",
        aws_access_key_id="ASIATEST",
        aws_secret_access_key="secret",
        aws_session_token="session",
        config=botocore.config.Config(signature_version="s3v4"),
    )
    link = presigned_link(s3, "archive", "d/ou_breakdown.csv", archived)
    assert _expires(link) == 3600
