"""The receiver with real SMTP clients: smtplib with and without STARTTLS, TLS 1.0, swaks."""

from __future__ import annotations

import json
import shutil
import smtplib
import socket
import ssl
import subprocess
import time
from email.message import EmailMessage
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command

from tests.evidence.conftest import ALPHA, CHARLIE, RECEIVER_DOMAIN

pytestmark = pytest.mark.django_db(transaction=True)


def message(sender: str, to: str, body: str = "hello") -> EmailMessage:
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"] = sender, to, "secmail outbound test"
    mail.set_content(body)
    return mail


def client_context(version: ssl.TLSVersion | None = None) -> ssl.SSLContext:
    # Sending MTAs do not verify the receiver's certificate (opportunistic TLS).
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    if version is not None:
        context.minimum_version = version
        context.maximum_version = version
        context.set_ciphers("ALL:@SECLEVEL=0")
    return context


def send(
    receiver: Any,
    to: str,
    *,
    mail_from: str = f"it@{ALPHA}",
    source: str = "127.0.0.1",
    tls: ssl.SSLContext | None = None,
    helo: str = "gw.alpha.evidence.lab.test",
) -> None:
    with smtplib.SMTP(
        receiver.host, receiver.port, local_hostname=helo, source_address=(source, 0), timeout=30
    ) as smtp:
        if tls is not None:
            smtp.starttls(context=tls)
        smtp.send_message(message(mail_from, to), from_addr=mail_from, to_addrs=[to])


def outbound_rows() -> dict[str, dict[str, Any]]:
    out = StringIO()
    call_command("export_outbound", "--format", "json", stdout=out)
    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    return {row["slug"]: row for row in rows}


def tls_1_0_available() -> bool:
    try:
        context = client_context(ssl.TLSVersion.TLSv1)
    except (ValueError, ssl.SSLError):
        return False
    return ssl.HAS_TLSv1 and context.maximum_version == ssl.TLSVersion.TLSv1


class TestReceiver:
    def test_it_records_tls_and_plaintext_senders(self, receiver: Any, orgs: Any) -> None:
        send(receiver, orgs.alpha_address, tls=client_context())
        send(receiver, orgs.charlie_address, mail_from=f"it@{CHARLIE}")
        rows = outbound_rows()
        alpha, charlie = rows["alpha-brokers"], rows["charlie-insurance"]
        assert alpha["outbound"] == "tls"
        [gateway] = alpha["gateways"]
        assert gateway["ip"] == "127.0.0.1"
        assert gateway["helo"] == "gw.alpha.evidence.lab.test"
        assert gateway["tls_version"] in ("TLSv1.2", "TLSv1.3")
        assert gateway["cipher"]
        assert gateway["authenticated"] is True
        assert charlie["outbound"] == "plaintext"
        assert charlie["gateways"][0]["tls_version"] is None
        assert charlie["gateways"][0]["cipher"] is None

    def test_it_checks_a_message_to_two_organizations_once(
        self, receiver: Any, orgs: Any, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        from monitoring.evidence import services

        checked: list[str] = []
        real_check = services.check_spf

        def counted(**kwargs: Any) -> Any:
            checked.append(kwargs["ip"])
            return real_check(**kwargs)

        monkeypatch.setattr(services, "check_spf", counted)
        to = [orgs.alpha_address, orgs.charlie_address]
        with smtplib.SMTP(
            receiver.host,
            receiver.port,
            local_hostname="gw.alpha.evidence.lab.test",
            source_address=("127.0.0.1", 0),
            timeout=30,
        ) as smtp:
            smtp.send_message(
                message(f"it@{ALPHA}", ", ".join(to)), from_addr=f"it@{ALPHA}", to_addrs=to
            )
        rows = outbound_rows()
        assert rows["alpha-brokers"]["gateways"][0]["authenticated"] is True
        # Each organization judges the message by its own domains: Alpha's is not Charlie's.
        [charlie_gateway] = rows["charlie-insurance"]["gateways"]
        assert charlie_gateway["authenticated"] is False
        assert "not one of your domains" in charlie_gateway["reason"]
        assert checked == ["127.0.0.1"]

    def test_it_puts_both_senders_into_the_pair_verdict(self, receiver: Any, orgs: Any) -> None:
        """TLS from Alpha, plain text from Charlie: Charlie -> Alpha is plaintext everywhere."""
        from monitoring import store
        from monitoring.models import CycleDomain, ProbeCycle
        from partners.services import partnership_create
        from tests.monitoring.factories import result

        partnership_create(orgs.alpha, orgs.charlie)
        cycle = ProbeCycle.objects.create(trigger="manual")
        CycleDomain.objects.bulk_create(
            [CycleDomain(cycle=cycle, domain=d) for d in (*orgs.alpha.domains.all(),
                                                          *orgs.charlie.domains.all())]
        )  # fmt: skip
        store.domain_results_store(cycle=cycle, results=[result(ALPHA), result(CHARLIE)])
        send(receiver, orgs.alpha_address, tls=client_context())
        send(receiver, orgs.charlie_address, mail_from=f"it@{CHARLIE}")

        out = StringIO()
        call_command("export_pairs", "--format", "json", stdout=out)
        [pair] = [json.loads(line) for line in out.getvalue().splitlines()]
        assert pair == {
            "a": "Alpha Brokers",
            "b": "Charlie Insurance",
            "level": "plaintext",
            "a_to_b": "verified",
            "b_to_a": "plaintext",
            "assumed": False,
        }
        from django.contrib.auth import get_user_model
        from django.test import Client

        staff = get_user_model().objects.create_user("staff@example.org", is_staff=True)
        client = Client()
        client.force_login(staff)
        matrix = client.get("/matrix/").content.decode()
        assert "level-plaintext" in matrix
        panel = client.get("/matrix/alpha-brokers/charlie-insurance/").content.decode()
        assert "Charlie Insurance → Alpha Brokers" in panel
        assert "sends in plain text" in panel
        assert "sends with TLS" in panel

    def test_it_rejects_unknown_recipients_and_records_nothing(
        self, receiver: Any, orgs: Any
    ) -> None:
        from monitoring.evidence.models import ReceivedMessage

        for to in (
            f"nobody@{RECEIVER_DOMAIN}",
            "someone@elsewhere.example",
            f"x{orgs.alpha_address}",
        ):
            with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
                send(receiver, to)
            assert refused.value.recipients[to][0] == 550
        assert ReceivedMessage.objects.count() == 0
        assert outbound_rows()["alpha-brokers"]["outbound"] == "unknown"

    def test_it_keeps_no_message_content(self, receiver: Any, orgs: Any) -> None:
        from monitoring.evidence.models import ReceivedMessage

        send(receiver, orgs.alpha_address, tls=client_context())
        stored = ReceivedMessage.objects.values()[0]
        assert "hello" not in json.dumps(stored, default=str)
        assert stored["mail_from_domain"] == ALPHA

    @pytest.mark.skipif(not tls_1_0_available(), reason="the local OpenSSL refuses TLS 1.0")
    @pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1])
    def test_it_records_a_legacy_tls_sender(
        self, receiver: Any, orgs: Any, version: ssl.TLSVersion
    ) -> None:
        send(receiver, orgs.alpha_address, tls=client_context(version))
        alpha = outbound_rows()["alpha-brokers"]
        assert alpha["outbound"] == "legacy-tls"
        assert (
            alpha["gateways"][0]["tls_version"]
            == {
                ssl.TLSVersion.TLSv1: "TLSv1",
                ssl.TLSVersion.TLSv1_1: "TLSv1.1",
            }[version]
        )

    @pytest.mark.skipif(shutil.which("swaks") is None, reason="swaks is not installed")
    def test_it_takes_mail_from_swaks(self, receiver: Any, orgs: Any) -> None:
        result = subprocess.run(
            [
                "swaks",
                "--server", f"{receiver.host}:{receiver.port}",
                "--to", orgs.charlie_address,
                "--from", f"it@{CHARLIE}",
                "--helo", "smtp.charlie.evidence.lab.test",
                "--tls",
                "--timeout", "20",
            ],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert result.returncode == 0, result.stdout + result.stderr
        charlie = outbound_rows()["charlie-insurance"]
        assert charlie["outbound"] == "tls"
        assert charlie["gateways"][0]["helo"] == "smtp.charlie.evidence.lab.test"

    def test_it_never_relays(self, receiver: Any, orgs: Any) -> None:
        with smtplib.SMTP(receiver.host, receiver.port, timeout=10) as smtp:
            smtp.ehlo("relay-test.example")
            smtp.mail(f"it@{ALPHA}")
            code, _ = smtp.rcpt("victim@gmail.example")
        assert code == 550

    def test_it_takes_ten_messages_a_minute_from_one_client(self, receiver: Any, orgs: Any) -> None:
        from monitoring.evidence.models import ReceivedMessage

        for _ in range(10):
            send(receiver, orgs.alpha_address, tls=client_context())
        assert ReceivedMessage.objects.count() == 10

    def test_it_limits_connections_per_client(self, start_receiver: Any, orgs: Any) -> None:
        receiver = start_receiver(max_connections_per_client=3)
        held = [socket.create_connection((receiver.host, receiver.port)) for _ in range(3)]
        try:
            for sock in held:
                assert sock.recv(512).startswith(b"220")
            extra = socket.create_connection((receiver.host, receiver.port))
            assert extra.recv(512).startswith(b"421")
            extra.close()
            # Another client address is not affected.
            other = socket.create_connection(
                (receiver.host, receiver.port), source_address=("127.0.0.3", 0)
            )
            assert other.recv(512).startswith(b"220")
            other.close()
        finally:
            for sock in held:
                sock.close()
        time.sleep(0.2)  # the receiver notices the closed connections
        again = socket.create_connection((receiver.host, receiver.port))
        assert again.recv(512).startswith(b"220")
        again.close()

    def test_it_limits_messages_per_minute_per_client(self, start_receiver: Any, orgs: Any) -> None:
        receiver = start_receiver(messages_per_minute=2)
        send(receiver, orgs.alpha_address)
        send(receiver, orgs.alpha_address)
        with pytest.raises(smtplib.SMTPSenderRefused) as refused:
            send(receiver, orgs.alpha_address)
        assert refused.value.smtp_code == 451

    def test_it_refuses_oversized_messages(self, start_receiver: Any, orgs: Any) -> None:
        from monitoring.evidence.models import ReceivedMessage

        receiver = start_receiver(max_message_bytes=64 * 1024)
        with smtplib.SMTP(receiver.host, receiver.port, timeout=10) as smtp:
            smtp.ehlo("gw.alpha.evidence.lab.test")
            smtp.mail(f"it@{ALPHA}")
            smtp.rcpt(orgs.alpha_address)
            code, _ = smtp.data(b"Subject: big\r\n\r\n" + (b"x" * 98 + b"\r\n") * 1000)
        assert code == 552
        assert ReceivedMessage.objects.count() == 0

    def test_it_closes_idle_and_overlong_sessions(self, start_receiver: Any, orgs: Any) -> None:
        receiver = start_receiver(idle_seconds=0.5, session_seconds=1.5)
        idle = socket.create_connection((receiver.host, receiver.port), timeout=5)
        assert idle.recv(512).startswith(b"220")
        time.sleep(1)
        assert idle.recv(512) == b""  # closed by the idle timeout
        idle.close()
        busy = socket.create_connection((receiver.host, receiver.port), timeout=5)
        busy.recv(512)
        ended = b""
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                busy.sendall(b"NOOP\r\n")
                chunk = busy.recv(512)
            except OSError:  # closed under us, after its 421
                break
            if not chunk:
                break
            ended += chunk
            time.sleep(0.3)
        busy.close()
        assert b"421" in ended
