"""Tests for the received-header analyzer page."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db

POSTFIX = (
    "Received: from mail.sender.example (mail.sender.example [198.51.100.7])\n"
    "\t(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits))\n"
    "\tby mx.receiver.example (Postfix) with ESMTPS id 4ABC123\n"
    "\tfor <bob@receiver.example>; Mon, 23 Nov 2026 10:00:00 -0500 (EST)\n"
    "Received: from laptop (unknown [10.0.0.5])\n"
    "\tby mail.sender.example (Postfix) with ESMTP id 99XYZ;\n"
    "\tMon, 23 Nov 2026 09:59:58 -0500 (EST)\n"
    "Subject: hello\n"
)


def test_it_redirects_anonymous_users_to_login(client) -> None:
    response = client.get("/headers/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_it_shows_each_hop_and_its_tls(client, bob) -> None:
    client.force_login(bob)
    assert client.get("/headers/").status_code == 200
    response = client.post("/headers/", {"headers": POSTFIX})
    assert response.status_code == 200
    hops = response.context["hops"]
    assert [(h.by, h.tls, h.tls_version) for h in hops] == [
        ("mx.receiver.example", True, "TLSv1.3"),
        ("mail.sender.example", False, None),
    ]
    page = response.content.decode()
    assert "TLS_AES_256_GCM_SHA384" in page
    assert "Some hops state that they used TLS" in page


def test_it_says_clearly_when_no_hop_states_tls(client, bob) -> None:
    client.force_login(bob)
    response = client.post(
        "/headers/",
        {"headers": "Received: by mx.example with HTTP; Mon, 23 Nov 2026 10:00:00 +0000\n"},
        headers={"HX-Request": "true"},
    )
    assert b"<html" not in response.content
    assert b"No hop states that it used TLS" in response.content


def test_it_needs_csrf(bob) -> None:
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(bob)
    assert client.post("/headers/", {"headers": POSTFIX}).status_code == 403
