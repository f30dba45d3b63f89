"""Signed download links. No network: signing is local computation.

``S3Links`` signs S3 presigned GETs; the CloudFront signer plugs in behind the
same ``url_for`` so views and flows never know which one delivers.
"""

from __future__ import annotations

import base64
import dataclasses
import functools
import ipaddress
import json
import math
import re
import threading
from collections import OrderedDict
from typing import TYPE_CHECKING, Callable, Protocol
from types import SimpleNamespace
from urllib.parse import parse_qsl, quote, urlsplit

from webapp import rules

if TYPE_CHECKING:  # imported for real only on first use (see _crypto)
    from cryptography.hazmat.primitives.asymmetric import rsa


@functools.cache
def _crypto() -> SimpleNamespace:
    """``cryptography``, imported on first use: a cold start that signs nothing does not pay for it."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    return SimpleNamespace(InvalidSignature=InvalidSignature, hashes=hashes, serialization=serialization,
                           padding=padding, rsa=rsa)


class LinkSigner(Protocol):
    origins: set[str]  # where the links point, for the pages' Content-Security-Policy

    def url_for(self, key: str, *, filename: str, content_type: str, expires_at: float,
                inline: bool = False, now: float, client_ip: str | None = None,
                limit: float | None = None) -> str:
        """A signed URL valid until about ``expires_at`` (never after ``limit``)."""

    def link_expiry(self, expires_at: float, limit: float | None = None) -> int:
        """When a URL signed for ``expires_at`` really stops working."""


def delivery_headers(filename: str, content_type: str, *, inline: bool) -> tuple[str, str]:
    """Content-Disposition and Content-Type a download is served with.

    Active types (HTML, SVG, XML, JavaScript) are always attachments and are
    served as ``application/octet-stream`` so no browser renders them.
    """
    disposition = rules.content_disposition(filename, content_type, inline=inline)
    served_type = content_type if rules.may_render_inline(content_type) else "application/octet-stream"
    return disposition, served_type


class S3Links:
    """S3 presigned GET. Note: the URL dies with the credentials that signed it."""

    def __init__(self, s3_client, bucket: str, origin: Callable[[], str]):
        self._s3 = s3_client
        self._bucket = bucket
        self._origin = origin  # the bucket's, as botocore addresses it

    @property
    def origins(self) -> set[str]:
        return {self._origin()}

    def link_expiry(self, expires_at: float, limit: float | None = None) -> int:
        return int(math.ceil(expires_at if limit is None else min(expires_at, limit)))

    def url_for(self, key, *, filename, content_type, expires_at, inline=False, now, client_ip=None,
                limit=None):
        disposition, served_type = delivery_headers(filename, content_type, inline=inline)
        expires_in = max(1, math.ceil(expires_at - now))
        return self._s3.generate_presigned_url(
            "get_object",
            Params={
                "Bucket": self._bucket,
                "Key": key,
                "ResponseContentDisposition": disposition,
                "ResponseContentType": served_type,
                "ResponseCacheControl": "private, max-age=300",
            },
            ExpiresIn=min(expires_in, 7 * 86400),
        )


# --- CloudFront -------------------------------------------------------------

SIGNING_PARAMS = ("Policy", "Signature", "Key-Pair-Id", "Expires")


@dataclasses.dataclass(frozen=True)
class SigningKey:
    key_id: str
    private_key: rsa.RSAPrivateKey = dataclasses.field(repr=False)
    created: str = ""

    @property
    def public_key(self) -> rsa.RSAPublicKey:
        return self.private_key.public_key()


def new_signing_key(key_id: str) -> SigningKey:
    return SigningKey(key_id, _crypto().rsa.generate_private_key(public_exponent=65537, key_size=2048))


def parse_signing_keys(document: str, default_id: str | None = None) -> list[SigningKey]:
    """Keys from JSON: ``[{"id", "private_key" (PEM), "created"}]`` or ``{"keys": [...]}``, newest last.

    Several keys may be listed while one is rotated out; the newest signs. A key stored
    without ``id`` takes ``default_id``: the deploy stores the private key before the
    stack registers its public half, and the stack's output names the id.
    """
    c = _crypto()
    try:
        entries = json.loads(document)
        if isinstance(entries, dict):
            entries = entries.get("keys", [entries])
        keys = [
            SigningKey(
                str(entry.get("id") or default_id or ""),
                c.serialization.load_pem_private_key(entry["private_key"].encode(), password=None),
                str(entry.get("created", "")),
            )
            for entry in entries
        ]
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        # Say what is wrong without echoing any of the document.
        raise ValueError(f"CloudFront signing keys are malformed ({type(error).__name__})") from None
    if not keys or not all(isinstance(k.private_key, c.rsa.RSAPrivateKey) for k in keys):
        raise ValueError("CloudFront signing keys must list at least one RSA private key")
    if not all(k.key_id for k in keys):
        raise ValueError("a CloudFront signing key has no id: set MEDIAHUB_CLOUDFRONT_KEY_ID")
    return sorted(keys, key=lambda k: k.created)


def signing_keys_document(keys: list[SigningKey]) -> str:
    serialization = _crypto().serialization
    return json.dumps(
        [
            {
                "id": key.key_id,
                "created": key.created,
                "private_key": key.private_key.private_bytes(
                    serialization.Encoding.PEM,
                    serialization.PrivateFormat.PKCS8,
                    serialization.NoEncryption(),
                ).decode(),
            }
            for key in keys
        ]
    )


def public_key_pem(key: SigningKey) -> str:
    serialization = _crypto().serialization
    return key.public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def cloudfront_policy(resource: str, *, expires_at: int, not_before: int | None = None,
                      source_ip: str | None = None) -> str:
    """The custom policy, compact and in CloudFront's documented key order."""
    condition = f'"DateLessThan":{{"AWS:EpochTime":{int(expires_at)}}}'
    if source_ip:
        network = ipaddress.ip_network(source_ip, strict=False)
        condition += f',"IpAddress":{{"AWS:SourceIp":{json.dumps(str(network))}}}'
    if not_before is not None:
        condition += f',"DateGreaterThan":{{"AWS:EpochTime":{int(not_before)}}}'
    return f'{{"Statement":[{{"Resource":{json.dumps(resource)},"Condition":{{{condition}}}}}]}}'


def window_end(moment: float, window: int) -> int:
    """``moment`` rounded up to the next multiple of ``window`` seconds."""
    return int(math.ceil(moment / window) * window)


class CloudFrontLinks:
    """CloudFront signed URLs with a custom policy for one exact object URL.

    Expiry is rounded up to a window so one viewer gets the same URL (and the
    browser its cached copy) within it; signatures are cached for the same
    reason: RSA signing is the costly part.
    """

    def __init__(self, base_url: str, key: SigningKey | Callable[[], SigningKey], *, window_seconds: int = 300,
                 bind_ip: bool = False, cache_size: int = 4096):
        self.base_url = base_url.rstrip("/")
        self._key = key if isinstance(key, SigningKey) else None
        self._load_key = key if self._key is None else None
        self.window_seconds = window_seconds
        self.bind_ip = bind_ip
        self._signer = None
        self._cache: OrderedDict[tuple, str] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()

    @property
    def key(self) -> SigningKey:
        """The signing key, loaded on first use (a Secrets Manager read) and kept."""
        if self._key is None:
            with self._lock:
                if self._key is None:
                    self._key = self._load_key()
        return self._key

    @property
    def signer(self):
        if self._signer is None:
            from botocore.signers import CloudFrontSigner  # pulls in much of botocore: first use only

            self._signer = CloudFrontSigner(self.key.key_id, self._rsa_sign)
        return self._signer

    @property
    def origin(self) -> str:
        parts = urlsplit(self.base_url)
        return f"{parts.scheme}://{parts.netloc}"

    @property
    def origins(self) -> set[str]:
        return {self.origin}

    def _rsa_sign(self, message: bytes) -> bytes:
        c = _crypto()
        return self.key.private_key.sign(message, c.padding.PKCS1v15(), c.hashes.SHA1())

    def link_expiry(self, expires_at: float, limit: float | None = None) -> int:
        expires = window_end(expires_at, self.window_seconds)
        return int(limit) if limit is not None and expires > limit else expires

    def resource_url(self, key: str) -> str:
        return f"{self.base_url}/{quote(key, safe='/~')}"

    def url_for(self, key, *, filename, content_type, expires_at, inline=False, now, client_ip=None,
                limit=None):
        # Content-Disposition and Content-Type were stored with the object at
        # upload (pinned by the POST policy); CloudFront serves them as stored.
        expires = self.link_expiry(expires_at, limit)
        source_ip = client_ip if self.bind_ip else None
        cache_key = (key, expires, source_ip)
        with self._lock:
            cached = self._cache.get(cache_key)
            if cached is not None:
                self._cache.move_to_end(cache_key)
                return cached
        resource = self.resource_url(key)
        policy = cloudfront_policy(resource, expires_at=expires, source_ip=source_ip)
        url = self.signer.generate_presigned_url(resource, policy=policy)
        with self._lock:
            self._cache[cache_key] = url
            if len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return url


class SignatureRefused(Exception):
    """Why CloudFront would answer 403."""


def _cloudfront_b64decode(text: str) -> bytes:
    return base64.b64decode(text.replace("-", "+").replace("_", "=").replace("~", "/"), validate=True)


def _resource_matches(pattern: str, resource: str) -> bool:
    """CloudFront's wildcards: ``*`` any run of characters, ``?`` one character; nothing else."""
    regex = re.escape(pattern).replace(r"\*", ".*").replace(r"\?", ".")
    return re.fullmatch(regex, resource) is not None


def verify_cloudfront_url(url: str, public_keys: dict[str, rsa.RSAPublicKey], *, now: float,
                          client_ip: str) -> dict:
    """Check a signed URL as CloudFront does; return its policy or raise ``SignatureRefused``.

    Checks, in order: the signing parameters are present, the key pair is
    trusted, the signature verifies over the policy, the policy's resource
    matches the URL (wildcards ``*`` and ``?`` allowed), the time is inside
    DateGreaterThan..DateLessThan, and the viewer's IP is inside IpAddress.
    """
    c = _crypto()
    parts = urlsplit(url)
    signed = dict(p for p in parse_qsl(parts.query, keep_blank_values=True) if p[0] in SIGNING_PARAMS)
    if "Signature" not in signed or "Key-Pair-Id" not in signed:
        raise SignatureRefused("missing signature")
    public_key = public_keys.get(signed["Key-Pair-Id"])
    if public_key is None:
        raise SignatureRefused("unknown key pair")
    unsigned_query = "&".join(
        p for p in parts.query.split("&") if p and p.split("=", 1)[0] not in SIGNING_PARAMS
    )
    resource = f"{parts.scheme}://{parts.netloc}{parts.path}" + (f"?{unsigned_query}" if unsigned_query else "")
    try:
        if "Policy" in signed:
            policy_bytes = _cloudfront_b64decode(signed["Policy"])
        elif "Expires" in signed:
            policy_bytes = cloudfront_policy(resource, expires_at=int(signed["Expires"])).encode()
        else:
            raise SignatureRefused("missing policy")
        signature = _cloudfront_b64decode(signed["Signature"])
        public_key.verify(signature, policy_bytes, c.padding.PKCS1v15(), c.hashes.SHA1())
        statement = json.loads(policy_bytes)["Statement"][0]
        condition = statement["Condition"]
        not_after = condition["DateLessThan"]["AWS:EpochTime"]
    except (ValueError, KeyError, IndexError, TypeError, c.InvalidSignature) as error:
        raise SignatureRefused(f"bad signature or policy ({type(error).__name__})") from None
    if not _resource_matches(statement.get("Resource", ""), resource):
        raise SignatureRefused("resource does not match")
    if now >= not_after:
        raise SignatureRefused("expired")
    not_before = condition.get("DateGreaterThan", {}).get("AWS:EpochTime")
    if not_before is not None and now <= not_before:
        raise SignatureRefused("not yet valid")
    source = condition.get("IpAddress", {}).get("AWS:SourceIp")
    if source and ipaddress.ip_address(client_ip) not in ipaddress.ip_network(source, strict=False):
        raise SignatureRefused("viewer address not allowed")
    return statement
