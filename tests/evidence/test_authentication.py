"""Only the organization's own gateways count: SPF and DKIM through the lab's DNS server."""

from __future__ import annotations

import smtplib
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Any

import dkim
import pytest

from monitoring.evidence.auth import (
    DkimOutcome,
    SpfOutcome,
    authentication,
    check_dkim,
    check_spf,
)
from monitoring.evidence.outbound import Gateway, outbound_verdict
from tests.evidence.conftest import ALPHA, OTHER, SELECTOR
from tests.evidence.test_receiver import client_context, outbound_rows


def signed(key: bytes, domain: str, to: str, mail_from: str) -> bytes:
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"] = mail_from, to, "signed test"
    mail.set_content("signed body")
    raw = mail.as_bytes().replace(b"\n", b"\r\n")
    signature = dkim.sign(
        raw, SELECTOR.encode(), domain.encode(), key, include_headers=[b"from", b"to", b"subject"]
    )
    return signature + raw


class TestChecks:
    def test_it_passes_spf_for_an_authorized_address(self, auth_dns: Any) -> None:
        outcome = check_spf(ip="127.0.0.2", mail_from=f"it@{ALPHA}", helo="gw", resolver=auth_dns)
        assert (outcome.result, outcome.domain) == ("pass", ALPHA)

    def test_it_fails_spf_for_another_address(self, auth_dns: Any) -> None:
        outcome = check_spf(ip="127.0.0.9", mail_from=f"it@{ALPHA}", helo="gw", resolver=auth_dns)
        assert outcome.result == "fail"

    def test_it_has_no_spf_identity_for_the_null_sender(self, auth_dns: Any) -> None:
        assert (
            check_spf(ip="127.0.0.1", mail_from="", helo="gw", resolver=auth_dns).result == "none"
        )

    def test_it_verifies_a_dkim_signature(self, auth_dns: Any, dkim_keys: Any) -> None:
        raw = signed(dkim_keys.alpha, ALPHA, "x@receiver.lab.test", f"it@{ALPHA}")
        outcome = check_dkim(message=raw, resolver=auth_dns)
        assert outcome.result == "pass"
        assert outcome.valid_domains == (ALPHA,)

    def test_it_fails_a_forged_dkim_signature(self, auth_dns: Any, dkim_keys: Any) -> None:
        # Signed with another domain's key but claiming d=alpha: the published key does not match.
        raw = signed(dkim_keys.other, ALPHA, "x@receiver.lab.test", f"it@{ALPHA}")
        assert check_dkim(message=raw, resolver=auth_dns).result == "fail"

    def test_it_reports_no_signature(self, auth_dns: Any) -> None:
        assert check_dkim(message=b"Subject: x\r\n\r\nbody\r\n", resolver=auth_dns).result == "none"

    def test_it_times_out_instead_of_hanging(self) -> None:
        from monitoring.evidence.auth import AuthDns

        # 127.0.0.1:9 (discard) has no DNS server: the question fails within the deadline.
        silent = AuthDns([("127.0.0.1", 9)], timeout=0.5)
        started = datetime.now(UTC)
        outcome = check_spf(ip="127.0.0.1", mail_from=f"it@{ALPHA}", helo="gw", resolver=silent)
        assert outcome.result == "temperror"
        assert (datetime.now(UTC) - started).total_seconds() < 5

    def test_it_authenticates_only_for_registered_domains(self) -> None:
        spf_pass = SpfOutcome(result="pass", domain=OTHER)
        no_dkim = DkimOutcome(result="none")
        ok, reason = authentication(spf_outcome=spf_pass, dkim_outcome=no_dkim, registered=[ALPHA])
        assert not ok
        assert f"MAIL FROM domain {OTHER} is not one of your domains" in reason
        dkim_alpha = DkimOutcome(result="pass", valid_domains=(ALPHA,), domains=(ALPHA,))
        ok, reason = authentication(
            spf_outcome=spf_pass, dkim_outcome=dkim_alpha, registered=[ALPHA]
        )
        assert ok and reason == f"valid DKIM signature of {ALPHA}"
        sub = SpfOutcome(result="pass", domain=f"bounce.{ALPHA}")
        assert authentication(spf_outcome=sub, dkim_outcome=no_dkim, registered=[ALPHA])[0]


@pytest.mark.django_db(transaction=True)
class TestReceivedAuthentication:
    def test_it_records_an_unauthenticated_gateway_without_changing_the_verdict(
        self, receiver: Any, orgs: Any, dkim_keys: Any
    ) -> None:
        # Alpha's real gateway (SPF authorizes 127.0.0.1) sends over TLS: `tls`.
        with smtplib.SMTP(receiver.host, receiver.port, source_address=("127.0.0.1", 0)) as smtp:
            smtp.starttls(context=client_context())
            smtp.sendmail(f"it@{ALPHA}", [orgs.alpha_address], b"Subject: a\r\n\r\nx\r\n")
        # A stranger at 127.0.0.9 claims Alpha's domain, in plain text, signed by another domain.
        raw = signed(dkim_keys.other, OTHER, orgs.alpha_address, f"it@{OTHER}")
        with smtplib.SMTP(receiver.host, receiver.port, source_address=("127.0.0.9", 0)) as smtp:
            smtp.sendmail(f"it@{ALPHA}", [orgs.alpha_address], raw)
        alpha = outbound_rows()["alpha-brokers"]
        assert alpha["outbound"] == "tls"
        stranger = next(g for g in alpha["gateways"] if g["ip"] == "127.0.0.9")
        assert stranger["authenticated"] is False
        assert stranger["tls_version"] is None
        assert (
            "SPF fail" in stranger["reason"]
            and f"DKIM signed only by {OTHER}" in stranger["reason"]
        )

    def test_it_counts_a_gateway_authenticated_by_dkim_alone(
        self, receiver: Any, orgs: Any, dkim_keys: Any
    ) -> None:
        from monitoring.evidence.models import ReceivedMessage

        # 127.0.0.5 is not in Alpha's SPF, but the message carries Alpha's valid signature.
        raw = signed(dkim_keys.alpha, ALPHA, orgs.alpha_address, f"it@{ALPHA}")
        with smtplib.SMTP(receiver.host, receiver.port, source_address=("127.0.0.5", 0)) as smtp:
            smtp.sendmail(f"it@{ALPHA}", [orgs.alpha_address], raw)
        stored = ReceivedMessage.objects.get()
        assert (stored.spf_result, stored.dkim_result, stored.dkim_domain) == (
            "fail",
            "pass",
            ALPHA,
        )
        assert stored.authenticated
        assert outbound_rows()["alpha-brokers"]["outbound"] == "plaintext"


class TestOutboundRule:
    @staticmethod
    def gateway(tls_version: str | None, authenticated: bool = True) -> Gateway:
        return Gateway(
            ip="192.0.2.1",
            helo="gw",
            mail_from_domain=ALPHA,
            tls_version=tls_version,
            cipher=None,
            seen_at=datetime.now(UTC),
            authenticated=authenticated,
            reason="",
        )

    @pytest.mark.parametrize(
        ("versions", "expected"),
        [
            ([], "unknown"),
            (["TLSv1.3"], "tls"),
            (["TLSv1.2", "TLSv1.3"], "tls"),
            (["TLSv1.3", "TLSv1.1"], "legacy-tls"),
            (["TLSv1"], "legacy-tls"),
            (["TLSv1.3", "TLSv1", None], "plaintext"),
        ],
    )
    def test_it_takes_the_worst_authenticated_gateway(
        self, versions: list[str | None], expected: str
    ) -> None:
        assert outbound_verdict(self.gateway(v) for v in versions) == expected

    def test_it_ignores_unauthenticated_gateways(self) -> None:
        gateways = [self.gateway("TLSv1.3"), self.gateway(None, authenticated=False)]
        assert outbound_verdict(gateways) == "tls"
        assert outbound_verdict([self.gateway("TLSv1.3", authenticated=False)]) == "unknown"
