"""Each SMTP behaviour does what it claims, seen with smtplib, ssl and raw sockets."""

from __future__ import annotations

import smtplib
import socket
import ssl
import threading
import time

import pytest

from .util import connect, permissive_context, read_reply, recv_for, smtp, starttls


def test_it_offers_starttls_and_hides_it_after_tls(lab):
    client = smtp(lab, "verified-mx1")
    code, _ = client.ehlo()
    assert code == 250
    assert {"starttls", "pipelining", "size", "8bitmime"} <= set(client.esmtp_features)
    assert "requiretls" not in client.esmtp_features
    client.starttls(context=permissive_context())
    assert client.sock.version() == "TLSv1.3"
    client.ehlo()
    assert "starttls" not in client.esmtp_features
    assert "requiretls" in client.esmtp_features
    assert client.quit()[0] == 221


def test_it_sends_a_multiline_greeting(lab):
    with connect(lab, "verified-mx2") as sock:
        greeting = read_reply(sock)
    assert greeting.startswith(b"220-") and greeting.count(b"\r\n") == 3
    assert greeting.splitlines()[-1].startswith(b"220 ")


def test_it_does_not_offer_starttls(lab):
    client = smtp(lab, "plaintext")
    client.ehlo()
    assert "starttls" not in client.esmtp_features
    assert client.docmd("STARTTLS")[0] == 502
    client.quit()


@pytest.mark.parametrize(
    ("server", "code"), [("unreachable-4xx", 421), ("unreachable-5xx-greeting", 554)]
)
def test_it_greets_with_an_error(lab, server, code):
    with connect(lab, server) as sock:
        greeting = read_reply(sock)
        assert int(greeting[:3]) == code
        if code == 554:  # RFC 5321 3.1: waits for QUIT, refuses the rest
            sock.sendall(b"EHLO probe.lab.test\r\n")
            assert read_reply(sock).startswith(b"503")
            sock.sendall(b"QUIT\r\n")
            assert read_reply(sock).startswith(b"221")


def test_it_rejects_ehlo_but_answers_helo(lab):
    client = smtp(lab, "plaintext-ehlo-rejected")
    assert client.ehlo()[0] == 502
    assert client.helo()[0] == 250
    client.quit()


def test_it_rejects_starttls_with_454(lab):
    client = smtp(lab, "plaintext-starttls-rejected")
    client.ehlo()
    assert "starttls" in client.esmtp_features
    assert client.docmd("STARTTLS")[0] == 454
    client.quit()


@pytest.mark.parametrize("server", ["plaintext-handshake-failed", "hostile-close-after-starttls"])
def test_it_breaks_the_handshake_after_220(lab, server):
    client = smtp(lab, server)
    client.ehlo()
    with pytest.raises((ssl.SSLError, ConnectionError, smtplib.SMTPServerDisconnected, OSError)):
        client.starttls(context=permissive_context())


def test_it_speaks_only_legacy_tls(lab):
    any_version = permissive_context(minimum=ssl.TLSVersion.TLSv1)
    for server in ("plaintext-legacy-only", "partial-legacy-mx2"):
        client, sock = starttls(lab, server, any_version)
        assert sock.version() in ("TLSv1", "TLSv1.1")
        client.quit()
        client = smtp(lab, server)
        client.ehlo()
        with pytest.raises((ssl.SSLError, ConnectionError, OSError)):
            client.starttls(context=permissive_context())  # TLS 1.2 or above


def test_it_resets_the_connection_after_accept(lab):
    # The RST can beat a timeout-mode connect() to its SO_ERROR check: either place counts.
    with pytest.raises(ConnectionResetError), connect(lab, "hostile-reset") as sock:
        sock.settimeout(2)
        while sock.recv(1024):
            pass


def test_it_refuses_connections_at_the_refused_address(lab):
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((lab.refused_address, lab.smtp_port), timeout=2)


def test_it_sends_garbage_instead_of_a_greeting(lab):
    with connect(lab, "hostile-garbage") as sock:
        data = recv_for(sock, 2, limit=4002)
    assert len(data) >= 4000
    assert not data[:3].isdigit()


def test_it_delays_the_greeting(lab):
    with connect(lab, "unreachable-timeout") as sock:
        assert recv_for(sock, 0.3) == b""


def test_it_drip_feeds_one_byte_a_second(lab):
    with connect(lab, "hostile-drip-feed") as sock:
        start = time.monotonic()
        first = recv_for(sock, 1, limit=1)
        second = recv_for(sock, 1.5, limit=1)
    assert first == b"2"
    assert second == b"2"
    assert time.monotonic() - start > 0.9


def test_it_answers_ehlo_with_an_endless_reply(lab):
    with connect(lab, "hostile-endless-multiline") as sock:
        assert read_reply(sock).startswith(b"220 ")
        sock.sendall(b"EHLO probe.lab.test\r\n")
        data = recv_for(sock, 3, limit=2 << 20)
    assert len(data) >= 2 << 20
    lines = data.split(b"\r\n")[:-1]
    assert all(line.startswith(b"250-") for line in lines)


def test_it_answers_ehlo_with_megabytes_without_crlf(lab):
    with connect(lab, "hostile-long-line") as sock:
        assert read_reply(sock).startswith(b"220 ")
        sock.sendall(b"EHLO probe.lab.test\r\n")
        data = recv_for(sock, 3, limit=2 << 20)
    assert len(data) >= 2 << 20
    assert data.startswith(b"250-") and b"\n" not in data


def test_it_rejects_and_counts_mail_commands(lab, lab_control):
    client = smtp(lab, "plaintext")
    client.ehlo()
    assert client.docmd("MAIL", "FROM:<a@lab.test>")[0] >= 500
    assert client.docmd("RCPT", "TO:<b@lab.test>")[0] >= 500
    assert client.docmd("DATA")[0] >= 500
    client.quit()
    stats = lab_control.stats()
    assert stats["servers"]["plaintext"]["mail_commands"] == 3
    assert stats["totals"]["mail_commands"] == 3


def test_it_counts_connections_handshakes_and_concurrency(lab, lab_control):
    socks = [connect(lab, "verified-rsa") for _ in range(3)]
    for sock in socks:
        read_reply(sock)
    client, _ = starttls(lab, "verified-rsa")
    client.quit()
    stats = lab_control.stats("verified-rsa")["servers"]["verified-rsa"]
    for sock in socks:
        sock.close()
    assert stats["connections"] == 4
    assert stats["max_concurrent"] == 4
    assert stats["tls_handshakes"] == 1
    assert stats["tls_versions"] == {"TLSv1.3": 1}


def test_it_handles_many_concurrent_handshakes(lab, lab_control):
    errors: list[Exception] = []

    def one() -> None:
        try:
            client, _ = starttls(lab, "verified-mx1")
            client.quit()
        except Exception as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=one) for _ in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert lab_control.stats("verified-mx1")["servers"]["verified-mx1"]["tls_handshakes"] == 40
