"""Plain-language fix advice for a mail domain's problems, shared by pages and email digests."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from monitoring import levels
from monitoring.evidence.services import tlsrpt_address
from monitoring.models import DomainStatus, HostObservation

# Certificates closer than this to expiry get a "renew it" advice: the window of the probe's
# cert-expiring warning (docs/levels.md), so pages, digests and the verdict agree.
from monitoring.probe.grading import EXPIRING_DAYS


@dataclass(frozen=True, slots=True)
class Advice:
    """One problem and what to do about it."""

    code: str  # the address, certificate or domain error or warning it comes from
    severity: str  # "problem" blocks a level, "warning" does not, "info" is a suggestion
    message: str  # translated, in the active language
    host: str = ""

    @property
    def icon(self) -> str:
        return {"problem": "✗", "warning": "!", "info": "i"}[self.severity]


def _address_advice(host: str, error: str) -> tuple[str, str] | None:
    """(severity, message) for an address error code."""
    messages = {
        "starttls-not-offered": (
            "problem",
            _("%(host)s does not offer STARTTLS: enable it, or remove it from your MX records."),
        ),
        "starttls-rejected": (
            "problem",
            _("%(host)s offers STARTTLS but refuses it when asked: check its TLS configuration."),
        ),
        "tls-handshake-failed": (
            "problem",
            _(
                "The TLS handshake with %(host)s fails: check its certificate and key, and that "
                "it supports TLS 1.2 or 1.3."
            ),
        ),
        "tls-legacy-only": (
            "problem",
            _(
                "%(host)s only speaks TLS 1.1 or older, which current senders refuse: "
                "enable TLS 1.2 and 1.3."
            ),
        ),
        "ehlo-rejected": (
            "problem",
            _("%(host)s rejects EHLO, so no sender can start TLS with it: allow EHLO."),
        ),
        "connection-refused": (
            "warning",
            _(
                "%(host)s refuses connections on port 25: fix it, or remove it from your MX "
                "records."
            ),
        ),
        "timeout": (
            "warning",
            _("%(host)s did not answer in time: check that port 25 is open to the internet."),
        ),
        "no-address": (
            "warning",
            _("%(host)s has no address in DNS: add an A or AAAA record, or remove the MX record."),
        ),
        "greeting-4xx": (
            "warning",
            _("%(host)s answered with a temporary refusal; it will be tested again."),
        ),
        "greeting-5xx": (
            "warning",
            _("%(host)s refuses every connection: fix it, or remove it from your MX records."),
        ),
    }
    found = messages.get(error)
    if found is None:
        return None
    severity, message = found
    return severity, message % {"host": host}


def _certificate_advice(host: str, error: str) -> str | None:
    messages = {
        "expired": _("The certificate on %(host)s has expired: renew it."),
        "not-yet-valid": _(
            "The certificate on %(host)s is not valid yet: check the server's clock and the "
            "certificate's dates."
        ),
        "self-signed": _(
            "%(host)s presents a self-signed certificate: replace it with one from a public "
            "certificate authority (Let's Encrypt is free)."
        ),
        "untrusted": _(
            "The certificate on %(host)s is not issued by a trusted authority: replace it with "
            "one from a public certificate authority."
        ),
        "hostname-mismatch": _(
            "The certificate on %(host)s does not name %(host)s: add it to the certificate's "
            "subject alternative names."
        ),
        "incomplete-chain": _(
            "%(host)s does not send its intermediate certificates: install the full chain."
        ),
        "weak-key": _("The certificate on %(host)s has a weak key: reissue it with RSA 2048+."),
        "weak-signature": _(
            "The certificate on %(host)s is signed with SHA-1 or MD5: reissue it with SHA-256."
        ),
    }
    message = messages.get(error)
    return message % {"host": host} if message else None


def _domain_advice(status: DomainStatus) -> Iterable[Advice]:
    name = status.domain.name
    if status.error in ("dns-timeout", "dns-servfail"):
        yield Advice(
            status.error,
            "problem",
            _("The MX lookup for %(domain)s fails: check its DNS servers.") % {"domain": name},
        )
    warnings = set(status.warnings or [])
    if "mta-sts-testing" in warnings:
        yield Advice(
            "mta-sts-testing",
            "info",
            _(
                "The MTA-STS policy of %(domain)s is in testing mode: switch it to enforce once "
                "TLS reports show no failures."
            )
            % {"domain": name},
        )
    if "mta-sts-invalid" in warnings:
        yield Advice(
            "mta-sts-invalid",
            "warning",
            _(
                "The MTA-STS policy of %(domain)s is broken (unreachable, wrong certificate, or "
                "not matching your MX hosts): fix it, or senders will ignore it."
            )
            % {"domain": name},
        )
    if "dane-mismatch" in warnings:
        yield Advice(
            "dane-mismatch",
            "warning",
            _(
                "The TLSA records of %(domain)s match no certificate the servers present: "
                "update them before senders using DANE refuse your mail."
            )
            % {"domain": name},
        )
    if "no-downgrade-protection" in warnings:
        yield Advice(
            "no-downgrade-protection",
            "info",
            _(
                "Nothing stops an attacker from stripping TLS from mail to %(domain)s: publish "
                "an MTA-STS policy in enforce mode, or DANE."
            )
            % {"domain": name},
        )
    if status.level and status.level != "no-mail" and not status.tls_rpt_present:
        address = tlsrpt_address()
        if address:
            message = _(
                "%(domain)s publishes no TLS-RPT record: publish the TXT record "
                '_smtp._tls.%(domain)s "v=TLSRPTv1; rua=mailto:%(address)s" so that senders '
                "report their TLS failures to secmail, which shows them here."
            ) % {"domain": name, "address": address}
        else:
            message = _(
                "%(domain)s publishes no TLS-RPT record: add one to receive reports of "
                "senders' TLS failures."
            ) % {"domain": name}
        yield Advice("no-tls-rpt", "info", message)


def advice_for_domain(
    status: DomainStatus,
    observations: Sequence[HostObservation] = (),
    *,
    now: datetime | None = None,
) -> list[Advice]:
    """What to fix on one mail domain, problems first; one advice per (problem, host)."""
    now = now or timezone.now()
    found: dict[tuple[str, str], Advice] = {}

    def add(advice: Advice) -> None:
        found.setdefault((advice.code, advice.host), advice)

    for observation in observations:
        host = observation.host
        if observation.error:
            address = _address_advice(host, observation.error)
            if address is not None:
                add(Advice(observation.error, address[0], address[1], host))
        for error in observation.cert_errors or []:
            message = _certificate_advice(host, error)
            if message is not None:
                # A certificate problem only blocks `verified` when TLS itself works.
                add(Advice(error, "problem", message, host))
        certificate = observation.certificate
        if certificate is not None and observation.tested:
            days_left = (certificate.not_after - now).days
            if 0 <= days_left <= EXPIRING_DAYS:
                message = ngettext(
                    "The certificate on %(host)s expires in %(days)d day: renew it.",
                    "The certificate on %(host)s expires in %(days)d days: renew it.",
                    days_left,
                ) % {"host": host, "days": days_left}
                add(Advice("cert-expiring", "warning", message, host))
    for advice in _domain_advice(status):
        add(advice)
    order = {"problem": 0, "warning": 1, "info": 2}
    return sorted(found.values(), key=lambda advice: (order[advice.severity], advice.host))


def outbound_advice(name: str, outbound: str) -> Advice | None:
    """What an organization whose gateways were seen sending weakly (or never) should do;
    None for one seen sending with TLS: there is nothing to advise."""
    if outbound == levels.OUTBOUND_TLS:
        return None
    if outbound == levels.OUTBOUND_PLAINTEXT:
        message = _(
            "%(name)s sent mail in plain text although the receiver offered STARTTLS: turn on "
            "TLS for outgoing mail on its mail gateway."
        )
        return Advice("outbound-plaintext", "problem", message % {"name": name})
    if outbound == levels.OUTBOUND_LEGACY_TLS:
        message = _(
            "%(name)s sends mail with TLS 1.0 or 1.1: update its mail gateway to TLS 1.2 or above."
        )
        return Advice("outbound-legacy-tls", "problem", message % {"name": name})
    message = _(
        "How %(name)s sends mail was never observed: send a message from each of its mail "
        "gateways to its outbound test address (on its organization page)."
    )
    return Advice("outbound-unknown", "info", message % {"name": name})
