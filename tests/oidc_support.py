"""Sign-in against the real local OpenID Connect provider (webapp.local.oidc) from the tests.

``start_provider`` / the ``oidc_provider_factory`` fixture start one (skipping locally, failing
in CI, when Node or the npm package is missing); ``browser_sign_in`` walks its development
login and consent pages in a Playwright page; ``http_sign_in`` walks the same pages with
plain HTTP and returns the redirect back to the site (code and state) without following it.

The pages (oidc-provider's devInteractions, lib/views/login.js and interaction.js) are:
login:   <form method="post" action="/interaction/<uid>"> input[name=prompt][value=login],
         input[name=login], input[name=password] (required by the form, never checked),
         button.login-submit "Sign-in"
consent: <form method="post" action="/interaction/<uid>"> input[name=prompt][value=consent],
         button.login-submit "Continue"
"""

from __future__ import annotations

import time
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest
import requests

from tests.conftest import missing_tool
from webapp.local.oidc import LocalProvider, missing_requirement

ANY_PASSWORD = "any password works here"
LOGIN_INPUT = 'input[name="login"]'
PASSWORD_INPUT = 'input[name="password"]'
LOGIN_BUTTON = 'form:has(input[name="prompt"][value="login"]) button[type="submit"]'
CONSENT_BUTTON = 'form:has(input[name="prompt"][value="consent"]) button[type="submit"]'


def start_provider(redirect_uris: list[str], groups: dict[str, list[str]] | None = None,
                   **options) -> LocalProvider:
    """A started provider with one client for ``redirect_uris``; the caller stops it."""
    problem = missing_requirement()
    if problem:
        missing_tool(problem)
    return LocalProvider.start(redirect_uris=redirect_uris, groups=groups, **options)


@pytest.fixture(scope="session")
def oidc_provider_factory():
    """``factory(redirect_uris, groups=None, **options)``: providers stopped at the session's end."""
    started: list[LocalProvider] = []

    def factory(redirect_uris: list[str], groups: dict[str, list[str]] | None = None, **options) -> LocalProvider:
        provider = start_provider(redirect_uris, groups, **options)
        started.append(provider)
        return provider

    yield factory
    for provider in started:
        provider.stop()


def browser_sign_in(page, login: str, timeout: float = 15_000) -> None:
    """Sign in as ``login`` on the provider's login page, then consent if asked.

    Call it once the page is on (or on its way to) the provider. It returns after the click
    that sends the browser back to the site. A provider session that already knows the user
    (same browser context) skips the login page, and a grant already given skips consent:
    then there is nothing to do here, so use a fresh context for each user.
    """
    from playwright.sync_api import Error as PlaywrightError

    deadline = time.monotonic() + timeout / 1000

    def present(selector: str) -> bool:
        try:
            return page.locator(selector).count() > 0
        except PlaywrightError:  # the page navigated while we looked
            return False

    while True:
        if present(LOGIN_INPUT):
            page.fill(LOGIN_INPUT, login)
            if present(PASSWORD_INPUT):
                page.fill(PASSWORD_INPUT, ANY_PASSWORD)
            with page.expect_navigation(timeout=timeout):
                page.click(LOGIN_BUTTON)
            if present(CONSENT_BUTTON):
                with page.expect_navigation(timeout=timeout):
                    page.click(CONSENT_BUTTON)
            return
        if present(CONSENT_BUTTON):
            with page.expect_navigation(timeout=timeout):
                page.click(CONSENT_BUTTON)
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"no login or consent page from the provider within {timeout / 1000:.0f} s "
                                 f"(the page is at {page.url})")
        page.wait_for_timeout(100)


class _Forms(HTMLParser):
    def __init__(self):
        super().__init__()
        self.forms: list[dict] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "form":
            self.forms.append({"action": attributes.get("action") or "", "method": (attributes.get("method") or "get").lower(),
                               "inputs": []})
        elif tag == "input" and self.forms:
            self.forms[-1]["inputs"].append(attributes)


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme, parts.netloc


def http_sign_in(session: requests.Session, authorize_url: str, login: str, max_steps: int = 20) -> str:
    """Walk the provider's login and consent pages for ``login`` with plain HTTP.

    Returns the first redirect that leaves the provider (the redirect_uri with ``code`` and
    ``state``, or with ``error``), without following it.
    """
    provider = _origin(authorize_url)
    response = session.get(authorize_url, allow_redirects=False, timeout=10)
    for _ in range(max_steps):
        if response.is_redirect:
            location = urljoin(response.url, response.headers["Location"])
            if _origin(location) != provider:
                return location
            response = session.get(location, allow_redirects=False, timeout=10)
            continue
        parser = _Forms()
        parser.feed(response.text if response.ok else "")
        forms = [form for form in parser.forms
                 if any(field.get("name") == "prompt" for field in form["inputs"])]
        if response.status_code != 200 or not forms:
            raise AssertionError(
                f"unexpected answer from the provider at {response.url}: {response.status_code} "
                f"{response.text[:500]!r}")
        form = forms[0]
        data = {field["name"]: field.get("value") or "" for field in form["inputs"]
                if field.get("name") and field.get("type", "text") == "hidden"}
        names = {field.get("name") for field in form["inputs"]}
        if data.get("prompt") == "login":
            data["login"] = login
            if "password" in names:
                data["password"] = ANY_PASSWORD
        target = urljoin(response.url, form["action"])
        if form["method"] == "post":
            response = session.post(target, data=data, allow_redirects=False, timeout=10)
        else:
            response = session.get(target, params=data, allow_redirects=False, timeout=10)
    raise AssertionError(f"no redirect back from the provider within {max_steps} steps (last at {response.url})")
