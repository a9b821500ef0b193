"""Every page sends a Content-Security-Policy and carries no inline script for it to allow."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

pytestmark = pytest.mark.django_db

PAGES = [
    "/accounts/login/",
    "/accounts/password_reset/",
    "/",
    "/partners/",
    "/matrix/",
    "/orgs/alpha-brokers/",
    "/orgs/alpha-brokers/enforce/",
    "/headers/",
    "/registry/import/",
    "/admin/",
]


class _InlineScript(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = dict(attrs)
        if tag == "script" and "src" not in names and names.get("type") != "application/json":
            self.found.append(f"<script> without src at {self.getpos()}")
        self.found += [f"{tag} {name}=" for name in names if name.startswith("on")]
        self.found += [
            f"{tag} {name}=javascript:"
            for name, value in attrs
            if value and value.strip().lower().startswith("javascript:")
        ]


def _policy(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in header.split(";") if part.strip()}


def test_it_sends_a_policy_without_inline_script_on_every_page(client, world) -> None:
    client.logout()
    for path in PAGES[:2]:
        response = client.get(path)
        assert response.status_code == 200, path
        assert _policy(response)["script-src"] == ["'self'"], path
    client.force_login(world.personas.staff)
    for path in PAGES[2:]:
        response = client.get(path)
        assert response.status_code == 200, path
        policy = _policy(response)
        assert policy["script-src"] == ["'self'"], path
        assert policy["object-src"] == ["'none'"]
        assert policy["frame-ancestors"] == ["'none'"]
        parser = _InlineScript()
        parser.feed(response.content.decode())
        assert parser.found == [], (path, parser.found)


def test_it_leaves_no_inline_handler_in_the_language_switcher(client) -> None:
    page = client.get("/accounts/login/").content.decode()
    assert "data-autosubmit" in page
    assert "onchange" not in page
