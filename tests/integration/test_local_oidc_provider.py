"""The local OpenID Connect provider (oidc-provider in Node) driven the way the site drives it:
discovery, authorization code with PKCE through its login and consent pages, the token
endpoint with Authlib, and the ID token checked against the provider's JWKS."""

from __future__ import annotations

import socket
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from authlib.common.security import generate_token
from authlib.integrations.base_client import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from authlib.jose import JsonWebKey, jwt
from authlib.oidc.core import CodeIDToken

from tests.oidc_support import http_sign_in, start_provider
from webapp.local import oidc

REDIRECT_URI = "http://127.0.0.1:5999/signin/callback"
ADMIN = "Admin@Example.com"


@pytest.fixture(scope="module")
def provider():
    started = start_provider([REDIRECT_URI], groups={ADMIN: ["mediahub-admins"]})
    yield started
    started.stop()


@pytest.fixture(scope="module")
def metadata(provider):
    return requests.get(provider.metadata_url, timeout=10).json()


def client_for(provider, secret: str | None = None) -> OAuth2Session:
    return OAuth2Session(provider.client_id, secret or provider.client_secret, scope="openid email profile",
                         redirect_uri=REDIRECT_URI, code_challenge_method="S256")


def authorize(provider, metadata, login: str, **params):
    """Sign ``login`` in with PKCE; returns (client, redirect back, code_verifier, nonce, state)."""
    client = client_for(provider)
    verifier, nonce = generate_token(48), generate_token(20)
    url, state = client.create_authorization_url(metadata["authorization_endpoint"], code_verifier=verifier,
                                                  nonce=nonce, **params)
    redirect = http_sign_in(requests.Session(), url, login)
    return client, redirect, verifier, nonce, state


def test_discovery_names_the_issuer_its_endpoints_and_pkce(provider, metadata):
    assert urlsplit(provider.issuer).hostname == "127.0.0.1"
    assert provider.metadata_url == f"{provider.issuer}/.well-known/openid-configuration"
    assert metadata["issuer"] == provider.issuer
    for key, path in (("authorization_endpoint", "/auth"), ("token_endpoint", "/token"), ("jwks_uri", "/jwks"),
                      ("userinfo_endpoint", "/me"), ("end_session_endpoint", "/session/end")):
        assert metadata[key] == provider.issuer + path
    assert "S256" in metadata["code_challenge_methods_supported"]
    assert "client_secret_basic" in metadata["token_endpoint_auth_methods_supported"]
    assert {"openid", "email", "profile"} <= set(metadata["scopes_supported"])
    assert {"email", "email_verified", "name", "groups"} <= set(metadata["claims_supported"])


@pytest.mark.parametrize(("login", "email", "name", "groups"), [
    (ADMIN, "admin@example.com", "admin", ["mediahub-admins"]),
    ("someone@example.org", "someone@example.org", "someone", []),
])
def test_authorization_code_with_pkce_gives_a_signed_id_token(provider, metadata, login, email, name, groups):
    client, redirect, verifier, nonce, state = authorize(provider, metadata, login)
    assert redirect.startswith(REDIRECT_URI + "?")
    query = parse_qs(urlsplit(redirect).query)
    assert query["state"] == [state] and query["iss"] == [provider.issuer] and query["code"]

    token = client.fetch_token(metadata["token_endpoint"], authorization_response=redirect, state=state,
                               code_verifier=verifier)
    keys = JsonWebKey.import_key_set(requests.get(metadata["jwks_uri"], timeout=10).json())
    claims = jwt.decode(
        token["id_token"], keys, claims_cls=CodeIDToken,
        claims_options={"iss": {"essential": True, "value": provider.issuer}},
        claims_params={"nonce": nonce, "client_id": provider.client_id, "access_token": token["access_token"]},
    )
    claims.validate(leeway=5)
    assert claims["aud"] == provider.client_id
    assert claims["sub"] == login
    assert claims["nonce"] == nonce
    assert claims["email"] == email
    assert claims["email_verified"] is True
    assert claims["name"] == name
    assert claims["groups"] == groups

    userinfo = client.get(metadata["userinfo_endpoint"], timeout=10).json()
    assert userinfo["email"] == email and userinfo["groups"] == groups


def test_a_wrong_client_secret_is_refused_at_the_token_endpoint(provider, metadata):
    _, redirect, verifier, _, state = authorize(provider, metadata, "someone@example.org")
    with pytest.raises(OAuthError) as refused:
        client_for(provider, secret="not-the-secret").fetch_token(
            metadata["token_endpoint"], authorization_response=redirect, state=state, code_verifier=verifier)
    assert refused.value.error == "invalid_client"


def test_a_wrong_code_verifier_is_refused(provider, metadata):
    client, redirect, _, _, state = authorize(provider, metadata, "someone@example.org")
    with pytest.raises(OAuthError) as refused:
        client.fetch_token(metadata["token_endpoint"], authorization_response=redirect, state=state,
                           code_verifier=generate_token(48))
    assert refused.value.error == "invalid_grant"


def test_pkce_is_required(provider, metadata):
    client = OAuth2Session(provider.client_id, provider.client_secret, scope="openid email profile",
                           redirect_uri=REDIRECT_URI)
    url, _ = client.create_authorization_url(metadata["authorization_endpoint"], nonce=generate_token(20))
    answer = requests.get(url, allow_redirects=False, timeout=10)
    assert answer.status_code in (302, 303)
    query = parse_qs(urlsplit(answer.headers["Location"]).query)
    assert query["error"] == ["invalid_request"]
    assert "PKCE" in query["error_description"][0]


def test_an_unregistered_redirect_uri_is_refused(provider, metadata):
    client = OAuth2Session(provider.client_id, provider.client_secret, scope="openid email profile",
                           redirect_uri="http://127.0.0.1:5999/elsewhere", code_challenge_method="S256")
    url, _ = client.create_authorization_url(metadata["authorization_endpoint"], code_verifier=generate_token(48))
    answer = requests.get(url, allow_redirects=False, timeout=10)
    assert answer.status_code == 400
    assert "redirect_uri" in answer.text


def test_the_process_is_gone_after_stop():
    started = start_provider([REDIRECT_URI])
    port = urlsplit(started.issuer).port
    assert started.running
    started.stop()
    assert not started.running and started.process.returncode is not None
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    started.stop()  # a second stop is harmless


def test_a_missing_node_is_named_with_the_fix(monkeypatch):
    monkeypatch.setattr(oidc.shutil, "which", lambda name: None)
    with pytest.raises(oidc.LocalProviderUnavailable, match="npm ci"):
        oidc.LocalProvider.start(redirect_uris=[REDIRECT_URI])
