"""CloudFront signed URLs, checked with `cryptography` against the public key."""

import base64
import json
from urllib.parse import parse_qs, urlsplit

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from webapp.aws import signing
from webapp.aws.signing import CloudFrontLinks, SignatureRefused, new_signing_key, verify_cloudfront_url

KEY = new_signing_key("K2TESTKEY")
OTHER_KEY = new_signing_key("K2OTHER")
BASE = "https://d111111abcdef8.cloudfront.net"
NOW = 1_800_000_000.0


def sign(object_key="uploads/abc/cat.png", expires_at=NOW + 300, client_ip=None, bind_ip=False, window=300):
    links = CloudFrontLinks(BASE, KEY, window_seconds=window, bind_ip=bind_ip)
    return links.url_for(object_key, filename="cat.png", content_type="image/png", expires_at=expires_at,
                         now=NOW, client_ip=client_ip)


def b64(text: str) -> bytes:
    return base64.b64decode(text.replace("-", "+").replace("_", "=").replace("~", "/"))


def parts(url: str) -> dict:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def test_signature_verifies_with_the_public_key():
    params = parts(sign())
    KEY.public_key.verify(b64(params["Signature"]), b64(params["Policy"]), padding.PKCS1v15(), hashes.SHA1())
    assert params["Key-Pair-Id"] == "K2TESTKEY"


def test_policy_names_the_exact_resource_and_expiry():
    url = sign(expires_at=NOW + 250)
    statement = json.loads(b64(parts(url)["Policy"]))["Statement"]
    assert statement == [{
        "Resource": BASE + "/uploads/abc/cat.png",
        "Condition": {"DateLessThan": {"AWS:EpochTime": 1_800_000_300}},  # rounded up to the 300 s window
    }]
    assert url.startswith(BASE + "/uploads/abc/cat.png?Policy=")


def test_keys_with_odd_characters_are_percent_encoded_in_the_resource():
    url = sign("uploads/abc/Fête (1) #2.png")
    resource = json.loads(b64(parts(url)["Policy"]))["Statement"][0]["Resource"]
    assert resource == BASE + "/uploads/abc/F%C3%AAte%20%281%29%20%232.png"
    verify_cloudfront_url(url, {"K2TESTKEY": KEY.public_key}, now=NOW, client_ip="192.0.2.1")


def test_valid_url_passes_the_cloudfront_check():
    statement = verify_cloudfront_url(sign(), {"K2TESTKEY": KEY.public_key}, now=NOW, client_ip="192.0.2.1")
    assert statement["Resource"].endswith("/cat.png")


def _replace(url: str, name: str, value: str) -> str:
    params = parts(url)
    params[name] = value
    base = url.split("?")[0]
    return base + "?" + "&".join(f"{k}={v}" for k, v in params.items())


def _policy_with(url: str, **condition) -> str:
    policy = json.loads(b64(parts(url)["Policy"]))
    policy["Statement"][0]["Condition"].update(condition)
    encoded = base64.b64encode(json.dumps(policy).encode()).decode()
    return encoded.replace("+", "-").replace("=", "_").replace("/", "~")


@pytest.mark.parametrize(
    ("tamper", "reason"),
    [
        (lambda u: _replace(u, "Signature", parts(u)["Signature"][:-8] + "AAAAAAA_"), "bad signature"),
        (lambda u: _replace(u, "Policy", _policy_with(u, DateLessThan={"AWS:EpochTime": 1_900_000_000})), "bad signature"),
        (lambda u: u.replace("/cat.png?", "/dog.png?"), "resource does not match"),
        (lambda u: u.replace(BASE, "https://evil.example"), "resource does not match"),
        (lambda u: _replace(u, "Key-Pair-Id", "K2OTHER"), "bad signature"),
        (lambda u: _replace(u, "Key-Pair-Id", "K2UNKNOWN"), "unknown key pair"),
        (lambda u: u.split("?")[0], "missing signature"),
        (lambda u: u + "&extra=1", "resource does not match"),
    ],
)
def test_changed_urls_fail(tamper, reason):
    keys = {"K2TESTKEY": KEY.public_key, "K2OTHER": OTHER_KEY.public_key}
    with pytest.raises(SignatureRefused, match=reason):
        verify_cloudfront_url(tamper(sign()), keys, now=NOW, client_ip="192.0.2.1")


def test_expired_url_fails():
    url = sign()
    verify_cloudfront_url(url, {"K2TESTKEY": KEY.public_key}, now=NOW + 299, client_ip="192.0.2.1")
    with pytest.raises(SignatureRefused, match="expired"):
        verify_cloudfront_url(url, {"K2TESTKEY": KEY.public_key}, now=NOW + 300, client_ip="192.0.2.1")


def test_ip_binding():
    url = sign(client_ip="198.51.100.7", bind_ip=True)
    condition = json.loads(b64(parts(url)["Policy"]))["Statement"][0]["Condition"]
    assert condition["IpAddress"] == {"AWS:SourceIp": "198.51.100.7/32"}
    keys = {"K2TESTKEY": KEY.public_key}
    verify_cloudfront_url(url, keys, now=NOW, client_ip="198.51.100.7")
    with pytest.raises(SignatureRefused, match="viewer address"):
        verify_cloudfront_url(url, keys, now=NOW, client_ip="198.51.100.8")


def test_ip_binding_is_off_by_default():
    url = sign(client_ip="198.51.100.7")
    assert "IpAddress" not in json.loads(b64(parts(url)["Policy"]))["Statement"][0]["Condition"]


def test_not_before_condition():
    policy = signing.cloudfront_policy(BASE + "/x", expires_at=int(NOW) + 100, not_before=int(NOW) + 50)
    signature = KEY.private_key.sign(policy.encode(), padding.PKCS1v15(), hashes.SHA1())
    enc = lambda b: base64.b64encode(b).decode().replace("+", "-").replace("=", "_").replace("/", "~")  # noqa: E731
    url = f"{BASE}/x?Policy={enc(policy.encode())}&Signature={enc(signature)}&Key-Pair-Id=K2TESTKEY"
    with pytest.raises(SignatureRefused, match="not yet valid"):
        verify_cloudfront_url(url, {"K2TESTKEY": KEY.public_key}, now=NOW, client_ip="192.0.2.1")
    verify_cloudfront_url(url, {"K2TESTKEY": KEY.public_key}, now=NOW + 60, client_ip="192.0.2.1")


def test_wildcard_resources_match_like_cloudfront():
    policy = signing.cloudfront_policy(BASE + "/uploads/*", expires_at=int(NOW) + 100)
    signature = KEY.private_key.sign(policy.encode(), padding.PKCS1v15(), hashes.SHA1())
    enc = lambda b: base64.b64encode(b).decode().replace("+", "-").replace("=", "_").replace("/", "~")  # noqa: E731
    query = f"Policy={enc(policy.encode())}&Signature={enc(signature)}&Key-Pair-Id=K2TESTKEY"
    keys = {"K2TESTKEY": KEY.public_key}
    verify_cloudfront_url(f"{BASE}/uploads/a/b[1].png?{query}", keys, now=NOW, client_ip="192.0.2.1")
    with pytest.raises(SignatureRefused):
        verify_cloudfront_url(f"{BASE}/private/a.png?{query}", keys, now=NOW, client_ip="192.0.2.1")


def test_same_url_within_a_window_and_a_new_one_after():
    links = CloudFrontLinks(BASE, KEY, window_seconds=300)
    first = links.url_for("k", filename="k", content_type="image/png", expires_at=NOW + 10, now=NOW)
    again = links.url_for("k", filename="k", content_type="image/png", expires_at=NOW + 250, now=NOW + 240)
    later = links.url_for("k", filename="k", content_type="image/png", expires_at=NOW + 310, now=NOW + 300)
    assert first == again != later


def test_expiry_never_passes_the_limit():
    links = CloudFrontLinks(BASE, KEY, window_seconds=300)
    url = links.url_for("k", filename="k", content_type="image/png", expires_at=NOW + 10, now=NOW, limit=NOW + 20)
    assert json.loads(b64(parts(url)["Policy"]))["Statement"][0]["Condition"]["DateLessThan"]["AWS:EpochTime"] == NOW + 20


def test_newest_of_several_keys_signs():
    old, new = new_signing_key("K2OLD"), new_signing_key("K2NEW")
    document = json.loads(signing.signing_keys_document([old, new]))
    document[0]["created"], document[1]["created"] = "2026-10-01", "2026-11-01"
    keys = signing.parse_signing_keys(json.dumps(list(reversed(document))))
    assert [k.key_id for k in keys] == ["K2OLD", "K2NEW"]


@pytest.mark.parametrize("document", ["not json", "[]", '[{"id": "K"}]', '[{"id": "K", "private_key": "-----BEGIN nonsense"}]'])
def test_malformed_keys_are_refused_without_echoing_them(document):
    with pytest.raises(ValueError) as error:
        signing.parse_signing_keys(document)
    assert "nonsense" not in str(error.value) and "BEGIN" not in str(error.value)


def test_settings_never_show_secrets():
    from webapp.config import Settings

    settings = Settings(secret_key="s" * 40, cloudfront_keys="PRIVATE-PEM", api_key_hashes=("a" * 64,))
    assert "PRIVATE-PEM" not in repr(settings) and "s" * 40 not in repr(settings) and "a" * 64 not in repr(settings)


@pytest.mark.parametrize("extra", [{}, {"source_ip": "198.51.100.7"}, {"not_before": 1_799_999_000},
                                   {"source_ip": "10.0.0.0/8", "not_before": 1_799_999_000}])
def test_policy_is_byte_for_byte_what_botocore_builds(extra):
    import datetime as dt

    from botocore.signers import CloudFrontSigner

    resource = BASE + '/uploads/a/Fête "quoted".png'
    ours = signing.cloudfront_policy(resource, expires_at=1_800_000_300, **extra)
    as_dt = lambda t: dt.datetime.fromtimestamp(t, dt.timezone.utc) if t else None  # noqa: E731
    theirs = CloudFrontSigner("K", None).build_policy(
        resource, as_dt(1_800_000_300), as_dt(extra.get("not_before")), extra.get("source_ip"))
    assert ours == theirs
