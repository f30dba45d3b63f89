"""The malware gate's back end: each upload's scan state, the scanner's verdict, quarantine.

With ``MEDIAHUB_MALWARE_SCAN=guardduty``, GuardDuty Malware Protection for S3 scans every new
object under ``uploads/``, tags it ``GuardDutyMalwareScanStatus`` and publishes the EventBridge
event "GuardDuty Malware Protection Object Scan Result", which reaches
``webapp.events.scan_result``. Local mode's stand-in (``webapp.local.scanner``) tags and
announces exactly so, so the same code runs.

The record's ``scan`` is ``pending`` until a verdict, then ``clean`` or ``infected``; ``off``
when nothing scans. The verdict and the record may arrive in either order: the record step
reads the object's tag (``note_upload``), and a verdict for an item not yet recorded is left on
the object for it. An infected object is moved to ``quarantine/`` (kept a week by the bucket's
lifecycle, never served), its renditions are deleted and its owner is told.
"""

from __future__ import annotations

from webapp import access, rules
from webapp.flows import processing
from webapp.iam import QUARANTINE_PREFIX, UPLOAD_PREFIX
from webapp.logs import count, emit
from webapp.rules import Refusal
from webapp.services import Services

SCAN_TAG = "GuardDutyMalwareScanStatus"
NO_THREATS_FOUND, THREATS_FOUND = "NO_THREATS_FOUND", "THREATS_FOUND"
# Statuses GuardDuty sets when it could not decide (UNSUPPORTED, ACCESS_DENIED, FAILED): the item
# stays pending, which withholds it, and the ScanInconclusive metric says so.
VERDICTS = {NO_THREATS_FOUND: "clean", THREATS_FOUND: "infected"}
PENDING, CLEAN, INFECTED, OFF = access.SCAN_PENDING, access.SCAN_CLEAN, access.SCAN_INFECTED, access.SCAN_OFF
MODES = ("off", "guardduty")
SCAN_RESULT_DETAIL_TYPE = "GuardDuty Malware Protection Object Scan Result"


def mode(svc: Services) -> str:
    return getattr(svc.settings, "malware_scan", "off")


def state(media: dict, scan_mode: str) -> str:
    """The item's scan state as viewers and its owner are told it (``webapp.access`` decides
    what each may have in each state)."""
    return access.scan_state(media, scan_mode)


def may_share(media: dict, scan_mode: str) -> bool:
    """Whether the scan lets viewers have the item: nothing is shared before it is known clean."""
    return state(media, scan_mode) in (CLEAN, OFF)


def quarantine_key(key: str) -> str:
    return QUARANTINE_PREFIX + key.removeprefix(UPLOAD_PREFIX)


def note_upload(svc: Services, media_id: str) -> str | None:
    """After the record step: the item's first scan state (once), or the verdict already on it."""
    if mode(svc) == "off":
        svc.catalog.set_scan(media_id, OFF, only_from=(None,))
        return OFF
    media = svc.catalog.get_media(media_id)
    if media is None or media.get("status") != "ready":
        return None
    status = _tag_on(svc, media["s3_key"])
    if status in VERDICTS:
        return apply_verdict(svc, media["s3_key"], status)
    svc.catalog.set_scan(media_id, PENDING, only_from=(None,))
    return PENDING


def apply_verdict(svc: Services, key: str, status: str) -> str | None:
    """Record what the scanner found for the object at ``key``; quarantine what it flagged.

    None when the key is no upload of ours, or not recorded yet (the record step reads the tag).
    """
    media_id = rules.media_id_from_key(key) if key.startswith(UPLOAD_PREFIX) else None
    media = svc.catalog.get_media(media_id) if media_id else None
    if media is None or media.get("status") != "ready" or media.get("s3_key") != key:
        return None
    verdict = VERDICTS.get(status)
    if verdict is None:
        emit("scan inconclusive", status=status)
        count("ScanInconclusive", status=status)
        svc.catalog.set_scan(media_id, PENDING, only_from=(None,))
        return PENDING
    if verdict == CLEAN:
        svc.catalog.set_scan(media_id, CLEAN, only_from=(None, PENDING))
        return CLEAN
    if media.get("scan") == INFECTED:
        return INFECTED  # told already
    moved = quarantine_key(key)
    _store(svc).quarantine(key, moved)
    processing.delete_renditions(svc, media)
    svc.catalog.set_scan(media_id, INFECTED, only_from=(None, PENDING, CLEAN), extra={"quarantine_key": moved})
    emit("threat found", content_type=media.get("content_type"))
    count("ThreatsFound")
    _tell_owner(svc, media)
    return INFECTED


def _tell_owner(svc: Services, media: dict) -> None:
    """Mail the owner when mail is on and an address is known (the record's, or that of the
    signed-in person the item belongs to); the manage page, My uploads and the admin list say it
    in every case (the record's ``scan``)."""
    if svc.mailer is None:
        return
    address = media.get("owner_email")
    if not address and media.get("owner"):
        address = (svc.catalog.person(media["owner"]) or {}).get("email")
    if not address:
        return
    name = media.get("name") or media.get("filename") or "your file"
    text = (f"The file \"{name}\" you uploaded was found to contain malware. It has been withdrawn: "
            "nobody can open or download it, and it will be deleted within a week.")
    from markupsafe import escape

    try:
        svc.mailer.send(address, "A file you uploaded was withdrawn", text, f"<p>{escape(text)}</p>")
    except Exception as error:  # noqa: BLE001 - the quarantine stands whether or not the mail goes
        emit("owner not told", error=type(error).__name__)


class _QuarantineStore:
    """The two S3 calls of quarantine and the tag read, on the client ``Storage`` was given."""

    def __init__(self, s3_client, bucket: str):
        self._s3 = s3_client
        self.bucket = bucket

    def tag(self, key: str) -> str | None:
        from botocore.exceptions import ClientError

        try:
            answer = self._s3.get_object_tagging(Bucket=self.bucket, Key=key)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "AccessDenied", "403"):
                return None
            raise
        return {tag["Key"]: tag["Value"] for tag in answer.get("TagSet", [])}.get(SCAN_TAG)

    def quarantine(self, key: str, target: str) -> None:
        """Copy under quarantine/ (without tags, which would need tagging rights) and delete."""
        from botocore.exceptions import ClientError

        try:
            self._s3.copy_object(Bucket=self.bucket, Key=target, CopySource={"Bucket": self.bucket, "Key": key},
                                 TaggingDirective="REPLACE", Tagging="", MetadataDirective="COPY")
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") not in ("NoSuchKey", "404"):
                raise  # already moved: go on and make sure it is gone
        self._s3.delete_object(Bucket=self.bucket, Key=key)


def _store(svc: Services) -> _QuarantineStore:
    return _QuarantineStore(svc.storage.client, svc.storage.bucket)


def _tag_on(svc: Services, key: str) -> str | None:
    return _store(svc).tag(key)


def verdicts_in(event: dict) -> list[tuple[str, str, str]]:
    """(bucket, key, status) of each scan result in an event: EventBridge's own shape (as the
    local stand-in sends it), or the same events delivered through SNS (``Records[].Sns.Message``)."""
    found = []
    for detail in rules.event_details(event, SCAN_RESULT_DETAIL_TYPE):
        s3 = detail.get("s3ObjectDetails", {})
        status = detail.get("scanResultDetails", {}).get("scanResultStatus", "")
        if s3.get("bucketName") and s3.get("objectKey") and status:
            found.append((s3["bucketName"], s3["objectKey"], status))
    return found

