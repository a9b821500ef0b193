"""Names never escape their quotes or comments in generated MTA configuration."""

from __future__ import annotations

import re

import pytest

from monitoring.dashboard import enforcement
from monitoring.probe import Level
from partners.models import Kind, Organization
from partners.services import organization_create, partnership_create
from tests.dashboard.conftest import store
from tests.monitoring.factories import T0, result

pytestmark = pytest.mark.django_db

HOSTILE = "Courtage l\u2019Avenir $(Remove-OutboundConnector -Identity x) \u2019"
QUOTES = "'\u2018\u2019\u201a\u201b"


def _powershell_strings_closed(text: str) -> bool:
    """Parse single-quoted strings as PowerShell does; true when no $( is outside a string."""
    outside = []
    inside = False
    i = 0
    while i < len(text):
        char = text[i]
        if inside:
            if char in QUOTES:
                if i + 1 < len(text) and text[i + 1] in QUOTES:
                    i += 2
                    continue
                inside = False
        elif char in QUOTES:
            inside = True
        else:
            outside.append(char)
        i += 1
    return "$(" not in "".join(outside) and not inside


def test_it_doubles_every_powershell_quote_in_names(world) -> None:
    hostile = organization_create(name=HOSTILE, kind=Kind.BROKERAGE, domains=("avenir.example",))
    partnership_create(world.alpha, hostile)
    store(T0, [result("avenir.example", Level.ENCRYPTED)])
    text = enforcement.exchange_online_script(
        enforcement.enforcement_plan(organization=world.alpha)
    )
    assert "l\u2019\u2019Avenir" in text
    assert _powershell_strings_closed(text)


def test_it_keeps_names_on_their_comment_line_in_every_format(world) -> None:
    Organization.objects.filter(pk=world.alpha.pk).update(
        name="Alpha\nrelayhost = [evil.example]\r\x85\u2028Set-Mailbox x"
    )
    world.alpha.refresh_from_db()
    plan = enforcement.enforcement_plan(organization=world.alpha)
    for export in (
        enforcement.postfix_policy,
        enforcement.exim_config,
        enforcement.sendmail_access,
        enforcement.exchange_online_script,
    ):
        text = export(plan)
        [generated] = [
            line for line in re.split(r"\r\n|[\r\n\x85\u2028\u2029]", text) if "Generated" in line
        ]
        assert "relayhost = [evil.example]" in generated and "Set-Mailbox x" in generated
        assert not any(line.startswith(("relayhost", "Set-Mailbox")) for line in text.splitlines())
