"""The lean S3 read and DynamoDB write against moto's server: the same answers as boto3's.

``app`` creates the bucket and table."""

import pytest
from botocore.exceptions import ClientError

from tests.support import Api, png_bytes
from webapp.lean_aws import LeanDynamoDB, LeanS3

KEYS = ["uploads/abc/photo.png", "uploads/abc/Fête à la plage.png", "uploads/abc/a+b=c&d~e;f,g'h(1).png",
        "uploads/abc/%41%2F.png", "uploads/abc/日本語 ファイル.png"]
FIELDS = ["ContentLength", "ContentType", "ContentRange", "ContentDisposition", "ETag", "Metadata"]


@pytest.mark.parametrize("key", KEYS)
def test_ranged_read_answers_as_boto3_does(app, aws, settings, key):
    aws.s3.put_object(Bucket=settings.bucket, Key=key, Body=b"\x89PNG" + bytes(2000), ContentType="image/png",
                      ContentDisposition='attachment; filename="x.png"', Metadata={"mediahub": "signed.claim"})
    theirs = aws.s3.get_object(Bucket=settings.bucket, Key=key, Range="bytes=0-511")
    ours = aws.lean_s3.get_object(Bucket=settings.bucket, Key=key, Range="bytes=0-511")
    assert {f: ours.get(f) for f in FIELDS} == {f: theirs.get(f) for f in FIELDS}
    assert ours["Body"].read() == theirs["Body"].read() == (b"\x89PNG" + bytes(2000))[:512]


def test_missing_object_is_the_same_error(app, aws, settings):
    errors = []
    for client in (aws.s3, aws.lean_s3):
        with pytest.raises(ClientError) as raised:
            client.get_object(Bucket=settings.bucket, Key="uploads/none/missing.png", Range="bytes=0-511")
        errors.append(raised.value.response["Error"]["Code"])
    assert errors[0] == errors[1] == "NoSuchKey"


def test_write_lands_in_the_table_and_a_repeat_is_refused_as_boto3_refuses_it(app, aws, settings):
    def put(pk):
        return {"Put": {"TableName": settings.table, "ConditionExpression": "attribute_not_exists(pk)",
                        "Item": {"pk": {"S": pk}, "sk": {"S": "META"}, "n": {"N": "2.5"}}}}

    ours = aws.lean_dynamodb.transact_write_items(TransactItems=[put("MEDIA#lean")])
    theirs = aws.dynamodb.transact_write_items(TransactItems=[put("MEDIA#boto3")])
    theirs.pop("ResponseMetadata")
    assert ours == theirs
    stored = aws.dynamodb.get_item(TableName=settings.table, Key={"pk": {"S": "MEDIA#lean"}, "sk": {"S": "META"}})
    assert stored["Item"]["n"] == {"N": "2.5"}
    codes = []
    for client in (aws.dynamodb, aws.lean_dynamodb):
        with pytest.raises(ClientError) as raised:
            client.transact_write_items(TransactItems=[put("MEDIA#lean")])
        codes.append(raised.value.response["Error"]["Code"])
    assert codes[0] == codes[1] == "TransactionCanceledException"


def test_the_app_reads_and_records_uploads_through_the_lean_clients(app):
    assert Api(app.test_client()).upload(png_bytes()).status_code == 201
    svc = app.extensions["mediahub"]
    assert isinstance(svc.storage._reader._client, LeanS3)  # created on first use by the upload
    assert isinstance(svc.catalog._writer._client, LeanDynamoDB)
