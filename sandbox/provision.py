"""Create what the infrastructure code would have created in AWS, inside the fresh sandbox."""

from __future__ import annotations

from datetime import datetime, timedelta

import boto3
from moto.organizations import utils as org_utils
from moto.organizations.models import FakeAccount, organizations_backends

from sandbox import data_exports
from sandbox.config import ACCOUNT_ID, REGION, SANDBOX_DEFAULTS
from sandbox.organization import Organization

# JoinedTimestamp of the first account; later accounts follow a minute apart, so moto's
# ListAccounts pagination (keyed on JoinedTimestamp) sees distinct, stable values.
# moto keeps naive UTC datetimes (moto.core.utils.utcnow), so this one is naive too.
_JOINED = datetime(2019, 6, 1)  # noqa: DTZ001


def provision_organization(org: Organization) -> None:
    """Load the synthetic organisation into moto's Organizations backend with its own ids.

    moto's create_account draws random ids and creates an IAM role per account (slow for the
    2,000-account organisation), so accounts are built directly with the organisation's ids.
    """
    backend = organizations_backends[ACCOUNT_ID]["aws"]
    backend.create_organization(region=REGION, FeatureSet="ALL")
    assert backend.org is not None
    backend.org.id = org.org_id
    backend.org.root_id = org.root_id
    backend.ou[0].id = org.root_id
    backend.ou[0].organization_id = org.org_id
    policies = [
        p
        for p in backend.policies
        if p.id in (org_utils.DEFAULT_SCP_POLICY_ID, org_utils.DEFAULT_RCP_POLICY_ID)
    ]
    for ou in org.ous:
        backend.create_organizational_unit(Name=ou.name, ParentId=ou.parent_id)
        backend.ou[-1].id = ou.id
    management = backend.accounts[0]
    management.organization_id = org.org_id
    management.parent_id = org.root_id
    management.create_time = _JOINED
    for n, account in enumerate(a for a in org.accounts if a.id != ACCOUNT_ID):
        fake = FakeAccount.__new__(FakeAccount)
        fake.type = "ACCOUNT"
        fake.region = REGION
        fake.organization_id = org.org_id
        fake.master_account_id = ACCOUNT_ID
        fake.create_account_status_id = f"car-{int(account.id) % 16**8:08x}"
        fake.id = account.id
        fake.name = account.name
        fake.email = account.email
        fake.create_time = _JOINED + timedelta(minutes=n + 1)
        fake.status = fake.state = "ACTIVE"
        fake.joined_method = "CREATED"
        fake.parent_id = account.parent_id
        fake.attached_policies = list(policies)
        fake.tags = {}
        for policy in policies:
            policy.attachments.append(fake)
        backend.accounts.append(fake)
        organizations_backends.master_accounts[account.id] = (ACCOUNT_ID, "aws")


def provision_resources(endpoint_url: str) -> None:
    """Bucket (versioned), Glue database + crawler, Athena workgroup, SES identity, a QuickSight
    dashboard, the chat SNS topic, a Data Exports bucket and its Glue tables — over HTTP,
    exactly as infrastructure code would call the APIs."""
    d = SANDBOX_DEFAULTS
    kwargs = {
        "endpoint_url": endpoint_url,
        "region_name": REGION,
        "aws_access_key_id": "testing",
        "aws_secret_access_key": "testing",
    }
    s3 = boto3.client("s3", **kwargs)
    s3.create_bucket(Bucket=d["archive_bucket"])
    s3.put_bucket_versioning(
        Bucket=d["archive_bucket"], VersioningConfiguration={"Status": "Enabled"}
    )
    glue = boto3.client("glue", **kwargs)
    glue.create_database(DatabaseInput={"Name": d["glue_database"]})
    glue.create_crawler(
        Name=d["glue_crawler"],
        Role=d["glue_crawler_role"],
        DatabaseName=d["glue_database"],
        Targets={"S3Targets": [{"Path": d["glue_crawler_target"]}]},
        SchemaChangePolicy={"UpdateBehavior": "LOG", "DeleteBehavior": "LOG"},
        RecrawlPolicy={"RecrawlBehavior": "CRAWL_EVERYTHING"},
    )
    # An AWS Data Exports export (CUR 2.0, FOCUS): its bucket and Glue tables; its days are
    # written on request (sandbox.data_exports.write_days).
    data_exports.provision(s3, glue)
    athena = boto3.client("athena", **kwargs)
    athena.create_work_group(
        Name=d["athena_workgroup"],
        Configuration={
            "ResultConfiguration": {"OutputLocation": d["athena_output_location"]},
            "EnforceWorkGroupConfiguration": False,
        },
    )
    boto3.client("ses", **kwargs).verify_email_identity(EmailAddress=d["ses_sender"])
    topic = boto3.client("sns", **kwargs).create_topic(Name=d["chat_topic_arn"].rsplit(":", 1)[1])
    assert topic["TopicArn"] == d["chat_topic_arn"], topic
    boto3.client("quicksight", **kwargs).create_dashboard(
        AwsAccountId=d["account_id"],
        DashboardId=d["quicksight_dashboard_id"],
        Name="FinOps executive overview",
        Definition={
            "DataSetIdentifierDeclarations": [
                {
                    "Identifier": "ou_breakdown",
                    "DataSetArn": f"arn:aws:quicksight:{REGION}:{ACCOUNT_ID}:dataset/ou-breakdown",
                }
            ],
            "Sheets": [
                {"SheetId": "overview", "Name": "Budget vs forecast"},
                {"SheetId": "services", "Name": "Services"},
            ],
        },
    )
