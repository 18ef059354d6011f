"""The moto stand-in is built from template.yaml, and the template itself lints clean."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote_plus

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from cxbill.adapters.settings import Settings
from cxbill_local.stack import DEFAULT_TEMPLATE, LocalStack, build_stack, load_template

pytestmark = pytest.mark.integration

REPO_ROOT = Path(__file__).resolve().parents[2]
CFN_LINT = "import sys; from cfnlint.runner import main; sys.exit(main())"


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake credentials and region, set before any client exists, so nothing reaches AWS."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SECURITY_TOKEN": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)


@pytest.fixture
def stack(aws_env: None) -> Iterator[LocalStack]:
    with mock_aws():
        yield build_stack()


def _template_table(logical_id: str) -> dict:
    return load_template()["Resources"][logical_id]["Properties"]


def test_default_template_is_the_repo_root_one() -> None:
    assert DEFAULT_TEMPLATE == REPO_ROOT / "template.yaml"


def test_short_tags_become_long_form() -> None:
    template = load_template()
    bucket = template["Resources"]["UploadBucket"]["Properties"]
    assert bucket["BucketName"] == {"Fn::Sub": "${AWS::StackName}-uploads-${AWS::AccountId}"}
    queue = bucket["NotificationConfiguration"]["QueueConfigurations"][0]["Queue"]
    assert queue == {"Fn::GetAtt": ["IngestQueue", "Arn"]}
    env = template["Globals"]["Function"]["Environment"]["Variables"]
    assert env["ORGS_TABLE"] == {"Ref": "OrgsTable"}


@pytest.mark.parametrize(
    "logical_id",
    ["OrgsTable", "LedgerTable", "UsageTable", "IngestionsTable", "IdempotencyTable"],
)
def test_tables_have_the_template_key_schema(stack: LocalStack, logical_id: str) -> None:
    table = boto3.client("dynamodb").describe_table(TableName=stack.tables[logical_id])["Table"]
    expected = _template_table(logical_id)
    assert table["KeySchema"] == expected["KeySchema"]
    assert table["TableName"] == f"cxbill-local-{logical_id}"
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"


def test_orgs_table_has_the_due_index(stack: LocalStack) -> None:
    table = boto3.client("dynamodb").describe_table(TableName=stack.orgs_table)["Table"]
    (gsi,) = table["GlobalSecondaryIndexes"]
    assert gsi["IndexName"] == "due-index"
    assert gsi["KeySchema"] == [
        {"AttributeName": "due_shard", "KeyType": "HASH"},
        {"AttributeName": "next_due", "KeyType": "RANGE"},
    ]
    assert gsi["Projection"]["ProjectionType"] == "KEYS_ONLY"


def test_ledger_table_has_the_issue_date_index(stack: LocalStack) -> None:
    table = boto3.client("dynamodb").describe_table(TableName=stack.ledger_table)["Table"]
    (lsi,) = table["LocalSecondaryIndexes"]
    assert lsi["IndexName"] == "issue-date-index"
    assert lsi["KeySchema"] == [
        {"AttributeName": "org_id", "KeyType": "HASH"},
        {"AttributeName": "issue_date", "KeyType": "RANGE"},
    ]
    assert lsi["Projection"]["ProjectionType"] == "ALL"


def test_idempotency_table_expires_records(stack: LocalStack) -> None:
    ttl = boto3.client("dynamodb").describe_time_to_live(TableName=stack.idempotency_table)
    assert ttl["TimeToLiveDescription"] == {
        "AttributeName": "expiration",
        "TimeToLiveStatus": "ENABLED",
    }


def test_close_queue_is_fifo_with_a_fifo_dead_letter_queue(stack: LocalStack) -> None:
    sqs = boto3.client("sqs")
    attributes = sqs.get_queue_attributes(QueueUrl=stack.close_queue_url, AttributeNames=["All"])[
        "Attributes"
    ]
    assert stack.close_queue_url.endswith(".fifo")
    assert attributes["FifoQueue"] == "true"
    assert attributes["VisibilityTimeout"] == "5400"  # 6 x the close's timeout (R-ops-2)
    redrive = json.loads(attributes["RedrivePolicy"])
    assert redrive["deadLetterTargetArn"] == stack.queue_arns["CloseDeadLetterQueue"]
    assert int(redrive["maxReceiveCount"]) == 5
    assert stack.close_dlq_url.endswith(".fifo")


def test_ingest_queue_redrives_to_its_dead_letter_queue(stack: LocalStack) -> None:
    attributes = boto3.client("sqs").get_queue_attributes(
        QueueUrl=stack.ingest_queue_url, AttributeNames=["All"]
    )["Attributes"]
    assert "FifoQueue" not in attributes
    redrive = json.loads(attributes["RedrivePolicy"])
    assert redrive["deadLetterTargetArn"] == stack.queue_arns["IngestDeadLetterQueue"]


def test_buckets_are_named_from_the_template_and_versioned(stack: LocalStack) -> None:
    assert stack.upload_bucket == "cxbill-local-uploads-123456789012"
    assert stack.documents_bucket == "cxbill-local-documents-123456789012"
    s3 = boto3.client("s3")
    for bucket in (stack.upload_bucket, stack.documents_bucket):
        assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
        block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
        assert all(block.values())


def test_upload_lands_on_the_ingest_queue(stack: LocalStack) -> None:
    key = "usage/acme/logins/a.csv"
    boto3.client("s3").put_object(Bucket=stack.upload_bucket, Key=key, Body=b"user,at\n")

    sqs = boto3.client("sqs")
    messages = sqs.receive_message(
        QueueUrl=stack.ingest_queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0
    ).get("Messages", [])
    bodies = [json.loads(m["Body"]) for m in messages]
    # S3 (and moto) send an s3:TestEvent when the notification is configured; skip it.
    assert any(body.get("Event") == "s3:TestEvent" for body in bodies)
    records = [r for body in bodies if "Records" in body for r in body["Records"]]
    # Event keys are URL-encoded (moto even encodes "/"), so consumers must unquote_plus them.
    assert [unquote_plus(r["s3"]["object"]["key"]) for r in records] == [key]
    assert records[0]["eventName"].startswith("ObjectCreated:")
    assert records[0]["s3"]["bucket"]["name"] == stack.upload_bucket


def test_environment_matches_the_template_globals(stack: LocalStack) -> None:
    env = stack.environment()
    template_vars = load_template()["Globals"]["Function"]["Environment"]["Variables"]
    assert set(template_vars) <= set(env)
    assert env["ORGS_TABLE"] == stack.orgs_table == "cxbill-local-OrgsTable"
    assert env["CLOSE_QUEUE_URL"] == stack.close_queue_url
    assert env["DOCUMENTS_BUCKET"] == stack.documents_bucket
    assert env["URL_EXPIRY_SECONDS"] == "300"
    assert env["POWERTOOLS_SERVICE_NAME"] == "cxbill"
    assert env["AWS_DEFAULT_REGION"] == env["AWS_REGION"] == "us-east-1"


def test_each_function_gets_the_globals_and_its_own_variables(stack: LocalStack) -> None:
    close, api = stack.environment("close"), stack.environment("api")
    assert close["INVOICE_RETENTION_YEARS"] == "10"  # the parameter's default
    assert "INVOICE_RETENTION_YEARS" not in api
    assert {k: v for k, v in close.items() if k != "INVOICE_RETENTION_YEARS"} == api
    # all functions run in one process locally: the union, which Settings reads whole
    assert stack.environment()["INVOICE_RETENTION_YEARS"] == "10"


def test_settings_read_the_local_environment(stack: LocalStack) -> None:
    settings = Settings.from_env(stack.environment())
    assert settings.ledger_table == stack.ledger_table
    assert settings.upload_bucket == stack.upload_bucket
    assert settings.close_queue_url == stack.close_queue_url
    assert settings.invoice_retention_years == 10
    assert settings.url_expiry_seconds == 300


def test_documents_bucket_has_object_lock_and_no_default_retention(stack: LocalStack) -> None:
    s3 = boto3.client("s3")
    config = s3.get_object_lock_configuration(Bucket=stack.documents_bucket)
    assert config["ObjectLockConfiguration"]["ObjectLockEnabled"] == "Enabled"
    assert "Rule" not in config["ObjectLockConfiguration"]
    with pytest.raises(ClientError):
        s3.get_object_lock_configuration(Bucket=stack.upload_bucket)


def test_a_locked_invoice_cannot_be_deleted(stack: LocalStack) -> None:
    """What the close will do (R-pdf-5): a PDF put in compliance mode outlives a delete."""
    s3 = boto3.client("s3")
    key = "invoices/acme/ACME-000001.pdf"
    put = s3.put_object(
        Bucket=stack.documents_bucket,
        Key=key,
        Body=b"%PDF-1.4",
        ObjectLockMode="COMPLIANCE",
        ObjectLockRetainUntilDate=datetime(2036, 1, 1, tzinfo=UTC),
        ChecksumAlgorithm="SHA256",
    )
    with pytest.raises(ClientError):
        s3.delete_object(Bucket=stack.documents_bucket, Key=key, VersionId=put["VersionId"])
    assert s3.get_object(Bucket=stack.documents_bucket, Key=key)["Body"].read() == b"%PDF-1.4"


def test_money_tables_are_deletion_protected(stack: LocalStack) -> None:
    dynamodb = boto3.client("dynamodb")
    for name in (stack.orgs_table, stack.ledger_table):
        assert dynamodb.describe_table(TableName=name)["Table"]["DeletionProtectionEnabled"]
    assert not dynamodb.describe_table(TableName=stack.usage_table)["Table"].get(
        "DeletionProtectionEnabled"
    )


def test_template_passes_cfn_lint() -> None:
    result = subprocess.run(
        # cfnlint has no __main__; run its console entry point with this interpreter.
        [sys.executable, "-c", CFN_LINT, str(REPO_ROOT / "template.yaml")],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
