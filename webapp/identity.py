"""Who is signed in: OpenID Connect with Authlib, and the part of the session that remembers it.

Any provider that speaks OpenID Connect works (a Cognito user pool, Google, Okta, Keycloak; the
local one of ``webapp.local.oidc`` in local mode and the tests): Authlib reads its discovery
document, sends the person there with PKCE (S256), a state and a nonce, and checks the ID token
(signature against the provider's keys, issuer, audience, expiry, nonce) on the way back. We
keep only what we need in the signed session cookie: a person id derived from the issuer and
``sub`` (stable, and never an address the provider may let people change), the address for
mail, a display name, whether the provider's group claim grants the admin area, and when the
sign-in stops counting. The provider's tokens are not kept: we call it for nothing else.
"""

from __future__ import annotations

import dataclasses
import hashlib

from flask import Flask, current_app, session

from webapp import rules
from webapp.rules import Refusal

SESSION_KEY = "person"
OAUTH_EXTENSION = "mediahub.oauth"
PROVIDER = "provider"


@dataclasses.dataclass(frozen=True)
class Person:
    id: str
    email: str
    name: str
    admin: bool
    until: int  # epoch seconds: after this the sign-in no longer counts


def init_app(app: Flask) -> None:
    """Register this site as the provider's client (one per app: tests run several)."""
    settings = app.config["MEDIAHUB"]
    if not settings.sign_in_on:
        return
    # Imported only when sign-in is on: Authlib loads the RSA code of cryptography, which pages
    # that sign nothing should not pay for at a cold start (tests/unit/test_startup.py).
    from authlib.integrations.flask_client import OAuth

    oauth = OAuth(app)
    oauth.register(
        PROVIDER,
        client_id=settings.oidc_client_id,
        client_secret=settings.oidc_client_secret,
        server_metadata_url=f"{settings.oidc_issuer}/.well-known/openid-configuration",
        client_kwargs={"scope": "openid email profile", "code_challenge_method": "S256", "timeout": 10},
    )
    app.extensions[OAUTH_EXTENSION] = oauth


def client():
    return current_app.extensions[OAUTH_EXTENSION].create_client(PROVIDER)


def person_id(issuer: str, subject: str) -> str:
    """Stable and opaque: the same person at the same provider always gets the same id."""
    return "p" + hashlib.sha256(f"{issuer}\n{subject}".encode()).hexdigest()[:32]


def person_from_claims(settings, claims: dict, now: float) -> Person:
    """The signed-in person from the ID token's claims, or a refusal saying why not.

    Pure. With an allowlist, only verified addresses on it may sign in; the admin area comes
    with the provider's group claim named by MEDIAHUB_ADMIN_GROUP.
    """
    subject = claims.get("sub")
    if not subject:
        raise Refusal("signin_failed", "The sign-in service did not say who you are. Try again.", 400)
    # Only an address the provider verified is kept: it is mailed (arrivals, malware notices)
    # and matched against the allowlist.
    email = str(claims.get("email") or "").strip().lower() if claims.get("email_verified") is True else ""
    if settings.signin_allowlist:
        if not email:
            raise Refusal("signin_not_allowed", "This site needs a verified e-mail address to sign in, and the "
                          "sign-in service did not give one.", 403)
        if not rules.recipient_allowed(email, settings.signin_allowlist):
            raise Refusal("signin_not_allowed", f"{email} may not sign in here. Ask the site's operator to add "
                          "your address, or sign in with another account.", 403)
    groups = claims.get("groups") or []
    admin = bool(settings.admin_group) and isinstance(groups, list) and settings.admin_group in groups
    name = str(claims.get("name") or claims.get("preferred_username") or email or "you")[:100]
    return Person(person_id(settings.oidc_issuer, str(subject)), email, name, admin,
                  int(now) + settings.signin_hours * 3600)


# What survives signing in: this browser's upload session, so an upload under way (or its
# result page) stays this browser's. Signing out keeps nothing (``forget``).
KEPT = ("uploader",)


def _fresh_session() -> None:
    kept = {key: session[key] for key in KEPT if key in session}
    session.clear()
    session.update(kept)


def remember(person: Person) -> None:
    """A fresh session for the signed-in person (a new CSRF secret too: no fixation)."""
    _fresh_session()
    session[SESSION_KEY] = dataclasses.asdict(person)
    session.permanent = True


def current(now: float) -> Person | None:
    """The signed-in person, or None (never signed in, signed out, or the sign-in has expired)."""
    values = session.get(SESSION_KEY)
    if not values:
        return None
    try:
        person = Person(**values)
    except TypeError:
        session.pop(SESSION_KEY, None)
        return None
    if person.until <= now:
        session.pop(SESSION_KEY, None)
        return None
    return person


def forget() -> None:
    """Signing out forgets everything this browser held: the person, and every file it could
    manage or see as their uploader (its upload session, a manage link shown once, an upload
    link, unlocked shares, verified addresses). On a shared computer the next person starts
    with nothing of theirs."""
    session.clear()


def failed(error) -> Refusal:
    """A sign-in the provider or the checks of its answer refused; the description is the
    provider's own words (never a token)."""
    detail = (getattr(error, "description", "") or getattr(error, "error", "") or "").strip()[:200]
    return Refusal("signin_failed", f"Sign-in did not complete{': ' + detail if detail else ''}. Try again.", 400)
