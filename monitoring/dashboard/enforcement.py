"""Which partners an organization can enforce TLS to today, as ready-to-paste MTA configuration."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from django.db.models import F
from django.utils.translation import gettext as _

from monitoring import levels, selectors
from monitoring.models import StatusChange
from monitoring.probe.model import Level
from partners.models import MailDomain, Organization


@dataclass(frozen=True, slots=True)
class PartnerDomain:
    organization: str
    organization_slug: str
    domain: str
    level: Level | None
    mx_hosts: tuple[str, ...]
    # How the partner itself sends (levels.OUTBOUND_*); what you enforce protects only the mail
    # you send to it, so this is shown beside, never used to choose the policy.
    outbound: str = levels.OUTBOUND_UNKNOWN

    @property
    def outbound_label(self) -> str:
        return str(levels.outbound_label(self.outbound))


@dataclass(frozen=True, slots=True)
class NotReady:
    partner: PartnerDomain
    why: str  # translated


@dataclass(frozen=True)
class EnforcementPlan:
    organization: Organization
    verified: tuple[PartnerDomain, ...]  # policy d: TLS required, certificate name verified
    encrypted: tuple[PartnerDomain, ...]  # policy c: TLS required
    not_ready: tuple[NotReady, ...]

    @property
    def ready(self) -> tuple[PartnerDomain, ...]:
        return self.verified + self.encrypted


def _why_not(level: Level | None) -> str:
    if level is Level.PARTIAL:
        return _(
            "Only some of its mail servers have working STARTTLS: enforcing TLS would bounce "
            "the mail sent to the others."
        )
    if level is Level.PLAINTEXT:
        return _("Its mail servers have no working STARTTLS: enforcing TLS would bounce all mail.")
    if level is Level.UNREACHABLE:
        return _("Its mail servers could not be tested, so nothing is known about their TLS.")
    return _("It has not been checked yet.")


def enforcement_plan(*, organization: Organization) -> EnforcementPlan:
    """Every active mail domain of the organization's partners, by what can be enforced (1 query).

    Per domain, not per organization: a partner whose main domain is verified can be enforced
    there even while one of its other domains lags behind.
    """
    verified: list[PartnerDomain] = []
    encrypted: list[PartnerDomain] = []
    not_ready: list[NotReady] = []
    rows = (
        MailDomain.objects.filter(
            organization__in=selectors.partners_of(organization),
            active=True,
            organization__active=True,
        )
        .order_by("organization__name", "name")
        .values_list(
            "organization__name",
            "organization__slug",
            "name",
            "status__level",
            "status__mx",
            "organization__status__outbound",
        )
    )
    for organization_name, slug, domain, stored, mx, outbound in rows:
        level = levels.as_level(stored)
        if level is Level.NO_MAIL:
            continue  # receives no mail: nothing to enforce
        hosts = tuple(sorted({entry["host"] for entry in mx or []}))
        partner = PartnerDomain(
            organization_name, slug, domain, level, hosts, outbound or levels.OUTBOUND_UNKNOWN
        )
        policy = levels.enforceable_policy(level)
        if policy == "d":
            verified.append(partner)
        elif policy == "c":
            encrypted.append(partner)
        else:
            not_ready.append(NotReady(partner, _why_not(level)))
    return EnforcementPlan(organization, tuple(verified), tuple(encrypted), tuple(not_ready))


# Postfix modes for verified partners (see postfix_policy); the API accepts exactly these.
VERIFY = "verify"
SECURE = "secure"
PostfixMode = Literal["verify", "secure"]


@dataclass(frozen=True, slots=True)
class PartnerChange:
    organization: str
    domain: str
    before: Level | None
    after: Level | None
    at: datetime


def partner_changes(*, organization: Organization, since: datetime) -> tuple[PartnerChange, ...]:
    """Level changes of the organization's partners' domains at or after `since`, oldest first."""
    return tuple(
        PartnerChange(
            organization=change.domain.organization.name,
            domain=change.domain.name,
            before=levels.as_level(change.from_level),
            after=levels.as_level(change.to_level),
            at=change.at,
        )
        for change in StatusChange.objects.filter(
            domain__organization__in=selectors.partners_of(organization),
            at__gte=since,
        )
        .exclude(from_level=F("to_level"))
        .exclude(from_level="")  # a first verdict is not a change of level
        .select_related("domain__organization")
        .order_by("at", "pk")
    )


def _one_line(text: str) -> str:
    """Text with every line break (CR, LF, U+2028, NEL, ...) and run of spaces made one space.

    A name that reaches a generated file must not end the comment it sits in: the next line
    would be read as configuration or, in PowerShell, run as a command.
    """
    return " ".join(text.split())


def _header(plan: EnforcementPlan, comment: str, generated: date | None = None) -> list[str]:
    return [
        f"{comment} "
        + _("Generated by secmail for %(name)s on %(date)s.")
        % {
            "name": _one_line(plan.organization.name),
            "date": (generated or date.today()).isoformat(),
        },
        f"{comment} " + _("Regenerate it when partners change: levels move."),
    ]


def postfix_policy(
    plan: EnforcementPlan, *, mode: PostfixMode = VERIFY, generated: date | None = None
) -> str:
    """Lines for a Postfix `smtp_tls_policy_maps` table.

    Verified partners get `verify match=hostname` by default: the certificate must match the
    MX host name found in DNS at delivery time, so a partner moving its MX keeps receiving
    mail. `secure` pins today's MX names with match=, which also resists forged MX answers
    but defers every message once the partner moves its MX, until the table is regenerated.
    """
    lines = _header(plan, "#", generated)
    lines.append(
        "# main.cf: smtp_tls_policy_maps = hash:/etc/postfix/tls_policy, "
        "then: postmap /etc/postfix/tls_policy"
    )
    width = max((len(p.domain) for p in plan.ready), default=0) + 2
    for partner in plan.verified:
        if mode == SECURE:
            # The certificate is checked against the MX host names as published today.
            match = ":".join(partner.mx_hosts) or partner.domain
            lines.append(f"{partner.domain.ljust(width)}secure match={match}")
        else:
            lines.append(f"{partner.domain.ljust(width)}verify match=hostname")
    for partner in plan.encrypted:
        lines.append(f"{partner.domain.ljust(width)}encrypt")
    return "\n".join(lines) + "\n"


def _tls_domain(hosts: tuple[str, ...]) -> str | None:
    """The one name Exchange's -TlsDomain accepts for all hosts: the host, or a wildcard."""
    if len(hosts) == 1:
        return hosts[0]
    parents = {host.split(".", 1)[1] for host in hosts if "." in host}
    if len(parents) == 1 and all(host.count(".") >= 2 for host in hosts):
        return "*." + parents.pop()
    return None


# PowerShell ends a single-quoted string at any of these, not only at the ASCII apostrophe; inside
# the string, each is written twice to stand for itself.
_PS_QUOTES = frozenset("'\u2018\u2019\u201a\u201b")


def _ps(text: str) -> str:
    """A PowerShell single-quoted string, on one line, in which nothing is expanded or run."""
    return "'" + "".join(c * 2 if c in _PS_QUOTES else c for c in _one_line(text)) + "'"


def exchange_online_script(
    plan: EnforcementPlan,
    *,
    since: date | None = None,
    changes: tuple[PartnerChange, ...] = (),
) -> str:
    """PowerShell creating or updating one Exchange Online outbound connector per partner.

    Exchange Online cannot fetch a feed, so the script says when it was generated and which
    partners' levels changed since `since`: the reader knows how stale a pasted copy is.
    """
    lines = _header(plan, "#")
    if since is not None:
        if changes:
            lines.append("# " + _("Partner levels changed since %(date)s:") % {"date": since})
            for change in changes:
                lines.append(
                    f"#   {change.at:%Y-%m-%d} {_one_line(change.organization)} ({change.domain}): "
                    f"{levels.level_key(change.before)} -> {levels.level_key(change.after)}"
                )
        else:
            lines.append("# " + _("No partner level changed since %(date)s.") % {"date": since})
    lines.append("# Connect-ExchangeOnline first. Re-running it updates the connectors in place.")
    connectors: dict[tuple[str, str, str | None], list[str]] = {}
    for partner in plan.verified:
        tls_domain = _tls_domain(partner.mx_hosts)
        setting = "DomainValidation" if tls_domain else "CertificateValidation"
        connectors.setdefault((partner.organization, setting, tls_domain), []).append(
            partner.domain
        )
    for partner in plan.encrypted:
        connectors.setdefault((partner.organization, "EncryptionOnly", None), []).append(
            partner.domain
        )
    for (organization, setting, tls_domain), domains in connectors.items():
        name = _ps(f"secmail TLS {setting} - {organization}")
        parameters = (
            f"-RecipientDomains {','.join(_ps(d) for d in domains)} -UseMXRecord $true "
            f"-TlsSettings {setting}"
        )
        if tls_domain:
            parameters += f" -TlsDomain {_ps(tls_domain)}"
        lines += [
            "",
            f"if (Get-OutboundConnector -Identity {name} -ErrorAction SilentlyContinue) {{",
            f"  Set-OutboundConnector -Identity {name} {parameters}",
            "} else {",
            f"  New-OutboundConnector -Name {name} -ConnectorType Partner {parameters} "
            "-Enabled $true",
            "}",
        ]
    return "\n".join(lines) + "\n"


def exim_config(plan: EnforcementPlan, *, generated: date | None = None) -> str:
    """Exim domain lists and smtp transport options requiring (and verifying) TLS per domain."""
    verified = " : ".join(p.domain for p in plan.verified)
    encrypted = " : ".join(p.domain for p in plan.encrypted)
    lines = _header(plan, "#", generated)
    lines += [
        "# Main section:",
        f"domainlist secmail_tls_verify = {verified}".rstrip(),
        f"domainlist secmail_tls_encrypt = {encrypted}".rstrip(),
        "",
        "# In the remote_smtp transport (one domain per delivery, so $domain is set):",
        "  multi_domain = false",
        "  hosts_require_tls = ${if match_domain{$domain}"
        "{+secmail_tls_verify : +secmail_tls_encrypt}{*}{}}",
        "  tls_verify_hosts = ${if match_domain{$domain}{+secmail_tls_verify}{*}{}}",
        "  tls_verify_cert_hostnames = ${if match_domain{$domain}{+secmail_tls_verify}{*}{}}",
    ]
    return "\n".join(lines) + "\n"


def sendmail_access(plan: EnforcementPlan, *, generated: date | None = None) -> str:
    """Sendmail access database entries (TLS_Rcpt) requiring TLS per recipient domain."""
    lines = _header(plan, "#", generated)
    lines.append("# Needs FEATURE(`access_db'); add to /etc/mail/access, then run makemap.")
    width = max((len(p.domain) for p in plan.ready), default=0) + 12
    for partner in plan.verified:
        lines.append(f"{('TLS_Rcpt:' + partner.domain).ljust(width)}VERIFY:128")
    for partner in plan.encrypted:
        lines.append(f"{('TLS_Rcpt:' + partner.domain).ljust(width)}ENCR:128")
    return "\n".join(lines) + "\n"
