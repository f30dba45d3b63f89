"""Local mode's stand-in for GuardDuty Malware Protection for S3.

It does what GuardDuty does with a new object, on moto's server: reads it, tags it
``GuardDutyMalwareScanStatus`` (``THREATS_FOUND`` or ``NO_THREATS_FOUND``) and answers the
EventBridge event "GuardDuty Malware Protection Object Scan Result" that AWS would publish,
which the caller hands to the same handler as on AWS. It knows one threat: the EICAR test file,
which every anti-malware engine, GuardDuty's included, reports as infected.
"""

from __future__ import annotations

import datetime
import uuid

from webapp.flows.scanning import NO_THREATS_FOUND, SCAN_RESULT_DETAIL_TYPE, SCAN_TAG, THREATS_FOUND

EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
CHUNK = 1024 * 1024


def contains_eicar(chunks) -> bool:
    """Whether the EICAR string occurs anywhere, across chunk boundaries too."""
    tail = b""
    for chunk in chunks:
        if EICAR in tail + chunk:
            return True
        tail = (tail + chunk)[-(len(EICAR) - 1):]
    return False


def scan(s3_client, bucket: str, key: str) -> dict:
    """Scan and tag one object; the scan result event, shaped as EventBridge delivers it."""
    answer = s3_client.get_object(Bucket=bucket, Key=key)
    with answer["Body"] as body:
        found = contains_eicar(iter(lambda: body.read(CHUNK), b""))
    status = THREATS_FOUND if found else NO_THREATS_FOUND
    s3_client.put_object_tagging(Bucket=bucket, Key=key, Tagging={"TagSet": [{"Key": SCAN_TAG, "Value": status}]})
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": SCAN_RESULT_DETAIL_TYPE,
        "source": "aws.guardduty",
        "account": "000000000000",
        "time": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": "us-east-1",
        "resources": ["arn:aws:guardduty:us-east-1:000000000000:malware-protection-plan/local"],
        "detail": {
            "schemaVersion": "1.0",
            "scanStatus": "COMPLETED",
            "resourceType": "S3_OBJECT",
            "s3ObjectDetails": {"bucketName": bucket, "objectKey": key, "eTag": answer.get("ETag", "").strip('"'),
                                "versionId": answer.get("VersionId"), "s3Throttled": False},
            "scanResultDetails": {
                "scanResultStatus": status,
                "threats": [{"name": "EICAR-Test-File (not a virus)"}] if found else None,
            },
        },
    }
