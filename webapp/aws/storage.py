"""S3: presigned POST policies, multipart uploads, ranged reads, deletes, listing.

The bucket stays private. The browser receives a POST policy for one exact key, or
part URLs for one multipart upload, each pinning its length and checksum; everything
S3 cannot be trusted to have enforced (moto and misconfigured proxies enforce nothing)
is re-checked on completion with one ranged GET (``peek``).
"""

from __future__ import annotations

import dataclasses
from urllib.parse import urlsplit

from botocore.exceptions import ClientError

METADATA_PREFIX = "x-amz-meta-"


@dataclasses.dataclass(frozen=True)
class StoredObject:
    key: str
    size: int
    content_type: str
    etag: str
    content_disposition: str = ""
    head: bytes = b""
    metadata: dict = dataclasses.field(default_factory=dict)


def error_code(error: ClientError) -> str:
    """The AWS error code of a botocore ``ClientError`` ("" when it has none)."""
    return str(error.response.get("Error", {}).get("Code", ""))


_code = error_code


def _is_missing(error: ClientError) -> bool:
    """Whether a read failed because the object is not there: S3's 404 only.

    S3 answers a GET of a missing key with 404 to a caller that may list the bucket, which the
    function's role may (``webapp.iam``: ``s3:ListBucket`` on the bucket), and with 403 to one
    that may not. So a 403 is a permission mistake, never "nothing has arrived": it propagates
    (a 503, logged with its code) instead of hiding the mistake as a missing upload.
    """
    return _code(error) in ("404", "NoSuchKey", "NotFound")


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def bucket_url(s3_client, bucket: str) -> str:
    """Where the bucket's objects are, as botocore resolves it (virtual-hosted or path style)."""
    return s3_client.generate_presigned_post(bucket, "probe", ExpiresIn=60)["url"]


class Storage:
    def __init__(self, s3_client, bucket: str):
        self._s3 = s3_client
        self.bucket = bucket
        self._post_url: str | None = None

    @property
    def client(self):
        """The S3 client, for the adapters that keep their own calls (processing, scanning)."""
        return self._s3

    @property
    def post_url(self) -> str:
        """Where the browser posts files: asked of botocore once (it resolves the endpoint)."""
        if self._post_url is None:
            self._post_url = bucket_url(self._s3, self.bucket)
        return self._post_url

    @property
    def origin(self) -> str:
        """The origin browsers send files to and fetch S3 links from, for the pages' CSP:
        taken from the URL botocore makes (path-style, FIPS or dual-stack alike)."""
        return origin_of(self.post_url)

    def post_policy(self, key: str, *, content_type: str, content_disposition: str, max_bytes: int,
                    expires_in: int, metadata: dict[str, str] | None = None) -> dict:
        """A SigV4 POST policy for exactly one key, one type and a size range.

        Every field the browser sends is pinned with ``eq``; ``key`` and
        ``bucket`` are pinned exactly by botocore, as are the signature fields.
        The Content-Disposition stored with the object is what CloudFront serves.
        """
        fields = {
            "Content-Type": content_type,
            "Content-Disposition": content_disposition,
            "success_action_status": "201",
            **(metadata or {}),
        }
        conditions = [["eq", f"${name}", value] for name, value in (metadata or {}).items()] + [
            ["eq", "$Content-Type", content_type],
            ["eq", "$Content-Disposition", content_disposition],
            ["eq", "$success_action_status", "201"],
            ["content-length-range", 1, max_bytes],
        ]
        return self._s3.generate_presigned_post(
            self.bucket, key, Fields=fields, Conditions=conditions, ExpiresIn=expires_in
        )

    def start_multipart(self, key: str, *, content_type: str, content_disposition: str,
                        checksum_algorithm: str, metadata: dict[str, str] | None = None) -> str:
        """Create a multipart upload; its type, disposition and metadata are the completed object's.

        ``metadata`` is named as in a POST policy (``x-amz-meta-...``), so both paths store the
        same headers. The checksum algorithm is fixed here: S3 then refuses parts without it.
        """
        answer = self._s3.create_multipart_upload(
            Bucket=self.bucket,
            Key=key,
            ContentType=content_type,
            ContentDisposition=content_disposition,
            Metadata={name.removeprefix(METADATA_PREFIX): value for name, value in (metadata or {}).items()},
            ChecksumAlgorithm=checksum_algorithm,
        )
        return answer["UploadId"]

    def part_url(self, key: str, upload_id: str, number: int, *, length: int, checksum_algorithm: str,
                 checksum: str, expires_in: int) -> str:
        """A presigned ``UploadPart`` URL that signs the part's exact Content-Length and checksum.

        botocore signs both as headers (``X-Amz-SignedHeaders``), so S3 refuses a PUT of any
        other length or content. No AWS call: signing is local.
        """
        return self._s3.generate_presigned_url(
            "upload_part",
            Params={
                "Bucket": self.bucket,
                "Key": key,
                "UploadId": upload_id,
                "PartNumber": number,
                "ContentLength": length,
                f"Checksum{checksum_algorithm}": checksum,
            },
            ExpiresIn=expires_in,
        )

    def part_urls(self, key: str, upload_id: str, parts: list[tuple[int, int, str]], *, checksum_algorithm: str,
                  expires_in: int) -> list[str]:
        """``part_url`` for a batch of (number, length, checksum).

        Each URL is botocore's own presign, about 0.7 ms apiece: signing a batch by hand with
        botocore's query signer cost a third of that, and would skip the client's request
        handlers (endpoint rules, FIPS, accelerate, its event hooks). bench/multipart_cost.py
        measures what a 1 GiB upload's part URLs cost.
        """
        return [self.part_url(key, upload_id, number, length=length, checksum_algorithm=checksum_algorithm,
                              checksum=checksum, expires_in=expires_in)
                for number, length, checksum in parts]

    def parts(self, key: str, upload_id: str) -> list[dict] | None:
        """The parts S3 holds for an upload, by number (None if it was completed or aborted)."""
        found: list[dict] = []
        marker = 0
        while True:
            try:
                answer = self._s3.list_parts(
                    Bucket=self.bucket, Key=key, UploadId=upload_id, PartNumberMarker=marker, MaxParts=1000
                )
            except ClientError as error:
                if _code(error) in ("NoSuchUpload", "404"):
                    return None
                raise
            found += answer.get("Parts", [])
            if not answer.get("IsTruncated"):
                return found
            marker = int(answer["NextPartNumberMarker"])

    def finish_multipart(self, key: str, upload_id: str, parts: list[dict], checksum_algorithm: str) -> bool:
        """Join the parts into the object. False if the upload was already completed or aborted."""
        checksum = f"Checksum{checksum_algorithm}"
        listed = [
            {name: part[name] for name in ("PartNumber", "ETag", checksum) if name in part}
            for part in sorted(parts, key=lambda part: part["PartNumber"])
        ]
        try:
            self._s3.complete_multipart_upload(
                Bucket=self.bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": listed}
            )
        except ClientError as error:
            if _code(error) in ("NoSuchUpload", "404"):
                return False
            raise
        return True

    def abort_multipart(self, key: str, upload_id: str) -> bool:
        """Drop an upload and every part it holds; nothing is left to pay for.

        False when there was no such upload any more (completed, or aborted before).
        """
        try:
            self._s3.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id)
        except ClientError as error:
            if _code(error) not in ("NoSuchUpload", "404"):
                raise
            return False
        return True

    def peek(self, key: str, length: int) -> StoredObject | None:
        """The object's headers and its first ``length`` bytes in one ranged GET (None if missing).

        One request instead of HEAD + GET: ``Content-Range`` carries the full size.
        """
        try:
            answer = self._s3.get_object(Bucket=self.bucket, Key=key, Range=f"bytes=0-{length - 1}")
        except ClientError as error:
            if _is_missing(error):
                return None
            if _code(error) != "InvalidRange":
                raise
            # An empty object has no byte 0, so S3 answers a range with 416: read it whole.
            try:
                answer = self._s3.get_object(Bucket=self.bucket, Key=key)
            except ClientError as again:
                if _is_missing(again):
                    return None
                raise
        with answer["Body"] as body:
            head = body.read(length)
        content_range = answer.get("ContentRange", "")
        size = int(content_range.rpartition("/")[2]) if "/" in content_range else int(answer["ContentLength"])
        return StoredObject(
            key=key,
            size=size,
            content_type=answer.get("ContentType", ""),
            etag=answer.get("ETag", "").strip('"'),
            content_disposition=answer.get("ContentDisposition", ""),
            head=head,
            metadata=answer.get("Metadata", {}),
        )

    def delete(self, key: str) -> None:
        self._s3.delete_object(Bucket=self.bucket, Key=key)

    def uploads_after(self, start_after: str, limit: int) -> tuple[list[tuple[str, float]], str]:
        """Up to ``limit`` (key, last-modified epoch) under uploads/ after ``start_after``,
        and where to go on from ("" when the listing is done)."""
        answer = self._s3.list_objects_v2(
            Bucket=self.bucket, Prefix="uploads/", StartAfter=start_after, MaxKeys=limit
        )
        found = [(item["Key"], item["LastModified"].timestamp()) for item in answer.get("Contents", [])]
        return found, (found[-1][0] if answer.get("IsTruncated") and found else "")
