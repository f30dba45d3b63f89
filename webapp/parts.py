"""Multipart plans: how a large file is cut into parts, and which parts may be signed. Pure.

A file above the multipart threshold goes to S3 as parts the browser PUTs to URLs signed
one batch at a time. The plan is fixed when the upload starts and carried in its signed
id, so every part URL can pin that part's exact length (and the checksum the browser
computed) without an AWS call, and the parts can never add up to more than was declared.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import math

from webapp.rules import Refusal

MIB = 1024**2
# S3's limits: parts of 5 MiB to 5 GiB (the last may be smaller), at most 10,000 of them,
# objects up to 5 TiB.
S3_MIN_PART_BYTES = 5 * MIB
S3_MAX_PART_BYTES = 5 * 1024**3
S3_MAX_PARTS = 10_000
S3_MAX_OBJECT_BYTES = 5 * 1024**4

# 8 MiB parts: on a slow link (10 Mbit/s) a part takes under 7 s, so a dropped connection
# costs little; on a fast one 6 parts in flight keep it full. Larger files get larger parts
# so that 10,000 parts still hold them.
DEFAULT_PART_BYTES = 8 * MIB
DEFAULT_MULTIPART_THRESHOLD = 100 * MIB
# Part URLs are signed just before the part is sent: five minutes is long enough to start
# the PUT, short enough that a URL fetched before a laptop slept is not reused after it.
PART_URL_SECONDS = 300
MAX_PARTS_PER_BATCH = 100
# Parts in flight at once, for all the files of a page. Three 8 MiB parts (24 MiB) keep a link
# full (bench/resumable.py: goodput at the link's rate), and when the connection drops mid-way
# only what the three had sent is sent again: measured with four, a 5 s cut at half-way cost
# 2.7 parts more than the file; with three, the aim of at most two holds.
PARTS_IN_FLIGHT = 3
# Files the page keeps in the browser (IndexedDB) so that a reload carries on by itself;
# larger ones resume when the same file is chosen again.
RESTORE_BLOB_BYTES = 128 * MIB

# S3 checksum algorithms a browser can compute for a part, with their digest length.
# SHA-256 first: every browser computes it natively (WebCrypto).
CHECKSUM_ALGORITHMS = {"SHA256": 32, "CRC32": 4}
DEFAULT_CHECKSUM_ALGORITHM = "SHA256"


@dataclasses.dataclass(frozen=True)
class PartPlan:
    size: int
    part_size: int

    @property
    def count(self) -> int:
        return math.ceil(self.size / self.part_size)

    def length(self, number: int) -> int:
        """The exact length of part ``number`` (1-based): full parts, then the remainder."""
        if not 1 <= number <= self.count:
            raise ValueError(f"part {number} is not in a plan of {self.count} parts")
        return min(self.part_size, self.size - (number - 1) * self.part_size)


def plan_parts(size: int, part_bytes: int = DEFAULT_PART_BYTES) -> PartPlan:
    """``max(part_bytes, ceil(size / 10000))`` per part, never under S3's 5 MiB minimum,
    never over the file itself: at most 10,000 parts that add up to exactly ``size``."""
    if not 1 <= size <= S3_MAX_OBJECT_BYTES:
        raise ValueError(f"a multipart upload holds 1 byte to {S3_MAX_OBJECT_BYTES} bytes, not {size}")
    part_size = max(part_bytes, S3_MIN_PART_BYTES, math.ceil(size / S3_MAX_PARTS))
    return PartPlan(size=size, part_size=min(part_size, size))


def uses_multipart(size: int, threshold: int) -> bool:
    """Files above the threshold go as parts; the rest as one POST."""
    return size > threshold


def check_checksum_algorithm(value: object) -> str:
    if value is None or value == "":
        return DEFAULT_CHECKSUM_ALGORITHM
    if not isinstance(value, str) or value.upper() not in CHECKSUM_ALGORITHMS:
        raise Refusal("invalid_request", f"checksum_algorithm must be one of {', '.join(CHECKSUM_ALGORITHMS)}.")
    return value.upper()


def check_checksum(algorithm: str, value: object) -> str:
    """A part's checksum as S3 takes it in ``x-amz-checksum-*``: the digest in base64."""
    if isinstance(value, str) and len(value) <= 64:
        try:
            digest = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            digest = b""
        if len(digest) == CHECKSUM_ALGORITHMS[algorithm]:
            return value
    raise Refusal("invalid_request", f"Each part needs its {algorithm} checksum, base64-encoded.")


@dataclasses.dataclass(frozen=True)
class PartToSign:
    number: int
    length: int
    checksum: str


def check_part_batch(data: object, plan: PartPlan, algorithm: str) -> list[PartToSign]:
    """The body of ``POST /api/uploads/<id>/parts``: ``{"parts": [{"number", "checksum"}]}``.

    Lengths come from the plan, never from the browser.
    """
    parts = data.get("parts") if isinstance(data, dict) else None
    if not isinstance(parts, list) or not parts:
        raise Refusal("invalid_request", "Send {\"parts\": [{\"number\": 1, \"checksum\": \"...\"}]}.")
    if len(parts) > MAX_PARTS_PER_BATCH:
        raise Refusal("invalid_request", f"Ask for at most {MAX_PARTS_PER_BATCH} parts at a time.")
    batch, seen = [], set()
    for part in parts:
        number = part.get("number") if isinstance(part, dict) else None
        if isinstance(number, bool) or not isinstance(number, int) or not 1 <= number <= plan.count:
            raise Refusal("invalid_request", f"Part numbers run from 1 to {plan.count} for this file.")
        if number in seen:
            raise Refusal("invalid_request", f"Part {number} is asked for twice.")
        seen.add(number)
        batch.append(PartToSign(number, plan.length(number), check_checksum(algorithm, part.get("checksum"))))
    return batch


def arrived_problem(plan: PartPlan, arrived: dict[int, int]) -> tuple[str, str] | None:
    """Whether the parts S3 holds (number → size) make the declared file.

    ("rejected", why) when they can never make it (too much, or a part of the wrong length:
    the upload is aborted); ("missing", why) when parts are still to come; None when complete.
    """
    total = sum(arrived.values())
    if total > plan.size or any(number > plan.count for number in arrived):
        return "rejected", f"The parts that arrived add up to {total} bytes, more than the {plan.size} declared."
    wrong = sorted(n for n, size in arrived.items() if size != plan.length(n))
    if wrong:
        return "rejected", f"Part {wrong[0]} is {arrived[wrong[0]]} bytes, not the {plan.length(wrong[0])} planned."
    if len(arrived) < plan.count:
        return "missing", (
            f"{len(arrived)} of {plan.count} parts have arrived. Send the rest, then try again."
        )
    return None
